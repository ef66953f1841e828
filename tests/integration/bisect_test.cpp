// `abtool bisect` through the real binary on real temporary git repositories. Each commit's
// benchmark prints the number its work.txt holds (a jsonl hot path), so that every comparison's
// values are exact: equal values give an all-zero paired log ratio (unchanged), unequal ones a
// constant one (regressed: bisect's comparisons are adaptive, up to 3x the rounds, so the 6 rounds
// asked are raised to the 10 whose exact Wilcoxon p, 2/1024, passes the correction for the
// looks). The search's path (midpoints, lower on a tie) is then fixed by the history alone, and
// the tests can say which commit is the culprit, which commits were probed and with what verdict,
// and what was written: the bisect log, its --json copy, a run directory per comparison, and
// results.csv rows only with --record.
#include "tests/support/json_report.hpp"
#include "tests/support/shell.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_repo.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <set>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

namespace abtool::testing {
namespace {

// One JSON line a run: case "x", metric "work", the value work.txt holds.
const std::string k_bench_script =
    "printf '{\"case\":\"x\",\"metric\":\"work\",\"value\":%s,\"unit\":\"ms\","
    "\"direction\":\"lower\"}\\n' \"$(cat work.txt)\"\n";

// Few paired rounds, no warm-up and no pilot: a comparison of two commits is 20 runs of a shell
// printf. The build is build.sh, which a test makes fail in one commit.
const std::string k_config = "[build]\n"
                             "command = [\"sh\", \"build.sh\"]\n"
                             "[run]\n"
                             "rounds = 6\n"
                             "warmup = 0\n"
                             "schedule = \"alternate\"\n"
                             "threshold = \"5%\"\n"
                             "[[workload]]\n"
                             "name = \"w\"\n"
                             "kind = \"hotpath\"\n"
                             "format = \"jsonl\"\n"
                             "command = [\"sh\", \"bench.sh\"]\n";

// The commits of a history, as `work` values: a step where the value changes.
std::vector<int> steps_at(std::size_t count, const std::vector<std::pair<std::size_t, int>>& from) {
    std::vector<int> values(count, 100);
    for (const auto& [index, value] : from) {
        std::fill(values.begin() + static_cast<std::ptrdiff_t>(index), values.end(), value);
    }
    return values;
}

std::string short_id(const std::string& commit) {
    return commit.substr(0, 12);
}

class Bisect : public ::testing::Test {
protected:
    Bisect() : m_repo(m_dir / "repo") {
        m_repo.write(".gitignore", "results.csv\n");
        m_repo.write("abtool.toml", k_config);
        m_repo.write("bench.sh", k_bench_script);
        m_repo.write("build.sh", "exit 0\n");
    }

    // One commit whose work.txt holds `work`; `file` gets a line naming the commit, so that no two
    // commits have the same tree. Returns its id.
    std::string commit_work(const std::string& subject, int work,
                            const std::string& file = "notes.txt") const {
        m_repo.write("work.txt", std::to_string(work) + "\n");
        m_repo.write(file, read_file(m_repo.root() / file) + subject + "\n");
        return m_repo.commit(subject);
    }

    // Commits c0, c1, ... with the given work values, tags the first "good" and the last "bad",
    // and returns their ids. `broken` commits have a build.sh that fails.
    std::vector<std::string> history(const std::vector<int>& values,
                                     const std::set<std::size_t>& broken = {}) const {
        std::vector<std::string> ids;
        for (std::size_t i = 0; i < values.size(); ++i) {
            m_repo.write("build.sh",
                         broken.count(i) != 0 ? "echo broken >&2\nexit 1\n" : "exit 0\n");
            ids.push_back(commit_work("c" + std::to_string(i), values[i]));
        }
        m_repo.tag("good " + ids.front());
        m_repo.tag("bad " + ids.back());
        return ids;
    }

    ShellResult abtool(const std::string& args) const {
        return shell("cd " + quote(m_repo.root().string()) + " && CI=true " + quote(ABTOOL_BINARY) +
                     " " + args);
    }

