// worktrees on real temporary repositories: every ref form, CURRENT against git's own tree of the
// same files, the user's state untouched, reuse, concurrency, an interrupted checkout, and gc.
#include "abtool/error.hpp"
#include "abtool/worktrees.hpp"
#include "tests/support/shell.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_repo.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <map>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace abtool::worktrees {
namespace {

using abtool::testing::must;
using abtool::testing::quote;
using abtool::testing::read_file;
using abtool::testing::TempDir;
using abtool::testing::TestRepo;

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.pop_back();
    }
    return text;
}

class Worktrees : public ::testing::Test {
protected:
    Worktrees() : m_repo(m_dir / "repo") {
        m_repo.write(".gitignore", "*.log\n");
        m_repo.write("a.txt", "one\n");
        m_repo.write("src/b.txt", "two\n");
        m_first = m_repo.commit("first");
        m_repo.tag("v1");
        m_repo.write("a.txt", "one, changed\n");
        m_second = m_repo.commit("second");
        m_repo.git("branch dev " + m_first);
        m_repo.git("update-ref refs/remotes/origin/feature " + m_first);
    }

    // The tree git itself would record for the working tree as it is: everything added in a
    // copy of the repository (never in the user's).
    std::string git_tree_of_working_tree() {
        const auto copy = m_dir / "copy";
        must("rm -rf " + quote(copy.string()) + " && cp -a " + quote(m_repo.root().string()) + " " +
             quote(copy.string()));
        return trimmed(must("cd " + quote(copy.string()) +
                            " && rm -rf .abtool && git add -A && git write-tree"));
    }

    // Adds `library` as the submodule deps/library of the test repository and commits that.
    void add_library_submodule(const TestRepo& library, const std::string& message) {
        // Local paths as submodule URLs need file transport allowed (git 2.38.1 turned it off).
        m_repo.git("-c protocol.file.allow=always submodule add -q " +
                   quote(library.root().string()) + " deps/library");
        m_repo.commit(message);
    }

    // Every file of the working tree but .git and .abtool, with its contents and mtime.
    std::map<std::string, std::pair<std::string, std::filesystem::file_time_type>> user_files() {
        std::map<std::string, std::pair<std::string, std::filesystem::file_time_type>> files;
        const auto& root = m_repo.root();
        for (auto it = std::filesystem::recursive_directory_iterator(root);
             it != std::filesystem::recursive_directory_iterator(); ++it) {
            const std::string name = it->path().filename().string();
            if (it->is_directory() && (name == ".git" || name == ".abtool")) {
                it.disable_recursion_pending();
                continue;
            }
            if (it->is_regular_file()) {
                files[it->path().lexically_relative(root).string()] = {
                    read_file(it->path()), std::filesystem::last_write_time(it->path())};
            }
        }
        return files;
    }

    TempDir m_dir;
    TestRepo m_repo;
    std::string m_first, m_second;
};

TEST_F(Worktrees, ResolvesEveryRefForm) {
    Repository repo = Repository::open(m_repo.root());
    const std::string first_tree = trimmed(m_repo.git("rev-parse " + m_first + "^{tree}"));
    for (const std::string& ref : std::vector<std::string>{
             "dev", "v1", m_first, m_first.substr(0, 8), "HEAD~1", "origin/feature"}) {
        const ResolvedRef resolved = repo.resolve(ref);
        EXPECT_EQ(resolved.commit, m_first) << ref;
        EXPECT_EQ(resolved.content_id, first_tree) << ref;
        EXPECT_EQ(resolved.kind, RefKind::commit);
        EXPECT_EQ(resolved.name, ref);
    }
    EXPECT_EQ(repo.resolve("main").commit, m_second);
}

TEST_F(Worktrees, UnknownRef_IsAUsageErrorWithCloseNames) {
    Repository repo = Repository::open(m_repo.root());
    try {
        repo.resolve("mian");
        FAIL() << "no error";
    } catch (const Error& error) {
        EXPECT_EQ(error.kind(), ErrorKind::usage);
        EXPECT_NE(std::string(error.what()).find("'mian'"), std::string::npos);
        EXPECT_NE(error.hint().find("main"), std::string::npos) << error.hint();
    }
    EXPECT_THROW(repo.resolve("--upload-pack=evil"), Error);
}

