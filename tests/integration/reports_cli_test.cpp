// The post-mortem commands on a real history: two runs of the real binary, then `abtool
// compare` (unpaired, stored runs) and `abtool history` read results.csv and the run samples.
#include "tests/support/shell.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_repo.hpp"

#include <gtest/gtest.h>

namespace abtool::testing {
namespace {

std::string program(long iterations) {
    return "int main(void) { volatile unsigned long x = 0; for (long i = 0; i < " +
           std::to_string(iterations) + "L; ++i) { x += (unsigned long)i; } return 0; }\n";
}

class PostMortem : public ::testing::Test {
protected:
    PostMortem() : m_repo(m_dir / "repo") {
        m_repo.write(".gitignore", "app\nresults.csv\n");
        m_repo.write("abtool.toml", "[build]\ncommand = [\"cc\", \"-O1\", \"-o\", \"app\", "
                                    "\"app.c\"]\n[run]\nrounds = 10\nthreshold = \"5%\"\n"
                                    "[[workload]]\nname = \"spin\"\nkind = \"command\"\n"
                                    "command = [\"./app\"]\n");
        m_repo.write("app.c", program(40'000'000));
        m_repo.commit("v1");
        m_repo.tag("v1");
        m_repo.write("app.c", program(120'000'000));
        m_repo.commit("v2");
        m_repo.tag("v2");
    }

    ShellResult abtool(const std::string& args) const {
        return shell("cd " + quote(m_repo.root().string()) + " && CI=true " + quote(ABTOOL_BINARY) +
                     " " + args + " 2>&1");
    }

    TempDir m_dir;
    TestRepo m_repo;
};

TEST_F(PostMortem, CompareStoredRuns_IsUnpairedAndFindsTheRegression_HistoryShowsTheStep) {
    // B = v1: the passing baseline run that latest-pass finds. Its wide threshold keeps it a pass
    // even when a burst of load from elsewhere hits a few runs (this test is about compare and
    // history; A/A false alarms are measured in stats_tests and by EndToEnd.IdenticalCode).
    const ShellResult baseline = abtool("--ref-a v1 --ref-b v1 --threshold 50%");
    ASSERT_EQ(baseline.status, 0) << baseline.output;
    ASSERT_EQ(abtool("--ref-a v1 --ref-b v2").status, 1); // B = v2, slower

    const ShellResult compare = abtool("compare --baseline v1 --candidate latest");
    EXPECT_EQ(compare.status, 1) << compare.output;
    EXPECT_NE(compare.output.find("unpaired"), std::string::npos) << compare.output;
    EXPECT_NE(compare.output.find("regressed"), std::string::npos) << compare.output;

    const ShellResult same = abtool("compare --baseline latest-pass --candidate latest --strict");
    EXPECT_EQ(same.status, 1) << "latest-pass is the v1 run: still a regression\n" << same.output;

    const ShellResult history = abtool("history --workload spin --metric wall_ms");
    EXPECT_EQ(history.status, 0) << history.output;
    EXPECT_NE(history.output.find("spin wall_ms"), std::string::npos) << history.output;
    EXPECT_NE(history.output.find("regressed"), std::string::npos) << history.output;

    EXPECT_EQ(abtool("history").status, 2);
    EXPECT_EQ(abtool("history --workload nope").status, 2);
    EXPECT_EQ(abtool("compare --baseline no-such-run").status, 2);
}

} // namespace
} // namespace abtool::testing