    // Where a test's --json copy of the log goes: outside the repository.
    std::filesystem::path report_file() const { return m_dir / "bisect.json"; }
    std::string json_flag() const { return " --json " + quote(report_file().string()); }

    std::filesystem::path results() const { return m_repo.root() / "results.csv"; }

    // The bisect log of good..bad: .abtool/bisect/<good12>..<bad12>.json.
    std::filesystem::path log_file(const std::string& good, const std::string& bad) const {
        return m_repo.root() / ".abtool" / "bisect" /
               (short_id(good) + ".." + short_id(bad) + ".json");
    }

    // The run directories under .abtool/runs.
    std::set<std::filesystem::path> run_dirs() const {
        std::set<std::filesystem::path> dirs;
        const std::filesystem::path runs = m_repo.root() / ".abtool" / "runs";
        if (std::filesystem::is_directory(runs)) {
            for (const auto& entry : std::filesystem::directory_iterator(runs)) {
                dirs.insert(entry.path());
            }
        }
        return dirs;
    }

    TempDir m_dir;
    TestRepo m_repo;
};

// A bisect log or its --json copy; fails the test (then throws, as an ASSERT would end it) when
// it is missing or not JSON.
nlohmann::json read_log(const std::filesystem::path& file) {
    const auto fail = [&](const std::string& message) {
        ADD_FAILURE() << message;
        throw std::runtime_error(message);
    };
    if (!std::filesystem::is_regular_file(file)) {
        fail("no bisect log at " + file.string());
    }
    try {
        return nlohmann::json::parse(read_file(file));
    } catch (const nlohmann::json::exception& error) {
        fail(file.string() + ": " + error.what());
    }
    return {};
}

double number(const nlohmann::json& value) {
    return JsonReport::number(value);
}

// The commits the log's probes measured, in the order probed.
std::vector<std::string> probed(const nlohmann::json& log) {
    std::vector<std::string> commits;
    for (const nlohmann::json& probe : log.at("probes")) {
        commits.push_back(probe.at("commit").get<std::string>());
    }
    return commits;
}

// The probe of `commit` (null when it was not probed).
nlohmann::json probe_of(const nlohmann::json& log, const std::string& commit) {
    for (const nlohmann::json& probe : log.at("probes")) {
        if (probe.at("commit") == commit) {
            return probe;
        }
    }
    return nullptr;
}

// The steps' culprits (empty for a step known only as a range).
std::set<std::string> culprits(const nlohmann::json& log) {
    std::set<std::string> commits;
    for (const nlohmann::json& step : log.at("steps")) {
        commits.insert(step.at("culprit").get<std::string>());
    }
    return commits;
}

// The run directories the log's comparisons name (and the confirming run's, where the log keeps
// it apart from the search's comparisons).
std::set<std::filesystem::path> compared_dirs(const nlohmann::json& log) {
    std::set<std::filesystem::path> dirs;
    if (log.contains("confirmation") && log.at("confirmation").value("ran", false)) {
        dirs.insert(log.at("confirmation").at("run_dir").get<std::string>());
    }
    for (const nlohmann::json& comparison : log.at("comparisons")) {
        if (comparison.at("ran").get<bool>()) {
            dirs.insert(comparison.at("run_dir").get<std::string>());
        }
    }
    return dirs;
}

TEST_F(Bisect, OneStepInSixteenCommits_CulpritNamedExactly_InFiveProbesAtMost_Exit0) {
    const std::vector<std::string> ids = history(steps_at(16, {{9, 130}}));

    const ShellResult result = abtool("bisect --good good --bad bad" + json_flag());
    ASSERT_EQ(result.status, 0) << result.output;
    const nlohmann::json log = read_log(report_file());
    EXPECT_EQ(log.at("state"), "done") << log.dump(2);
    EXPECT_EQ(log.at("good").at("ref"), "good");
    EXPECT_EQ(log.at("good").at("commit"), ids.front());
    EXPECT_EQ(log.at("bad").at("ref"), "bad");
    EXPECT_EQ(log.at("bad").at("commit"), ids.back());
    // The only regressed gated case, chosen without --workload/--case/--metric.
    EXPECT_EQ(log.at("workload"), "w");
    EXPECT_EQ(log.at("case"), "x");
    EXPECT_EQ(log.at("metric"), "work");
    EXPECT_EQ(log.at("unit"), "ms");
    EXPECT_NEAR(number(log.at("delta_pct")), 30.0, 1e-6);
    EXPECT_FALSE(log.at("rule").get<std::string>().empty());

    // The first-parent walk from good to bad, both ends included.
    const nlohmann::json& commits = log.at("commits");
    ASSERT_EQ(commits.size(), ids.size()) << commits.dump(2);
    for (std::size_t i = 0; i < ids.size(); ++i) {
        EXPECT_EQ(commits.at(i).at("commit"), ids[i]) << i;
        EXPECT_EQ(commits.at(i).at("subject"), "c" + std::to_string(i)) << i;
    }

    // The culprit, compared against its parent at the user's threshold: +30%.
    ASSERT_EQ(log.at("steps").size(), 1u) << log.at("steps").dump(2);
    const nlohmann::json& culprit = log.at("culprit");
    ASSERT_TRUE(culprit.is_object()) << log.dump(2);
    EXPECT_EQ(culprit.at("culprit"), ids[9]) << culprit.dump(2);
    EXPECT_EQ(culprit.at("first"), ids[9]);
    EXPECT_EQ(culprit.at("last"), ids[9]);
    EXPECT_EQ(culprit.at("parent"), ids[8]);
    EXPECT_EQ(culprit.at("subject"), "c9");
    EXPECT_NEAR(number(culprit.at("delta_pct")), 30.0, 1e-6) << culprit.dump(2);
    EXPECT_TRUE(std::filesystem::is_regular_file(
        std::filesystem::path(culprit.at("run_dir").get<std::string>()) / "samples.jsonl"))
        << culprit.dump(2);
    EXPECT_NE(result.output.find("culprit: " + short_id(ids[9]) + " c9 ("), std::string::npos)
        << result.output;

    // A binary search: 15 candidates take 4 probes, 5 at most; commits 8 (good) and 9 (bad) must
    // both have been measured to name 9.
    const nlohmann::json& probes = log.at("probes");
    EXPECT_GE(probes.size(), 1u);
    EXPECT_LE(probes.size(), 5u) << probes.dump(2);
    EXPECT_FALSE(probe_of(log, ids[8]).is_null()) << probes.dump(2);
    EXPECT_FALSE(probe_of(log, ids[9]).is_null()) << probes.dump(2);
    const std::set<std::filesystem::path> compared = compared_dirs(log);
    for (const nlohmann::json& probe : probes) {
        const auto index = static_cast<std::size_t>(
            std::find(ids.begin(), ids.end(), probe.at("commit").get<std::string>()) - ids.begin());
        ASSERT_LT(index, ids.size()) << probe.dump(2);
        ASSERT_GT(index, 0u) << "the good end is not probed";
        EXPECT_EQ(probe.at("verdict"), index < 9 ? "good" : "bad") << probe.dump(2);
        if (index < 9) {
            EXPECT_NEAR(number(probe.at("share_pct")), 0.0, 1e-6) << probe.dump(2);
        }
        // A third of the range's +30%, on the linear or the log scale (10% or 9.1%).
        EXPECT_GT(number(probe.at("threshold_pct")), 9.0) << probe.dump(2);
        EXPECT_LT(number(probe.at("threshold_pct")), 10.01) << probe.dump(2);
        // Two normal run directories a probe, both among the log's comparisons.
        ASSERT_EQ(probe.at("run_dirs").size(), 2u) << probe.dump(2);
        for (const nlohmann::json& run_dir : probe.at("run_dirs")) {
            const std::filesystem::path dir = run_dir.get<std::string>();
            EXPECT_TRUE(std::filesystem::is_regular_file(dir / "plan.json")) << dir;
            EXPECT_TRUE(std::filesystem::is_regular_file(dir / "samples.jsonl")) << dir;
            EXPECT_EQ(compared.count(dir), 1u) << dir;
        }
    }
    for (const nlohmann::json& comparison : log.at("comparisons")) {
        EXPECT_TRUE(comparison.at("ran").get<bool>()) << comparison.dump(2);
        EXPECT_EQ(comparison.at("failure"), "") << comparison.dump(2);
        const std::string verdict = comparison.at("verdict").get<std::string>();
        EXPECT_TRUE(verdict == "regressed" || verdict == "unchanged") << comparison.dump(2);
    }
    // Every run directory made is one of the log's comparisons.
    EXPECT_EQ(run_dirs(), compared) << log.at("comparisons").dump(2);

    // The log is where the spec puts it and the --json file is a copy of it; no comparison
    // appended to results.csv (no --record).
    EXPECT_EQ(read_log(log_file(ids.front(), ids.back())), log);
    EXPECT_FALSE(std::filesystem::exists(results())) << read_file(results());
}

TEST_F(Bisect, TwoSteps_BothFound_TheLargerNamed_Exit0) {
    // +30% at c5, +34.6% at c12: neither explains the +75% between the ends.
    const std::vector<std::string> ids = history(steps_at(16, {{5, 130}, {12, 175}}));

    const ShellResult result = abtool("bisect --good good --bad bad" + json_flag());
    ASSERT_EQ(result.status, 0) << result.output;
    const nlohmann::json log = read_log(report_file());
    EXPECT_EQ(log.at("state"), "done") << log.dump(2);
    EXPECT_NEAR(number(log.at("delta_pct")), 75.0, 1e-6);
    EXPECT_EQ(culprits(log), (std::set<std::string>{ids[5], ids[12]})) << log.at("steps").dump(2);
    for (const nlohmann::json& step : log.at("steps")) {
        const bool first = step.at("culprit") == ids[5];
        EXPECT_EQ(step.at("parent"), first ? ids[4] : ids[11]) << step.dump(2);
        EXPECT_NEAR(number(step.at("delta_pct")), first ? 30.0 : 100.0 * (175.0 / 130.0 - 1), 1e-6)
            << step.dump(2);
    }
    ASSERT_TRUE(log.at("culprit").is_object()) << log.dump(2);
    EXPECT_EQ(log.at("culprit").at("culprit"), ids[12]) << "the larger step";
    // A probe between the steps sees a regression on each side.
    bool between = false;
    for (const nlohmann::json& probe : log.at("probes")) {
        between = between || probe.at("verdict") == "between";
    }
    EXPECT_TRUE(between) << log.at("probes").dump(2);
    EXPECT_NE(result.output.find("not explained by one commit"), std::string::npos)
        << result.output;
    EXPECT_NE(result.output.find(short_id(ids[5])), std::string::npos) << result.output;
    EXPECT_NE(result.output.find(short_id(ids[12])), std::string::npos) << result.output;
}

TEST_F(Bisect, CommitThatDoesNotBuild_IsSkipped_CulpritElsewhereStillNamed_Exit0) {
    // 17 commits: c8 is the middle of c1..c15 whichever way a midpoint rounds, so the first probe.
    const std::vector<std::string> ids = history(steps_at(17, {{11, 130}}), {8});

    const ShellResult result = abtool("bisect --good good --bad bad" + json_flag());
    ASSERT_EQ(result.status, 0) << result.output;
    const nlohmann::json log = read_log(report_file());
    EXPECT_EQ(log.at("state"), "done") << log.dump(2);
    const nlohmann::json skipped = probe_of(log, ids[8]);
    ASSERT_FALSE(skipped.is_null()) << log.at("probes").dump(2);
    EXPECT_EQ(skipped.at("verdict"), "skipped") << skipped.dump(2);
    bool failure_on_record = false;
    for (const nlohmann::json& comparison : log.at("comparisons")) {
        if (!comparison.at("ran").get<bool>()) {
            EXPECT_FALSE(comparison.at("failure").get<std::string>().empty()) << comparison.dump(2);
            EXPECT_TRUE(comparison.at("a") == ids[8] || comparison.at("b") == ids[8])
                << comparison.dump(2);
            failure_on_record = true;
        }
    }
    EXPECT_TRUE(failure_on_record) << log.at("comparisons").dump(2);
    ASSERT_TRUE(log.at("culprit").is_object()) << log.dump(2);
    EXPECT_EQ(log.at("culprit").at("culprit"), ids[11]) << log.at("culprit").dump(2);
}

TEST_F(Bisect, CommitThatDoesNotBuildBeforeTheCulprit_GivesARange_NotACulprit_Exit0) {
    // c8 cannot be measured and c9 is the first slow commit: either could be the culprit.
    const std::vector<std::string> ids = history(steps_at(17, {{9, 130}}), {8});

    const ShellResult result = abtool("bisect --good good --bad bad" + json_flag());
    ASSERT_EQ(result.status, 0) << result.output;
    const nlohmann::json log = read_log(report_file());
    EXPECT_EQ(log.at("state"), "done") << log.dump(2);
    EXPECT_EQ(probe_of(log, ids[8]).value("verdict", ""), "skipped") << log.at("probes").dump(2);
    ASSERT_EQ(log.at("steps").size(), 1u) << log.at("steps").dump(2);
    const nlohmann::json& step = log.at("steps").at(0);
    EXPECT_EQ(step.at("culprit"), "") << "c8 may be the culprit as well: " << step.dump(2);
    EXPECT_EQ(step.at("first"), ids[8]) << step.dump(2);
    EXPECT_EQ(step.at("last"), ids[9]) << step.dump(2);
    EXPECT_EQ(step.at("parent"), ids[7]) << step.dump(2);
    EXPECT_TRUE(log.at("culprit").is_null() || log.at("culprit").at("culprit") == "")
        << log.at("culprit").dump(2);
    EXPECT_NE(result.output.find(short_id(ids[8])), std::string::npos) << result.output;
    EXPECT_NE(result.output.find(short_id(ids[9])), std::string::npos) << result.output;
}

TEST_F(Bisect, EndpointsWithoutARegression_NothingToBisect_Exit0) {
    history(steps_at(4, {}));

    const ShellResult result = abtool("bisect --good good --bad bad" + json_flag());
    ASSERT_EQ(result.status, 0) << result.output;
    EXPECT_NE(result.output.find("no regression to bisect"), std::string::npos) << result.output;
    const nlohmann::json log = read_log(report_file());
    EXPECT_EQ(log.at("state"), "no-regression") << log.dump(2);
    EXPECT_TRUE(log.at("probes").empty()) << log.dump(2);
    EXPECT_TRUE(log.at("steps").empty()) << log.dump(2);
    EXPECT_TRUE(log.at("culprit").is_null()) << log.dump(2);
    EXPECT_FALSE(std::filesystem::exists(results())) << read_file(results());
}

// main: c0 (good) c1 c2 c3 c4 M c5 c6 c7 c8 (bad), with M merging side: s1 s2 s3, forked at c2.
class BisectMerge : public Bisect {
protected:
    // Makes the history, tagged "good" (c0) and "bad" (c8): side's work value is `side_work` from
    // s2 on, main's is `main_work_from_c6` from c6 on (before: 100, or what M merged).
    void merge_history(int side_work, int main_work_from_c6) {
        for (int i = 0; i <= 2; ++i) {
            m_main.push_back(commit_work("c" + std::to_string(i), 100));
        }
        m_repo.tag("good " + m_main.front());
        m_repo.git("checkout -q -b side");
        for (int i = 1; i <= 3; ++i) {
            m_side.push_back(
                commit_work("s" + std::to_string(i), i >= 2 ? side_work : 100, "side.txt"));
        }
        m_repo.git("checkout -q main");
        for (int i = 3; i <= 4; ++i) {
            m_main.push_back(commit_work("c" + std::to_string(i), 100));
        }
        m_repo.git("merge -q --no-ff -m M side");
        m_main.push_back(m_repo.head());
        const int merged = std::stoi(read_file(m_repo.root() / "work.txt"));
        for (int i = 5; i <= 8; ++i) {
            m_main.push_back(
                commit_work("c" + std::to_string(i), i >= 6 ? main_work_from_c6 : merged));
        }
        m_repo.tag("bad");
    }

