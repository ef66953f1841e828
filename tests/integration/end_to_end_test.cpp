// The real abtool binary on real temporary git repositories holding a tiny C program: a slower
// second commit is found regressed (exit 1), identical code passes (exit 0), bad input gets exit
// 2 or 3 with a message naming the culprit, CURRENT leaves the user's tree alone, analyze
// reproduces a run, and an interrupt keeps samples but appends nothing.
#include "tests/support/json_report.hpp"
#include "tests/support/shell.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_repo.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace abtool::testing {
namespace {

// Spins for `iterations` steps of a loop the compiler cannot remove (about 4 ms per 10^7 steps
// here), so that the loop, not process start-up, dominates a run.
std::string program(long iterations) {
    return "#include <stdio.h>\n"
           "int main(void) {\n"
           "    volatile unsigned long x = 0;\n"
           "    for (long i = 0; i < " +
           std::to_string(iterations) +
           "L; ++i) { x += (unsigned long)i * 2654435761UL; }\n"
           "    printf(\"%lu\\n\", (unsigned long)x);\n"
           "    return 0;\n"
           "}\n";
}

std::string config(int rounds, const std::string& extra_workload_keys = "") {
    return "[build]\n"
           "command = [\"cc\", \"-O1\", \"-o\", \"app\", \"app.c\"]\n"
           "[run]\n"
           "rounds = " +
           std::to_string(rounds) +
           "\n"
           "warmup = 1\n"
           "threshold = \"5%\"\n"
           "[[workload]]\n"
           "name = \"spin\"\n"
           "kind = \"command\"\n"
           "command = [\"./app\"]\n" +
           extra_workload_keys;
}

struct CsvRows {
    std::vector<std::string> header;
    std::vector<std::map<std::string, std::string>> rows;
};

// results.csv by its header, for the test of what a run appends to it (verdicts and numbers are
// read from the --json report). Splits plain (unquoted) rows: refs and cases here have no commas.
CsvRows read_csv(const std::filesystem::path& file) {
    CsvRows csv;
    std::ifstream in(file);
    std::string line;
    const auto split = [](const std::string& text) {
        std::vector<std::string> fields;
        std::stringstream stream(text);
        std::string field;
        while (std::getline(stream, field, ',')) {
            fields.push_back(field);
        }
        if (!text.empty() && text.back() == ',') {
            fields.emplace_back();
        }
        return fields;
    };
    if (std::getline(in, line)) {
        csv.header = split(line);
    }
    while (std::getline(in, line)) {
        const auto fields = split(line);
        std::map<std::string, std::string> row;
        for (std::size_t i = 0; i < fields.size() && i < csv.header.size(); ++i) {
            row[csv.header[i]] = fields[i];
        }
        csv.rows.push_back(row);
    }
    return csv;
}

class EndToEnd : public ::testing::Test {
protected:
    EndToEnd() : m_repo(m_dir / "repo") {
        m_repo.write(".gitignore", "app\nresults.csv\n");
        m_repo.write("app.c", program(40'000'000));
        m_repo.write("abtool.toml", config(10));
        m_repo.commit("v1: baseline");
        m_repo.tag("v1");
    }

    ShellResult abtool(const std::string& args) const {
        return shell("cd " + quote(m_repo.root().string()) + " && CI=true " + quote(ABTOOL_BINARY) +
                     " " + args);
    }

    std::filesystem::path results() const { return m_repo.root() / "results.csv"; }

    // Where a test's `--json` report goes: outside the repository, no part of any checkout.
    std::filesystem::path report_file() const { return m_dir / "report.json"; }
    std::string json_flag() const { return " --json " + quote(report_file().string()); }

    std::filesystem::path only_run_dir() const { return m_repo.only_run_dir(); }

