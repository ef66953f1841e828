// Parsers on real output: JSON from a Google Benchmark binary built with this test (repetitions,
// aggregates, aggregates only, --benchmark_out, counters, ms and s time units, an errored case), a
// hyperfine --export-json file, JSON lines, and malformed or truncated input reported with a byte
// offset or the field.
#include "abtool/runners.hpp"
#include "runners/parsers/json_text.hpp"
#include "runners/parsers/parsers.hpp"
#include "tests/support/shell.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/runners/parse_result.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <iterator>
#include <map>
#include <set>
#include <vector>

namespace abtool::runners::parsers {
namespace {

std::string run_gbench(const std::string& flags) {
    return abtool::testing::must(std::string(GBENCH_FIXTURE) +
                                 " --benchmark_format=json --benchmark_repetitions=3 "
                                 "--benchmark_min_time=0.001 " +
                                 flags + " 2>/dev/null");
}

std::string gbench_output() {
    static const std::string output = run_gbench("");
    return output;
}

// The real_time samples per case.
std::map<std::string, std::vector<double>> real_times(const Parsed& result) {
    std::map<std::string, std::vector<double>> times;
    for (const Sample& sample : result.samples) {
        if (sample.metric == "real_time") {
            times[sample.case_name].push_back(sample.value);
        }
    }
    return times;
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
    EXPECT_EQ(real_time_per_case["BM_Sum_ms/64"], 3);
    EXPECT_EQ(real_time_per_case["BM_Sum_s/64"], 3);
    EXPECT_EQ(real_time_per_case.size(), 4u);
}

TEST(GbenchParser, MillisecondAndSecondUnits_AreConvertedToNs) {
    const std::string text = gbench_output();
    const Parsed result = parsed(parse_gbench(text));
    // What the program printed, row by row, against what the parser made of it.
    const nlohmann::json json = nlohmann::json::parse(text);
    std::map<std::string, std::vector<double>> printed;
    std::set<std::string> units;
    for (const nlohmann::json& row : json["benchmarks"]) {
        if (row["run_type"] == "iteration" && !row.value("error_occurred", false)) {
            const std::string unit = row["time_unit"];
            units.insert(unit);
            const double scale = unit == "s" ? 1e9 : unit == "ms" ? 1e6 : unit == "us" ? 1e3 : 1;
            printed[row["run_name"]].push_back(row["real_time"].get<double>() * scale);
        }
    }
    EXPECT_EQ(units, (std::set<std::string>{"ns", "ms", "s"}));
    const auto times = real_times(result);
    for (const char* name : {"BM_Sum_ms/64", "BM_Sum_s/64"}) {
        ASSERT_EQ(times.at(name).size(), 3u) << name;
        for (std::size_t i = 0; i < 3; ++i) {
            EXPECT_DOUBLE_EQ(times.at(name)[i], printed.at(name)[i]) << name;
        }
    }
    // A made-up unit is an error naming the field, not a silent nanosecond.
    const auto unknown = parse_gbench(R"({"benchmarks": [{"name": "x", "run_type": "iteration",
        "real_time": 1, "time_unit": "min"}]})");
    ASSERT_TRUE(std::holds_alternative<ParseError>(unknown));
    EXPECT_EQ(std::get<ParseError>(unknown).field, "benchmarks[0].time_unit");
}

// Aggregates only: each case has no iteration rows; its median stands in as one sample.
void expect_median_per_case(const std::string& text) {
    const Parsed result = parsed(parse_gbench(text));
    const nlohmann::json json = nlohmann::json::parse(text);
    std::map<std::string, double> medians;
    std::size_t iteration_rows = 0;
    for (const nlohmann::json& row : json["benchmarks"]) {
        iteration_rows += row["run_type"] == "iteration" && !row.value("error_occurred", false);
        if (row.value("aggregate_name", "") == "median") {
            const std::string unit = row["time_unit"];
            const double scale = unit == "s" ? 1e9 : unit == "ms" ? 1e6 : unit == "us" ? 1e3 : 1;
            medians[row["run_name"]] = row["real_time"].get<double>() * scale;
        }
    }
    ASSERT_EQ(iteration_rows, 0u) << "the fixture printed iteration rows";
    ASSERT_EQ(medians.size(), 4u);
    const auto times = real_times(result);
    ASSERT_EQ(times.size(), 4u);
    for (const auto& [name, median] : medians) {
        ASSERT_EQ(times.at(name).size(), 1u) << name;
        EXPECT_DOUBLE_EQ(times.at(name)[0], median) << name;
    }
    ASSERT_FALSE(result.errors.empty()); // the errored case is still an error
    EXPECT_NE(result.errors.front().find("BM_Fails"), std::string::npos);
}

