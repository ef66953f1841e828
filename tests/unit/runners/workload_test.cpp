// run_workload: command workloads give wall/user/sys/RSS samples or an error sample, hotpath
// workloads parse what the program prints (or writes to its output file) and gate the chosen
// metrics; the context's environment reaches the child.
#include "abtool/runners.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace abtool::runners {
namespace {

RunContext context_in(const std::filesystem::path& dir) {
    RunContext context;
    context.worktree = dir;
    context.label = "ref 'test'";
    context.env = {{"ABTOOL_ENV_PADDING", "xxxx"}};
    return context;
}

// Set member by member: a braced list that leaves members out trips GCC 12's
// -Wmissing-field-initializers (designated ones too), and the struct grows (`counting`).
CommandWorkload command(std::vector<std::string> argv, std::optional<std::string> shell,
                        std::chrono::milliseconds timeout) {
    CommandWorkload workload;
    workload.argv = std::move(argv);
    workload.shell = std::move(shell);
    workload.timeout = timeout;
    return workload;
}

TEST(CommandWorkload, SuccessfulRun_GivesFourSamples_WallGated) {
    abtool::testing::TempDir dir;
    Workload workload{"w", command({"sh", "-c", "test \"$ABTOOL_ENV_PADDING\" = xxxx"},
                                   std::nullopt, std::chrono::seconds(10))};
    const RunResult result = run_workload(workload, context_in(dir.path()));
    ASSERT_FALSE(result.error) << *result.error;
    ASSERT_EQ(result.samples.size(), 4u);
    EXPECT_EQ(result.samples[0].metric, "wall_ms");
    EXPECT_EQ(result.samples[0].gate, Gate::yes);
    EXPECT_EQ(result.samples[3].metric, "max_rss_kb");
    EXPECT_EQ(result.samples[3].gate, Gate::no);
    EXPECT_EQ(kind_name(workload), "command");
}

TEST(CommandWorkload, FailingRun_IsAnErrorValueNotAnException) {
    abtool::testing::TempDir dir;
    Workload workload{"w", command({}, "echo oops >&2; exit 4", std::chrono::seconds(10))};
    const RunResult result = run_workload(workload, context_in(dir.path()));
    ASSERT_TRUE(result.error);
    EXPECT_NE(result.error->find("exit code 4"), std::string::npos);
    EXPECT_NE(result.error->find("oops"), std::string::npos);
    EXPECT_TRUE(result.samples.empty());
}

TEST(CommandWorkload, StdoutIsKept_EmptyRemoved_HugeCutWithANote) {
    abtool::testing::TempDir dir;
    RunContext context = context_in(dir.path());
    const auto run = [&](const std::string& shell, const std::string& file) {
        context.stdout_file = dir.path() / file;
        const RunResult result =
            run_workload(Workload{"w", command({}, shell, std::chrono::seconds(30))}, context);
        EXPECT_FALSE(result.error) << *result.error;
    };
    run("echo hello", "small.stdout");
    EXPECT_EQ(abtool::testing::read_file(dir.path() / "small.stdout"), "hello\n");
    run("true", "empty.stdout");
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "empty.stdout"));
    // 6 MiB: the first 4 MiB stay, and a line says how much there was.
    run("head -c 6291456 /dev/zero | tr '\\0' x", "huge.stdout");
    const std::string kept = abtool::testing::read_file(dir.path() / "huge.stdout");
    ASSERT_GT(kept.size(), k_kept_output_max);
    EXPECT_EQ(kept.find_first_not_of('x'), k_kept_output_max);
    EXPECT_NE(
        kept.find("the run printed 6291456 bytes, the first 4194304 are kept", k_kept_output_max),
        std::string::npos);
}