    TempDir m_dir;
    TestRepo m_repo;
};

TEST_F(EndToEnd, SlowerCommit_IsRegressed_Exit1_RowAppended) {
    // Three times the loop: a change that stays clear even on a loaded CI machine.
    m_repo.write("app.c", program(120'000'000));
    m_repo.commit("v2: three times the work");
    m_repo.tag("v2");

    const ShellResult result = abtool("--ref-a v1 --ref-b v2" + json_flag());
    EXPECT_EQ(result.status, 1) << result.output;
    EXPECT_NE(result.output.find("gate FAILED: 1 regressed"), std::string::npos) << result.output;
    const JsonReport report(report_file());
    const nlohmann::json& wall = report.row("spin", "", "wall_ms");
    EXPECT_EQ(wall.at("verdict"), "regressed") << result.output;
    EXPECT_GT(JsonReport::number(wall.at("delta_pct")), 60.0) << "three times the loop";
    EXPECT_GT(JsonReport::number(wall.at("ci_low_pct")), 5.0) << wall.dump(2);

    // The row appended to results.csv says the same.
    const CsvRows csv = read_csv(results());
    ASSERT_FALSE(csv.header.empty());
    EXPECT_EQ(csv.header.front(), "run_id");
    EXPECT_EQ(csv.header.back(), "abtool_version");
    EXPECT_EQ(csv.header.size(), 30u);
    bool found = false;
    for (const auto& row : csv.rows) {
        if (row.at("metric") != "wall_ms") {
            continue;
        }
        found = true;
        EXPECT_EQ(row.at("verdict"), "regressed");
        EXPECT_EQ(row.at("workload"), "spin");
        EXPECT_EQ(row.at("kind"), "command");
        EXPECT_EQ(row.at("ref_a"), "v1");
        EXPECT_EQ(row.at("ref_b"), "v2");
        EXPECT_EQ(row.at("rounds"), "10");
        EXPECT_EQ(row.at("primary_key"), wall.at("primary_key"));
        EXPECT_DOUBLE_EQ(std::stod(row.at("delta_pct")), JsonReport::number(wall.at("delta_pct")));
    }
    EXPECT_TRUE(found) << result.output;
}

TEST_F(EndToEnd, IdenticalCode_Passes_Exit0) {
    m_repo.write("README", "only documentation changed\n");
    m_repo.commit("docs");
    m_repo.tag("v1-docs");

    // Identical code is called changed as often as the test allows: at the default 95%
    // confidence about 1 run in 20, and on this 2-core VM (a run's time has a CV of 15-45% under
    // load) 2 of 15 such runs came within p = 0.06 of a false verdict beyond 5%. So this run asks
    // for 99.9% (1 false alarm in 1000) in the working tree's abtool.toml, which still catches a
    // bias abtool would put between the sides (B's environment, path or order): 20 rounds of one
    // sign give p = 2e-6. 20 rounds: the paired median also shrugs off a burst of load that slows
    // a few runs of one side (seen here: 5 of 10 B runs 60% slower while a build ran beside them).
    std::string text = read_file(m_repo.root() / "abtool.toml");
    text.replace(text.find("threshold = "), 0, "confidence = 0.999\n");
    m_repo.write("abtool.toml", text);
    const ShellResult result = abtool("--ref-a v1 --ref-b v1-docs --rounds 20" + json_flag());
    EXPECT_EQ(result.status, 0) << result.output;
    const std::string wall = JsonReport(report_file()).verdict("spin", "", "wall_ms");
    EXPECT_NE(wall, "regressed") << result.output;
    EXPECT_NE(wall, "improved") << result.output;
}

TEST_F(EndToEnd, Current_SeesUncommittedChange_AndLeavesTheTreeAlone) {
    // Ten times the loop, uncommitted: a regression far beyond this VM's noise (twice the loop,
    // as before, is within reach of a one-sided slowdown: a binary was seen running 4x slow).
    m_repo.write("app.c", program(400'000'000));
    const std::string status_before = m_repo.git("status --porcelain");
    const std::string index_before = read_file(m_repo.root() / ".git" / "index");

    const ShellResult result = abtool("--ref-a v1 --ref-b CURRENT");
    EXPECT_EQ(result.status, 1) << result.output;
    // What B built and ran is the uncommitted file, whatever the timings said.
    const nlohmann::json plan = nlohmann::json::parse(read_file(only_run_dir() / "plan.json"));
    EXPECT_EQ(read_file(plan.at("b").at("worktree").get<std::string>() + "/app.c"),
              program(400'000'000));
    EXPECT_EQ(read_file(plan.at("a").at("worktree").get<std::string>() + "/app.c"),
              program(40'000'000));
    EXPECT_EQ(m_repo.git("status --porcelain"), status_before);
    EXPECT_EQ(read_file(m_repo.root() / ".git" / "index"), index_before);
    EXPECT_EQ(read_file(m_repo.root() / "app.c"), program(400'000'000));
    EXPECT_EQ(m_repo.git("stash list"), "");
}

TEST_F(EndToEnd, Analyze_ReproducesTheRunsVerdicts) {
    m_repo.write("app.c", program(60'000'000)); // +50% loop work
    // A second workload the run leaves out (--workload spin): its SLO must not reach analyze.
    m_repo.write("abtool.toml", config(10) + "[[workload]]\n"
                                             "name = \"never\"\n"
                                             "kind = \"publish\"\n"
                                             "server = [\"./no-such-server\", \"{port}\"]\n"
                                             "[workload.slo]\n"
                                             "p99_ms = 0.001\n");
    m_repo.commit("v2");
    m_repo.tag("v2");
    // Whatever this run concludes (a sanitizer build on a busy machine may leave it
    // inconclusive), analyze must conclude the same from the stored files alone.
    const std::filesystem::path run_json = m_dir / "run.json";
    const std::filesystem::path analyze_json = m_dir / "analyze.json";
    const ShellResult run = abtool("--ref-a v1 --ref-b v2 --rounds 10 --workload spin --json " +
                                   quote(run_json.string()));
    ASSERT_TRUE(run.status == 0 || run.status == 1) << run.output;
    const std::filesystem::path run_dir = only_run_dir();
    EXPECT_TRUE(std::filesystem::exists(run_dir / "plan.json"));
    EXPECT_TRUE(std::filesystem::exists(run_dir / "samples.jsonl"));
    const std::string summary = read_file(run_dir / "summary.json");

    const ShellResult analyze =
        abtool("analyze " + quote(run_dir.string()) + " --json " + quote(analyze_json.string()));
    EXPECT_EQ(analyze.status, run.status) << analyze.output;
    EXPECT_EQ(analyze.output.find("'never'"), std::string::npos) << analyze.output;
    // The same verdicts, numbers and all (the bootstrap is seeded from the plan): the same rows
    // and gate, and the same refs, rounds, threshold, intervals and designs around them. Only the
    // warnings are the run's own (what it saw of the machine and of failed runs).
    nlohmann::json from_run = JsonReport(run_json).json();
    nlohmann::json from_analyze = JsonReport(analyze_json).json();
    ASSERT_FALSE(from_run.at("rows").empty());
    EXPECT_EQ(from_analyze.at("rows"), from_run.at("rows"));
    EXPECT_EQ(from_analyze.at("gate"), from_run.at("gate"));
    from_run.erase("warnings");
    from_analyze.erase("warnings");
    EXPECT_EQ(from_analyze, from_run);
    // analyze rewrites nothing in the run directory.
    EXPECT_EQ(read_file(run_dir / "summary.json"), summary);

    // A threshold far above a +50% change cannot call it a regression.
    const ShellResult lenient = abtool("analyze " + quote(run_dir.string()) + " --threshold 99%");
    EXPECT_EQ(lenient.status, 0) << lenient.output;
    EXPECT_NE(lenient.output.find("threshold 99%"), std::string::npos) << lenient.output;
}

TEST_F(EndToEnd, SecondRun_ReusesWorktreesAndSkipsBuilds) {
    m_repo.write("app.c", program(80'000'000));
    m_repo.commit("v2");
    m_repo.tag("v2");
    // Whatever the verdict (2 rounds are raised to the 6 a verdict needs, and v2 is slower): a
    // verdict, not an error, is all this test asks of the runs.
    ASSERT_LE(abtool("--ref-a v1 --ref-b v2 --rounds 2").status, 1);
    const ShellResult second = abtool("--ref-a v1 --ref-b v2 --rounds 2");
    // Both refs: the build stamp matched, nothing was built.
    std::size_t skipped = 0;
    for (auto at = second.output.find("up to date"); at != std::string::npos;
         at = second.output.find("up to date", at + 1)) {
        ++skipped;
    }
    EXPECT_EQ(skipped, 2u) << second.output;
}

TEST_F(EndToEnd, Calibrate_ReportsNoiseFloorOfTheRefAgainstItself) {
    const ShellResult result = abtool("calibrate --ref v1 --rounds 6");
    EXPECT_EQ(result.status, 0) << result.output;
    EXPECT_NE(result.output.find("spin/wall_ms"), std::string::npos) << result.output;
    EXPECT_FALSE(std::filesystem::exists(results())) << "calibration is not history";
    const std::filesystem::path run_dir = only_run_dir();
    const nlohmann::json calibration =
        nlohmann::json::parse(read_file(run_dir / "calibration.json"));
    const nlohmann::json plan = nlohmann::json::parse(read_file(run_dir / "plan.json"));
    // Two checkouts of one content: same commit, different worktrees of equal path length.
    EXPECT_EQ(plan.at("a").at("commit"), plan.at("b").at("commit"));
    const std::string worktree_a = plan.at("a").at("worktree").get<std::string>();
    const std::string worktree_b = plan.at("b").at("worktree").get<std::string>();
    EXPECT_NE(worktree_a, worktree_b);
    EXPECT_EQ(worktree_a.size(), worktree_b.size());
    bool wall = false;
    for (const auto& entry : calibration.at("cases")) {
        if (entry.at("metric") == "wall_ms") {
            wall = true;
            EXPECT_EQ(entry.at("n").get<int>(), 6);
            EXPECT_GT(entry.at("rounds_needed").get<int>(), 0);
        }
    }
    EXPECT_TRUE(wall) << calibration.dump(2);
}

TEST_F(EndToEnd, Gc_ListsUnusedWorktrees_DryRunRemovesNothing) {
    m_repo.write("app.c", program(80'000'000));
    m_repo.commit("v2");
    m_repo.tag("v2");
    ASSERT_LE(abtool("--ref-a v1 --ref-b v2 --rounds 2").status, 1) << "a verdict, not an error";
    const ShellResult dry = abtool("gc --older-than 0s --dry-run");
    EXPECT_EQ(dry.status, 0) << dry.output;
    EXPECT_NE(dry.output.find("2 worktree(s) to remove"), std::string::npos) << dry.output;
    const ShellResult recent = abtool("gc --older-than 1d");
    EXPECT_NE(recent.output.find("0 worktree(s) removed"), std::string::npos) << recent.output;
    EXPECT_EQ(abtool("gc --older-than soon").status, 2);
}

TEST_F(EndToEnd, ConfigError_Exit2_NamesFileAndLine) {
    m_repo.write("abtool.toml", config(8, "comand = [\"x\"]\n"));
    const ShellResult result = abtool("--ref-a v1 --ref-b CURRENT");
    EXPECT_EQ(result.status, 2) << result.output;
    EXPECT_NE(result.output.find("abtool.toml:11: [[workload]] 'spin': unknown key 'comand'"),
              std::string::npos)
        << result.output;
    EXPECT_FALSE(std::filesystem::exists(results()));
}

TEST_F(EndToEnd, UnknownRef_Exit2_NamesRef) {
    const ShellResult result = abtool("--ref-a no-such-branch --ref-b CURRENT");
    EXPECT_EQ(result.status, 2) << result.output;
    EXPECT_NE(result.output.find("no-such-branch"), std::string::npos) << result.output;
}

TEST_F(EndToEnd, BadFlag_Exit2) {
    const ShellResult result = abtool("--ref-a v1 --threshold abc");
    EXPECT_EQ(result.status, 2) << result.output;
    EXPECT_NE(result.output.find("--threshold 'abc'"), std::string::npos) << result.output;
    EXPECT_EQ(abtool("--no-such-flag").status, 2);
    EXPECT_EQ(abtool("--version").status, 0);
    EXPECT_EQ(abtool("--help").status, 0);
}

TEST_F(EndToEnd, BuildFailure_Exit3_NamesRefAndLog) {
    m_repo.write("app.c", "this is not C\n");
    m_repo.commit("broken");
    m_repo.tag("broken");
    const ShellResult result = abtool("--ref-a v1 --ref-b broken");
    EXPECT_EQ(result.status, 3) << result.output;
    EXPECT_NE(result.output.find("'broken'"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find(".log"), std::string::npos) << result.output;
    EXPECT_FALSE(std::filesystem::exists(results()));
}

TEST_F(EndToEnd, WorkloadFailingEveryWarmup_Exit3) {
    m_repo.write("app.c", "int main(void) { return 7; }\n");
    m_repo.commit("exits 7");
    m_repo.tag("bad");
    const ShellResult result = abtool("--ref-a v1 --ref-b bad");
    EXPECT_EQ(result.status, 3) << result.output;
    EXPECT_NE(result.output.find("failed every warm-up run on ref 'bad'"), std::string::npos)
        << result.output;
    EXPECT_FALSE(std::filesystem::exists(results()));
}

TEST_F(EndToEnd, WorkloadFailingEveryMeasuredRun_WithoutWarmup_Exit3_NotAPass) {
    // No warm-up to catch it: a gate that "passes" with no evidence would hide a broken build.
    m_repo.write("app.c", "int main(void) { return 7; }\n");
    m_repo.write("abtool.toml", config(4) + "\n");
    std::string text = read_file(m_repo.root() / "abtool.toml");
    text.replace(text.find("warmup = 1"), 10, "warmup = 0");
    m_repo.write("abtool.toml", text);
    m_repo.commit("exits 7, no warm-up");
    m_repo.tag("bad-nowarmup");
    const ShellResult result = abtool("--ref-a bad-nowarmup --ref-b bad-nowarmup");
    EXPECT_EQ(result.status, 3) << result.output;
    // 4 rounds are raised to the 6 a verdict needs; the pilot's runs fail too, but only the
    // measured rounds decide.
    EXPECT_NE(result.output.find("failed all 6 measured run(s) on ref 'bad-nowarmup'"),
              std::string::npos)
        << result.output;
    EXPECT_NE(result.output.find("exit code 7"), std::string::npos) << result.output;
    EXPECT_FALSE(std::filesystem::exists(results()));
}

TEST_F(EndToEnd, Interrupt_Exit130_KeepsSamples_AppendsNothing) {
    m_repo.write("app.c", program(80'000'000));
    m_repo.commit("v2");
    m_repo.tag("v2");
    const std::string command = "cd " + quote(m_repo.root().string()) + " && CI=true exec " +
                                quote(ABTOOL_BINARY) + " --ref-a v1 --ref-b v2 --rounds 400";
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    // Wait until rounds are under way (samples appear), then interrupt like Ctrl-C.
    const std::filesystem::path runs = m_repo.root() / ".abtool" / "runs";
    bool measuring = false;
    for (int i = 0; i < 600 && !measuring; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (std::filesystem::exists(runs)) {
            for (const auto& entry : std::filesystem::directory_iterator(runs)) {
                const std::string samples = read_file(entry.path() / "samples.jsonl");
                measuring = measuring || samples.find("\"round\":2") != std::string::npos;
            }
        }
    }
    ASSERT_TRUE(measuring);
    kill(pid, SIGINT);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 130);
    EXPECT_FALSE(std::filesystem::exists(results()));
    const std::filesystem::path run_dir = only_run_dir();
    const nlohmann::json summary = nlohmann::json::parse(read_file(run_dir / "summary.json"));
    EXPECT_FALSE(summary.at("complete").get<bool>());
    // Every kept line is whole JSON.
    std::istringstream lines(read_file(run_dir / "samples.jsonl"));
    std::string line;
    while (std::getline(lines, line)) {
        EXPECT_TRUE(nlohmann::json::accept(line)) << line;
    }
}

} // namespace
} // namespace abtool::testing