TEST(GbenchParser, ReportAggregatesOnly_MedianIsTheSample) {
    expect_median_per_case(run_gbench("--benchmark_report_aggregates_only=true"));
}

TEST(GbenchParser, DisplayAggregatesOnly_MedianIsTheSample) {
    expect_median_per_case(run_gbench("--benchmark_display_aggregates_only=true"));
}

TEST(GbenchParser, MeanStandsInWhenThereIsNoMedian) {
    const Parsed result = parsed(parse_gbench(R"({"benchmarks": [
        {"name": "BM_x_mean", "run_name": "BM_x", "run_type": "aggregate",
         "aggregate_name": "mean", "real_time": 5.0, "time_unit": "us"},
        {"name": "BM_x_stddev", "run_name": "BM_x", "run_type": "aggregate",
         "aggregate_name": "stddev", "real_time": 1.0, "time_unit": "us"}]})"));
    const auto times = real_times(result);
    ASSERT_EQ(times.at("BM_x").size(), 1u);
    EXPECT_EQ(times.at("BM_x")[0], 5000);
}

TEST(GbenchParser, BenchmarkOutFile_HoldsEveryRepetition) {
    abtool::testing::TempDir dir;
    const std::string file = (dir.path() / "out.json").string();
    // The console shows aggregates only; the file still gets every row.
    abtool::testing::must(std::string(GBENCH_FIXTURE) +
                          " --benchmark_repetitions=3 --benchmark_min_time=0.001 "
                          "--benchmark_display_aggregates_only=true --benchmark_out_format=json "
                          "--benchmark_out=" +
                          file + " >/dev/null 2>&1");
    const Parsed result = parsed(parse_gbench(abtool::testing::read_file(file)));
    const auto times = real_times(result);
    EXPECT_EQ(times.size(), 4u);
    for (const auto& [name, values] : times) {
        EXPECT_EQ(values.size(), 3u) << name;
    }
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

TEST(GbenchParser, OffsetsAfterThreeLetterNaNAndInf_PointIntoTheOriginal) {
    // Each 3-letter word becomes the 4-letter null; the error must still name the original byte.
    const std::string text = R"({"benchmarks": [{"a": NaN, "b": inf, "c": nan, "d": @}]})";
    const auto result = parse_gbench(text);
    ASSERT_TRUE(std::holds_alternative<ParseError>(result));
    EXPECT_EQ(std::get<ParseError>(result).offset, text.find('@'));
    ViewStream in(text);
    NonFiniteFilter filter(*in.rdbuf());
    const std::string filtered{std::istreambuf_iterator<char>(&filter),
                               std::istreambuf_iterator<char>()};
    EXPECT_EQ(filtered, R"({"benchmarks": [{"a": null, "b": null, "c": null, "d": @}]})");
    EXPECT_EQ(filter.original_offset(filtered.find('@')), text.find('@'));
    EXPECT_EQ(filter.original_offset(0), 0u);
}

TEST(GbenchParser, NonFiniteWordsAcrossTheReadersChunks_AreStillReplaced) {
    // The output streams through in chunks: a word cut by a chunk's end must still become null,
    // and offsets after it must still point into the original.
    for (const std::string word : {"NaN", "-Infinity", "inf", "-nan"}) {
        for (std::size_t shift = 0; shift < 12; ++shift) {
            const std::string head =
                R"({"benchmarks": [{"name": "BM_x", "real_time": 5, "label": ")";
            const std::string filler = R"(", "a": )";
            const std::size_t pad = NonFiniteFilter::k_chunk - shift - head.size() - filler.size();
            const std::string before = head + std::string(pad, 'x') + filler + word;
            const Parsed ok = parsed(parse_gbench(before + R"(, "c": 1}]})"));
            ASSERT_EQ(ok.samples.size(), 2u) << word << " at shift " << shift; // real_time, c
            const std::string bad = before + R"(, "d": @}]})";
            const auto error = parse_gbench(bad);
            ASSERT_TRUE(std::holds_alternative<ParseError>(error)) << word << " " << shift;
            EXPECT_EQ(std::get<ParseError>(error).offset, bad.find('@')) << word << " " << shift;
        }
    }
}

