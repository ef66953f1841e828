#include "src/commands/commands.hpp"

#include "abtool/error.hpp"
#include "abtool/worktrees.hpp"
#include "src/core/config.hpp"

#include <fmt/format.h>

#include <cstdio>

namespace abtool {

int run_gc(const GcCommandOptions& options) {
    const auto older_than = parse_duration(options.older_than);
    if (!older_than) {
        throw Error(ErrorKind::usage,
                    fmt::format("--older-than '{}' is not a duration (e.g. 14d, 12h, 30m)",
                                options.older_than));
    }
    worktrees::Repository repo = worktrees::Repository::open(std::filesystem::current_path());
    worktrees::GcOptions gc_options;
    gc_options.older_than = std::chrono::duration_cast<std::chrono::seconds>(*older_than);
    gc_options.dry_run = options.dry_run ? worktrees::DryRun::yes : worktrees::DryRun::no;
    const worktrees::GcReport report = worktrees::gc(repo, gc_options);
    for (const auto& path : report.removed) {
        std::fprintf(stdout, "%s %s\n", options.dry_run ? "would remove" : "removed",
                     path.string().c_str());
    }
    for (const auto& path : report.kept_in_use) {
        std::fprintf(stdout, "kept (in use) %s\n", path.string().c_str());
    }
    std::fprintf(stdout, "%zu worktree(s) %s, %zu in use, %zu recent\n", report.removed.size(),
                 options.dry_run ? "to remove" : "removed", report.kept_in_use.size(),
                 report.kept_recent.size());
    return 0;
}

} // namespace abtool