TEST(HotpathWorkload, GbenchOnStdout_ParsedFromTheKeptFile) {
    abtool::testing::TempDir dir;
    HotpathWorkload spec;
    spec.shell = "echo '{\"benchmarks\": [{\"name\": \"BM_x\", \"real_time\": 3, "
                 "\"time_unit\": \"us\"}]}'";
    RunContext context = context_in(dir.path());
    context.stdout_file = dir.path() / "r1-a.stdout";
    const RunResult result = run_workload({"gb", spec}, context);
    ASSERT_FALSE(result.error) << *result.error;
    ASSERT_EQ(result.samples.size(), 1u);
    EXPECT_EQ(result.samples[0].value, 3000);
    EXPECT_NE(abtool::testing::read_file(context.stdout_file).find("BM_x"), std::string::npos);

    // A parse error names the kept file.
    spec.shell = "echo '{\"benchmarks\": ['";
    const RunResult bad = run_workload({"gb", spec}, context);
    ASSERT_TRUE(bad.error);
    EXPECT_NE(bad.error->find("at byte 17 of stdout (17 bytes, kept in " +
                              context.stdout_file.string() + ")"),
              std::string::npos)
        << *bad.error;
}

TEST(HotpathWorkload, JsonlFromOutputFile_GatesTheNamedMetric) {
    abtool::testing::TempDir dir;
    HotpathWorkload spec;
    spec.shell = "printf "
                 "'{\"case\":\"c\",\"metric\":\"a\",\"value\":2}\\n{\"case\":\"c\",\"metric\":"
                 "\"b\",\"value\":3}\\n' > out.jsonl";
    spec.format = HotpathFormat::jsonl;
    spec.output_file = "out.jsonl";
    spec.metrics = {"b"};
    const RunResult result = run_workload({"h", spec}, context_in(dir.path()));
    ASSERT_FALSE(result.error) << *result.error;
    ASSERT_EQ(result.samples.size(), 2u);
    EXPECT_EQ(result.samples[0].gate, Gate::no);
    EXPECT_EQ(result.samples[1].gate, Gate::yes);
}

TEST(HotpathWorkload, GarbageOutput_IsAnErrorNamingFormatWorkloadLabelAndOffset) {
    abtool::testing::TempDir dir;
    HotpathWorkload spec;
    spec.shell = "echo '{\"benchmarks\": [' ";
    const RunResult result = run_workload({"parse_me", spec}, context_in(dir.path()));
    ASSERT_TRUE(result.error);
    EXPECT_NE(result.error->find("Google Benchmark JSON"), std::string::npos) << *result.error;
    EXPECT_NE(result.error->find("workload 'parse_me'"), std::string::npos) << *result.error;
    EXPECT_NE(result.error->find("ref 'test'"), std::string::npos) << *result.error;
    EXPECT_NE(result.error->find("at byte 17 of stdout (17 bytes)"), std::string::npos)
        << *result.error;
}

TEST(HotpathWorkload, NumberOutOfDoubleRange_IsAnErrorNamingWorkloadFieldAndOffset) {
    // Issue 18: 1e999 used to abort the whole run with an internal error.
    abtool::testing::TempDir dir;
    HotpathWorkload spec;
    spec.shell = "echo '{\"benchmarks\": [{\"real_time\": 1e999}]}'";
    const RunResult result = run_workload({"parse_me", spec}, context_in(dir.path()));
    ASSERT_TRUE(result.error);
    EXPECT_NE(result.error->find("workload 'parse_me'"), std::string::npos) << *result.error;
    EXPECT_NE(result.error->find("at byte 30 of stdout"), std::string::npos) << *result.error;
    EXPECT_NE(result.error->find("field benchmarks[0].real_time"), std::string::npos)
        << *result.error;
}

TEST(HotpathWorkload, WrongShapeOutput_IsAnErrorNamingTheField) {
    abtool::testing::TempDir dir;
    HotpathWorkload spec;
    spec.shell = "echo '{\"results\": [1]}'";
    spec.format = HotpathFormat::hyperfine;
    const RunResult result = run_workload({"shape", spec}, context_in(dir.path()));
    ASSERT_TRUE(result.error);
    EXPECT_NE(result.error->find("workload 'shape'"), std::string::npos) << *result.error;
    EXPECT_NE(result.error->find("in results[0] of stdout"), std::string::npos) << *result.error;
}

} // namespace
} // namespace abtool::runners