TEST(GbenchParser, AggregatesOnlyBenchmarkAmongOthers_KeepsItsPlace) {
    // Rows stream past once; a stand-in is placed where its row was.
    const Parsed result = parsed(parse_gbench(R"({"benchmarks": [
        {"name": "BM_a", "run_type": "iteration", "real_time": 1.0, "time_unit": "ns"},
        {"name": "BM_b_mean", "run_name": "BM_b", "run_type": "aggregate",
         "aggregate_name": "mean", "real_time": 2.0, "time_unit": "ns"},
        {"name": "BM_b_median", "run_name": "BM_b", "run_type": "aggregate",
         "aggregate_name": "median", "real_time": 3.0, "time_unit": "ns"},
        {"name": "BM_c", "run_type": "iteration", "real_time": 4.0, "time_unit": "ns"},
        {"name": "BM_a_mean", "run_name": "BM_a", "run_type": "aggregate",
         "aggregate_name": "mean", "real_time": 9.0, "time_unit": "ns"}]})"));
    std::vector<std::pair<std::string, double>> real;
    for (const Sample& sample : result.samples) {
        if (sample.metric == "real_time") {
            real.emplace_back(sample.case_name, sample.value);
        }
    }
    const std::vector<std::pair<std::string, double>> expected{
        {"BM_a", 1.0}, {"BM_b", 3.0}, {"BM_c", 4.0}};
    EXPECT_EQ(real, expected);
}

TEST(GbenchParser, LargeContext_IsSkippedNotBuilt) {
    // Everything outside "benchmarks" streams past: a context of 200,000 entries before the rows
    // and unknown keys after them change nothing.
    std::string text = R"({"context": {"caches": [)";
    for (int i = 0; i < 200000; ++i) {
        text += R"({"type": "Data", "level": 1, "size": 32768},)";
    }
    text += R"(0]}, "benchmarks": [{"name": "BM_x", "run_type": "iteration", "real_time": 7,
        "time_unit": "ns"}], "after": [1, 2, {"x": NaN}]})";
    const Parsed result = parsed(parse_gbench(text));
    ASSERT_EQ(result.samples.size(), 1u);
    EXPECT_EQ(result.samples[0].value, 7);
}

TEST(GbenchParser, WellFormedJsonOfTheWrongShape_NamesTheField) {
    for (const char* text :
         {R"({"benchmarks": [1]})", R"({"benchmarks": [{"name": "x", "run_type": 3}]})",
          R"({"benchmarks": [{"name": "x", "time_unit": 1e3}]})"}) {
        const auto result = parse_gbench(text);
        ASSERT_TRUE(std::holds_alternative<ParseError>(result)) << text;
        const ParseError& error = std::get<ParseError>(result);
        EXPECT_EQ(error.field, "benchmarks[0]") << text;
        EXPECT_FALSE(error.offset) << text;
        EXPECT_NE(error.message.find("not Google Benchmark JSON"), std::string::npos);
    }
    const auto no_array = parse_gbench(R"({"benchmarks": {}})");
    ASSERT_TRUE(std::holds_alternative<ParseError>(no_array));
    EXPECT_EQ(std::get<ParseError>(no_array).field, "benchmarks");
}

