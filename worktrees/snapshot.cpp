#include "worktrees/git.hpp"

#include <fmt/format.h>

#include <set>
#include <vector>

namespace abtool::worktrees {

namespace {

// `keep` as paths relative to the top of the working tree, '/'-separated as the index has them;
// those outside the repository are dropped. The parent is made canonical, not the file itself,
// so a file that does not exist yet (a first run's results.csv) still maps to its place.
std::set<std::string> relative_to_root(const std::filesystem::path& root,
                                       const std::vector<std::filesystem::path>& keep) {
    std::set<std::string> relative;
    std::error_code error;
    const std::filesystem::path top = std::filesystem::weakly_canonical(root, error);
    if (error) {
        return relative;
    }
    for (const std::filesystem::path& path : keep) {
        const std::filesystem::path absolute = std::filesystem::absolute(path, error);
        if (error || !absolute.has_filename()) {
            continue;
        }
        const std::filesystem::path parent =
            std::filesystem::weakly_canonical(absolute.parent_path(), error);
        if (error) {
            continue;
        }
        const std::filesystem::path inside = (parent / absolute.filename()).lexically_relative(top);
        if (inside.empty() || *inside.begin() == ".." || inside == ".") {
            continue;
        }
        relative.insert(inside.generic_string());
    }
    return relative;
}

// Names one conflicted path of `index`, for the message.
std::string first_conflict(git_index* index) {
    git_index_conflict_iterator* raw = nullptr;
    if (git_index_conflict_iterator_new(&raw, index) < 0) {
        return {};
    }
    const GitPtr<git_index_conflict_iterator, git_index_conflict_iterator_free> iterator(raw);
    const git_index_entry* ancestor = nullptr;
    const git_index_entry* ours = nullptr;
    const git_index_entry* theirs = nullptr;
    if (git_index_conflict_next(&ancestor, &ours, &theirs, iterator.get()) < 0) {
        return {};
    }
    for (const git_index_entry* entry : {ours, theirs, ancestor}) {
        if (entry != nullptr && entry->path != nullptr) {
            return entry->path;
        }
    }
    return {};
}

// git_index_add_all / git_index_update_all callback: a positive return skips the path.
int skip_kept(const char* path, const char* /*matched_pathspec*/, void* payload) {
    const auto& kept = *static_cast<const std::set<std::string>*>(payload);
    return kept.count(path) != 0 ? 1 : 0;
}

// Puts each kept path into `index` as HEAD's tree has it, or takes it out.
void restore_from_head(git_index* index, git_tree* head_tree, const std::set<std::string>& kept) {
    for (const std::string& path : kept) {
        git_tree_entry* raw_entry = nullptr;
        if (git_tree_entry_bypath(&raw_entry, head_tree, path.c_str()) == 0) {
            const GitPtr<git_tree_entry, git_tree_entry_free> entry(raw_entry);
            if (git_tree_entry_type(entry.get()) == GIT_OBJECT_TREE) {
                continue; // a directory: abtool's outputs are files, so this is not one of them
            }
            git_index_entry replacement{};
            replacement.path = path.c_str();
            replacement.mode = static_cast<std::uint32_t>(git_tree_entry_filemode(entry.get()));
            replacement.id = *git_tree_entry_id(entry.get());
            check(git_index_add(index, &replacement),
                  fmt::format("cannot snapshot the working tree for CURRENT (keeping {} as in "
                              "HEAD)",
                              path));
        } else {
            git_index_remove(index, path.c_str(), 0); // not in the index either: nothing to do
        }
    }
}

// Submodules whose working tree differs from their HEAD commit: the snapshot records only that
// commit (libgit2's add_all, like `git add`, stages a submodule as its HEAD), so their edits are
// not in CURRENT's checkout.
std::vector<std::string> submodule_warnings(git_repository* repo) {
    std::vector<std::string> names;
    git_submodule_foreach(
        repo,
        [](git_submodule* submodule, const char* name, void* payload) {
            (void)submodule;
            static_cast<std::vector<std::string>*>(payload)->emplace_back(name);
            return 0;
        },
        &names);
    std::vector<std::string> warnings;
    for (const std::string& name : names) {
        unsigned int status = 0;
        if (git_submodule_status(&status, repo, name.c_str(), GIT_SUBMODULE_IGNORE_NONE) < 0) {
            continue;
        }
        const bool modified = (status & (GIT_SUBMODULE_STATUS_WD_INDEX_MODIFIED |
                                         GIT_SUBMODULE_STATUS_WD_WD_MODIFIED)) != 0;
        const bool untracked = (status & GIT_SUBMODULE_STATUS_WD_UNTRACKED) != 0;
        if (!modified && !untracked) {
            continue;
        }
        const char* what = modified && untracked ? "uncommitted changes and untracked files"
                           : modified            ? "uncommitted changes"
                                                 : "untracked files";
        warnings.push_back(fmt::format("CURRENT leaves out the {} in submodule '{}': it takes the "
                                       "submodule's HEAD commit (commit them there to include "
                                       "them)",
                                       what, name));
    }
    return warnings;
}

} // namespace

// CURRENT without touching the user's state: the repository's index is loaded into memory,
// every tracked, modified, deleted and untracked-not-ignored file is staged there, the tree is
// written to the object database, and the in-memory index is re-read from disk. The index file
// is never written (git_index_write is never called), nor HEAD, the stash or the files.
ResolvedRef snapshot_current(Repository::Impl& impl,
                             const std::vector<std::filesystem::path>& keep_as_in_head) {
    git_repository* repo = impl.repo.get();
    git_reference* head_raw = nullptr;
    const int head_code = git_repository_head(&head_raw, repo);
    if (head_code == GIT_EUNBORNBRANCH || head_code == GIT_ENOTFOUND) {
        throw Error(ErrorKind::usage, "CURRENT needs a commit to build on: the repository has no "
                                      "commit yet");
    }
    check(head_code, "cannot read HEAD for CURRENT");
    ReferencePtr head(head_raw);
    git_object* peeled = nullptr;
    check(git_reference_peel(&peeled, head.get(), GIT_OBJECT_COMMIT),
          "cannot find HEAD's commit for CURRENT");
    CommitPtr commit(reinterpret_cast<git_commit*>(peeled));
    git_tree* head_tree_raw = nullptr;
    check(git_commit_tree(&head_tree_raw, commit.get()), "cannot read HEAD's tree for CURRENT");
    TreePtr head_tree(head_tree_raw);

    git_index* index_raw = nullptr;
    check(git_repository_index(&index_raw, repo), "cannot read the index for CURRENT");
    IndexPtr index(index_raw);
    // The repository keeps its index object: pick up what git did to the file since (a no-op
    // when the file has not changed).
    check(git_index_read(index.get(), 0), "cannot read the index for CURRENT");
    if (git_index_has_conflicts(index.get()) != 0) {
        // A merge in progress: which side CURRENT should build is the user's call, not ours.
        const std::string path = first_conflict(index.get());
        throw Error(ErrorKind::usage,
                    path.empty()
                        ? std::string("CURRENT has unresolved conflicts")
                        : fmt::format("CURRENT has unresolved conflicts (e.g. '{}')", path),
                    "resolve them (and git add the files), or compare a commit ref instead");
    }
    std::set<std::string> kept = relative_to_root(impl.root, keep_as_in_head);
    const char* everything = "*";
    const git_strarray all{const_cast<char**>(&everything), 1};
    git_oid tree{};
    try {
        check(git_index_add_all(index.get(), &all, GIT_INDEX_ADD_DEFAULT, skip_kept, &kept),
              "cannot snapshot the working tree for CURRENT (adding files)");
        check(git_index_update_all(index.get(), &all, skip_kept, &kept),
              "cannot snapshot the working tree for CURRENT (removing deleted files)");
        restore_from_head(index.get(), head_tree.get(), kept);
        check(git_index_write_tree_to(&tree, index.get(), repo),
              "cannot write the CURRENT snapshot's tree");
    } catch (...) {
        git_index_read(index.get(), 1);
        throw;
    }
    // Drop the in-memory changes so nothing later in this process could write them out.
    git_index_read(index.get(), 1);

    ResolvedRef resolved;
    resolved.name = std::string(k_current_ref);
    resolved.commit = oid_hex(*git_commit_id(commit.get()));
    resolved.content_id = oid_hex(tree);
    resolved.kind = RefKind::snapshot;
    resolved.warnings = submodule_warnings(repo);
    return resolved;
}

} // namespace abtool::worktrees