TEST_F(Worktrees, NotARepository_IsAUsageError) {
    const auto plain = m_dir / "plain";
    std::filesystem::create_directories(plain);
    if (abtool::testing::shell("git -C " + quote(plain.string()) + " rev-parse --git-dir").status ==
        0) {
        GTEST_SKIP() << "the temporary directory sits inside a git repository on this machine";
    }
    try {
        Repository::open(plain);
        FAIL() << "a plain directory opened as a repository";
    } catch (const Error& error) {
        EXPECT_EQ(error.kind(), ErrorKind::usage);
        EXPECT_NE(std::string(error.what()).find(plain.string()), std::string::npos)
            << error.what();
        EXPECT_NE(error.hint().find("inside the git repository"), std::string::npos)
            << error.hint();
    }
    must("git init -q --bare " + quote((m_dir / "bare.git").string()));
    try {
        Repository::open(m_dir / "bare.git");
        FAIL() << "a bare repository opened";
    } catch (const Error& error) {
        EXPECT_EQ(error.kind(), ErrorKind::usage);
        EXPECT_NE(std::string(error.what()).find("bare"), std::string::npos) << error.what();
    }
}

TEST_F(Worktrees, Current_MatchesGitsTreeOfStagedUnstagedUntrackedAndDeleted_IgnoredLeftOut) {
    m_repo.write("a.txt", "unstaged edit\n");
    m_repo.write("staged.txt", "staged\n");
    m_repo.git("add staged.txt");
    m_repo.write("untracked.txt", "new\n");
    m_repo.write("build.log", "ignored\n");
    std::filesystem::remove(m_repo.root() / "src" / "b.txt");
    Repository repo = Repository::open(m_repo.root());
    const ResolvedRef current = repo.resolve("CURRENT");
    EXPECT_EQ(current.kind, RefKind::snapshot);
    EXPECT_EQ(current.commit, m_second);
    EXPECT_EQ(current.content_id, git_tree_of_working_tree());
    const std::string listing = m_repo.git("ls-tree -r --name-only " + current.content_id);
    EXPECT_NE(listing.find("untracked.txt"), std::string::npos);
    EXPECT_NE(listing.find("staged.txt"), std::string::npos);
    EXPECT_EQ(listing.find("build.log"), std::string::npos);
    EXPECT_EQ(listing.find("src/b.txt"), std::string::npos);
}

TEST_F(Worktrees, Current_LeavesHeadIndexStashFilesAndMtimesAlone) {
    m_repo.write("a.txt", "unstaged edit\n");
    m_repo.write("staged.txt", "staged\n");
    m_repo.git("add staged.txt");
    m_repo.write("untracked.txt", "new\n");
    m_repo.write("build.log", "ignored\n");
    std::filesystem::remove(m_repo.root() / "src" / "b.txt");
    const std::string head = m_repo.git("rev-parse HEAD");
    const std::string index = read_file(m_repo.root() / ".git" / "index");
    const std::string status = m_repo.git("status --porcelain");
    const auto before = user_files();
    {
        Repository repo = Repository::open(m_repo.root());
        repo.resolve("CURRENT");
        Worktree worktree = provision(repo, repo.resolve("CURRENT"));
        EXPECT_EQ(read_file(worktree.path() / "a.txt"), "unstaged edit\n");
        EXPECT_EQ(read_file(worktree.path() / "untracked.txt"), "new\n");
    }
    EXPECT_EQ(m_repo.git("rev-parse HEAD"), head);
    EXPECT_EQ(read_file(m_repo.root() / ".git" / "index"), index);
    EXPECT_EQ(m_repo.git("status --porcelain"), status);
    EXPECT_EQ(m_repo.git("stash list"), "");
    // Every file of the user's (tracked, untracked and ignored): same contents, same mtimes.
    EXPECT_EQ(user_files(), before);
    EXPECT_EQ(before.size(), 5u); // .gitignore, a.txt, staged.txt, untracked.txt, build.log
}

