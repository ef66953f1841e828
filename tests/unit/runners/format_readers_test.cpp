// The go, pytest-benchmark and Bencher Metric Format readers on real output of the tools
// (tests/fixtures/runners/README.md says which command made each file), and their errors: a line
// that is not a benchmark line is skipped, a malformed benchmark line is an error naming its line.
#include "abtool/runners.hpp"
#include "runners/parsers/parsers.hpp"
#include "tests/support/shell.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/runners/parse_result.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace abtool::runners::parsers {
namespace {

std::string fixture(const std::string& name) {
    return abtool::testing::read_file(std::string(ABTOOL_FIXTURES_DIR) + "/runners/" + name);
}

// The values of one metric, per case.
std::map<std::string, std::vector<double>> values_of(const Parsed& result,
                                                     const std::string& metric) {
    std::map<std::string, std::vector<double>> values;
    for (const Sample& sample : result.samples) {
        if (sample.metric == metric) {
            values[sample.case_name].push_back(sample.value);
        }
    }
    return values;
}

const Sample* first_of(const Parsed& result, const std::string& metric) {
    for (const Sample& sample : result.samples) {
        if (sample.metric == metric) {
            return &sample;
        }
    }
    return nullptr;
}

TEST(GoParser, RealOutput_EachCountLineIsASample_GomaxprocsSuffixDropped) {
    const Parsed result = parsed(parse_go(fixture("go_bench.txt")));
    const auto ns = values_of(result, "ns_per_op");
    ASSERT_EQ(ns.size(), 5u); // Join, Copy, Widgets, Sizes/n=8, Sizes/n=4
    EXPECT_EQ(ns.at("BenchmarkJoin"), (std::vector<double>{259.9, 178.9, 176.8}));
    EXPECT_EQ(ns.at("BenchmarkSizes/n=8").size(), 3u);
    EXPECT_EQ(values_of(result, "bytes_per_op").at("BenchmarkJoin"),
              (std::vector<double>{64, 64, 64}));
    EXPECT_EQ(values_of(result, "allocs_per_op").at("BenchmarkJoin").size(), 3u);
    const Sample* ns_sample = first_of(result, "ns_per_op");
    EXPECT_EQ(ns_sample->unit, "ns");
    EXPECT_EQ(ns_sample->direction, Direction::lower);
}

TEST(GoParser, RealOutput_RatesAreHigherCustomUnitsNamedAfterThemselves) {
    const Parsed result = parsed(parse_go(fixture("go_bench.txt")));
    const Sample* mb = first_of(result, "mb_per_s");
    ASSERT_NE(mb, nullptr);
    EXPECT_EQ(mb->case_name, "BenchmarkCopy");
    EXPECT_EQ(mb->value, 52993.50);
    EXPECT_EQ(mb->direction, Direction::higher);
    const Sample* frames = first_of(result, "frames/s");
    ASSERT_NE(frames, nullptr);
    EXPECT_EQ(frames->direction, Direction::higher);
    const Sample* widgets = first_of(result, "widgets/op");
    ASSERT_NE(widgets, nullptr);
    EXPECT_EQ(widgets->value, 3.0);
    EXPECT_EQ(widgets->direction, Direction::lower);
}

TEST(GoParser, RealOutput_FailingBenchmarkIsAnErrorWithItsMessage) {
    const Parsed result = parsed(parse_go(fixture("go_bench.txt")));
    ASSERT_EQ(result.errors.size(), 1u);
    EXPECT_NE(result.errors[0].find("BenchmarkFails: failed"), std::string::npos)
        << result.errors[0];
    EXPECT_NE(result.errors[0].find("fails on purpose"), std::string::npos) << result.errors[0];
}

TEST(GoParser, RealOutput_SeveralGomaxprocsKeepTheSuffix_NaNIsNoSample_LogsSkipped) {
    const Parsed result = parsed(parse_go(fixture("go_cpu.txt")));
    const auto ns = values_of(result, "ns_per_op");
    // -cpu 1,2: "BenchmarkJoin" ran at GOMAXPROCS 1 and 2, told apart by the suffix Go printed.
    EXPECT_EQ(ns.at("BenchmarkJoin").size(), 2u);
    EXPECT_EQ(ns.at("BenchmarkJoin-2").size(), 2u);
    EXPECT_EQ(ns.at("BenchmarkLogs-2").size(), 2u);
    EXPECT_TRUE(values_of(result, "ratio").empty()); // b.ReportMetric(math.NaN(), "ratio")
    EXPECT_EQ(ns.at("BenchmarkNaN").size(), 2u);
    EXPECT_TRUE(result.errors.empty());
}

TEST(GoParser, RealVerboseOutput_BareNameLinesSkipped_FailureStillAnError) {
    const Parsed result = parsed(parse_go(fixture("go_verbose.txt")));
    const auto ns = values_of(result, "ns_per_op");
    EXPECT_EQ(ns.at("BenchmarkJoin"), (std::vector<double>{1681}));
    EXPECT_EQ(ns.at("BenchmarkLogs").size(), 1u);
    ASSERT_EQ(result.errors.size(), 1u);
    EXPECT_NE(result.errors[0].find("BenchmarkFails"), std::string::npos);
}

TEST(GoParser, MalformedBenchmarkLine_NamesTheLine) {
    const std::string text = "goos: linux\nBenchmarkX-8   \t  1000\t  12 ns/op\n"
                             "BenchmarkY-8   \t  many\t  12 ns/op\n";
    const ParseResult result = parse_go(text);
    ASSERT_TRUE(std::holds_alternative<ParseError>(result));
    EXPECT_EQ(std::get<ParseError>(result).field, "line 3");
    EXPECT_NE(std::get<ParseError>(result).message.find("\"many\""), std::string::npos);

    const ParseResult odd = parse_go("BenchmarkX-8 1000 12 ns/op 45\n");
    ASSERT_TRUE(std::holds_alternative<ParseError>(odd));
    EXPECT_EQ(std::get<ParseError>(odd).field, "line 1");
    const ParseResult word = parse_go("BenchmarkX-8 1000 fast ns/op\n");
    ASSERT_TRUE(std::holds_alternative<ParseError>(word));
}

TEST(GoParser, LineLongerThanTheLimit_IsAnErrorNamingIt_LastLineWithoutNewlineRead) {
    const std::string text = "BenchmarkA 10 5 ns/op\n" + std::string(k_jsonl_line_max + 1, 'x');
    const ParseResult result = parse_go(text);
    ASSERT_TRUE(std::holds_alternative<ParseError>(result));
    EXPECT_EQ(std::get<ParseError>(result).field, "line 2");
    EXPECT_EQ(parsed(parse_go("\nBenchmarkA 10 5 ns/op")).samples.size(), 1u);
}

TEST(GoParser, LinesThatAreNotBenchmarkLines_AreSkipped) {
    const Parsed result = parsed(parse_go("Benchmarking is fun 1 2\nPASS\nok  \tx\t0.1s\n"
                                          "BenchmarkA 10 5 ns/op\n"));
    ASSERT_EQ(result.samples.size(), 1u);
    EXPECT_EQ(result.samples[0].case_name, "BenchmarkA");
    EXPECT_TRUE(parsed(parse_go("")).samples.empty());
}

TEST(PytestBenchmarkParser, RealJson_EachRoundIsATimeSampleInNs_CasesByFullname) {
    const Parsed result = parsed(parse_pytest_benchmark(fixture("pytest_benchmark.json")));
    const auto times = values_of(result, "time");
    ASSERT_EQ(times.size(), 3u); // two test_small, told apart by fullname
    EXPECT_EQ(times.at("test_fixture.py::test_small").size(), 5u);
    EXPECT_EQ(times.at("test_fixture.py::TestGroup::test_small").size(), 5u);
    // stats.data is per iteration in seconds: test_large (pedantic, 2 iterations) takes tens of us.
    for (const double ns : times.at("test_fixture.py::test_large")) {
        EXPECT_GT(ns, 1e3);
        EXPECT_LT(ns, 1e8);
    }
    const Sample* time = first_of(result, "time");
    EXPECT_EQ(time->unit, "ns");
    EXPECT_EQ(time->direction, Direction::lower);
    const Sample* ops = first_of(result, "ops");
    ASSERT_NE(ops, nullptr);
    EXPECT_EQ(ops->direction, Direction::higher);
    EXPECT_EQ(values_of(result, "ops").at("test_fixture.py::test_small").size(), 1u);
}

TEST(PytestBenchmarkParser, WithoutData_TheMedianStandsIn_NaNIsNoSample) {
    // A --benchmark-save file written without --benchmark-save-data has no stats.data.
    const Parsed result = parsed(parse_pytest_benchmark(
        R"({"benchmarks": [{"name": "t", "fullname": "a.py::t",
            "stats": {"median": 0.002, "ops": NaN, "stddev": NaN}}]})"));
    ASSERT_EQ(result.samples.size(), 1u);
    EXPECT_EQ(result.samples[0].metric, "time");
    EXPECT_DOUBLE_EQ(result.samples[0].value, 2e6);
}

