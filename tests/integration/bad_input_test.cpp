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

// k_run and one JSON-lines hotpath workload `name` that runs `process` (a command = [...] or
// shell = "..." line).
std::string jsonl_config(const std::string& name, const std::string& process) {
    return std::string(k_run) + "[[workload]]\nname = \"" + name +
           "\"\nkind = \"hotpath\"\nformat = \"jsonl\"\n" + process + "\n";
}

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
    m_repo.write("abtool.toml", jsonl_config("w", "shell = \"cat {worktree}/data.jsonl\""));
    m_repo.commit("v1");
    const ShellResult result = abtool("--ref-a HEAD --ref-b CURRENT");
    EXPECT_EQ(result.status, 0) << result.output;
    EXPECT_NE(result.output.find("gate passed: 0 regressed, 0 improved, 1 unchanged"),
              std::string::npos)
        << result.output;
    EXPECT_FALSE(pwned()) << "the path's $(touch PWNED) ran as a command";
}

TEST_F(BadInput, GithubOutputUnwritable_VerdictFirst_Exit3NamingIt) {
    // A CI gate must never lose its verdict silently: $GITHUB_OUTPUT on a full disk (/dev/full)
    // fails the step, after the verdict is on the screen.
    m_repo.write("abtool.toml", jsonl_config("w", "command = [\"cat\", \"data.jsonl\"]"));
    m_repo.commit("v1");
    const ShellResult result = shell("cd " + quote(m_repo.root().string()) +
                                     " && CI=true GITHUB_ACTIONS=true GITHUB_OUTPUT=/dev/full " +
                                     quote(ABTOOL_BINARY) + " --ref-a HEAD --ref-b CURRENT");
    EXPECT_EQ(result.status, 3) << result.output;
    const std::size_t verdict = result.output.find("gate passed: 0 regressed");
    const std::size_t error =
        result.output.find("$GITHUB_OUTPUT (/dev/full): write: No space left on device");
    ASSERT_NE(verdict, std::string::npos) << result.output;
    ASSERT_NE(error, std::string::npos) << result.output;
    EXPECT_LT(verdict, error) << result.output;
}

TEST_F(BadInput, CompareOutsideARepository_SaysWhyNoResultsFile_Exit2) {
    // The repository's own reason, not a guess, and the flag that helps.
    const std::filesystem::path outside = m_dir.path() / "not-a-repo";
    std::filesystem::create_directories(outside);
    const ShellResult result =
        shell("cd " + quote(outside.string()) + " && " + quote(ABTOOL_BINARY) + " compare");
    EXPECT_EQ(result.status, 2) << result.output;
    EXPECT_NE(result.output.find("no results.csv to read: cannot open a git repository at " +
                                 outside.string()),
              std::string::npos)
        << result.output;
    EXPECT_NE(result.output.find("pass --results FILE"), std::string::npos) << result.output;
}

