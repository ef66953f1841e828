// primary_key: the same benchmark keeps its key across runs and config key order; a changed
// parameter, case or metric gets a new one; and the value itself is pinned across versions.
#include "src/core/config.hpp"
#include "src/experiment/analysis.hpp"
#include "src/results/primary_key.hpp"
#include "src/results/results_store.hpp"

#include <gtest/gtest.h>

namespace abtool {
namespace {

BenchmarkIdentity identity() {
    BenchmarkIdentity id;
    id.workload = "hotpath";
    id.kind = "hotpath";
    id.parameters = {{"command", {"./bench", "--benchmark_format=json"}}, {"format", "gbench"}};
    id.case_name = "BM_RoundTrip/inproc";
    id.metric = "real_time";
    return id;
}

TEST(PrimaryKey, PinnedValue_NeverChangesAcrossVersions) {
    // If this changes, every results.csv history splits in two: change the "v" field instead.
    // The value was computed independently, in Python, as FNV-1a 64 of
    // json.dumps(identity, sort_keys=True, separators=(",", ":")).
    EXPECT_EQ(primary_key(identity()), "pk_848c1ba70847d0aa");
}

TEST(PrimaryKey, ParameterCaseMetricOrTarget_ChangeTheKey) {
    const std::string key = primary_key(identity());
    BenchmarkIdentity changed = identity();
    changed.parameters["format"] = "jsonl";
    EXPECT_NE(primary_key(changed), key);
    changed = identity();
    changed.case_name = "BM_RoundTrip/tcp";
    EXPECT_NE(primary_key(changed), key);
    changed = identity();
    changed.metric = "cpu_time";
    EXPECT_NE(primary_key(changed), key);
    changed = identity();
    changed.target_id = "bench-host-1";
    EXPECT_NE(primary_key(changed), key);
}

TEST(PrimaryKey, ConfigKeyOrderAndTimeouts_DoNotChangeTheKey) {
    const auto key_of = [](const std::string& workload) {
        const Config config = parse_config("[[workload]]\n" + workload, "/r/abtool.toml");
        BenchmarkIdentity id;
        id.workload = "p";
        id.kind = "publish";
        id.parameters = identity_parameters(config.workloads[0]);
        id.metric = "latency_p50_ms";
        return primary_key(id);
    };
    const std::string a = key_of("name=\"p\"\nkind=\"publish\"\nserver=[\"./s\",\"{port}\"]\n"
                                 "count=100\nconcurrency=2\n");
    const std::string b = key_of("concurrency=2\ncount=100\nkind=\"publish\"\nname=\"p\"\n"
                                 "server=[\"./s\",\"{port}\"]\ntimeout=\"9s\"\n");
    const std::string c = key_of("name=\"p\"\nkind=\"publish\"\nserver=[\"./s\",\"{port}\"]\n"
                                 "count=101\nconcurrency=2\n");
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
}

TEST(PrimaryKey, WorkloadKind_ChangesTheKey) {
    const std::string key = primary_key(identity());
    BenchmarkIdentity changed = identity();
    changed.kind = "command"; // same name, parameters, case and metric
    EXPECT_NE(primary_key(changed), key);
    changed = identity();
    changed.workload = "hotpath2";
    EXPECT_NE(primary_key(changed), key);
}

// The same workload analysed in two runs that differ in everything but the benchmark: refs,
// commits, times, host, seed, abtool version, round count and the measured values.
report::Report analysed(const std::string& config_text, const std::string& ref,
                        const std::string& host, std::uint64_t seed, std::size_t rounds) {
    const Config config = parse_config(config_text, "/repo/abtool.toml");
    Plan plan;
    plan.run_id = "run-" + ref;
    plan.timestamp = "2026-11-2" + std::to_string(seed % 10) + "T00:00:00Z";
    plan.host = host;
    plan.abtool_version = "0." + std::to_string(seed) + ".0";
    plan.a = {ref + "-base", "aaaa" + ref, "", "commit", "/w/a"};
    plan.b = {ref, "bbbb" + ref, "", "commit", "/w/b"};
    plan.seed = seed;
    plan.config_text = config_text;
    plan.schedule = make_schedule(rounds, {"spin"}, seed);
    std::vector<SampleRecord> records;
    for (std::size_t round = 1; round <= rounds; ++round) {
        for (Side side : {Side::a, Side::b}) {
            SampleRecord record;
            record.round = round;
            record.side = side;
            record.workload = "spin";
            record.metric = "wall_ms";
            record.unit = "ms";
            record.value = 10 + static_cast<double>(round) + (side == Side::b ? seed : 0);
            record.gate = runners::Gate::yes;
            records.push_back(record);
        }
    }
    return analyze_records(plan, config, records, AnalysisSettings{}, {});
}

TEST(PrimaryKey, RefsTimesHostsSeedsAndVersions_DoNotChangeTheKey_RowsGroup) {
    const std::string config = "[[workload]]\nname=\"spin\"\nkind=\"command\"\n"
                               "command=[\"./app\", \"--n\", \"3\"]\n";
    const report::Report first = analysed(config, "main", "ci-runner-1", 1, 6);
    const report::Report second = analysed(config, "feature/x", "laptop", 7, 8);
    ASSERT_EQ(first.rows.size(), 1u);
    ASSERT_EQ(second.rows.size(), 1u);
    const std::vector<ResultRow> rows_1 = rows_from_report(first);
    const std::vector<ResultRow> rows_2 = rows_from_report(second);
    // Everything but the identity differs between the two rows...
    EXPECT_NE(rows_1[0].ref_b, rows_2[0].ref_b);
    EXPECT_NE(rows_1[0].commit_b, rows_2[0].commit_b);
    EXPECT_NE(rows_1[0].host, rows_2[0].host);
    EXPECT_NE(rows_1[0].timestamp, rows_2[0].timestamp);
    EXPECT_NE(rows_1[0].abtool_version, rows_2[0].abtool_version);
    EXPECT_NE(rows_1[0].b_median, rows_2[0].b_median);
    // ...and they share one key, the one the identity alone gives.
    EXPECT_EQ(rows_1[0].primary_key, rows_2[0].primary_key);
    BenchmarkIdentity id;
    id.workload = "spin";
    id.kind = "command";
    id.parameters = {{"command", {"./app", "--n", "3"}}};
    id.metric = "wall_ms";
    EXPECT_EQ(rows_1[0].primary_key, primary_key(id));

    // The same workload name with another kind is another benchmark.
    const report::Report hotpath = analysed("[[workload]]\nname=\"spin\"\nkind=\"hotpath\"\n"
                                            "command=[\"./app\", \"--n\", \"3\"]\n",
                                            "main", "ci-runner-1", 1, 6);
    ASSERT_EQ(hotpath.rows.size(), 1u);
    EXPECT_NE(hotpath.rows[0].primary_key, rows_1[0].primary_key);
}

// The keys of configured workloads, pinned: results.csv's history joins on them, so the
// parameters a workload is identified by (argv, shell, env, format, the publish settings; not
// timeouts or the design) must give these values in every version.
TEST(PrimaryKey, ConfiguredWorkloads_KeysArePinned) {
    const Config config = parse_config(
        "[[workload]]\nname=\"c\"\nkind=\"command\"\ncommand=[\"./app\", \"-n\"]\n"
        "env={ K = \"v\" }\ntimeout=\"9s\"\n"
        "[[workload]]\nname=\"s\"\nkind=\"command\"\nshell=\"./app | wc\"\n"
        "[[workload]]\nname=\"h\"\nkind=\"hotpath\"\ncommand=[\"./b\"]\n"
        "[[workload]]\nname=\"j\"\nkind=\"hotpath\"\ncommand=[\"./b\"]\nformat=\"jsonl\"\n"
        "metric=\"us\"\n"
        "[[workload]]\nname=\"p\"\nkind=\"publish\"\nserver=[\"./s\", \"{port}\"]\n"
        "[[workload]]\nname=\"q\"\nkind=\"publish\"\nserver=[\"./s\", \"{port}\"]\n"
        "protocol=\"http-keepalive\"\npath=\"/p\"\npayload=\"x{seq}\"\nmode=\"paced\"\n"
        "rate=250.5\ncount=10\nconcurrency=3\n",
        "/r/abtool.toml");
    std::vector<std::string> keys;
    for (const WorkloadConfig& workload : config.workloads) {
        // Built whole: assigning "m" to the field trips GCC 12's false -Wrestrict at -O3.
        const BenchmarkIdentity id{.workload = workload.workload.name,
                                   .kind = std::string(workload.kind()),
                                   .parameters = identity_parameters(workload),
                                   .case_name = "",
                                   .metric = "m"};
        keys.push_back(primary_key(id));
    }
    EXPECT_EQ(keys, (std::vector<std::string>{"pk_ce4cc0225d25651c", "pk_5e8a6b4804cefcb9",
                                              "pk_fe39d7f59686e556", "pk_cc848e09fccffa33",
                                              "pk_dd304270ba56ea85", "pk_39ee05e7ca6a60c2"}));
}

} // namespace
} // namespace abtool
