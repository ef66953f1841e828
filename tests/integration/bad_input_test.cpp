// Config values and workload output that used to slip through, through the real binary: a
// placeholder in a shell string is one quoted word (a repository path holding $(...) stays a
// path), a case name with a control character is a parse error naming it, and an argv too long
// for exec gets a message of one short line.
#include "tests/support/shell.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_repo.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

namespace abtool::testing {
namespace {

constexpr const char* k_run = "[run]\nrounds = 6\nwarmup = 1\nschedule = \"alternate\"\n";

class BadInput : public ::testing::Test {
protected:
    // The repository's own path holds shell syntax: a placeholder pasted raw into a shell string
    // would run `touch PWNED`.
    BadInput() : m_repo(m_dir / "repo $(touch PWNED); x") {
        m_repo.write(".gitignore", "results.csv\n");
        m_repo.write("data.jsonl", "{\"case\":\"c\",\"metric\":\"ns\",\"value\":5}\n");
    }

    ShellResult abtool(const std::string& args) const {
        return shell("cd " + quote(m_repo.root().string()) + " && CI=true " + quote(ABTOOL_BINARY) +
                     " " + args);
    }

    bool pwned() const {
        for (const auto& entry : std::filesystem::recursive_directory_iterator(m_dir.path())) {
            if (entry.path().filename() == "PWNED") {
                return true;
            }
        }
        return false;
    }

    TempDir m_dir;
    TestRepo m_repo;
};

TEST_F(BadInput, WorktreePlaceholderInAShellString_IsOneQuotedWord) {
    m_repo.write("abtool.toml", std::string(k_run) +
                                    "[[workload]]\nname = \"w\"\nkind = \"hotpath\"\n"
                                    "format = \"jsonl\"\nshell = \"cat {worktree}/data.jsonl\"\n");
    m_repo.commit("v1");
    const ShellResult result = abtool("--ref-a HEAD --ref-b CURRENT");
    EXPECT_EQ(result.status, 0) << result.output;
    EXPECT_NE(result.output.find("gate passed: 0 regressed, 0 improved, 1 unchanged"),
              std::string::npos)
        << result.output;
    EXPECT_FALSE(pwned()) << "the path's $(touch PWNED) ran as a command";
}

TEST_F(BadInput, CaseNameWithAControlCharacter_IsAParseErrorNamingIt_Exit3) {
    // The JSON escape \u0001 decodes to a raw control character in the case name.
    m_repo.write("bench.jsonl", "{\"case\":\"a\\u0001b\",\"metric\":\"ns\",\"value\":5}\n");
    m_repo.write("abtool.toml", std::string(k_run) +
                                    "[[workload]]\nname = \"ctl\"\nkind = \"hotpath\"\n"
                                    "format = \"jsonl\"\ncommand = [\"cat\", \"bench.jsonl\"]\n");
    m_repo.commit("v1");
    const ShellResult result = abtool("--ref-a HEAD --ref-b CURRENT");
    EXPECT_EQ(result.status, 3) << result.output;
    EXPECT_NE(result.output.find("JSON lines of workload 'ctl' on ref 'HEAD'"), std::string::npos)
        << result.output;
    EXPECT_NE(result.output.find("the case name \"a\\u0001b\" contains control character 0x01"),
              std::string::npos)
        << result.output;
    EXPECT_FALSE(std::filesystem::exists(m_repo.root() / "results.csv"));
}

TEST_F(BadInput, ArgvTooLongForExec_MessageIsOneShortLine_Exit3) {
    // One argument of 300,000 bytes: over Linux's 128 KiB limit for a single argument.
    m_repo.write("abtool.toml", std::string(k_run) +
                                    "[[workload]]\nname = \"long\"\nkind = \"command\"\n"
                                    "command = [\"echo\", \"" +
                                    std::string(300'000, 'x') + "\"]\n");
    m_repo.commit("v1");
    const ShellResult result = abtool("--ref-a HEAD --ref-b CURRENT");
    EXPECT_EQ(result.status, 3) << result.output.substr(0, 2000);
    std::istringstream lines(result.output);
    std::string line;
    std::size_t longest = 0;
    while (std::getline(lines, line)) {
        longest = std::max(longest, line.size());
    }
    EXPECT_LT(longest, 1000u) << result.output.substr(0, 2000);
    EXPECT_NE(result.output.find("... (299805 more bytes, 2 arguments in all)` in "),
              std::string::npos)
        << result.output.substr(0, 2000);
    EXPECT_NE(result.output.find("Argument list too long"), std::string::npos)
        << result.output.substr(0, 2000);
}

} // namespace
} // namespace abtool::testing
