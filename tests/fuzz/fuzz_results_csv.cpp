// libFuzzer target: ResultsStore::read on an arbitrary results.csv. Its documented failure is
// abtool::Error (an unknown header); torn or malformed rows are warnings, never exceptions.
#include "src/results/results_store.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const abtool::fuzz::ScratchFile file("results.csv");
    const abtool::ResultsStore store(file.write(abtool::fuzz::text_of(data, size)));
    abtool::fuzz::expect_documented_failures_only([&] { store.read(); });
    return 0;
}
