// The history `abtool bisect` walks: a first-parent range and what each commit says of itself.
#include "worktrees/git.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <ctime>

namespace abtool::worktrees {

namespace {

using RevwalkPtr = GitPtr<git_revwalk, git_revwalk_free>;

git_oid parse_oid(const std::string& commit) {
    git_oid oid{};
    check(git_oid_fromstr(&oid, commit.c_str()), fmt::format("'{}' is not a commit id", commit));
    return oid;
}

std::string format_date(const git_time& time) {
    // The author's own wall clock, as `git log --date=iso` prints it.
    const std::time_t local = static_cast<std::time_t>(time.time) + time.offset * 60;
    std::tm parts{};
    gmtime_r(&local, &parts);
    const int offset = std::abs(time.offset);
    return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02} {}{:02}{:02}", parts.tm_year + 1900,
                       parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                       time.offset < 0 ? '-' : '+', offset / 60, offset % 60);
}

} // namespace

CommitInfo Repository::commit_info(const std::string& commit) {
    const git_oid oid = parse_oid(commit);
    git_commit* raw = nullptr;
    check(git_commit_lookup(&raw, m_impl->repo.get(), &oid),
          fmt::format("reading commit {}", commit));
    const CommitPtr object(raw);
    CommitInfo info;
    info.commit = oid_hex(oid);
    const char* summary = git_commit_summary(object.get());
    info.subject = summary != nullptr ? summary : "";
    const git_signature* author = git_commit_author(object.get());
    info.author = author->name != nullptr ? author->name : "";
    info.date = format_date(author->when);
    return info;
}

std::vector<CommitInfo> Repository::first_parent_range(const std::string& good,
                                                       const std::string& bad) {
    git_repository* repo = m_impl->repo.get();
    const git_oid good_oid = parse_oid(good);
    const git_oid bad_oid = parse_oid(bad);
    if (git_oid_equal(&good_oid, &bad_oid) != 0 ||
        git_graph_descendant_of(repo, &bad_oid, &good_oid) != 1) {
        throw Error(ErrorKind::usage,
                    fmt::format("the good commit {} is not an ancestor of the bad commit {}",
                                good.substr(0, 12), bad.substr(0, 12)),
                    "bisect looks for the commit that made it slower, so --good must come "
                    "before --bad in the history (git merge-base --is-ancestor GOOD BAD)");
    }
    git_revwalk* raw = nullptr;
    check(git_revwalk_new(&raw, repo), "walking the history");
    const RevwalkPtr walk(raw);
    check(git_revwalk_sorting(walk.get(), GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE),
          "walking the history");
    check(git_revwalk_simplify_first_parent(walk.get()), "walking the history");
    check(git_revwalk_push(walk.get(), &bad_oid), fmt::format("walking back from {}", bad));
    check(git_revwalk_hide(walk.get(), &good_oid), fmt::format("hiding {}", good));
    std::vector<CommitInfo> range;
    git_oid oid{};
    while (git_revwalk_next(&oid, walk.get()) == 0) {
        range.push_back(commit_info(oid_hex(oid)));
    }
    return range;
}

} // namespace abtool::worktrees
