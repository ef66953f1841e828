// A hotpath workload's output = "{output}" (a fresh per-run path substituted into the command,
// the file read instead of stdout, a missing or empty one a failed run naming it) and its
// `directions` (applied to every sample of a metric, whatever the format), and `cases` passed as
// {filter} (a real Google Benchmark program runs exactly the listed cases).
#include "abtool/runners.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <string>

namespace abtool::runners {
namespace {

RunContext context_in(const std::filesystem::path& dir) {
    RunContext context;
    context.worktree = dir;
    context.label = "ref 'test'";
    return context;
}

HotpathWorkload jsonl_into_output(const std::string& command) {
    HotpathWorkload spec;
    spec.shell = command;
    spec.format = HotpathFormat::jsonl;
    spec.output_placeholder = true;
    return spec;
}

TEST(HotpathOutput, ShellCommand_WritesTheFreshPath_ItIsReadInsteadOfStdout) {
    abtool::testing::TempDir dir;
    const HotpathWorkload spec =
        jsonl_into_output("echo 'not JSON on stdout'; "
                          "printf '{\"case\":\"c\",\"metric\":\"m\",\"value\":2}\\n' > {output}");
    const RunResult result = run_workload({"h", spec}, context_in(dir.path()));
    ASSERT_FALSE(result.error) << *result.error;
    ASSERT_EQ(result.samples.size(), 1u);
    EXPECT_EQ(result.samples[0].value, 2);
}

TEST(HotpathOutput, Argv_KeptBesideTheStdoutOfTheRunDirectory) {
    abtool::testing::TempDir dir;
    HotpathWorkload spec;
    spec.argv = {"sh", "-c", "printf '{\"metric\":\"m\",\"value\":3}\\n' > \"$1\"", "sh",
                 "{output}"};
    spec.format = HotpathFormat::jsonl;
    spec.output_placeholder = true;
    RunContext context = context_in(dir.path());
    context.stdout_file = dir.path() / "output" / "h" / "run-1.stdout";
    const RunResult result = run_workload({"h", spec}, context);
    ASSERT_FALSE(result.error) << *result.error;
    ASSERT_EQ(result.samples.size(), 1u);
    EXPECT_TRUE(std::filesystem::exists(dir.path() / "output" / "h" / "run-1.output"));
}

TEST(HotpathOutput, MissingOrEmptyFile_IsAFailedRunNamingThePath) {
    abtool::testing::TempDir dir;
    RunContext context = context_in(dir.path());
    context.stdout_file = dir.path() / "out" / "r.stdout";
    const RunResult missing =
        run_workload({"h", jsonl_into_output("echo nothing > /dev/null # {output}")}, context);
    ASSERT_TRUE(missing.error);
    EXPECT_NE(missing.error->find((dir.path() / "out" / "r.output").string()), std::string::npos)
        << *missing.error;
    const RunResult empty = run_workload({"h", jsonl_into_output(": > {output}")}, context);
    ASSERT_TRUE(empty.error);
    EXPECT_NE(empty.error->find("r.output (the file is empty)"), std::string::npos) << *empty.error;
}

TEST(HotpathOutput, PathWithShellCharacters_StaysOneWord) {
    abtool::testing::TempDir dir;
    RunContext context = context_in(dir.path());
    context.stdout_file = dir.path() / "a b;$(x)" / "r.stdout";
    const RunResult result = run_workload(
        {"h", jsonl_into_output("printf '{\"metric\":\"m\",\"value\":1}\\n' > {output}")}, context);
    ASSERT_FALSE(result.error) << *result.error;
    EXPECT_EQ(result.samples.size(), 1u);
}

TEST(HotpathFilter, CaseFilter_IsAnchoredAndEscapesRegexCharacters) {
    EXPECT_EQ(case_filter({"BM_Sum/64"}), "^(BM_Sum/64)$");
    EXPECT_EQ(case_filter({"a.b", "c+d", "e(1)", "f|g"}), R"(^(a\.b|c\+d|e\(1\)|f\|g)$)");
}

TEST(HotpathFilter, GoogleBenchmark_RunsExactlyTheListedCases) {
    abtool::testing::TempDir dir;
    HotpathWorkload spec;
    spec.argv = {GBENCH_FIXTURE, "--benchmark_filter={filter}", "--benchmark_format=json",
                 "--benchmark_min_time=0.001"};
    // BM_Sum/64 must not also match BM_Sum/1024 or BM_Sum_ms/64: the filter is anchored.
    spec.cases = {"BM_Sum/64", "BM_Sum_s/64"};
    const RunResult result = run_workload({"g", spec}, context_in(dir.path()));
    ASSERT_FALSE(result.error) << *result.error;
    std::set<std::string> cases;
    for (const Sample& sample : result.samples) {
        cases.insert(sample.case_name);
    }
    EXPECT_EQ(cases, (std::set<std::string>{"BM_Sum/64", "BM_Sum_s/64"}));
}

TEST(HotpathFilter, ShellCommand_GetsTheFilterAsOneWord) {
    abtool::testing::TempDir dir;
    HotpathWorkload spec;
    spec.shell = "printf '{\"case\":\"%s\",\"metric\":\"m\",\"value\":1}\\n' {filter}";
    spec.format = HotpathFormat::jsonl;
    spec.cases = {"a b", "c;d"}; // unquoted, the space and the ; would split the command
    const RunResult result = run_workload({"s", spec}, context_in(dir.path()));
    ASSERT_FALSE(result.error) << *result.error;
    ASSERT_EQ(result.samples.size(), 1u);
    EXPECT_EQ(result.samples[0].case_name, "^(a b|c;d)$");
}

TEST(HotpathDirections, OverrideTheReadersDirection_GbenchUserCounterToo) {
    abtool::testing::TempDir dir;
    HotpathWorkload spec;
    spec.shell = "echo '{\"benchmarks\": [{\"name\": \"b\", \"run_type\": \"iteration\", "
                 "\"real_time\": 5, \"time_unit\": \"ns\", \"hits\": 7}]}'";
    spec.directions = {{"hits", Direction::higher}};
    const RunResult result = run_workload({"h", spec}, context_in(dir.path()));
    ASSERT_FALSE(result.error) << *result.error;
    bool seen = false;
    for (const Sample& sample : result.samples) {
        if (sample.metric == "hits") {
            seen = true;
            EXPECT_EQ(sample.direction, Direction::higher);
        } else {
            EXPECT_EQ(sample.direction, Direction::lower) << sample.metric;
        }
    }
    EXPECT_TRUE(seen);
}

} // namespace
} // namespace abtool::runners