TEST_F(Worktrees, Current_FromASubdirectoryAndFromALinkedWorktree) {
    m_repo.write("src/b.txt", "edited from the top\n");
    Repository from_subdir = Repository::open(m_repo.root() / "src");
    const ResolvedRef current = from_subdir.resolve("CURRENT");
    EXPECT_EQ(current.content_id, git_tree_of_working_tree());
    {
        Worktree worktree = provision(from_subdir, current);
        EXPECT_EQ(read_file(worktree.path() / "src" / "b.txt"), "edited from the top\n");
    }
    // A linked worktree of the user's has its own HEAD and index: CURRENT is that tree's state,
    // and the main tree's edits are not in it.
    const auto linked = m_dir / "linked";
    m_repo.git("worktree add -q " + quote(linked.string()) + " dev");
    abtool::testing::write_file(linked / "a.txt", "edited in the linked tree\n");
    abtool::testing::write_file(linked / "new.txt", "untracked there\n");
    const std::string linked_index =
        read_file(std::filesystem::path(trimmed(
                      must("git -C " + quote(linked.string()) + " rev-parse --absolute-git-dir"))) /
                  "index");
    Repository from_linked = Repository::open(linked);
    const ResolvedRef linked_current = from_linked.resolve("CURRENT");
    EXPECT_EQ(linked_current.commit, m_first);
    Worktree worktree = provision(from_linked, linked_current);
    EXPECT_EQ(read_file(worktree.path() / "a.txt"), "edited in the linked tree\n");
    EXPECT_EQ(read_file(worktree.path() / "new.txt"), "untracked there\n");
    EXPECT_EQ(read_file(worktree.path() / "src" / "b.txt"), "two\n");
    EXPECT_EQ(read_file(std::filesystem::path(trimmed(must("git -C " + quote(linked.string()) +
                                                           " rev-parse --absolute-git-dir"))) /
                        "index"),
              linked_index);
    EXPECT_EQ(trimmed(must("git -C " + quote(linked.string()) + " status --porcelain")),
              " M a.txt\n?? new.txt");
}

TEST_F(Worktrees, Current_KeepsListedFilesAsInHead) {
    // abtool's outputs: an untracked results.csv and a tracked report, both rewritten by a run.
    m_repo.write("report.md", "committed report\n");
    m_repo.commit("a report in the repository");
    m_repo.write("a.txt", "user's edit\n");
    Repository repo = Repository::open(m_repo.root());
    const std::vector<std::filesystem::path> outputs{m_repo.root() / "results.csv",
                                                     m_repo.root() / "src" / ".." / "report.md",
                                                     m_dir / "outside.csv"};
    const ResolvedRef before = repo.resolve("CURRENT", outputs);
    m_repo.write("results.csv", "run_id,...\n1,...\n");
    m_repo.write("report.md", "report of run 1\n");
    const ResolvedRef after = repo.resolve("CURRENT", outputs);
    EXPECT_EQ(after.content_id, before.content_id);
    const std::string listing = m_repo.git("ls-tree -r --name-only " + after.content_id);
    EXPECT_EQ(listing.find("results.csv"), std::string::npos) << listing;
    EXPECT_EQ(trimmed(m_repo.git("show " + after.content_id + ":report.md")), "committed report");
    EXPECT_EQ(trimmed(m_repo.git("show " + after.content_id + ":a.txt")), "user's edit");
    // Without the list both files are part of CURRENT, as any other file is.
    const ResolvedRef plain = repo.resolve("CURRENT");
    EXPECT_NE(plain.content_id, before.content_id);
    EXPECT_EQ(plain.content_id, git_tree_of_working_tree());
    // A path relative to the working directory is taken from there.
    const auto cwd = std::filesystem::current_path();
    std::filesystem::current_path(m_repo.root() / "src");
    const ResolvedRef relative = repo.resolve("CURRENT", {"../results.csv", "../report.md"});
    std::filesystem::current_path(cwd);
    EXPECT_EQ(relative.content_id, before.content_id);
    // A deleted tracked output is still HEAD's version; the user's index is untouched.
    const std::string index = read_file(m_repo.root() / ".git" / "index");
    std::filesystem::remove(m_repo.root() / "report.md");
    EXPECT_EQ(repo.resolve("CURRENT", outputs).content_id, before.content_id);
    EXPECT_EQ(read_file(m_repo.root() / ".git" / "index"), index);
}

