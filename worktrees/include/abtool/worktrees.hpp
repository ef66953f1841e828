// worktrees: turns refs into private, reusable checkouts with libgit2, without touching the
// user's HEAD, index, stash or files. Resolves refs (CURRENT = the working tree as it is now),
// provisions one checkout per content under <repo>/.abtool/, locks it while in use, and prunes
// old ones. It spawns no process and knows nothing about benchmarks.
// A checkout is a plain export of the tree (no .git, no branch or worktree entry in the user's
// repository), because libgit2 1.5's git_worktree_add needs a throwaway branch per checkout that
// a crash could leave behind: worktree_cache.cpp says more.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace abtool::worktrees {

// The pseudo-ref for the working tree with its uncommitted and untracked-not-ignored changes.
inline constexpr std::string_view k_current_ref = "CURRENT";

enum class RefKind { commit, snapshot };

struct ResolvedRef {
    std::string name;   // as the user wrote it ("dev", "HEAD~3", "CURRENT")
    std::string commit; // full hex id of the commit (HEAD's commit for CURRENT)
    std::string
        content_id; // full hex id of the tree checked out: the commit's tree or the snapshot
    RefKind kind = RefKind::commit;
    // CURRENT only: what the snapshot leaves out that the user may expect in it (a submodule
    // with uncommitted changes: the snapshot records the submodule's HEAD commit, as `git add`
    // would). Callers show them; they do not stop the run.
    std::vector<std::string> warnings;
};

// A commit as `abtool bisect` lists it.
struct CommitInfo {
    std::string commit;  // full hex id
    std::string subject; // the message's first line
    std::string author;  // the author's name
    std::string date;    // the author date in its own zone: "2026-11-30 14:02:11 +0100"
};

class Repository {
public:
    // Opens the repository that contains `path` (the top, a subdirectory, or a linked worktree
    // of the user's). Throws Error(usage) naming the path when there is none.
    static Repository open(const std::filesystem::path& path);

    Repository(Repository&&) noexcept;
    Repository& operator=(Repository&&) noexcept;
    ~Repository();

    // Top of the user's working tree.
    const std::filesystem::path& root() const;
    // <root>/.abtool: created, and listed in .git/info/exclude, on first use.
    std::filesystem::path state_dir() const;

    // Resolves anything `git rev-parse` accepts, or CURRENT (snapshotted into the object
    // database without touching the user's index or files; an unchanged working tree gives the
    // same content_id again). Throws Error(usage) naming the ref, with close names as a hint (and
    // the fetch-depth hint in a shallow clone), or, for CURRENT, naming a conflicted path when
    // the index has unresolved conflicts.
    //
    // `keep_as_in_head` lists files CURRENT takes as HEAD has them, whatever the working tree
    // holds: HEAD's version where HEAD tracks the file, otherwise the file is left out. abtool
    // passes its own outputs that live inside the repository (results.csv, --json, --markdown,
    // --html, --export files): without this, the results.csv appended by one run would make the
    // next run's CURRENT a new content, checked out and built again. Paths are absolute or
    // relative to the process's working directory; those outside the repository are ignored, and
    // so is the list for any ref other than CURRENT.
    ResolvedRef resolve(std::string_view ref,
                        const std::vector<std::filesystem::path>& keep_as_in_head = {});

    // `git rev-list --first-parent --reverse good..bad`: the commits on bad's first-parent chain
    // that good does not reach, oldest first, bad last; a merge in the range is one step (its
    // side branch is not walked). Both are full commit ids. Throws Error(usage) naming both when
    // good is not an ancestor of bad, or is bad.
    std::vector<CommitInfo> first_parent_range(const std::string& good, const std::string& bad);
    // Throws Error(git) when `commit` is not a commit of this repository.
    CommitInfo commit_info(const std::string& commit);

    // What an ssh target gets (bundle.cpp): `ref`'s content (its tree) as a parentless commit
    // with a fixed author and date, written to the object database (not to any ref), so that
    // the same content always gives the same id and no history travels.
    std::string transfer_commit(const ResolvedRef& ref);
    struct BundleRef {
        std::string name;   // refs/abtool/<commit>
        std::string commit; // a transfer_commit
    };
    // A git bundle (v2) at `file` holding `refs` and every object they reach but those the
    // commits of `have` reach (the target has them: they are the bundle's prerequisites; those
    // not in this repository are ignored), for `git fetch` on the target. Throws Error(io) or
    // Error(storage) naming the file.
    void write_bundle(const std::vector<BundleRef>& refs, const std::vector<std::string>& have,
                      const std::filesystem::path& file);

    struct Impl;
    Impl& impl() { return *m_impl; }

private:
    explicit Repository(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

// calibrate compares a content with itself, which needs two separate checkouts of it.
enum class Slot { primary, secondary };

// A provisioned checkout, held in use (a shared lock) for the lifetime of this object so that
// gc and other abtool processes leave it alone. Paths of all worktrees have equal length.
class Worktree {
public:
    Worktree(Worktree&&) noexcept;
    Worktree& operator=(Worktree&&) noexcept;
    ~Worktree();

    const std::filesystem::path& path() const;
    // A directory beside the checkout for data other stages attach to it (build stamps);
    // removed together with the checkout by gc.
    const std::filesystem::path& meta_dir() const;
    const ResolvedRef& ref() const;
    // False when an existing good checkout was reused.
    bool checked_out_now() const;

    struct Impl;

private:
    friend Worktree provision(Repository&, const ResolvedRef&, Slot);
    explicit Worktree(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

// Checks `ref` out under <root>/.abtool/ or reuses the existing checkout of the same content,
// submodules included. Safe against a concurrent abtool on the same repository and against a
// checkout interrupted earlier. Throws Error(git) saying what it was doing.
Worktree provision(Repository& repo, const ResolvedRef& ref, Slot slot = Slot::primary);

enum class DryRun { no, yes };

struct GcOptions {
    std::chrono::seconds older_than{std::chrono::hours(24 * 14)};
    DryRun dry_run = DryRun::no;
};

struct GcReport {
    std::vector<std::filesystem::path> removed; // (or would be, with DryRun::yes)
    std::vector<std::filesystem::path> kept_in_use;
    std::vector<std::filesystem::path> kept_recent;
};

// Removes checkouts (and their meta dirs and git metadata) not used for `older_than`; never one
// that is in use.
GcReport gc(Repository& repo, const GcOptions& options);

} // namespace abtool::worktrees
