// Provisioning and pruning of checkouts under .abtool/.
//
// Layout: .abtool/wt/<content id>.<slot> holds the files, .abtool/meta/<content id>.<slot> the
// data attached to them (a `complete` marker written last, last-use time, build stamps) and
// .abtool/locks/<content id>.<slot>.lock their lock. Every path has the same length, so A and B
// see environments and argv of equal size.
//
// Why a plain export of the tree (git_checkout_tree with target_directory) and not
// git_worktree_add: libgit2 1.5's worktree_add cannot detach HEAD and needs a branch checked
// out nowhere else, so each checkout would cost a throwaway branch in the user's repository that
// a crash could leave behind. The cost: a checkout has no .git, so a build that runs
// `git describe` finds none (pass what it needs through [build] env). Nothing in the user's refs
// or branches ever changes.
#include "abtool/short_commit.hpp"
#include "worktrees/git.hpp"
#include "worktrees/lock.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string_view>
#include <utility>
#include <vector>

namespace abtool::worktrees {

struct Worktree::Impl {
    std::filesystem::path path;
    std::filesystem::path meta_dir;
    ResolvedRef ref;
    bool checked_out_now = false;
    FileLock lock; // held shared while in use
};

namespace {

std::string slot_name(const std::string& content_id, Slot slot) {
    return content_id + (slot == Slot::primary ? ".0" : ".1");
}

bool is_complete(const std::filesystem::path& meta_dir, const std::string& content_id) {
    std::ifstream in(meta_dir / "complete");
    std::string recorded;
    return in >> recorded && recorded == content_id;
}

void touch(const std::filesystem::path& file) {
    std::ofstream(file, std::ios::trunc) << "used\n";
}

using SubmodulePtr = GitPtr<git_submodule, git_submodule_free>;

// What export_tree needs to know of a tree before writing it: its gitlinks (submodule entries,
// path and recorded commit) and whether a .gitattributes file stands anywhere in it.
struct TreeFacts {
    std::vector<std::pair<std::string, git_oid>> gitlinks;
    bool has_gitattributes = false;
};

TreeFacts facts_of(git_tree* tree) {
    TreeFacts facts;
    git_tree_walk(
        tree, GIT_TREEWALK_PRE,
        [](const char* root, const git_tree_entry* entry, void* payload) {
            auto& found = *static_cast<TreeFacts*>(payload);
            if (git_tree_entry_type(entry) == GIT_OBJECT_COMMIT) {
                found.gitlinks.emplace_back(std::string(root) + git_tree_entry_name(entry),
                                            *git_tree_entry_id(entry));
            } else if (std::string_view(git_tree_entry_name(entry)) == ".gitattributes") {
                found.has_gitattributes = true;
            }
            return 0;
        },
        &facts);
    return facts;
}

// Whether checkout filters (end-of-line conversion, ident, filter drivers) could change any file
// of a tree without .gitattributes: only through attributes from outside the tree or the
// core.autocrlf/core.eol settings. When none applies, the export skips the filters, and with them
// a realpath() of every file's path in the user's working tree that libgit2 1.5 makes to look
// for attributes: that took 3 of the 4 s of a 5,000-file checkout (bench/worktrees_bench.sh).
bool filters_may_apply(git_repository* repo, bool tree_has_gitattributes) {
    if (tree_has_gitattributes ||
        std::filesystem::exists(std::filesystem::path(git_repository_commondir(repo)) / "info" /
                                "attributes")) {
        return true;
    }
    for (const char* variable : {"XDG_CONFIG_HOME", "HOME"}) {
        if (const char* dir = std::getenv(variable); dir != nullptr && *dir != '\0') {
            const std::filesystem::path base(dir);
            const auto file = std::string(variable) == "HOME" ? base / ".config/git/attributes"
                                                              : base / "git/attributes";
            if (std::filesystem::exists(file)) {
                return true;
            }
        }
    }
    git_config* raw_config = nullptr;
    if (git_repository_config_snapshot(&raw_config, repo) < 0) {
        return true;
    }
    const GitPtr<git_config, git_config_free> config(raw_config);
    const char* value = nullptr;
    if (git_config_get_string(&value, config.get(), "core.attributesfile") == 0 ||
        git_config_get_string(&value, config.get(), "core.eol") == 0) {
        return true;
    }
    // "input" converts only when adding, never on checkout; "true" converts on checkout.
    if (git_config_get_string(&value, config.get(), "core.autocrlf") == 0) {
        int enabled = 0;
        return std::string_view(value) != "input" &&
               (git_config_parse_bool(&enabled, value) < 0 || enabled != 0);
    }
    return false;
}

// Writes every file of `tree` into `path`, then each submodule at the commit the tree records
// (libgit2's checkout leaves gitlinks as empty directories: GIT_CHECKOUT_UPDATE_SUBMODULES is
// not implemented in 1.5). A submodule's objects come from its repository in the user's
// checkout (.git/modules/<name>), so it must have been initialized there.
void export_tree(git_repository* repo, git_tree* tree, const std::filesystem::path& path,
                 const std::string& doing) {
    // An empty baseline index: the export compares against nothing and writes every file, and
    // DONT_UPDATE_INDEX keeps the user's index out of it.
    git_index* raw_index = nullptr;
    check(git_index_new(&raw_index), doing);
    IndexPtr baseline(raw_index);
    git_checkout_options options = GIT_CHECKOUT_OPTIONS_INIT;
    options.checkout_strategy =
        GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DONT_UPDATE_INDEX | GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH;
    const std::string target = path.string();
    options.target_directory = target.c_str();
    options.baseline_index = baseline.get();
    const TreeFacts facts = facts_of(tree);
    options.disable_filters = filters_may_apply(repo, facts.has_gitattributes) ? 0 : 1;
    std::filesystem::create_directories(path);
    check(git_checkout_tree(repo, reinterpret_cast<git_object*>(tree), &options), doing);

    for (const auto& [link_path, commit_id] : facts.gitlinks) {
        const std::string sub_doing = fmt::format("{}: submodule '{}' at {}", doing, link_path,
                                                  short_commit(oid_hex(commit_id)));
        const std::string hint =
            "initialize it in your checkout first: git submodule update --init "
            "--recursive";
        git_submodule* raw_submodule = nullptr;
        if (git_submodule_lookup(&raw_submodule, repo, link_path.c_str()) < 0) {
            throw Error(ErrorKind::git, sub_doing + ": not configured (" + last_git_error() + ")",
                        hint);
        }
        SubmodulePtr submodule(raw_submodule);
        git_repository* raw_sub_repo = nullptr;
        if (git_submodule_open(&raw_sub_repo, submodule.get()) < 0) {
            throw Error(ErrorKind::git,
                        sub_doing + ": not initialized here (" + last_git_error() + ")", hint);
        }
        RepoPtr sub_repo(raw_sub_repo);
        git_commit* raw_commit = nullptr;
        if (git_commit_lookup(&raw_commit, sub_repo.get(), &commit_id) < 0) {
            throw Error(ErrorKind::git,
                        sub_doing + ": that commit is not in the submodule's repository (" +
                            last_git_error() + ")",
                        "fetch it: git submodule update --init --recursive");
        }
        CommitPtr commit(raw_commit);
        git_tree* raw_sub_tree = nullptr;
        check(git_commit_tree(&raw_sub_tree, commit.get()), sub_doing);
        TreePtr sub_tree(raw_sub_tree);
        export_tree(sub_repo.get(), sub_tree.get(), path / link_path, sub_doing);
    }
}

void check_out(git_repository* repo, const ResolvedRef& ref, const std::filesystem::path& path) {
    git_oid tree_id{};
    check(git_oid_fromstr(&tree_id, ref.content_id.c_str()), "bad tree id " + ref.content_id);
    git_tree* raw_tree = nullptr;
    const std::string doing = fmt::format("cannot check out '{}' ({}) into {}", ref.name,
                                          short_commit(ref.commit), path.string());
    check(git_tree_lookup(&raw_tree, repo, &tree_id), doing);
    TreePtr tree(raw_tree);
    export_tree(repo, tree.get(), path, doing);
}

} // namespace

Worktree::Worktree(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Worktree::Worktree(Worktree&&) noexcept = default;
Worktree& Worktree::operator=(Worktree&&) noexcept = default;
Worktree::~Worktree() {
    if (m_impl) {
        touch(m_impl->meta_dir / "last_used");
    }
}

const std::filesystem::path& Worktree::path() const {
    return m_impl->path;
}
const std::filesystem::path& Worktree::meta_dir() const {
    return m_impl->meta_dir;
}
const ResolvedRef& Worktree::ref() const {
    return m_impl->ref;
}
bool Worktree::checked_out_now() const {
    return m_impl->checked_out_now;
}

Worktree provision(Repository& repo, const ResolvedRef& ref, Slot slot) {
    const std::filesystem::path state = repo.state_dir();
    const std::string name = slot_name(ref.content_id, slot);
    const std::filesystem::path lock_file = state / "locks" / (name + ".lock");
    auto impl = std::make_unique<Worktree::Impl>();
    impl->path = state / "wt" / name;
    impl->meta_dir = state / "meta" / name;
    impl->ref = ref;

    // Shared holders only ever exist on complete checkouts, so a complete one is reused at once
    // (even while another abtool uses it), and only an incomplete one needs the exclusive lock.
    // Two things send the loop round again: the lock file was deleted by a gc while this process
    // waited on it (still_linked), and a gc that slipped into a lock conversion and removed the
    // checkout (flock converts by unlocking first). Each pass ends once no gc interferes.
    for (;;) {
        impl->lock = FileLock(lock_file);
        impl->lock.lock(LockMode::shared, Wait::yes);
        if (!impl->lock.still_linked()) {
            continue;
        }
        if (is_complete(impl->meta_dir, ref.content_id)) {
            touch(impl->meta_dir / "last_used");
            return Worktree(std::move(impl));
        }
        impl->lock.lock(LockMode::exclusive, Wait::yes);
        if (!impl->lock.still_linked()) {
            continue;
        }
        if (!is_complete(impl->meta_dir, ref.content_id)) {
            // Whatever is there is a checkout interrupted earlier: start over.
            std::filesystem::remove_all(impl->path);
            std::filesystem::remove_all(impl->meta_dir);
            std::filesystem::create_directories(impl->meta_dir);
            check_out(repo.impl().repo.get(), ref, impl->path);
            std::ofstream(impl->meta_dir / "complete", std::ios::trunc) << ref.content_id << '\n';
            impl->checked_out_now = true;
        }
        // Marked as used while still exclusive: a gc that gets in during the downgrade then
        // sees a fresh checkout, not one as old as the directory it replaced.
        touch(impl->meta_dir / "last_used");
        impl->lock.lock(LockMode::shared, Wait::yes);
        if (impl->lock.still_linked() && is_complete(impl->meta_dir, ref.content_id)) {
            return Worktree(std::move(impl));
        }
    }
}

GcReport gc(Repository& repo, const GcOptions& options) {
    GcReport report;
    const std::filesystem::path state = repo.state_dir();
    const std::filesystem::path checkouts = state / "wt";
    if (!std::filesystem::exists(checkouts)) {
        return report;
    }
    const auto now = std::filesystem::file_time_type::clock::now();
    std::vector<std::filesystem::path> entries;
    for (const auto& entry : std::filesystem::directory_iterator(checkouts)) {
        entries.push_back(entry.path());
    }
    std::sort(entries.begin(), entries.end());
    for (const std::filesystem::path& path : entries) {
        const std::string name = path.filename().string();
        const std::filesystem::path meta = state / "meta" / name;
        const std::filesystem::path lock_file = state / "locks" / (name + ".lock");
        // A lock file deleted under us by a concurrent gc counts as in use: that gc decides.
        FileLock lock(lock_file);
        if (!lock.lock(LockMode::exclusive, Wait::no) || !lock.still_linked()) {
            report.kept_in_use.push_back(path);
            continue;
        }
        std::error_code error;
        auto last_used = std::filesystem::last_write_time(meta / "last_used", error);
        if (error) {
            last_used = std::filesystem::last_write_time(path, error);
        }
        if (!error && now - last_used < options.older_than) {
            report.kept_recent.push_back(path);
            continue;
        }
        report.removed.push_back(path);
        if (options.dry_run == DryRun::no) {
            // Marker first: a gc killed half-way leaves an incomplete checkout, redone on use.
            std::filesystem::remove(meta / "complete", error);
            std::filesystem::remove_all(path, error);
            std::filesystem::remove_all(meta, error);
            // Safe while others wait on this file: they find it unlinked once they get the lock
            // (FileLock::still_linked) and start again on a new one.
            std::filesystem::remove(lock_file, error);
        }
    }
    return report;
}

} // namespace abtool::worktrees
