// Parsers on real output: JSON from a Google Benchmark binary built with this test (repetitions,
// aggregates, counters, an errored case), a hyperfine --export-json file, JSON lines, and
// malformed or truncated input reported with a byte offset.
#include "abtool/runners.hpp"
#include "runners/parsers/parsers.hpp"
#include "tests/support/shell.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <map>

namespace abtool::runners::parsers {
namespace {

Parsed parsed(const ParseResult& result) {
    if (const auto* error = std::get_if<ParseError>(&result)) {
        ADD_FAILURE() << "parse error at " << error->offset << ": " << error->message;
        return {};
    }
    return std::get<Parsed>(result);
}

std::string gbench_output() {
    static const std::string output = abtool::testing::must(
        std::string(GBENCH_FIXTURE) + " --benchmark_format=json --benchmark_repetitions=3 "
                                      "--benchmark_min_time=0.001 2>/dev/null");
    return output;
}

TEST(GbenchParser, RealOutput_IterationRowsOnly_NormalizedToNs) {
    const Parsed result = parsed(parse_gbench(gbench_output()));
    std::map<std::string, int> real_time_per_case;
    for (const Sample& sample : result.samples) {
        if (sample.metric == "real_time") {
            ++real_time_per_case[sample.case_name];
            EXPECT_EQ(sample.unit, "ns");
            EXPECT_GT(sample.value, 0);
        }
    }
    // Three repetitions each, and the mean/median/stddev/cv aggregates not counted again.
    EXPECT_EQ(real_time_per_case["BM_Sum/64"], 3);
    EXPECT_EQ(real_time_per_case["BM_Sum/1024"], 3);
    EXPECT_EQ(real_time_per_case.size(), 2u);
}

TEST(GbenchParser, CountersAndRates_AreFlattenedMetrics) {
    const Parsed result = parsed(parse_gbench(gbench_output()));
    bool items = false, elements = false;
    for (const Sample& sample : result.samples) {
        if (sample.metric == "items_per_second") {
            items = true;
            EXPECT_EQ(sample.direction, Direction::higher);
        }
        if (sample.metric == "elements" && sample.case_name == "BM_Sum/1024") {
            elements = true;
            EXPECT_EQ(sample.value, 1024);
        }
    }
    EXPECT_TRUE(items);
    EXPECT_TRUE(elements);
}

TEST(GbenchParser, ErroredCase_IsReportedAsAnError) {
    const Parsed result = parsed(parse_gbench(gbench_output()));
    ASSERT_FALSE(result.errors.empty());
    EXPECT_NE(result.errors.front().find("BM_Fails"), std::string::npos);
    EXPECT_NE(result.errors.front().find("this case reports an error"), std::string::npos);
}

TEST(GbenchParser, BareNaNAndInfinity_AreAccepted) {
    const std::string text = R"({"benchmarks": [{"name": "BM_x", "run_type": "iteration",
        "real_time": 5.0, "cpu_time": 4.0, "time_unit": "us", "ratio": NaN, "peak": Infinity,
        "label": "NaN inside a string stays"}]})";
    const Parsed result = parsed(parse_gbench(text));
    ASSERT_EQ(result.samples.size(), 2u); // real_time, cpu_time; the NaN counters give none
    EXPECT_EQ(result.samples[0].value, 5000);
}

TEST(GbenchParser, TruncatedOutput_NamesTheByteOffset) {
    const std::string text = gbench_output().substr(0, 200);
    const auto result = parse_gbench(text);
    ASSERT_TRUE(std::holds_alternative<ParseError>(result));
    EXPECT_EQ(std::get<ParseError>(result).offset, 200u);
}

TEST(HyperfineParser, RealExportJson_TimesInMilliseconds) {
    const std::string text =
        abtool::testing::read_file(std::string(ABTOOL_FIXTURES_DIR) + "/runners/hyperfine.json");
    const Parsed result = parsed(parse_hyperfine(text));
    std::map<std::string, int> counts;
    for (const Sample& sample : result.samples) {
        ++counts[sample.case_name];
        EXPECT_EQ(sample.metric, "wall_ms");
        EXPECT_GT(sample.value, 0.1); // seconds became milliseconds
    }
    EXPECT_EQ(counts["sleep 0.01"], 5);
    EXPECT_EQ(counts["true"], 5);
    EXPECT_TRUE(result.errors.empty());
}

TEST(HyperfineParser, NullStddevAndExitCodes_NonZeroExitIsAnError) {
    const Parsed result = parsed(parse_hyperfine(
        R"({"results": [{"command": "x", "mean": 0.5, "stddev": null, "times": [0.5],
             "exit_codes": [null, 1]}]})"));
    ASSERT_EQ(result.samples.size(), 1u);
    EXPECT_EQ(result.samples[0].value, 500);
    ASSERT_EQ(result.errors.size(), 1u);
    EXPECT_NE(result.errors[0].find("exit code 1"), std::string::npos);
}

TEST(JsonlParser, LinesWithDirection_BlankLinesSkipped) {
    const Parsed result = parsed(parse_jsonl(
        "{\"case\": \"async/local\", \"metric\": \"us_per_msg\", \"value\": 1.82, \"unit\": "
        "\"us\", \"direction\": \"lower\"}\n\n"
        "{\"case\": \"async/local\", \"metric\": \"msgs\", \"value\": 1000, \"direction\": "
        "\"higher\"}\n"));
    ASSERT_EQ(result.samples.size(), 2u);
    EXPECT_EQ(result.samples[0].case_name, "async/local");
    EXPECT_EQ(result.samples[0].value, 1.82);
    EXPECT_EQ(result.samples[1].direction, Direction::higher);
}

TEST(JsonlParser, MalformedLine_NamesItsByteOffset) {
    const std::string text =
        "{\"metric\": \"m\", \"value\": 1}\n{\"metric\": \"m\", \"value\": }\n";
    const auto result = parse_jsonl(text);
    ASSERT_TRUE(std::holds_alternative<ParseError>(result));
    const std::size_t offset = std::get<ParseError>(result).offset;
    EXPECT_GE(offset, text.find('\n') + 1); // on the second line
    EXPECT_LT(offset, text.size());
    EXPECT_TRUE(std::holds_alternative<ParseError>(parse_jsonl("{\"value\": 1}\n")));
    EXPECT_TRUE(std::holds_alternative<ParseError>(
        parse_jsonl("{\"metric\": \"m\", \"value\": 1, \"direction\": \"up\"}\n")));
}

} // namespace
} // namespace abtool::runners::parsers
