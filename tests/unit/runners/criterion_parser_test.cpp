// The criterion reader on real output taken from public repositories (criterion.rs is not in
// Debian; tests/fixtures/runners/README.md names each source): the files criterion 0.2 wrote for
// its book, a 0.3+ sample.json, libtest's bench lines with thousands separators and throughput;
// and malformed, non-finite and empty input, each error naming its line, field or file.
#include "abtool/runners.hpp"
#include "runners/parsers/parsers.hpp"
#include "tests/support/shell.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/runners/parse_result.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <string>
#include <vector>

namespace abtool::runners::parsers {
namespace {

const std::filesystem::path k_fixtures = std::filesystem::path(ABTOOL_FIXTURES_DIR) / "runners";

std::string fixture(const std::string& name) {
    return abtool::testing::read_file(k_fixtures / name);
}

std::map<std::string, std::vector<double>> times(const Parsed& result) {
    std::map<std::string, std::vector<double>> out;
    for (const Sample& sample : result.samples) {
        if (sample.metric == "time") {
            EXPECT_EQ(sample.unit, "ns");
            EXPECT_EQ(sample.direction, Direction::lower);
            out[sample.case_name].push_back(sample.value);
        }
    }
    return out;
}

double mean(const std::vector<double>& values) {
    return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

const auto k_any_time = std::filesystem::file_time_type::min();

TEST(CriterionParser, Directory_PerIterationTimesOfEachNewSample_NamedByFullId) {
    const auto got =
        times(parsed(parse_criterion_directory(k_fixtures / "criterion_book", k_any_time)));
    ASSERT_EQ(got.size(), 4u);
    for (const auto& [name, values] : got) {
        EXPECT_EQ(values.size(), 100u) << name; // new/ only: base/ is the previous run's
    }
    // times[0] / iters[0] of Fibonacci/Recursive/new/sample.json: 1014000 ns / 52.
    EXPECT_DOUBLE_EQ(got.at("Fibonacci/Recursive").front(), 1014000.0 / 52.0);
    // criterion's own mean estimate is the mean of these per-iteration times (estimates.json's
    // Mean.point_estimate, 19284.21673781045): the same samples, not a reinterpretation.
    EXPECT_NEAR(mean(got.at("Fibonacci/Recursive")), 19284.21673781045, 1e-6);
    EXPECT_NEAR(mean(got.at("Fibonacci/Iterative")), 4.7, 0.1);
    EXPECT_EQ(got.count("Fibonacci2/Iterative/20"), 1u);
}

TEST(CriterionParser, Directory_FilesFromBeforeTheRun_AreNotRead) {
    const auto later = std::filesystem::file_time_type::clock::now() + std::chrono::hours(1);
    EXPECT_TRUE(
        parsed(parse_criterion_directory(k_fixtures / "criterion_book", later)).samples.empty());
}

TEST(CriterionParser, Directory_BrokenFile_NamedInTheError) {
    abtool::testing::TempDir dir;
    std::filesystem::copy(k_fixtures / "criterion_book", dir.path(),
                          std::filesystem::copy_options::recursive);
    const std::filesystem::path sample = dir / "Fibonacci/Iterative/new/sample.json";
    const std::string text = abtool::testing::read_file(sample);
    std::ofstream(sample, std::ios::trunc) << text.substr(0, text.size() / 2);
    const ParseError error = error_of(parse_criterion_directory(dir.path(), k_any_time));
    EXPECT_EQ(error.field.find("Fibonacci/Iterative/new/sample.json, byte "), 0u) << error.field;
    EXPECT_FALSE(error.offset);
}

TEST(CriterionParser, OneSampleJson_Criterion02And03Layouts) {
    const auto old_layout = times(
        parsed(parse_criterion(fixture("criterion_book/Fibonacci/Recursive/new/sample.json"))));
    EXPECT_EQ(old_layout.at("").size(), 100u);
    const auto new_layout = times(parsed(parse_criterion(fixture("criterion_sample_azure.json"))));
    ASSERT_EQ(new_layout.at("").size(), 10u);
    EXPECT_DOUBLE_EQ(new_layout.at("").front(), 89284700.0 / 216428.0);
    EXPECT_DOUBLE_EQ(new_layout.at("").back(), 926051100.0 / 2164280.0);
}

TEST(CriterionParser, EstimatesJsonAlone_MeanStandsIn) {
    const auto got = times(
        parsed(parse_criterion(fixture("criterion_book/Fibonacci/Recursive/new/estimates.json"))));
    ASSERT_EQ(got.at("").size(), 1u);
    EXPECT_DOUBLE_EQ(got.at("").front(), 19284.21673781045);
}

TEST(CriterionParser, LibtestLines_ThousandsSeparators) {
    const Parsed result = parsed(parse_criterion(fixture("criterion_libtest_svgdom.txt")));
    const auto got = times(result);
    EXPECT_EQ(got.size(), 6u);
    EXPECT_DOUBLE_EQ(got.at("parse_large").front(), 16089315.0);
    EXPECT_DOUBLE_EQ(got.at("parse_small").front(), 57240.0);
    EXPECT_EQ(result.samples.size(), 6u); // the "(+/- 370,141)" spread is no sample
}

TEST(CriterionParser, LibtestThroughput_MegabytesPerSecondHigherIsBetter) {
    const Parsed result = parsed(parse_criterion(fixture("criterion_libtest_memchr.txt")));
    EXPECT_DOUBLE_EQ(times(result).at("iterator").front(), 5280.0);
    std::map<std::string, double> rates;
    for (const Sample& sample : result.samples) {
        if (sample.metric == "throughput") {
            EXPECT_EQ(sample.unit, "MB/s");
            EXPECT_EQ(sample.direction, Direction::higher);
            rates[sample.case_name] = sample.value;
        }
    }
    EXPECT_DOUBLE_EQ(rates.at("libc_memchr"), 49504.0);
    EXPECT_EQ(rates.size(), 4u);
}

TEST(CriterionParser, MalformedBenchLine_NamesTheLine) {
    const std::string text = fixture("criterion_libtest_svgdom.txt");
    for (const auto& [from, to] :
         std::map<std::string, std::string>{{"2,869,603 ns/iter", "2,869,6x3 ns/iter"},
                                            {"2,869,603 ns/iter", "2,869,603 us/iter"},
                                            {"2,869,603 ns/iter", ",869,603 ns/iter"}}) {
        std::string bad = text;
        bad.replace(bad.find(from), from.size(), to);
        const ParseError error = error_of(parse_criterion(bad));
        EXPECT_EQ(error.field, "line 10") << to;
        EXPECT_EQ(error.offset, bad.find("test parse_medium")) << to;
        EXPECT_NE(error.message.find("parse_medium"), std::string::npos) << error.message;
    }
}

TEST(CriterionParser, SampleJsonOfTheWrongShape_NamesTheField) {
    EXPECT_EQ(error_of(parse_criterion(R"({"iters":[1.0,2.0],"times":[5.0]})")).field, "times");
    EXPECT_EQ(error_of(parse_criterion(R"({"iters":[1.0,"2"],"times":[5.0,6.0]})")).field,
              "iters[1]");
    EXPECT_EQ(error_of(parse_criterion(R"({"iters":[0.0],"times":[5.0]})")).field, "iters[0]");
    EXPECT_EQ(error_of(parse_criterion(R"({"median":{}})")).field, "Mean.point_estimate");
    const std::string truncated = R"({"iters":[1.0],"times":[5.0)";
    EXPECT_EQ(error_of(parse_criterion(truncated)).offset, truncated.size()); // ends too early
}

TEST(CriterionParser, NonFiniteTimes_WrittenAsNull_GiveNoSample) {
    // serde_json writes NaN and infinities as null.
    const auto got = times(parsed(parse_criterion(
        R"({"sampling_mode":"Flat","iters":[1.0,2.0,4.0],"times":[null,8.0,12.0]})")));
    EXPECT_EQ(got.at(""), (std::vector<double>{4.0, 3.0}));
}

TEST(CriterionParser, EmptyOutputAndFailedTest) {
    EXPECT_TRUE(parsed(parse_criterion(std::string())).samples.empty());
    const Parsed result = parsed(parse_criterion("test a ... bench:  1 ns/iter (+/- 0)\n"
                                                 "test b ... FAILED\n"));
    ASSERT_EQ(result.errors.size(), 1u);
    EXPECT_EQ(result.errors[0], "b: FAILED");
    EXPECT_EQ(result.samples.size(), 1u);
}

// Through run_workload: output_file names the target/criterion directory; a benchmark's results
// from an earlier run (criterion leaves them) are not read again, and "time" is gated.
TEST(CriterionWorkload, OutputFileDirectory_ThisRunsResultsOnly_TimeGated) {
    abtool::testing::TempDir dir;
    const std::filesystem::path stale = dir / "target/criterion/Removed/new";
    std::filesystem::create_directories(stale);
    std::filesystem::copy(k_fixtures / "criterion_sample_azure.json", stale / "sample.json");
    std::filesystem::last_write_time(stale / "sample.json",
                                     std::filesystem::file_time_type::clock::now() -
                                         std::chrono::hours(1));
    HotpathWorkload spec;
    spec.shell = "cp -R " +
                 abtool::testing::quote((k_fixtures / "criterion_book").string() + "/.") +
                 " target/criterion/";
    spec.format = HotpathFormat::criterion;
    spec.output_file = "target/criterion";
    RunContext context;
    context.worktree = dir.path();
    context.label = "ref 'test'";
    const RunResult result = run_workload({"crit", spec}, context);
    ASSERT_FALSE(result.error) << *result.error;
    std::map<std::string, int> per_case;
    for (const Sample& sample : result.samples) {
        ++per_case[sample.case_name];
        EXPECT_EQ(sample.gate, Gate::yes);
    }
    EXPECT_EQ(per_case.count("Removed"), 0u);
    EXPECT_EQ(per_case["Fibonacci/Recursive"], 100);
    EXPECT_EQ(per_case.size(), 4u);

    spec.format = HotpathFormat::gbench;
    const RunResult wrong = run_workload({"crit", spec}, context);
    ASSERT_TRUE(wrong.error);
    EXPECT_NE(wrong.error->find("is a directory"), std::string::npos) << *wrong.error;
}

} // namespace
} // namespace abtool::runners::parsers
