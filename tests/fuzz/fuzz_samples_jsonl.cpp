// libFuzzer target: read_samples on an arbitrary samples.jsonl. Its documented failure is
// abtool::Error (a record that is not a sample, before the last line); a torn last line is a
// warning.
#include "src/results/run_store.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const abtool::fuzz::ScratchFile file("samples.jsonl");
    const std::filesystem::path& path = file.write(abtool::fuzz::text_of(data, size));
    abtool::fuzz::expect_documented_failures_only([&] { abtool::read_samples(path); });
    return 0;
}