TEST_F(Worktrees, Current_WithUnresolvedConflicts_IsAUsageErrorNamingAPath) {
    m_repo.git("checkout -q -b other " + m_first);
    m_repo.write("a.txt", "their line\n");
    m_repo.commit("other side");
    m_repo.git("checkout -q main");
    EXPECT_NE(abtool::testing::shell("git -C " + quote(m_repo.root().string()) + " merge -q other")
                  .status,
              0);
    Repository repo = Repository::open(m_repo.root());
    try {
        repo.resolve("CURRENT");
        FAIL() << "no error";
    } catch (const Error& error) {
        EXPECT_EQ(error.kind(), ErrorKind::usage);
        EXPECT_NE(std::string(error.what()).find("unresolved conflicts"), std::string::npos)
            << error.what();
        EXPECT_NE(std::string(error.what()).find("a.txt"), std::string::npos) << error.what();
        EXPECT_NE(error.hint().find("resolve"), std::string::npos) << error.hint();
        EXPECT_NE(error.hint().find("commit ref"), std::string::npos) << error.hint();
    }
    // Resolved and added, it snapshots again.
    m_repo.write("a.txt", "merged\n");
    m_repo.git("add a.txt");
    EXPECT_EQ(trimmed(m_repo.git("show " + repo.resolve("CURRENT").content_id + ":a.txt")),
              "merged");
}

TEST_F(Worktrees, ShallowClone_MissingHistoryGetsTheFetchDepthHint) {
    m_repo.write("c.txt", "three\n");
    m_repo.commit("third");
    const auto clone = m_dir / "shallow";
    must("git clone -q --depth 1 " + quote("file://" + m_repo.root().string()) + " " +
         quote(clone.string()));
    Repository repo = Repository::open(clone);
    EXPECT_EQ(repo.resolve("HEAD").commit, trimmed(m_repo.git("rev-parse HEAD")));
    try {
        repo.resolve("main~1");
        FAIL() << "main~1 resolved in a clone of depth 1";
    } catch (const Error& error) {
        EXPECT_EQ(error.kind(), ErrorKind::usage);
        EXPECT_NE(std::string(error.what()).find("'main~1'"), std::string::npos) << error.what();
        EXPECT_NE(error.hint().find("shallow clone"), std::string::npos) << error.hint();
        EXPECT_NE(error.hint().find("fetch-depth: 0"), std::string::npos) << error.hint();
        // The close name comes second, after the reason that actually applies.
        EXPECT_LT(error.hint().find("fetch-depth"), error.hint().find("did you mean"))
            << error.hint();
    }
}

TEST_F(Worktrees, Current_SameContentSameId_EditGivesNewId) {
    Repository repo = Repository::open(m_repo.root());
    m_repo.write("a.txt", "edit\n");
    const std::string first = repo.resolve("CURRENT").content_id;
    EXPECT_EQ(repo.resolve("CURRENT").content_id, first);
    m_repo.write("a.txt", "another edit\n");
    EXPECT_NE(repo.resolve("CURRENT").content_id, first);
}

TEST_F(Worktrees, Provision_ChecksOutOnce_ThenReuses_EqualPathLengths) {
    Repository repo = Repository::open(m_repo.root());
    std::filesystem::path first_path;
    {
        Worktree first = provision(repo, repo.resolve("v1"));
        EXPECT_TRUE(first.checked_out_now());
        EXPECT_EQ(read_file(first.path() / "a.txt"), "one\n");
        EXPECT_EQ(read_file(first.path() / "src" / "b.txt"), "two\n");
        first_path = first.path();
    }
    Worktree again = provision(repo, repo.resolve("dev"));
    EXPECT_FALSE(again.checked_out_now());
    EXPECT_EQ(again.path(), first_path);
    Worktree other = provision(repo, repo.resolve("main"));
    Worktree secondary = provision(repo, repo.resolve("main"), Slot::secondary);
    EXPECT_NE(other.path(), secondary.path());
    EXPECT_EQ(other.path().string().size(), again.path().string().size());
    EXPECT_EQ(other.path().string().size(), secondary.path().string().size());
    EXPECT_NE(read_file(m_repo.root() / ".git" / "info" / "exclude").find("/.abtool/"),
              std::string::npos);
    EXPECT_EQ(m_repo.git("status --porcelain"), "");
}

