// libFuzzer target: runners::parsers::parse_catch2 on arbitrary program output.
#include "tests/fuzz/fuzz_parsers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    abtool::fuzz::fuzz_parser(
        [](std::string_view text) { return abtool::runners::parsers::parse_catch2(text); },
        abtool::fuzz::text_of(data, size));
    return 0;
}
