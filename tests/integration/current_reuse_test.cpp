// The real abtool binary run twice on `--ref-a HEAD --ref-b CURRENT` in a repository that does
// not ignore results.csv: abtool's own outputs (results.csv, a --json report inside the
// repository) must not change CURRENT, so the second run checks out and builds nothing; a real
// edit still does.
#include "tests/support/shell.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_repo.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <set>
#include <vector>

namespace abtool::testing {
namespace {

std::size_t count_lines(const std::string& text) {
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

class CurrentReuse : public ::testing::Test {
protected:
    CurrentReuse() : m_repo(m_dir / "repo") {
        // The build appends to a file outside the repository: its lines count the builds.
        m_repo.write("abtool.toml", "[build]\n"
                                    "command = [\"sh\", \"-c\", \"echo built >> " +
                                        builds().string() +
                                        "\"]\n"
                                        "[run]\n"
                                        "rounds = 2\n"
                                        "warmup = 0\n"
                                        "[[workload]]\n"
                                        "name = \"noop\"\n"
                                        "kind = \"command\"\n"
                                        "command = [\"true\"]\n");
        m_repo.write("code.txt", "committed\n");
        m_repo.commit("v1"); // no .gitignore: results.csv is an untracked, not-ignored file
        m_repo.write("code.txt", "uncommitted edit\n");
    }

    ShellResult abtool() const {
        return shell("cd " + quote(m_repo.root().string()) + " && CI=true " + quote(ABTOOL_BINARY) +
                     " --ref-a HEAD --ref-b CURRENT --json report.json");
    }

    std::filesystem::path builds() const { return m_dir / "builds.txt"; }

    std::vector<std::filesystem::path> entries(const std::filesystem::path& dir) const {
        std::vector<std::filesystem::path> found;
        for (const auto& entry : std::filesystem::directory_iterator(dir)) {
            found.push_back(entry.path());
        }
        std::sort(found.begin(), found.end());
        return found;
    }

    // The B side of the plan.json of the run made since the last call (run ids have one-second
    // resolution, so runs are told apart by what is new, not by sorting).
    nlohmann::json new_run_b() {
        std::vector<std::filesystem::path> fresh;
        for (const auto& run : entries(m_repo.root() / ".abtool" / "runs")) {
            if (m_seen_runs.insert(run).second) {
                fresh.push_back(run);
            }
        }
        EXPECT_EQ(fresh.size(), 1u);
        return fresh.empty()
                   ? nlohmann::json::object()
                   : nlohmann::json::parse(read_file(fresh.front() / "plan.json")).at("b");
    }

    TempDir m_dir;
    TestRepo m_repo;
    std::set<std::filesystem::path> m_seen_runs;
};

TEST_F(CurrentReuse, SecondRunChecksOutAndBuildsNothing_ARealEditDoes) {
    const ShellResult first = abtool();
    ASSERT_LE(first.status, 1) << first.output;
    ASSERT_TRUE(std::filesystem::exists(m_repo.root() / "results.csv")) << first.output;
    ASSERT_TRUE(std::filesystem::exists(m_repo.root() / "report.json")) << first.output;
    EXPECT_NE(first.output.find("checkout ref 'CURRENT'"), std::string::npos) << first.output;
    EXPECT_EQ(count_lines(read_file(builds())), 2u) << first.output; // HEAD and CURRENT
    const auto checkouts = entries(m_repo.root() / ".abtool" / "wt");
    ASSERT_EQ(checkouts.size(), 2u);
    const nlohmann::json first_b = new_run_b();

    const ShellResult second = abtool();
    ASSERT_LE(second.status, 1) << second.output;
    EXPECT_EQ(count_lines(read_file(builds())), 2u) << second.output;
    EXPECT_EQ(entries(m_repo.root() / ".abtool" / "wt"), checkouts);
    EXPECT_EQ(second.output.find("checked out"), std::string::npos) << second.output;
    std::size_t reused = 0;
    for (std::size_t at = second.output.find(": reused"); at != std::string::npos;
         at = second.output.find(": reused", at + 1)) {
        ++reused;
    }
    EXPECT_EQ(reused, 2u) << second.output;
    std::size_t up_to_date = 0;
    for (std::size_t at = second.output.find(": up to date"); at != std::string::npos;
         at = second.output.find(": up to date", at + 1)) {
        ++up_to_date;
    }
    EXPECT_EQ(up_to_date, 2u) << second.output;
    const nlohmann::json second_b = new_run_b();
    EXPECT_EQ(second_b.value("content_id", ""), first_b.value("content_id", "?"));
    EXPECT_EQ(second_b.value("worktree", ""), first_b.value("worktree", "?"));

    // The user's own edit is new content: checked out and built once more, B only.
    m_repo.write("code.txt", "another edit\n");
    const ShellResult third = abtool();
    ASSERT_LE(third.status, 1) << third.output;
    EXPECT_EQ(count_lines(read_file(builds())), 3u) << third.output;
    EXPECT_NE(third.output.find("checked out"), std::string::npos) << third.output;
    const nlohmann::json third_b = new_run_b();
    EXPECT_NE(third_b.value("content_id", ""), second_b.value("content_id", ""));
    // What the new checkout holds is the edit, not abtool's outputs.
    const std::filesystem::path b_tree = third_b.value("worktree", "");
    ASSERT_FALSE(b_tree.empty());
    EXPECT_EQ(read_file(b_tree / "code.txt"), "another edit\n");
    EXPECT_FALSE(std::filesystem::exists(b_tree / "results.csv"));
    EXPECT_FALSE(std::filesystem::exists(b_tree / "report.json"));
}

} // namespace
} // namespace abtool::testing