    std::vector<std::string> m_main; // c0 c1 c2 c3 c4 M c5 c6 c7 c8
    std::vector<std::string> m_side; // s1 s2 s3
};

TEST_F(BisectMerge, SideBranchCommits_AreNotProbed_CulpritAfterTheMergeNamed_Exit0) {
    merge_history(100, 130); // side changes nothing that counts; c6 is 30% slower

    const ShellResult result = abtool("bisect --good good --bad bad" + json_flag());
    ASSERT_EQ(result.status, 0) << result.output;
    const nlohmann::json log = read_log(report_file());
    EXPECT_EQ(log.at("state"), "done") << log.dump(2);
    // The walk is main's first parents: M stands for side's commits.
    std::vector<std::string> walked;
    for (const nlohmann::json& commit : log.at("commits")) {
        walked.push_back(commit.at("commit").get<std::string>());
    }
    EXPECT_EQ(walked, m_main);
    for (const std::string& commit : probed(log)) {
        EXPECT_EQ(std::count(m_side.begin(), m_side.end(), commit), 0)
            << "side commit probed: " << commit;
    }
    ASSERT_TRUE(log.at("culprit").is_object()) << log.dump(2);
    EXPECT_EQ(log.at("culprit").at("culprit"), m_main[7]) << "c6";
}

TEST_F(BisectMerge, RegressionFromTheSideBranch_TheMergeIsTheCulprit_Exit0) {
    merge_history(130, 130); // s2 is 30% slower, and main has it from M on

    const ShellResult result = abtool("bisect --good good --bad bad" + json_flag());
    ASSERT_EQ(result.status, 0) << result.output;
    const nlohmann::json log = read_log(report_file());
    for (const std::string& commit : probed(log)) {
        EXPECT_EQ(std::count(m_side.begin(), m_side.end(), commit), 0)
            << "side commit probed: " << commit;
    }
    ASSERT_TRUE(log.at("culprit").is_object()) << log.dump(2);
    EXPECT_EQ(log.at("culprit").at("culprit"), m_main[5]) << "M, the first-parent culprit";
    EXPECT_EQ(log.at("culprit").at("parent"), m_main[4]) << "c4, M's first parent";
    EXPECT_NEAR(number(log.at("culprit").at("delta_pct")), 30.0, 1e-6);
}

TEST_F(Bisect, GoodNotAnAncestorOfBad_Exit2_NamesBoth) {
    const std::vector<std::string> ids = history(steps_at(4, {{2, 130}}));
    m_repo.tag("release-1 " + ids.front());
    m_repo.tag("release-4 " + ids.back());

    const ShellResult result = abtool("bisect --good release-4 --bad release-1");
    EXPECT_EQ(result.status, 2) << result.output;
    // Each end named, by the ref given or by its commit.
    const auto names = [&](const std::string& ref, const std::string& commit) {
        return result.output.find(ref) != std::string::npos ||
               result.output.find(short_id(commit)) != std::string::npos;
    };
    EXPECT_TRUE(names("release-4", ids.back())) << result.output;
    EXPECT_TRUE(names("release-1", ids.front())) << result.output;
    EXPECT_NE(result.output.find("ancestor"), std::string::npos) << result.output;
    EXPECT_TRUE(run_dirs().empty()) << "refused before measuring anything";
}

TEST_F(Bisect, UnknownWorkload_Exit2_NamesIt) {
    history(steps_at(4, {{2, 130}}));

    const ShellResult result = abtool("bisect --good good --bad bad --workload nosuchworkload");
    EXPECT_EQ(result.status, 2) << result.output;
    EXPECT_NE(result.output.find("nosuchworkload"), std::string::npos) << result.output;
    EXPECT_TRUE(run_dirs().empty()) << "refused before measuring anything";
}

TEST_F(Bisect, BadEndDoesNotBuild_Exit3) {
    history(steps_at(4, {{2, 130}}), {3});

    const ShellResult result = abtool("bisect --good good --bad bad" + json_flag());
    EXPECT_EQ(result.status, 3) << result.output;
    EXPECT_NE(result.output.find("bad"), std::string::npos) << result.output;
    EXPECT_FALSE(std::filesystem::exists(results()));
}

TEST_F(Bisect, Record_AppendsEveryComparisonToResultsCsv) {
    const std::vector<std::string> ids = history(steps_at(6, {{3, 130}}));

    const ShellResult result = abtool("bisect --good good --bad bad --record" + json_flag());
    ASSERT_EQ(result.status, 0) << result.output;
    const nlohmann::json log = read_log(report_file());
    ASSERT_TRUE(log.at("culprit").is_object()) << log.dump(2);
    EXPECT_EQ(log.at("culprit").at("culprit"), ids[3]);
    ASSERT_TRUE(std::filesystem::exists(results())) << result.output;
    // One row a comparison (one workload, case and metric), each starting with its run id.
    std::istringstream csv(read_file(results()));
    std::string line;
    std::getline(csv, line);
    EXPECT_EQ(line.rfind("run_id,", 0), 0u) << line;
    std::multiset<std::string> rows;
    while (std::getline(csv, line)) {
        rows.insert(line.substr(0, line.find(',')));
    }
    std::multiset<std::string> compared;
    for (const std::filesystem::path& dir : compared_dirs(log)) {
        compared.insert(dir.filename().string());
    }
    EXPECT_EQ(rows, compared) << read_file(results());
}

TEST_F(Bisect, Interrupted_Exit130_ResumeReusesTheLoggedComparisons) {
    // A tenth of a second a run: time to interrupt after the first probe.
    m_repo.write("bench.sh", "sleep 0.1\n" + k_bench_script);
    const std::vector<std::string> ids = history(steps_at(8, {{5, 130}}));
    const std::filesystem::path log_path = log_file(ids.front(), ids.back());

    const std::string command = "cd " + quote(m_repo.root().string()) + " && CI=true exec " +
                                quote(ABTOOL_BINARY) + " bisect --good good --bad bad";
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    // Wait until the log has a probe, then interrupt like Ctrl-C.
    bool probed_once = false;
    for (int i = 0; i < 1200 && !probed_once; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        const nlohmann::json log =
            nlohmann::json::parse(read_file(log_path), nullptr, /*allow_exceptions=*/false);
        probed_once = log.is_object() && log.contains("probes") && !log.at("probes").empty();
    }
    kill(pid, SIGINT);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(probed_once) << "no probe in " << log_path;
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 130);
    const nlohmann::json interrupted = read_log(log_path);
    EXPECT_EQ(interrupted.at("state"), "interrupted") << interrupted.dump(2);
    const std::set<std::filesystem::path> before = compared_dirs(interrupted);
    EXPECT_FALSE(before.empty()) << interrupted.dump(2);

    const ShellResult result = abtool("bisect --good good --bad bad --resume" + json_flag());
    ASSERT_EQ(result.status, 0) << result.output;
    const nlohmann::json log = read_log(report_file());
    EXPECT_EQ(log.at("state"), "done") << log.dump(2);
    ASSERT_TRUE(log.at("culprit").is_object()) << log.dump(2);
    EXPECT_EQ(log.at("culprit").at("culprit"), ids[5]);
    // The comparisons logged before the interrupt are reused, not run again: the resumed log has
    // them, and the only run directory it does not name is the one the interrupt cut short.
    const std::set<std::filesystem::path> after = compared_dirs(log);
    for (const std::filesystem::path& dir : before) {
        EXPECT_EQ(after.count(dir), 1u) << dir;
    }
    std::set<std::filesystem::path> unnamed;
    for (const std::filesystem::path& dir : run_dirs()) {
        if (after.count(dir) == 0) {
            unnamed.insert(dir);
        }
    }
    EXPECT_LE(unnamed.size(), 1u) << log.at("comparisons").dump(2);
}

} // namespace
} // namespace abtool::testing
