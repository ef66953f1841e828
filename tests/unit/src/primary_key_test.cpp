// primary_key: the same benchmark keeps its key across runs and config key order; a changed
// parameter, case or metric gets a new one; and the value itself is pinned across versions.
#include "src/config.hpp"
#include "src/primary_key.hpp"

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
        id.parameters = config.workloads[0].parameters;
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

} // namespace
} // namespace abtool