TEST_F(BadInput, CaseNameWithAControlCharacter_IsAParseErrorNamingIt_Exit3) {
    // The JSON escape \u0001 decodes to a raw control character in the case name.
    m_repo.write("bench.jsonl", "{\"case\":\"a\\u0001b\",\"metric\":\"ns\",\"value\":5}\n");
    m_repo.write("abtool.toml", jsonl_config("ctl", "command = [\"cat\", \"bench.jsonl\"]"));
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

TEST_F(BadInput, ResultsPathIsADirectory_Exit2_NamesIt_BeforeAnyCheckout) {
    m_repo.write("abtool.toml", jsonl_config("w", "command = [\"cat\", \"data.jsonl\"]"));
    m_repo.commit("v1");
    const std::filesystem::path dir = m_dir / "out";
    std::filesystem::create_directories(dir);
    for (const std::string command :
         {"--ref-a HEAD --ref-b CURRENT", "compare", "history --key x"}) {
        SCOPED_TRACE(command);
        const ShellResult result = abtool(command + " --results " + quote(dir.string()));
        EXPECT_EQ(result.status, 2) << result.output;
        EXPECT_NE(result.output.find("results file " + dir.string() + " is a directory"),
                  std::string::npos)
            << result.output;
        EXPECT_EQ(result.output.find("internal error"), std::string::npos) << result.output;
    }
    EXPECT_FALSE(std::filesystem::exists(m_repo.root() / ".abtool" / "wt"))
        << "the run checked out refs before refusing its results path";
}

TEST_F(BadInput, MisspeltCommandAndOptionLikeRef_SayWhatWasMeant_Exit2) {
    m_repo.write("abtool.toml", jsonl_config("w", "command = [\"cat\", \"data.jsonl\"]"));
    m_repo.commit("v1");
    const ShellResult misspelt = abtool("analize .abtool/runs/x");
    EXPECT_EQ(misspelt.status, 2) << misspelt.output;
    EXPECT_NE(misspelt.output.find("unknown command 'analize' (did you mean 'analyze'?)"),
              std::string::npos)
        << misspelt.output;
    const ShellResult option_like = abtool("--ref-a -x --ref-b CURRENT");
    EXPECT_EQ(option_like.status, 2) << option_like.output;
    EXPECT_NE(option_like.output.find("ref '-x' does not resolve: invalid revision syntax"),
              std::string::npos)
        << option_like.output;
    EXPECT_EQ(option_like.output.find("unknown error"), std::string::npos) << option_like.output;
}

// A workload whose daemon escapes the process group (setsid) before the run ends: abtool, the
// children's subreaper, finds it by its run token, kills it at the end of each run, and says so.
// The daemon's `ready` file makes the escape certain before the shell exits (else the group kill
// could catch it first). Both designs: a duet sweeps after both of its runs are done.
TEST_F(BadInput, ProcessesAWorkloadLeavesBehind_AreKilledEachRunWithAWarning) {
    m_repo.write("abtool.toml",
                 std::string(k_run) +
                     "[[workload]]\nname = \"leaky\"\nkind = \"command\"\n"
                     "shell = \"rm -f ready; setsid sh -c 'touch ready; exec sleep 37.125' "
                     ">/dev/null 2>&1 </dev/null & while [ ! -f ready ]; do sleep 0.01; done\"\n");
    m_repo.write(".gitignore", "results.csv\nready\n");
    m_repo.commit("v1");
    for (const char* schedule : {"alternate", "duet"}) {
        SCOPED_TRACE(schedule);
        const ShellResult result =
            abtool(std::string("--ref-a HEAD --ref-b CURRENT --schedule ") + schedule);
        // A verdict, not an error: the runs are timed, and on a loaded machine the same
        // shell line on both sides can still be called regressed (CI once saw +4.6% in a duet).
        EXPECT_TRUE(result.status == 0 || result.status == 1) << result.output;
        // One warm-up and six measured runs per side, each leaving one `sleep`.
        for (const char* side : {"on ref 'HEAD'", "on ref 'CURRENT'"}) {
            EXPECT_NE(result.output.find(std::string("workload 'leaky' left 7 process(es) running "
                                                     "after 7 of its runs ") +
                                         side),
                      std::string::npos)
                << result.output;
        }
        EXPECT_NE(result.output.find("`sleep 37.125`); abtool killed them"), std::string::npos)
            << result.output;
        EXPECT_NE(shell("pgrep -f 'sleep 37[.]125'").status, 0)
            << "a stray survived the run: " << shell("pgrep -af 'sleep 37[.]125'").output;
    }
}

// abtool SIGKILLed during a build: the build's main process dies with it (PR_SET_PDEATHSIG), and
// what it started (here a `sleep` in its group) is stopped by the next run, found by the token
// the killed build left beside the worktree, before that run builds there: never two builds in
// one worktree at once.
TEST_F(BadInput, KilledDuringABuild_TheNextRunStopsTheOrphanBeforeBuilding) {
    m_repo.write("build.sh", "if [ -f first-done ]; then exit 0; fi\n"
                             "touch first-done\n"
                             "sleep 41.75 &\n"
                             "touch \"$1\"\n"
                             "exec sleep 30.5\n");
    const std::filesystem::path building = m_dir / "building";
    m_repo.write("abtool.toml", "[build]\ncommand = [\"sh\", \"build.sh\", \"" + building.string() +
                                    "\"]\n" +
                                    jsonl_config("w", "command = [\"cat\", \"data.jsonl\"]"));
    m_repo.write(".gitignore", "results.csv\nfirst-done\n");
    m_repo.commit("v1");
    const std::string run = "cd " + quote(m_repo.root().string()) + " && CI=true " +
                            quote(ABTOOL_BINARY) + " --ref-a HEAD --ref-b HEAD";
    // Start abtool, wait for its build to be under way, SIGKILL it.
    const ShellResult killed = shell(
        "(" + run + " >/dev/null 2>&1 & pid=$!; i=0; while [ ! -f " + quote(building.string()) +
        " ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i+1)); done; kill -KILL $pid; "
        "wait $pid; echo killed)");
    ASSERT_NE(killed.output.find("killed"), std::string::npos) << killed.output;
    ASSERT_TRUE(std::filesystem::exists(building)) << "the build never started";
    // The build's main process went with abtool; the sleep it started is an orphan still running.
    bool main_gone = false;
    for (int i = 0; i < 200 && !main_gone; ++i) {
        main_gone = shell("pgrep -f 'sleep 30[.]5'").status != 0;
        if (!main_gone) {
            shell("sleep 0.01");
        }
    }
    EXPECT_TRUE(main_gone) << "the build outlived the abtool that started it";
    ASSERT_EQ(shell("pgrep -f 'sleep 41[.]75'").status, 0) << "no orphan to test with";

    const ShellResult again = shell(run);
    EXPECT_EQ(again.status, 0) << again.output;
    EXPECT_NE(again.output.find("(its abtool was killed): stopped 1 process(es) before building "
                                "(the first: pid "),
              std::string::npos)
        << again.output;
    EXPECT_NE(again.output.find("`sleep 41.75`)"), std::string::npos) << again.output;
    EXPECT_NE(shell("pgrep -f 'sleep 41[.]75'").status, 0) << "the orphan still runs";
}

// A full disk, for real: a 64 KiB tmpfs filled to the last byte, mounted in a private user and
// mount namespace (`unshare -rm`) so that no privilege is needed and nothing outlives the test.
// Runs `abtool <args>` with {disk} standing for the tmpfs; `before` (if not empty) is copied there
// as results.csv before the disk is filled. What the run left on the disk is listed in
// <repo>/disk.txt (and results.csv copied to <repo>/disk-results.csv) before the mount goes.
class FullDisk : public BadInput {
protected:
    FullDisk() {
        m_repo.write("abtool.toml", jsonl_config("w", "command = [\"cat\", \"data.jsonl\"]"));
        m_repo.write(".gitignore", "results.csv\ndisk.txt\ndisk-results.csv\n");
        m_repo.commit("v1");
    }

    bool can_mount() const { return shell("unshare -rm true").status == 0; }

    ShellResult run_on_full_disk(const std::string& args, const std::string& before = "") const {
        const std::filesystem::path disk = m_dir / "disk";
        std::filesystem::create_directories(disk);
        const std::filesystem::path seed = m_dir / "before.csv";
        if (!before.empty()) {
            write_file(seed, before);
        }
        std::string with_disk = args;
        for (std::size_t at = with_disk.find("{disk}"); at != std::string::npos;
             at = with_disk.find("{disk}", at)) {
            with_disk.replace(at, 6, disk.string());
        }
        const std::string script =
            "mount -t tmpfs -o size=64k tmpfs \"$0\" || exit 99; " +
            std::string(before.empty() ? "" : "cp \"$2\" \"$0/results.csv\"; ") +
            "cat /dev/zero > \"$0/fill\" 2>/dev/null; rm -f \"$0/fill.keep\"; cd \"$1\" && "
            "CI=true \"$3\" " +
            with_disk +
            "; code=$?; ls -A \"$0\" > disk.txt; "
            "[ -f \"$0/results.csv\" ] && cp \"$0/results.csv\" disk-results.csv; exit $code";
        return shell("unshare -rm sh -c " + quote(script) + " " + quote(disk.string()) + " " +
                     quote(m_repo.root().string()) + " " + quote(seed.string()) + " " +
                     quote(ABTOOL_BINARY));
    }

    std::string disk_listing() const { return read_file(m_repo.root() / "disk.txt"); }
};

TEST_F(FullDisk, NewResultsFile_VerdictFirst_Exit3_NoEmptyFileLeft) {
    if (!can_mount()) {
        GTEST_SKIP() << "unshare -rm is not allowed here: no private tmpfs to fill";
    }
    const ShellResult result =
        run_on_full_disk("--ref-a HEAD --ref-b CURRENT --results {disk}/results.csv");
    EXPECT_EQ(result.status, 3) << result.output;
    const std::size_t verdict = result.output.find("gate passed: 0 regressed");
    const std::size_t error = result.output.find("/results.csv: write: No space left on device; "
                                                 "nothing appended, the new file removed");
    EXPECT_NE(verdict, std::string::npos) << result.output;
    EXPECT_NE(error, std::string::npos) << result.output;
    EXPECT_LT(verdict, error) << "the verdict comes before the failed append\n" << result.output;
    EXPECT_EQ(disk_listing(), "fill\n") << "a 0-byte results.csv was left\n" << result.output;
}

TEST_F(FullDisk, ExistingResultsFile_IsLeftByteForByte_Exit3) {
    if (!can_mount()) {
        GTEST_SKIP() << "unshare -rm is not allowed here: no private tmpfs to fill";
    }
    // tmpfs stores whole pages: a row shorter than the slack in the file's last page would still
    // fit on a "full" disk. A 5,000-byte case name makes every row longer than a page.
    m_repo.write("data.jsonl",
                 "{\"case\":\"" + std::string(5000, 'c') + "\",\"metric\":\"ns\",\"value\":5}\n");
    m_repo.commit("a case name longer than a page");
    const ShellResult first = abtool("--ref-a HEAD --ref-b CURRENT");
    ASSERT_EQ(first.status, 0) << first.output;
    const std::string before = read_file(m_repo.root() / "results.csv");
    const ShellResult result =
        run_on_full_disk("--ref-a HEAD --ref-b CURRENT --results {disk}/results.csv", before);
    EXPECT_EQ(result.status, 3) << result.output;
    EXPECT_NE(result.output.find("No space left on device; nothing appended"), std::string::npos)
        << result.output;
    EXPECT_EQ(read_file(m_repo.root() / "disk-results.csv"), before);
}

TEST_F(FullDisk, Reports_NameTheReason_LeaveNoEmptyFile_Exit3) {
    if (!can_mount()) {
        GTEST_SKIP() << "unshare -rm is not allowed here: no private tmpfs to fill";
    }
    for (const char* flag : {"--json", "--markdown", "--html"}) {
        SCOPED_TRACE(flag);
        const ShellResult result = run_on_full_disk(std::string("--ref-a HEAD --ref-b CURRENT ") +
                                                    flag + " {disk}/report.out");
        EXPECT_EQ(result.status, 3) << result.output;
        EXPECT_NE(result.output.find("/report.out: write: No space left on device"),
                  std::string::npos)
            << result.output;
        EXPECT_EQ(disk_listing(), "fill\n") << "an empty or temporary report was left";
    }
}

} // namespace
} // namespace abtool::testing
