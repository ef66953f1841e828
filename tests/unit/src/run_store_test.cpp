// samples.jsonl: what read_samples accepts, the torn last line it skips, and the records it
// refuses with their line instead of letting a malformed number through.
#include "abtool/error.hpp"
#include "src/results/run_store.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <string>
#include <tuple>

namespace abtool {
namespace {

using abtool::testing::TempDir;
using abtool::testing::write_file;

const std::string k_good_line =
    R"({"round": 2, "ref": "b", "workload": "w", "start_ns": 7, "rep": 1, "cpus": [0, 3], )"
    R"("case": "c", "metric": "wall_ms", "value": 1.5, "unit": "ms", "direction": "lower", )"
    R"("gate": true})";

TEST(ReadSamples, WellFormedRecord_IsRead_TornLastLineIsAWarning) {
    TempDir dir;
    write_file(dir / "samples.jsonl", k_good_line + "\n" + R"({"round": 3, "ref)");
    const SamplesFile file = read_samples(dir / "samples.jsonl");
    ASSERT_EQ(file.records.size(), 1u);
    EXPECT_EQ(file.records[0].round, 2u);
    EXPECT_EQ(file.records[0].side, Side::b);
    EXPECT_EQ(file.records[0].start_unix_ns, 7);
    EXPECT_EQ(file.records[0].rep, 1u);
    EXPECT_EQ(file.records[0].cpus, (std::vector<int>{0, 3}));
    ASSERT_EQ(file.warnings.size(), 1u);
    EXPECT_NE(file.warnings[0].find(":2: incomplete last line"), std::string::npos);
}

TEST(ReadSamples, IntegerOutOfRange_IsNotASampleRecord) {
    // Found by fuzz_samples_jsonl: 79378888888880000001 parses as a double, and get<size_t>()
    // cast it, undefined behaviour. Negative counts, fractions and CPUs beyond int are refused
    // the same way, with the line they are on.
    for (const std::string bad :
         {R"({"round":79378888888880000001})", R"({"round": -1, "ref": "a", "workload": "w"})",
          R"({"round": 1.5, "ref": "a", "workload": "w"})",
          R"({"round": 1, "ref": "a", "workload": "w", "start_ns": 1.7937e40})",
          R"({"round": 1, "ref": "a", "workload": "w", "cpus": [4294967296]})",
          R"({"round": 1, "ref": "a", "workload": "w", "cpus": 3})"}) {
        TempDir dir;
        write_file(dir / "samples.jsonl", bad + "\n" + k_good_line + "\n");
        try {
            read_samples(dir / "samples.jsonl");
            ADD_FAILURE() << "accepted " << bad;
        } catch (const Error& error) {
            EXPECT_NE(std::string(error.what()).find("samples.jsonl:1: not a sample record"),
                      std::string::npos)
                << error.what();
        }
    }
}

TEST(ReadSamples, UnknownRefOrDirection_IsNotASampleRecord) {
    // Any "ref" but "a" used to be read as B, and any "direction" but "higher" as lower.
    for (const auto& [from, to, says] :
         {std::tuple{R"("ref": "b")", R"("ref": "c")", R"("ref" is "c", not "a" or "b")"},
          std::tuple{R"("direction": "lower")", R"("direction": "up")",
                     R"("direction" is "up", not "lower" or "higher")"}}) {
        std::string bad = k_good_line;
        bad.replace(bad.find(from), std::string(from).size(), to);
        TempDir dir;
        write_file(dir / "samples.jsonl", bad + "\n" + k_good_line + "\n");
        try {
            read_samples(dir / "samples.jsonl");
            ADD_FAILURE() << "accepted " << bad;
        } catch (const Error& error) {
            EXPECT_NE(std::string(error.what())
                          .find(std::string("samples.jsonl:1: not a sample "
                                            "record: ") +
                                says),
                      std::string::npos)
                << error.what();
        }
    }
}

} // namespace
} // namespace abtool
