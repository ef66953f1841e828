// `abtool demo` as a user runs it: the embedded example project built twice in a scratch
// repository, its hot path and publish server compared, and the known regressions of commit v2
// found (exit 0) with the reports and results.csv where the demo says they are.
#include "tests/support/json_report.hpp"
#include "tests/support/shell.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

namespace abtool::testing {
namespace {

TEST(Demo, FindsTheKnownRegressions_Exit0_WritesReportsAndHistory) {
    TempDir dir;
    const ShellResult result =
        shell("CI=true " + quote(ABTOOL_BINARY) + " demo --dir " + quote((dir / "demo").string()));
    ASSERT_EQ(result.status, 0) << result.output;
    EXPECT_NE(result.output.find("the known regressions were found"), std::string::npos)
        << result.output;

    const JsonReport report(dir / "demo" / "report.json");
    EXPECT_EQ(report.verdict("hotpath", "BM_RoundTrip/inproc", "real_time"), "regressed");
    EXPECT_EQ(report.verdict("publish", "", "latency_p50_ms"), "regressed");
    EXPECT_EQ(report.verdict("publish", "", "throughput_rps"), "regressed");
    // The replay's instruction count: the same copy and checksum per message, counted.
    EXPECT_EQ(report.verdict("replay", "", "instructions"), "regressed");
    EXPECT_FALSE(report.row("replay", "", "wall_ms").at("gated").get<bool>());
    // Every mandatory publish metric is there.
    for (const char* metric :
         {"latency_min_ms", "latency_p95_ms", "latency_p99_ms", "latency_max_ms", "latency_mean_ms",
          "latency_stddev_ms", "bytes_out", "bytes_in", "success", "errors"}) {
        EXPECT_TRUE(report.has_row("publish", "", metric)) << metric << "\n" << report.summary();
    }
    EXPECT_TRUE(std::filesystem::exists(dir / "demo" / "report.md"));
    EXPECT_TRUE(std::filesystem::exists(dir / "demo" / "report.html"));
    EXPECT_NE(read_file(dir / "demo" / "repo" / "results.csv").find("BM_RoundTrip/shm"),
              std::string::npos);
}

} // namespace
} // namespace abtool::testing