TEST(GbenchParser, NumberOutOfDoubleRange_NamesTheFieldAndByteOffset) {
    // nlohmann throws out_of_range.406 for these with no position; it used to escape as an
    // internal error and end the whole run (issue 18).
    for (const std::string number : {"1e999", "-1e999"}) {
        const std::string text = R"({"benchmarks": [{"name": "BM_x", "real_time": 1.0},
            {"name": "BM_y", "run_type": "iteration", "real_time": )" +
                                 number + R"(, "time_unit": "ns"}]})";
        const auto result = parse_gbench(text);
        ASSERT_TRUE(std::holds_alternative<ParseError>(result)) << number;
        const ParseError& error = std::get<ParseError>(result);
        EXPECT_EQ(error.offset, text.find(number)) << number;
        EXPECT_EQ(error.field, "benchmarks[1].real_time") << number;
        EXPECT_NE(error.message.find("not Google Benchmark JSON"), std::string::npos);
        EXPECT_NE(error.message.find(number), std::string::npos) << error.message;
    }
    // After a 3-letter NaN, the offset still points into the original text.
    const std::string text = R"({"benchmarks": [{"a": nan, "b": 1e999}]})";
    const auto result = parse_gbench(text);
    ASSERT_TRUE(std::holds_alternative<ParseError>(result));
    EXPECT_EQ(std::get<ParseError>(result).offset, text.find("1e999"));
    EXPECT_EQ(std::get<ParseError>(result).field, "benchmarks[0].b");
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

TEST(HyperfineParser, WellFormedJsonOfTheWrongShape_NamesTheField) {
    for (const char* text : {R"({"results": [1]})", R"({"results": [{"command": 5}]})"}) {
        const auto result = parse_hyperfine(text);
        ASSERT_TRUE(std::holds_alternative<ParseError>(result)) << text;
        EXPECT_EQ(std::get<ParseError>(result).field, "results[0]") << text;
    }
    const auto truncated = parse_hyperfine(R"({"results": [{"command": "x", "times": [0.1,)");
    ASSERT_TRUE(std::holds_alternative<ParseError>(truncated));
    EXPECT_TRUE(std::get<ParseError>(truncated).offset);
}

TEST(HyperfineParser, ExitCodeOutsideIntRange_IsAnErrorNotUndefinedBehaviour) {
    // Found by fuzz_hyperfine: get<int>() on 1e10 was a float-to-int overflow (UBSan).
    const Parsed result = parsed(parse_hyperfine(R"({"results":[{"exit_codes":[1e10]}]})"));
    ASSERT_EQ(result.errors.size(), 1u);
    EXPECT_NE(result.errors[0].find("exit code 10000000000"), std::string::npos)
        << result.errors[0];
    EXPECT_TRUE(parsed(parse_hyperfine(R"({"results":[{"exit_codes":[0, 0.0]}]})")).errors.empty());
}

TEST(HyperfineParser, NumberOutOfDoubleRange_NamesTheFieldAndByteOffset) {
    for (const std::string number : {"1e999", "-1e999"}) {
        const std::string text =
            R"({"results": [{"command": "x", "times": [0.5, )" + number + R"(]}]})";
        const auto result = parse_hyperfine(text);
        ASSERT_TRUE(std::holds_alternative<ParseError>(result)) << number;
        const ParseError& error = std::get<ParseError>(result);
        EXPECT_EQ(error.offset, text.find(number)) << number;
        EXPECT_EQ(error.field, "results[0].times[1]") << number;
        EXPECT_NE(error.message.find("not hyperfine JSON"), std::string::npos);
    }
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
    const std::size_t offset = std::get<ParseError>(result).offset.value_or(0);
    EXPECT_GE(offset, text.find('\n') + 1); // on the second line
    EXPECT_LT(offset, text.size());
    EXPECT_TRUE(std::holds_alternative<ParseError>(parse_jsonl("{\"value\": 1}\n")));
    EXPECT_TRUE(std::holds_alternative<ParseError>(
        parse_jsonl("{\"metric\": \"m\", \"value\": 1, \"direction\": \"up\"}\n")));
}

TEST(JsonlParser, LinesAcrossTheReadersChunks_AllParsed) {
    // 5,000 lines of about 50 bytes: several of the reader's 64 KiB chunks, lines cut between
    // them; the malformed last line's offset is its own.
    std::string text;
    for (int i = 0; i < 5000; ++i) {
        text += "{\"case\": \"c" + std::to_string(i) +
                "\", \"metric\": \"m\", \"value\": " + std::to_string(i) + "}\n";
    }
    const Parsed result = parsed(parse_jsonl(text));
    ASSERT_EQ(result.samples.size(), 5000u);
    EXPECT_EQ(result.samples[4321].case_name, "c4321");
    EXPECT_EQ(result.samples[4321].value, 4321);
    const std::string bad = text + "{\"metric\": \"m\", \"value\": x}";
    const auto error = parse_jsonl(bad);
    ASSERT_TRUE(std::holds_alternative<ParseError>(error));
    EXPECT_EQ(std::get<ParseError>(error).offset, bad.find('x', text.size()));
}

TEST(JsonlParser, LineLongerThanTheLimit_IsAnErrorAtItsStart) {
    const std::string first = "{\"metric\": \"m\", \"value\": 1}\n";
    const std::string text =
        first + "{\"metric\": \"m\", \"label\": \"" + std::string(k_jsonl_line_max, 'x') + "\"}\n";
    const auto result = parse_jsonl(text);
    ASSERT_TRUE(std::holds_alternative<ParseError>(result));
    EXPECT_EQ(std::get<ParseError>(result).offset, first.size());
    EXPECT_NE(std::get<ParseError>(result).message.find("longer than 1 MiB"), std::string::npos);
}

TEST(JsonlParser, NumberOutOfDoubleRange_NamesTheFieldAndByteOffset) {
    for (const std::string number : {"1e999", "-1e999"}) {
        const std::string text =
            "{\"metric\": \"m\", \"value\": 1}\n{\"metric\": \"m\", \"value\": " + number + "}\n";
        const auto result = parse_jsonl(text);
        ASSERT_TRUE(std::holds_alternative<ParseError>(result)) << number;
        const ParseError& error = std::get<ParseError>(result);
        EXPECT_EQ(error.offset, text.find(number)) << number;
        EXPECT_EQ(error.field, "value") << number;
        EXPECT_NE(error.message.find("not a JSON line"), std::string::npos);
    }
}

} // namespace
} // namespace abtool::runners::parsers
