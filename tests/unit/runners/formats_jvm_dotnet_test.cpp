// The JMH and BenchmarkDotNet readers on real output of those tools, taken from public
// repositories (tests/fixtures/runners/README.md names each file's source): sample counts,
// units normalised, directions, case names, secondary metrics; malformed variants derived from
// the same files are ParseErrors naming the field; and each format run end to end as a hotpath
// workload, with its default gated metric.
#include "abtool/runners.hpp"
#include "runners/parsers/parsers.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/runners/parse_result.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace abtool::runners::parsers {
namespace {

std::string fixture_path(const std::string& name) {
    return std::string(ABTOOL_FIXTURES_DIR) + "/runners/" + name;
}

std::string fixture(const std::string& name) {
    return abtool::testing::read_file(fixture_path(name));
}

// The samples of one case and metric.
std::vector<Sample> of(const Parsed& result, const std::string& case_name,
                       const std::string& metric) {
    std::vector<Sample> found;
    for (const Sample& sample : result.samples) {
        if (sample.case_name == case_name && sample.metric == metric) {
            found.push_back(sample);
        }
    }
    return found;
}

// A fixture changed through its DOM: the malformed variants below are the real file with one
// thing wrong.
std::string changed(const std::string& name, const std::function<void(nlohmann::json&)>& change) {
    nlohmann::json document = nlohmann::json::parse(fixture(name));
    change(document);
    return document.dump(2);
}

// ---- JMH ----

TEST(JmhParser, ThroughputTwoForks_EveryIterationOfEveryForkIsASample) {
    const Parsed result = parsed(parse_jmh(fixture("jmh_thrpt_forks_params.json")));
    EXPECT_TRUE(result.errors.empty());
    ASSERT_EQ(result.samples.size(), 40u); // 2 results x 2 forks x 10 iterations
    const auto argonaut = of(result, "bench.Case1.decodeArgonaut(depth=10,length=10)", "score");
    ASSERT_EQ(argonaut.size(), 20u);
    EXPECT_DOUBLE_EQ(argonaut.front().value, 10163.443194261832); // fork 1, iteration 1
    EXPECT_DOUBLE_EQ(argonaut.back().value, 11106.222556680454);  // fork 2, iteration 10
    EXPECT_EQ(argonaut.front().unit, "ops/s");
    EXPECT_EQ(argonaut.front().direction, Direction::higher);
    EXPECT_EQ(of(result, "bench.Case1.decodeCirce(depth=10,length=10)", "score").size(), 20u);
}

TEST(JmhParser, AverageTimeInNs_IsLowerIsBetter) {
    const Parsed result = parsed(parse_jmh(fixture("jmh_avgt.json")));
    const auto get = of(result,
                        "com.twineworks.collections.constshapemap.BigMapReadBenchmark."
                        "const_shape_map__get",
                        "score");
    ASSERT_EQ(get.size(), 10u);
    EXPECT_DOUBLE_EQ(get.front().value, 8.346103327426313);
    EXPECT_EQ(get.front().unit, "ns");
    EXPECT_EQ(get.front().direction, Direction::lower);
    EXPECT_EQ(result.samples.size(), 20u);
}

TEST(JmhParser, SingleShotInMs_BecomesNsAndParamsNameTheCase) {
    const Parsed result = parsed(parse_jmh(fixture("jmh_ss_params.json")));
    const std::string base = "org.jetbrains.benchmark.collection.AndroidxIntToIntBenchmark.get";
    const auto small =
        of(result, base + "(loadFactor=0.75,mapSize=100,oneFailureOutOf=2)", "score");
    const auto large = of(result, base + "(loadFactor=0.75,mapSize=1K,oneFailureOutOf=2)", "score");
    ASSERT_EQ(small.size(), 40u);
    ASSERT_EQ(large.size(), 40u);
    EXPECT_DOUBLE_EQ(small.front().value, 0.004458 * 1e6);
    EXPECT_EQ(small.front().unit, "ns");
    EXPECT_EQ(small.front().direction, Direction::lower);
}

TEST(JmhParser, OpsPerMinute_BecomeOpsPerSecond) {
    const Parsed result = parsed(parse_jmh(fixture("jmh_ops_per_min.json")));
    const auto acm =
        of(result, "org.ojalgo.benchmark.lab.FillByMultiplying.execute(dim=100,lib=ACM)", "score");
    ASSERT_EQ(acm.size(), 3u);
    EXPECT_DOUBLE_EQ(acm.front().value, 52151.56022277296 / 60);
    EXPECT_EQ(acm.front().unit, "ops/s");
    EXPECT_EQ(acm.front().direction, Direction::higher);
}

TEST(JmhParser, SecondaryMetrics_AreSamplesUnderJmhsNames) {
    // A @Group benchmark: the group's score, and each method's throughput as a secondary metric.
    const Parsed result = parsed(parse_jmh(fixture("jmh_group_secondary.json")));
    const std::string name = "com.github.chrisgleissner.benchmarks.concurrent."
                             "ConcCollectionBenchmark.ArrayBlockingQueue";
    EXPECT_EQ(of(result, name, "score").size(), 10u);
    const auto add = of(result, name, "ArrayBlockingQueueAdd");
    ASSERT_EQ(add.size(), 10u);
    EXPECT_DOUBLE_EQ(add.front().value, 10456486.643050088);
    EXPECT_EQ(add.front().unit, "ops/s");
    EXPECT_EQ(add.front().direction, Direction::higher);
    EXPECT_EQ(of(result, name, "ArrayBlockingQueueRemove").size(), 10u);
    EXPECT_EQ(result.samples.size(), 80u); // 2 results x (score + 3 secondaries) x 10
}

TEST(JmhParser, SecondaryMetricOfAnotherUnit_KeptAsGivenAndLowerIsBetter) {
    // The GC profiler's normalised allocation: B/op is neither a time nor a throughput.
    const std::string text = changed("jmh_avgt.json", [](nlohmann::json& d) {
        d[0]["secondaryMetrics"]["gc.alloc.rate.norm"] = nlohmann::json::parse(
            R"({"score": 16.0, "scoreUnit": "B/op", "rawData": [[16.0, 16.0, "NaN"]]})");
    });
    const Parsed result = parsed(parse_jmh(text));
    const auto alloc = of(result,
                          "com.twineworks.collections.constshapemap.BigMapReadBenchmark."
                          "const_shape_map__get",
                          "gc.alloc.rate.norm");
    ASSERT_EQ(alloc.size(), 2u); // a profiler's NaN iteration is skipped
    EXPECT_EQ(alloc.front().unit, "B/op");
    EXPECT_EQ(alloc.front().direction, Direction::lower);
}

TEST(JmhParser, SampleMode_EachIterationsHistogramMeanIsASample) {
    const Parsed result = parsed(parse_jmh(fixture("jmh_sample_mode.json")));
    const std::string name = "com.raiser.benchmark.client.ClientBenchmark.createUser";
    const auto score = of(result, name, "score");
    ASSERT_EQ(score.size(), 3u); // 1 fork x 3 iterations, ~420,000 timings each
    // sum(value x count) / sum(count) of iteration 1's histogram (Python over the fixture),
    // ms/op in ns; the three means average to JMH's score, 0.7576 ms/op.
    EXPECT_NEAR(score[0].value, 0.7553258652957453 * 1e6, 1e-6);
    EXPECT_NEAR(score[2].value, 0.7596787891986357 * 1e6, 1e-6);
    EXPECT_EQ(score[0].unit, "ns");
    EXPECT_EQ(score[0].direction, Direction::lower);
    // JMH reports sample mode's percentiles as secondary metrics, one value per iteration.
    const auto median = of(result, name, "createUser\u00b7p0.50");
    ASSERT_EQ(median.size(), 3u);
    EXPECT_NEAR(median[0].value, 0.7004159999999999 * 1e6, 1e-6);
    EXPECT_EQ(median[0].unit, "ns");
    EXPECT_EQ(result.samples.size(), 27u); // 3 scores + 8 percentiles x 3
}

TEST(JmhParser, OneBenchmarkInTwoModes_IsRefusedNamingTheSecond) {
    // @BenchmarkMode(Mode.All) or -bm thrpt,avgt: one case would hold two units.
    const ParseError error = error_of(parse_jmh(fixture("jmh_two_modes.json")));
    EXPECT_EQ(error.field, "[1].mode");
    EXPECT_NE(error.message.find("modes thrpt and avgt"), std::string::npos) << error.message;
}

struct Malformed {
    const char* what;
    std::function<void(nlohmann::json&)> change;
    std::string field;
};

TEST(JmhParser, MalformedVariants_NameTheField) {
    const std::vector<Malformed> cases{
        {"missing unit", [](nlohmann::json& d) { d[1]["primaryMetric"].erase("scoreUnit"); },
         "[1].primaryMetric.scoreUnit"},
        {"unknown unit", [](nlohmann::json& d) { d[1]["primaryMetric"]["scoreUnit"] = "furlongs"; },
         "[1].primaryMetric.scoreUnit"},
        {"wrong type", [](nlohmann::json& d) { d[0]["primaryMetric"]["rawData"][1][3] = "fast"; },
         "[0].primaryMetric.rawData[1][3]"},
        {"NaN", [](nlohmann::json& d) { d[0]["primaryMetric"]["rawData"][0][2] = "NaN"; },
         "[0].primaryMetric.rawData[0][2]"},
        {"Infinity", [](nlohmann::json& d) { d[1]["primaryMetric"]["rawData"][0][0] = "+INF"; },
         "[1].primaryMetric.rawData[0][0]"},
        {"empty rawData",
         [](nlohmann::json& d) {
             d[1]["primaryMetric"]["rawData"] = nlohmann::json::parse("[[]]");
         },
         "[1].primaryMetric.rawData"},
        {"missing rawData", [](nlohmann::json& d) { d[0]["primaryMetric"].erase("rawData"); },
         "[0].primaryMetric.rawData"},
        {"missing benchmark", [](nlohmann::json& d) { d[1].erase("benchmark"); }, "[1].benchmark"},
        {"unknown mode", [](nlohmann::json& d) { d[0]["mode"] = "fast"; }, "[0].mode"},
        {"params not an object", [](nlohmann::json& d) { d[0]["params"] = 3; }, "[0].params"},
        {"same case in two modes",
         [](nlohmann::json& d) {
             d[1] = d[0];
             d[1]["mode"] = "avgt";
         },
         "[1].mode"},
        {"secondary without unit",
         [](nlohmann::json& d) {
             d[0]["secondaryMetrics"]["x"] = nlohmann::json::parse(R"({"rawData": [[1.0]]})");
         },
         "[0].secondaryMetrics.x.scoreUnit"},
        {"result not an object", [](nlohmann::json& d) { d[1] = 7; }, "[1]"},
    };
    for (const Malformed& malformed : cases) {
        const ParseError error =
            error_of(parse_jmh(changed("jmh_thrpt_forks_params.json", malformed.change)));
        EXPECT_EQ(error.field, malformed.field) << malformed.what << ": " << error.message;
        EXPECT_NE(error.message.find("not JMH JSON"), std::string::npos) << error.message;
    }
}

TEST(JmhParser, EmptyArrayNotAnArrayAndTruncated_AreErrors) {
    EXPECT_EQ(error_of(parse_jmh(std::string_view("[]"))).field, "[]");
    EXPECT_EQ(error_of(parse_jmh(std::string_view("{\"benchmarks\": []}"))).offset, 0u);
    const std::string text = fixture("jmh_avgt.json");
    const ParseError truncated = error_of(parse_jmh(text.substr(0, text.size() / 2)));
    EXPECT_EQ(truncated.offset, text.size() / 2);
}

// ---- BenchmarkDotNet ----

TEST(BenchmarkDotNetParser, ResultMeasurements_AreNsPerOperationSamples) {
    const Parsed result = parsed(parse_benchmarkdotnet(fixture("benchmarkdotnet_memory.json")));
    EXPECT_TRUE(result.errors.empty());
    const auto empty = of(result, "BenchmarkDotNet.Samples.Memory.AllocEmptyList", "time");
    ASSERT_EQ(empty.size(), 3u);
    EXPECT_DOUBLE_EQ(empty.front().value, 76.35858058929443); // = Statistics.OriginalValues[0]
    EXPECT_EQ(empty.front().unit, "ns");
    EXPECT_EQ(empty.front().direction, Direction::lower);
    EXPECT_EQ(of(result, "BenchmarkDotNet.Samples.Memory.AllocExactList", "time").size(), 3u);
}

TEST(BenchmarkDotNetParser, MemoryDiagnoser_GivesBytesPerOp) {
    const Parsed result = parsed(parse_benchmarkdotnet(fixture("benchmarkdotnet_memory.json")));
    const auto bytes = of(result, "BenchmarkDotNet.Samples.Memory.AllocEmptyList", "bytes_per_op");
    ASSERT_EQ(bytes.size(), 1u);
    EXPECT_EQ(bytes.front().value, 368);
    EXPECT_EQ(bytes.front().unit, "B");
    EXPECT_EQ(bytes.front().direction, Direction::lower);
    EXPECT_EQ(
        of(result, "BenchmarkDotNet.Samples.Memory.AllocExactList", "bytes_per_op").front().value,
        184);
}

TEST(BenchmarkDotNetParser, FailedBenchmark_IsAnErrorOthersKeepTheirOutlierFreeSamples) {
    const Parsed result =
        parsed(parse_benchmarkdotnet(fixture("benchmarkdotnet_failed_compressed.json")));
    const std::string type =
        "NexusLabs.Needlr.Benchmarks.Benchmarks.KeyedServiceResolutionBenchmarks.";
    ASSERT_EQ(result.errors.size(), 1u);
    EXPECT_NE(result.errors[0].find(type + "Needlr_Reflection_ResolveKeyed"), std::string::npos);
    // 5 measured iterations, one an outlier BenchmarkDotNet removed: 4 Result measurements.
    const auto manual = of(result, type + "ManualDI_ResolveKeyed", "time");
    ASSERT_EQ(manual.size(), 4u);
    EXPECT_DOUBLE_EQ(manual.front().value, 22.375459879636765);
    EXPECT_EQ(of(result, type + "Needlr_SourceGen_ResolveKeyed", "time").size(), 4u);
    EXPECT_TRUE(of(result, type + "Needlr_Reflection_ResolveKeyed", "time").empty());
}

TEST(BenchmarkDotNetParser, WithoutMeasurements_OriginalValuesAreTheSamples) {
    // JsonExporter(excludeMeasurements: true) leaves the measurements out.
    const std::string text = changed("benchmarkdotnet_memory.json", [](nlohmann::json& d) {
        for (nlohmann::json& benchmark : d["Benchmarks"]) {
            benchmark.erase("Measurements");
        }
    });
    const Parsed result = parsed(parse_benchmarkdotnet(text));
    const auto empty = of(result, "BenchmarkDotNet.Samples.Memory.AllocEmptyList", "time");
    ASSERT_EQ(empty.size(), 3u);
    EXPECT_DOUBLE_EQ(empty.front().value, 76.35858058929443);
}

TEST(BenchmarkDotNetParser, WithoutMemoryDiagnoser_NoBytesPerOp) {
    const std::string text = changed("benchmarkdotnet_memory.json", [](nlohmann::json& d) {
        d["Benchmarks"][0]["Metrics"] = nlohmann::json::array();
    });
    const Parsed result = parsed(parse_benchmarkdotnet(text));
    EXPECT_TRUE(
        of(result, "BenchmarkDotNet.Samples.Memory.AllocEmptyList", "bytes_per_op").empty());
    EXPECT_EQ(of(result, "BenchmarkDotNet.Samples.Memory.AllocExactList", "bytes_per_op").size(),
              1u);
}

// The index of the first Workload/Result measurement of the memory fixture's first benchmark.
std::size_t first_result(const nlohmann::json& d) {
    const nlohmann::json& measurements = d["Benchmarks"][0]["Measurements"];
    for (std::size_t i = 0; i < measurements.size(); ++i) {
        if (measurements[i]["IterationStage"] == "Result") {
            return i;
        }
    }
    ADD_FAILURE() << "no Result measurement";
    return 0;
}

TEST(BenchmarkDotNetParser, MalformedVariants_NameTheField) {
    const nlohmann::json real = nlohmann::json::parse(fixture("benchmarkdotnet_memory.json"));
    const std::string m = "Benchmarks[0].Measurements[" + std::to_string(first_result(real)) + "]";
    const auto result_of = [&](nlohmann::json& d) -> nlohmann::json& {
        return d["Benchmarks"][0]["Measurements"][first_result(d)];
    };
    const std::vector<Malformed> cases{
        {"missing FullName", [](nlohmann::json& d) { d["Benchmarks"][1].erase("FullName"); },
         "Benchmarks[1].FullName"},
        {"missing Statistics", [](nlohmann::json& d) { d["Benchmarks"][1].erase("Statistics"); },
         "Benchmarks[1].Statistics"},
        {"wrong type", [&](nlohmann::json& d) { result_of(d)["Nanoseconds"] = "12"; },
         m + ".Nanoseconds"},
        {"zero operations", [&](nlohmann::json& d) { result_of(d)["Operations"] = 0; }, m},
        {"no samples at all",
         [](nlohmann::json& d) {
             d["Benchmarks"][1].erase("Measurements");
             d["Benchmarks"][1]["Statistics"].erase("OriginalValues");
         },
         "Benchmarks[1].Measurements"},
        {"same FullName twice", [](nlohmann::json& d) { d["Benchmarks"][1] = d["Benchmarks"][0]; },
         "Benchmarks[1].FullName"},
        {"benchmark not an object", [](nlohmann::json& d) { d["Benchmarks"][0] = "x"; },
         "Benchmarks[0]"},
        {"empty Benchmarks", [](nlohmann::json& d) { d["Benchmarks"] = nlohmann::json::array(); },
         "Benchmarks"},
        {"no Benchmarks", [](nlohmann::json& d) { d.erase("Benchmarks"); }, "Benchmarks"},
    };
    for (const Malformed& malformed : cases) {
        const ParseError error = error_of(
            parse_benchmarkdotnet(changed("benchmarkdotnet_memory.json", malformed.change)));
        EXPECT_EQ(error.field, malformed.field) << malformed.what << ": " << error.message;
        EXPECT_NE(error.message.find("not BenchmarkDotNet JSON"), std::string::npos)
            << error.message;
    }
}

TEST(BenchmarkDotNetParser, BareNaNAndInfinityInAMeasurement_NameTheField) {
    // BenchmarkDotNet before 0.12.1 wrote bare NaN; in a measurement it is no time at all.
    for (const char* word : {"NaN", "Infinity"}) {
        nlohmann::json d = nlohmann::json::parse(fixture("benchmarkdotnet_memory.json"));
        const std::size_t at = first_result(d);
        d["Benchmarks"][0]["Measurements"][at]["Nanoseconds"] = 123456789.5;
        std::string text = d.dump(2);
        text.replace(text.find("123456789.5"), 11, word);
        const ParseError error = error_of(parse_benchmarkdotnet(text));
        EXPECT_EQ(error.field, "Benchmarks[0].Measurements[" + std::to_string(at) + "].Nanoseconds")
            << word << ": " << error.message;
    }
    // In statistics abtool does not read, it is no error.
    const std::string skewness = changed("benchmarkdotnet_memory.json", [](nlohmann::json& d) {
        d["Benchmarks"][0]["Statistics"]["Skewness"] = 987654321.5;
    });
    std::string text = skewness;
    text.replace(text.find("987654321.5"), 11, "NaN");
    EXPECT_EQ(parsed(parse_benchmarkdotnet(text)).samples.size(), 8u); // 2 x (3 times + bytes)
}

TEST(BenchmarkDotNetParser, TruncatedCompressedExport_NamesTheByteOffset) {
    const std::string text = fixture("benchmarkdotnet_failed_compressed.json");
    const ParseError error = error_of(parse_benchmarkdotnet(text.substr(0, 5000)));
    EXPECT_EQ(error.offset, 5000u);
}

// ---- as hotpath workloads ----

RunContext context_in(const std::filesystem::path& dir) {
    RunContext context;
    context.worktree = dir;
    context.label = "ref 'test'";
    return context;
}

TEST(JvmDotnetWorkload, JmhFile_ScoreGatedSecondaryInformational) {
    abtool::testing::TempDir dir;
    HotpathWorkload spec;
    spec.shell = "cat '" + fixture_path("jmh_group_secondary.json") + "'";
    spec.format = HotpathFormat::jmh;
    const RunResult result = run_workload({"jmh", spec}, context_in(dir.path()));
    ASSERT_FALSE(result.error) << *result.error;
    ASSERT_EQ(result.samples.size(), 80u);
    for (const Sample& sample : result.samples) {
        EXPECT_EQ(sample.gate, sample.metric == "score" ? Gate::yes : Gate::no) << sample.metric;
    }
}

TEST(JvmDotnetWorkload, BenchmarkDotNetFile_TimeGatedBytesInformational) {
    abtool::testing::TempDir dir;
    HotpathWorkload spec;
    spec.shell = "cat '" + fixture_path("benchmarkdotnet_memory.json") + "'";
    spec.format = HotpathFormat::benchmarkdotnet;
    const RunResult result = run_workload({"bdn", spec}, context_in(dir.path()));
    ASSERT_FALSE(result.error) << *result.error;
    ASSERT_EQ(result.samples.size(), 8u);
    for (const Sample& sample : result.samples) {
        EXPECT_EQ(sample.gate, sample.metric == "time" ? Gate::yes : Gate::no) << sample.metric;
    }
}

TEST(JvmDotnetWorkload, BenchmarkDotNetFailedBenchmark_FailsTheRunNamingIt) {
    abtool::testing::TempDir dir;
    HotpathWorkload spec;
    spec.shell = "cat '" + fixture_path("benchmarkdotnet_failed_compressed.json") + "'";
    spec.format = HotpathFormat::benchmarkdotnet;
    const RunResult result = run_workload({"bdn", spec}, context_in(dir.path()));
    ASSERT_TRUE(result.error);
    EXPECT_NE(result.error->find("Needlr_Reflection_ResolveKeyed: no result"), std::string::npos)
        << *result.error;
}

TEST(JvmDotnetWorkload, JmhMalformed_ErrorNamesWorkloadAndField) {
    abtool::testing::TempDir dir;
    HotpathWorkload spec;
    spec.shell = "sed 's/\"ns\\/op\"/\"parsecs\"/' '" + fixture_path("jmh_avgt.json") + "'";
    spec.format = HotpathFormat::jmh;
    const RunResult result = run_workload({"jmh_bad", spec}, context_in(dir.path()));
    ASSERT_TRUE(result.error);
    EXPECT_NE(result.error->find("JMH JSON of workload 'jmh_bad'"), std::string::npos)
        << *result.error;
    EXPECT_NE(result.error->find("in [0].primaryMetric.scoreUnit of stdout"), std::string::npos)
        << *result.error;
}

} // namespace
} // namespace abtool::runners::parsers