TEST(PytestBenchmarkParser, WrongShapeAndNotJson_NameFieldOrOffset) {
    const ParseResult no_stats = parse_pytest_benchmark(R"({"benchmarks": [{"name": "t"}]})");
    ASSERT_TRUE(std::holds_alternative<ParseError>(no_stats));
    EXPECT_EQ(std::get<ParseError>(no_stats).field, "benchmarks[0].stats");
    const ParseResult truncated = parse_pytest_benchmark(R"({"benchmarks": [{"name")");
    ASSERT_TRUE(std::holds_alternative<ParseError>(truncated));
    EXPECT_TRUE(std::get<ParseError>(truncated).offset);
    const ParseResult none = parse_pytest_benchmark(R"({"machine_info": {}})");
    ASSERT_TRUE(std::holds_alternative<ParseError>(none));
    EXPECT_EQ(std::get<ParseError>(none).field, "benchmarks");
}

// The example of https://bencher.dev/docs/reference/bencher-metric-format, as published.
constexpr const char* k_bmf_example = R"({
    "benchmark_name": {
        "latency": {
            "value": 88.0,
            "lower_value": 87.42,
            "upper_value": 88.88
        },
        "throughput": {
            "value": 5.55,
            "lower_value": 3.14,
            "upper_value": 6.30
        }
    },
    "/bin/sh -c ./my_build_script.sh": {
        "build-time": {
            "value": 87.0
        }
    },
    "my_binary": {
        "file-size": {
            "value": 42.0
        }
    }
})";