TEST_F(Worktrees, WorksFromASubdirectoryAndFromALinkedWorktree) {
    Repository from_subdir = Repository::open(m_repo.root() / "src");
    EXPECT_EQ(from_subdir.root(), m_repo.root());
    EXPECT_EQ(from_subdir.resolve("HEAD~1").commit, m_first);
    const auto linked = m_dir / "linked";
    m_repo.git("worktree add -q " + quote(linked.string()) + " dev");
    Repository from_linked = Repository::open(linked);
    EXPECT_EQ(from_linked.root(), std::filesystem::canonical(linked));
    EXPECT_EQ(from_linked.resolve("HEAD").commit, m_first);
    Worktree worktree = provision(from_linked, from_linked.resolve("main"));
    EXPECT_EQ(read_file(worktree.path() / "a.txt"), "one, changed\n");
}

TEST_F(Worktrees, TwoProcessesProvisioningTheSameRef_OneChecksOut_BothGetAGoodCheckout) {
    for (int i = 0; i < 200; ++i) {
        m_repo.write("many/file" + std::to_string(i) + ".txt", std::string(2000, 'x'));
    }
    m_repo.commit("many files");
    constexpr int k_reused = 10;
    constexpr int k_checked_out = 11;
    std::vector<pid_t> children;
    for (int i = 0; i < 2; ++i) {
        const pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            try {
                Repository repo = Repository::open(m_repo.root());
                Worktree worktree = provision(repo, repo.resolve("main"));
                const bool good =
                    read_file(worktree.path() / "many" / "file199.txt") == std::string(2000, 'x');
                _exit(!good ? 1 : worktree.checked_out_now() ? k_checked_out : k_reused);
            } catch (...) {
                _exit(2);
            }
        }
        children.push_back(pid);
    }
    std::vector<int> outcomes;
    for (pid_t pid : children) {
        int status = 0;
        waitpid(pid, &status, 0);
        ASSERT_TRUE(WIFEXITED(status)) << status;
        outcomes.push_back(WEXITSTATUS(status));
    }
    std::sort(outcomes.begin(), outcomes.end());
    EXPECT_EQ(outcomes, (std::vector<int>{k_reused, k_checked_out}));
}

