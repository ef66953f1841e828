#include "worktrees/git.hpp"

#include <fmt/format.h>

namespace abtool::worktrees {

// CURRENT without touching the user's state: the repository's index is loaded into memory,
// every tracked, modified, deleted and untracked-not-ignored file is staged there, the tree is
// written to the object database, and the in-memory index is re-read from disk. The index file
// is never written (git_index_write is never called), nor HEAD, the stash or the files.
ResolvedRef snapshot_current(Repository::Impl& impl) {
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

    git_index* index_raw = nullptr;
    check(git_repository_index(&index_raw, repo), "cannot read the index for CURRENT");
    IndexPtr index(index_raw);
    const char* everything = "*";
    const git_strarray all{const_cast<char**>(&everything), 1};
    git_oid tree{};
    try {
        check(git_index_add_all(index.get(), &all, GIT_INDEX_ADD_DEFAULT, nullptr, nullptr),
              "cannot snapshot the working tree for CURRENT (adding files)");
        check(git_index_update_all(index.get(), &all, nullptr, nullptr),
              "cannot snapshot the working tree for CURRENT (removing deleted files)");
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
    return resolved;
}

} // namespace abtool::worktrees
