// What abtool sends to an ssh target (README "Running on an ssh target"): each ref's content as
// a parentless commit, in a git bundle the target's git fetches. Only the trees travel, not the
// history: the target checks a content out, it never walks a commit's parents.
#include "worktrees/git.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace abtool::worktrees {

namespace {

using SignaturePtr = GitPtr<git_signature, git_signature_free>;
using PackbuilderPtr = GitPtr<git_packbuilder, git_packbuilder_free>;
using RevwalkPtr = GitPtr<git_revwalk, git_revwalk_free>;
using OdbPtr = GitPtr<git_odb, git_odb_free>;

git_oid parse_id(const std::string& hex, const char* what) {
    git_oid oid{};
    check(git_oid_fromstr(&oid, hex.c_str()), fmt::format("'{}' is not {}", hex, what));
    return oid;
}

struct FileCloser {
    void operator()(std::FILE* file) const { std::fclose(file); }
};

} // namespace

std::string Repository::transfer_commit(const ResolvedRef& ref) {
    git_repository* repo = m_impl->repo.get();
    const git_oid tree_id = parse_id(ref.content_id, "a tree id");
    git_tree* raw_tree = nullptr;
    check(git_tree_lookup(&raw_tree, repo, &tree_id),
          fmt::format("reading the tree of ref '{}'", ref.name));
    const TreePtr tree(raw_tree);
    // A fixed author and time: the same content gives the same commit id on every run, so the
    // target's repository holds each content once.
    git_signature* raw_signature = nullptr;
    check(git_signature_new(&raw_signature, "abtool", "abtool@localhost", 0, 0),
          "making the transfer commit's signature");
    const SignaturePtr signature(raw_signature);
    git_oid commit{};
    check(git_commit_create(&commit, repo, nullptr, signature.get(), signature.get(), "UTF-8",
                            "abtool: a ref's content, sent to a target\n", tree.get(), 0, nullptr),
          fmt::format("writing the transfer commit of ref '{}'", ref.name));
    return oid_hex(commit);
}

void Repository::write_bundle(const std::vector<BundleRef>& refs,
                              const std::vector<std::string>& have,
                              const std::filesystem::path& file) {
    git_repository* repo = m_impl->repo.get();
    git_packbuilder* raw = nullptr;
    check(git_packbuilder_new(&raw, repo), "starting a pack");
    const PackbuilderPtr pack(raw);
    git_revwalk* raw_walk = nullptr;
    check(git_revwalk_new(&raw_walk, repo), "starting a walk");
    const RevwalkPtr walk(raw_walk);
    std::string header = "# v2 git bundle\n";
    git_odb* odb = nullptr;
    check(git_repository_odb(&odb, repo), "opening the object database");
    const OdbPtr objects(odb);
    for (const std::string& commit : have) {
        // A commit the target has: its objects stay out of the pack, and the target's git
        // checks that it has it (a prerequisite line).
        const git_oid oid = parse_id(commit, "a commit id");
        if (git_odb_exists(objects.get(), &oid) != 0) {
            check(git_revwalk_hide(walk.get(), &oid), fmt::format("leaving out {}", commit));
            header += fmt::format("-{}\n", commit);
        }
    }
    for (const BundleRef& ref : refs) {
        const git_oid oid = parse_id(ref.commit, "a commit id");
        check(git_revwalk_push(walk.get(), &oid),
              fmt::format("packing commit {} ({})", ref.commit, ref.name));
        header += fmt::format("{} {}\n", ref.commit, ref.name);
    }
    header += "\n";
    check(git_packbuilder_insert_walk(pack.get(), walk.get()), "packing the refs' objects");
    const std::unique_ptr<std::FILE, FileCloser> out(std::fopen(file.c_str(), "wbe"));
    if (!out) {
        throw Error(ErrorKind::io,
                    fmt::format("cannot write {}: {}", file.string(), std::strerror(errno)));
    }
    bool written = std::fwrite(header.data(), 1, header.size(), out.get()) == header.size();
    check(git_packbuilder_foreach(
              pack.get(),
              [](void* data, size_t size, void* payload) {
                  return std::fwrite(data, 1, size, static_cast<std::FILE*>(payload)) == size ? 0
                                                                                              : -1;
              },
              out.get()),
          fmt::format("writing the pack into {}", file.string()), ErrorKind::storage);
    written = written && std::fflush(out.get()) == 0;
    if (!written) {
        throw Error(ErrorKind::storage,
                    fmt::format("cannot write {}: {}", file.string(), std::strerror(errno)));
    }
}

} // namespace abtool::worktrees
