// Small RAII and error helpers around libgit2 for worktrees/: one owner type per libgit2 object
// and a check() that turns a libgit2 failure into Error(git) saying what abtool was doing.
#pragma once

#include "abtool/error.hpp"
#include "abtool/worktrees.hpp"

#include <git2.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace abtool::worktrees {

// libgit2 wants one git_libgit2_init per process before anything else.
void ensure_libgit2();

// The last libgit2 error message, or "unknown error".
std::string last_git_error();

// Throws Error(kind) "<doing>: <libgit2 message>" when `code` < 0.
void check(int code, const std::string& doing, ErrorKind kind = ErrorKind::git);

template <typename T, void (*Free)(T*)>
struct GitDeleter {
    void operator()(T* object) const { Free(object); }
};
template <typename T, void (*Free)(T*)>
using GitPtr = std::unique_ptr<T, GitDeleter<T, Free>>;

using RepoPtr = GitPtr<git_repository, git_repository_free>;
using ObjectPtr = GitPtr<git_object, git_object_free>;
using CommitPtr = GitPtr<git_commit, git_commit_free>;
using TreePtr = GitPtr<git_tree, git_tree_free>;
using IndexPtr = GitPtr<git_index, git_index_free>;
using ReferencePtr = GitPtr<git_reference, git_reference_free>;

std::string oid_hex(const git_oid& oid);

struct Repository::Impl {
    RepoPtr repo;
    std::filesystem::path root;
};

// CURRENT: the working tree snapshotted into the object database (Repository::resolve says what
// `keep_as_in_head` does).
ResolvedRef snapshot_current(Repository::Impl& impl,
                             const std::vector<std::filesystem::path>& keep_as_in_head);

} // namespace abtool::worktrees