TEST_F(Worktrees, GcOfEverythingRacingProvisioning_NeverRemovesACheckoutInUse) {
    for (int i = 0; i < 50; ++i) {
        m_repo.write("many/file" + std::to_string(i) + ".txt", std::to_string(i));
    }
    m_repo.commit("many files");
    const auto stop = m_dir / "stop";
    const auto started = m_dir / "started";
    const pid_t collector = fork();
    ASSERT_GE(collector, 0);
    if (collector == 0) {
        // A second process running `gc --older-than 0s` over and over (bounded, in case the
        // parent dies before it says stop).
        try {
            Repository repo = Repository::open(m_repo.root());
            for (int i = 0; i < 200000 && !std::filesystem::exists(stop); ++i) {
                gc(repo, {std::chrono::seconds(0), DryRun::no});
                if (i == 0) {
                    abtool::testing::write_file(started, "");
                }
            }
            _exit(0);
        } catch (...) {
            _exit(2);
        }
    }
    // Tells the collector to stop however this test ends (a failed provision throws).
    struct StopCollector {
        std::filesystem::path file;
        ~StopCollector() { abtool::testing::write_file(file, ""); }
    } stop_collector{stop};
    int status = 0;
    bool reaped = false;
    while (!std::filesystem::exists(started) && !reaped) {
        reaped = waitpid(collector, &status, WNOHANG) == collector;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    Repository repo = Repository::open(m_repo.root());
    const std::vector<ResolvedRef> refs{repo.resolve("main"), repo.resolve("v1")};
    // At least 60 rounds, and on until the collector has removed released checkouts a few times
    // (it runs unsynchronized, so how often it gets in varies; bounded all the same).
    int checked_out = 0;
    for (int i = 0; i < 2000 && (i < 60 || checked_out < 5); ++i) {
        const ResolvedRef& ref = refs[static_cast<std::size_t>(i) % refs.size()];
        Worktree worktree = provision(repo, ref);
        checked_out += worktree.checked_out_now() ? 1 : 0;
        // Held: the files and the completion marker stay, whatever the collector does.
        const std::string expected = ref.name == "main" ? "one, changed\n" : "one\n";
        EXPECT_EQ(read_file(worktree.path() / "a.txt"), expected) << "iteration " << i;
        EXPECT_EQ(read_file(worktree.path() / "src" / "b.txt"), "two\n") << "iteration " << i;
        if (ref.name == "main") {
            EXPECT_EQ(read_file(worktree.path() / "many" / "file49.txt"), "49") << i;
        }
        EXPECT_TRUE(std::filesystem::exists(worktree.meta_dir() / "complete")) << i;
        if (HasFailure()) {
            break; // (and still stop the collector)
        }
    }
    abtool::testing::write_file(stop, "");
    if (!reaped) {
        waitpid(collector, &status, 0);
    }
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    // The collector did remove released checkouts, so the race was exercised.
    EXPECT_GE(checked_out, 5);
}

TEST_F(Worktrees, CheckoutKilledMidWay_IsRedoneByTheNextRun) {
    for (int i = 0; i < 2000; ++i) {
        m_repo.write("many/file" + std::to_string(i) + ".txt", std::to_string(i));
    }
    m_repo.commit("many files");
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        Repository repo = Repository::open(m_repo.root());
        provision(repo, repo.resolve("main"));
        _exit(0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    // Wherever the kill landed (before, during or after the checkout), the next run ends with a
    // complete, correct checkout.
    Repository repo = Repository::open(m_repo.root());
    Worktree worktree = provision(repo, repo.resolve("main"));
    for (int i : {0, 999, 1999}) {
        EXPECT_EQ(read_file(worktree.path() / "many" / ("file" + std::to_string(i) + ".txt")),
                  std::to_string(i));
    }
}

TEST_F(Worktrees, IncompleteCheckoutLeftBehind_IsNeverReused) {
    Repository repo = Repository::open(m_repo.root());
    const ResolvedRef ref = repo.resolve("v1");
    std::filesystem::path path;
    {
        Worktree worktree = provision(repo, ref);
        path = worktree.path();
    }
    // What a crash mid-checkout leaves: files, but no completion marker.
    std::filesystem::remove(repo.state_dir() / "meta" / path.filename() / "complete");
    std::filesystem::remove(path / "a.txt");
    Worktree again = provision(repo, ref);
    EXPECT_TRUE(again.checked_out_now());
    EXPECT_EQ(read_file(again.path() / "a.txt"), "one\n");
}

TEST_F(Worktrees, Submodules_AreCheckedOutAtTheCommitEachRefRecords) {
    TestRepo library(m_dir / "library");
    library.write("lib.txt", "library v1\n");
    library.write("nested/deep.txt", "deep\n");
    const std::string library_v1 = library.commit("library v1");
    add_library_submodule(library, "add the library at v1");
    m_repo.tag("with-v1");
    library.write("lib.txt", "library v2\n");
    library.commit("library v2");
    const auto sub = m_repo.root() / "deps" / "library";
    must("git -C " + quote(sub.string()) + " -c protocol.file.allow=always pull -q");
    m_repo.commit("move the library to v2");
    m_repo.tag("with-v2");

    Repository repo = Repository::open(m_repo.root());
    Worktree old_one = provision(repo, repo.resolve("with-v1"));
    Worktree new_one = provision(repo, repo.resolve("with-v2"));
    EXPECT_EQ(read_file(old_one.path() / "deps/library/lib.txt"), "library v1\n");
    EXPECT_EQ(read_file(old_one.path() / "deps/library/nested/deep.txt"), "deep\n");
    EXPECT_EQ(read_file(new_one.path() / "deps/library/lib.txt"), "library v2\n");
    EXPECT_EQ(read_file(old_one.path() / "a.txt"), "one, changed\n");
    // The user's submodule checkout stays where the user left it.
    EXPECT_EQ(read_file(sub / "lib.txt"), "library v2\n");
    EXPECT_NE(library_v1, trimmed(must("git -C " + quote(sub.string()) + " rev-parse HEAD")));
}

TEST_F(Worktrees, Current_WarnsWhenASubmodulesUncommittedChangesAreLeftOut) {
    TestRepo library(m_dir / "library");
    library.write("lib.txt", "library\n");
    library.commit("library");
    add_library_submodule(library, "add the library");
    Repository repo = Repository::open(m_repo.root());
    m_repo.write("a.txt", "an edit outside the submodule\n");
    EXPECT_TRUE(repo.resolve("CURRENT").warnings.empty());

    m_repo.write("deps/library/lib.txt", "edited inside the submodule\n");
    const ResolvedRef current = repo.resolve("CURRENT");
    ASSERT_EQ(current.warnings.size(), 1u);
    EXPECT_NE(current.warnings.front().find("submodule 'deps/library'"), std::string::npos)
        << current.warnings.front();
    EXPECT_NE(current.warnings.front().find("uncommitted changes"), std::string::npos)
        << current.warnings.front();
    // What the warning says is what happens: the checkout has the submodule's committed file.
    Worktree worktree = provision(repo, current);
    EXPECT_EQ(read_file(worktree.path() / "deps/library/lib.txt"), "library\n");
    EXPECT_EQ(read_file(worktree.path() / "a.txt"), "an edit outside the submodule\n");
    EXPECT_TRUE(repo.resolve("HEAD").warnings.empty());
}

TEST_F(Worktrees, UninitializedSubmodule_IsAClearErrorWithTheFix) {
    TestRepo library(m_dir / "library");
    library.write("lib.txt", "library\n");
    library.commit("library");
    add_library_submodule(library, "add the library");
    // A fresh clone has the gitlink but not the submodule's repository.
    const auto clone = m_dir / "clone";
    must("git clone -q " + quote(m_repo.root().string()) + " " + quote(clone.string()));
    Repository repo = Repository::open(clone);
    try {
        provision(repo, repo.resolve("HEAD"));
        FAIL() << "expected an error";
    } catch (const Error& error) {
        EXPECT_EQ(error.kind(), ErrorKind::git);
        EXPECT_NE(std::string(error.what()).find("submodule 'deps/library'"), std::string::npos)
            << error.what();
        EXPECT_NE(error.hint().find("git submodule update --init"), std::string::npos);
    }
    // Nothing half-made is taken for a good checkout next time.
    must("git -C " + quote(clone.string()) +
         " -c protocol.file.allow=always submodule update -q --init");
    Worktree good = provision(repo, repo.resolve("HEAD"));
    EXPECT_TRUE(good.checked_out_now());
    EXPECT_EQ(read_file(good.path() / "deps/library/lib.txt"), "library\n");
}

TEST_F(Worktrees, CheckoutFilters_ApplyWhereAttributesOrAutocrlfAskForThem) {
    // Without attributes or eol settings the export skips libgit2's filters (they cost a
    // realpath() per file); where a ref's .gitattributes or core.autocrlf asks for conversion,
    // the checkout must still be what git would write.
    m_repo.write("crlf/.gitattributes", "*.txt text eol=crlf\n");
    m_repo.write("crlf/line.txt", "one\ntwo\n");
    m_repo.write("plain/line.txt", "one\ntwo\n");
    m_repo.commit("an eol attribute in one folder");
    m_repo.tag("with-attributes");
    Repository repo = Repository::open(m_repo.root());
    {
        Worktree checkout = provision(repo, repo.resolve("with-attributes"));
        EXPECT_EQ(read_file(checkout.path() / "crlf/line.txt"), "one\r\ntwo\r\n");
        EXPECT_EQ(read_file(checkout.path() / "plain/line.txt"), "one\ntwo\n");
    }
    Worktree plain = provision(repo, repo.resolve("v1"));
    EXPECT_EQ(read_file(plain.path() / "a.txt"), "one\n");

    m_repo.git("config core.autocrlf true");
    m_repo.write("auto.txt", "three\nfour\n");
    m_repo.git("rm -q -r crlf");
    m_repo.commit("no attributes, but core.autocrlf=true");
    Repository reopened = Repository::open(m_repo.root());
    Worktree converted = provision(reopened, reopened.resolve("HEAD"));
    EXPECT_EQ(read_file(converted.path() / "auto.txt"), "three\r\nfour\r\n");
}

TEST_F(Worktrees, Gc_RemovesStale_KeepsInUseAndRecent) {
    Repository repo = Repository::open(m_repo.root());
    Worktree in_use = provision(repo, repo.resolve("v1"));
    std::filesystem::path stale;
    {
        Worktree released = provision(repo, repo.resolve("main"));
        stale = released.path();
    }
    const GcReport recent = gc(repo, {std::chrono::hours(24), DryRun::no});
    EXPECT_TRUE(recent.removed.empty());
    const GcReport dry = gc(repo, {std::chrono::seconds(0), DryRun::yes});
    ASSERT_EQ(dry.removed.size(), 1u);
    EXPECT_TRUE(std::filesystem::exists(stale));
    const GcReport real = gc(repo, {std::chrono::seconds(0), DryRun::no});
    ASSERT_EQ(real.removed.size(), 1u);
    EXPECT_EQ(real.removed.front(), stale);
    EXPECT_FALSE(std::filesystem::exists(stale));
    ASSERT_EQ(real.kept_in_use.size(), 1u);
    EXPECT_EQ(real.kept_in_use.front(), in_use.path());
    EXPECT_TRUE(std::filesystem::exists(in_use.path() / "a.txt"));
}

TEST_F(Worktrees, UnbornHead_CurrentIsAClearError) {
    TestRepo empty(m_dir / "empty");
    Repository repo = Repository::open(empty.root());
    try {
        repo.resolve("CURRENT");
        FAIL() << "no error";
    } catch (const Error& error) {
        EXPECT_EQ(error.kind(), ErrorKind::usage);
        EXPECT_NE(std::string(error.what()).find("no commit"), std::string::npos);
    }
}

} // namespace
} // namespace abtool::worktrees