TEST(BmfParser, ReferenceExample_OneSamplePerMeasure_BuiltInUnitsAndDirections) {
    const Parsed result = parsed(parse_bmf(k_bmf_example));
    ASSERT_EQ(result.samples.size(), 4u); // lower_value and upper_value are no samples
    const Sample* latency = first_of(result, "latency");
    ASSERT_NE(latency, nullptr);
    EXPECT_EQ(latency->case_name, "benchmark_name");
    EXPECT_EQ(latency->value, 88.0);
    EXPECT_EQ(latency->unit, "ns");
    EXPECT_EQ(latency->direction, Direction::lower);
    EXPECT_EQ(first_of(result, "throughput")->direction, Direction::higher);
    EXPECT_EQ(first_of(result, "build-time")->unit, "s");
    EXPECT_EQ(first_of(result, "file-size")->case_name, "my_binary");
    EXPECT_EQ(first_of(result, "file-size")->unit, "B");
}

TEST(BmfParser, UnknownMeasureIsLower_NaNIsNoSample) {
    const Parsed result =
        parsed(parse_bmf(R"({"b": {"widgets": {"value": 3}, "latency": {"value": NaN}}})"));
    ASSERT_EQ(result.samples.size(), 1u);
    EXPECT_EQ(result.samples[0].metric, "widgets");
    EXPECT_EQ(result.samples[0].direction, Direction::lower);
}

TEST(BmfParser, WrongShapeAndNotJson_NameFieldOrOffset) {
    const ParseResult no_value = parse_bmf(R"({"b": {"latency": {"lower_value": 1}}})");
    ASSERT_TRUE(std::holds_alternative<ParseError>(no_value));
    EXPECT_EQ(std::get<ParseError>(no_value).field, "b.latency.value");
    const ParseResult text_value = parse_bmf(R"({"b": {"latency": {"value": "88"}}})");
    ASSERT_TRUE(std::holds_alternative<ParseError>(text_value));
    const ParseResult array = parse_bmf("[1, 2]");
    ASSERT_TRUE(std::holds_alternative<ParseError>(array));
    const ParseResult truncated = parse_bmf(R"({"b": {"latency": )");
    ASSERT_TRUE(std::holds_alternative<ParseError>(truncated));
    EXPECT_TRUE(std::get<ParseError>(truncated).offset);
}

} // namespace
} // namespace abtool::runners::parsers
