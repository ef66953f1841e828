// --target and the targets registry through the real binary: a run on a registered local target
// records its id in results.csv, the --json report and every primary key (its history stays
// apart from this machine's default `local` one); an unknown id, a malformed registry, and an ssh
// target for a command other than run, are refused with exit 2 before anything runs, naming the
// file. Runs on an ssh target: ssh_target_test.cpp.
#include "tests/support/json_report.hpp"
#include "tests/support/shell.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_repo.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace abtool::testing {
namespace {

class Targets : public ::testing::Test {
protected:
    Targets() : m_repo(m_dir / "repo") {
        m_repo.write(".gitignore", "results.csv\n");
        m_repo.write("abtool.toml", "[run]\nrounds = 6\nthreshold = \"5%\"\n"
                                    "[[workload]]\nname = \"fixed\"\nkind = \"hotpath\"\n"
                                    "format = \"jsonl\"\nschedule = \"alternate\"\n"
                                    "shell = \"echo '{\\\"case\\\": \\\"c\\\", \\\"metric\\\": "
                                    "\\\"m\\\", \\\"value\\\": 7}'\"\n");
        m_repo.write("targets.json",
                     R"({"targets": [{"id": "local", "kind": "local"},
                                     {"id": "quiet-box", "kind": "local",
                                      "description": "this machine, isolated CPUs"},
                                     {"id": "far", "kind": "ssh", "host": "bench.example",
                                      "workdir": "/srv/abtool"}]})");
        m_repo.commit("v1");
        m_repo.tag("v1");
    }

    ShellResult abtool(const std::string& args) const {
        return shell("cd " + quote(m_repo.root().string()) + " && CI=true " + quote(ABTOOL_BINARY) +
                     " " + args + " 2>&1");
    }

    std::string results() const {
        const std::filesystem::path file = m_repo.root() / "results.csv";
        return std::filesystem::exists(file) ? read_file(file) : "";
    }

    TempDir m_dir;
    TestRepo m_repo;
};

TEST_F(Targets, ARegisteredTarget_IsInResultsTheReportAndThePrimaryKey) {
    const ShellResult local =
        abtool("--ref-a v1 --ref-b v1 --json " + quote((m_dir / "local.json").string()));
    ASSERT_EQ(local.status, 0) << local.output;
    const ShellResult box = abtool("--ref-a v1 --ref-b v1 --target quiet-box --json " +
                                   quote((m_dir / "box.json").string()));
    ASSERT_EQ(box.status, 0) << box.output;
    const JsonReport local_report(m_dir / "local.json");
    const JsonReport box_report(m_dir / "box.json");
    EXPECT_EQ(local_report.json().at("target_id"), "local");
    EXPECT_EQ(box_report.json().at("target_id"), "quiet-box");
    const std::string local_key = local_report.row("fixed", "c", "m").at("primary_key");
    const std::string box_key = box_report.row("fixed", "c", "m").at("primary_key");
    EXPECT_NE(local_key, box_key);
    const std::string csv = results();
    EXPECT_NE(csv.find("," + local_key + ",local,fixed,"), std::string::npos) << csv;
    EXPECT_NE(csv.find("," + box_key + ",quiet-box,fixed,"), std::string::npos) << csv;
    // The history of one target is not the other's.
    const ShellResult history = abtool("history --key " + box_key);
    EXPECT_EQ(history.status, 0) << history.output;
}

TEST_F(Targets, UnknownSshAndMalformed_Exit2NamingTheFile_NothingRuns) {
    const std::string registry = (m_repo.root() / "targets.json").string();
    const ShellResult unknown = abtool("--ref-a v1 --ref-b v1 --target nope");
    EXPECT_EQ(unknown.status, 2) << unknown.output;
    EXPECT_NE(unknown.output.find("--target 'nope' is not in " + registry), std::string::npos)
        << unknown.output;
    EXPECT_NE(unknown.output.find("targets: local, quiet-box, far"), std::string::npos)
        << unknown.output;
    // Only `abtool run` runs on an ssh target (ssh_target_test.cpp); calibrate says so.
    const ShellResult ssh = abtool("calibrate --ref v1 --target far");
    EXPECT_EQ(ssh.status, 2) << ssh.output;
    EXPECT_NE(ssh.output.find("--target 'far' is an ssh target: only `abtool run` runs on one"),
              std::string::npos)
        << ssh.output;
    write_file(m_dir / "bad.json", R"({"targets": [{"id": "x", "kind": "cloud"}]})");
    const ShellResult bad =
        abtool("--ref-a v1 --ref-b v1 --targets " + quote((m_dir / "bad.json").string()));
    EXPECT_EQ(bad.status, 2) << bad.output;
    EXPECT_NE(bad.output.find((m_dir / "bad.json").string() +
                              ": target 1 ('x'): kind 'cloud' is not local or ssh"),
              std::string::npos)
        << bad.output;
    EXPECT_EQ(results(), "");
    EXPECT_FALSE(std::filesystem::exists(m_repo.root() / ".abtool" / "runs"));
}

} // namespace
} // namespace abtool::testing