namespace abtool::worktrees {
namespace {

// What an ssh target gets: each content as a parentless commit (the same content the same id,
// whatever the commit it came from), in a bundle git itself fetches; with `have`, only the objects
// the target lacks, and git refuses that bundle where the prerequisite is missing.
TEST(Bundles, TransferCommits_FetchedByGit_OnlyWhatTheTargetLacks) {
    TempDir dir;
    TestRepo user(dir.path() / "user");
    std::string big;
    for (int i = 0; i < 20000; ++i) {
        big += std::to_string(i * 2654435761u) + "\n"; // about 200 kB that compress poorly
    }
    user.write("big.txt", big);
    user.write("small.txt", "one\n");
    user.commit("first");
    user.write("small.txt", "two\n"); // CURRENT differs from HEAD in one small file
    Repository repo = Repository::open(user.root());
    const ResolvedRef head = repo.resolve("HEAD");
    const ResolvedRef current = repo.resolve("CURRENT");
    const std::string sent_head = repo.transfer_commit(head);
    EXPECT_EQ(repo.transfer_commit(repo.resolve("HEAD")), sent_head); // deterministic
    EXPECT_EQ(trimmed(must("git -C " + quote(user.root().string()) + " rev-parse " + sent_head +
                           "^{tree}")),
              head.content_id);
    const std::string sent_current = repo.transfer_commit(current);

    const std::filesystem::path whole = dir.path() / "whole.bundle";
    const std::filesystem::path rest = dir.path() / "rest.bundle";
    repo.write_bundle({{"refs/abtool/" + sent_head, sent_head}}, {}, whole);
    repo.write_bundle({{"refs/abtool/" + sent_current, sent_current}}, {sent_head}, rest);
    EXPECT_GT(std::filesystem::file_size(whole), 50000u);
    EXPECT_LT(std::filesystem::file_size(rest), 2000u); // big.txt stays out

    const std::string target = quote((dir.path() / "target").string());
    must("git init -q " + target);
    // Without the prerequisite, git refuses the small bundle.
    EXPECT_NE(abtool::testing::shell("git -C " + target + " fetch -q " + quote(rest.string()) +
                                     " 'refs/abtool/*:refs/abtool/*'")
                  .status,
              0);
    must("git -C " + target + " fetch -q " + quote(whole.string()) +
         " 'refs/abtool/*:refs/abtool/*'");
    must("git -C " + target + " fetch -q " + quote(rest.string()) +
         " 'refs/abtool/*:refs/abtool/*'");
    EXPECT_EQ(
        trimmed(must("git -C " + target + " show refs/abtool/" + sent_current + ":small.txt")),
        "two");
    EXPECT_EQ(
        trimmed(must("git -C " + target + " rev-parse refs/abtool/" + sent_current + "^{tree}")),
        current.content_id);
    must("git -C " + target + " fsck --no-dangling");
}

} // namespace
} // namespace abtool::worktrees
