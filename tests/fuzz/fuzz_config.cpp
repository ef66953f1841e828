// libFuzzer target: parse_config on arbitrary abtool.toml text. Its documented failure is
// abtool::Error (config); the fake path is only named in messages and anchors results.file.
#include "src/core/config.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::filesystem::path source = "/fuzz/abtool.toml";
    abtool::fuzz::expect_documented_failures_only(
        [&] { abtool::parse_config(abtool::fuzz::text_of(data, size), source); });
    return 0;
}
