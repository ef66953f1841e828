#include "src/experiment/checkouts.hpp"

#include "abtool/runners.hpp"
#include "src/report/outputs.hpp"
#include "src/report/progress.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <set>

namespace abtool {

namespace {

// PlannedRef::kind: "snapshot" (CURRENT with changes) or "commit".
std::string kind_name(const worktrees::ResolvedRef& ref) {
    return ref.kind == worktrees::RefKind::snapshot ? "snapshot" : "commit";
}

} // namespace

std::string describe_ref(const worktrees::ResolvedRef& ref) {
    return describe(PlannedRef{ref.name, ref.commit, ref.content_id, kind_name(ref), ""});
}

std::pair<worktrees::ResolvedRef, worktrees::ResolvedRef>
resolve_refs(worktrees::Repository& repo, const RunOptions& options, const Config& config) {
    // abtool's own outputs inside the repository stay as HEAD has them in CURRENT: otherwise the
    // results.csv this run appends would make the next run's CURRENT new content to check out
    // and build.
    std::vector<std::filesystem::path> own_outputs{config.results_file};
    for (const std::filesystem::path& path : report::output_files(options.outputs)) {
        own_outputs.push_back(path);
    }
    std::pair<worktrees::ResolvedRef, worktrees::ResolvedRef> refs{
        repo.resolve(options.ref_a, own_outputs), repo.resolve(options.ref_b, own_outputs)};
    if (options.as_target && !options.as_target_names.first.empty()) {
        // The sent commits, named in messages as the caller names them.
        refs.first.name = options.as_target_names.first;
        refs.second.name = options.as_target_names.second;
    }
    std::set<std::string> warnings(refs.first.warnings.begin(), refs.first.warnings.end());
    warnings.insert(refs.second.warnings.begin(), refs.second.warnings.end());
    for (const std::string& warning : warnings) {
        std::fprintf(stderr, "abtool: warning: %s\n", warning.c_str());
    }
    return refs;
}

Checkouts provision(worktrees::Repository& repo, const worktrees::ResolvedRef& ref_a,
                    const worktrees::ResolvedRef& ref_b, const Plan& plan, bool calibrate) {
    const bool same_content = ref_b.content_id == ref_a.content_id;
    const bool concurrent =
        std::any_of(plan.designs.begin(), plan.designs.end(),
                    [](const WorkloadDesign& design) { return !design.duet_cpus.empty(); });
    Checkouts checkouts{worktrees::provision(repo, ref_a, worktrees::Slot::primary), {}};
    if (calibrate || !same_content || concurrent) {
        checkouts.b.emplace(worktrees::provision(
            repo, ref_b, same_content ? worktrees::Slot::secondary : worktrees::Slot::primary));
    }
    for (const worktrees::Worktree* worktree :
         {&checkouts.a, checkouts.b ? &*checkouts.b : nullptr}) {
        if (worktree != nullptr) {
            std::fprintf(stderr, "abtool: checkout %s: %s\n", describe_ref(worktree->ref()).c_str(),
                         worktree->checked_out_now() ? "checked out" : "reused");
        }
    }
    return checkouts;
}

PlannedRef planned_ref(const worktrees::ResolvedRef& ref, const worktrees::Worktree& worktree) {
    return PlannedRef{ref.name, ref.commit, ref.content_id, kind_name(ref),
                      worktree.path().string()};
}

void build_refs(const Config& config, const RunOptions& options,
                std::initializer_list<const RefSide*> sides, const RunDir& run_dir) {
    if (!config.build.present()) {
        return;
    }
    runners::BuildSpec build;
    build.argv = config.build.argv;
    build.shell = config.build.shell;
    build.env = config.build.env;
    build.timeout = config.build.timeout;
    // A build says it is alive (report::BuildProgress): its elapsed time and last output line.
    report::BuildProgress progress;
    std::string building; // the label of the build under way
    build.progress_every = progress.every();
    build.progress = [&](double elapsed_s, std::string_view last_line) {
        progress.update(building, elapsed_s, last_line);
    };
    std::set<std::string> built;
    for (const RefSide* side : sides) {
        if (!built.insert(side->worktree->path().string()).second) {
            continue;
        }
        building = side->label;
        runners::BuildOutcome outcome;
        try {
            outcome = runners::build(
                build, side->worktree->path(), side->worktree->meta_dir(),
                side->worktree->ref().content_id, run_dir.build_log(side->side), side->label,
                options.rebuild == RebuildRefs::yes ? runners::Rebuild::yes : runners::Rebuild::no);
        } catch (...) {
            progress.clear(); // the error starts its own line
            throw;
        }
        progress.clear();
        if (!outcome.stopped.empty()) {
            std::fprintf(stderr,
                         "abtool: warning: an earlier build of %s was still running in %s (its "
                         "abtool was killed): stopped %zu process(es) before building (the first: "
                         "%s)\n",
                         side->label.c_str(), side->worktree->path().c_str(),
                         outcome.stopped.size(), outcome.stopped.front().c_str());
        }
        std::fprintf(stderr, "abtool: build %s: %s\n", side->label.c_str(),
                     outcome.skipped ? "up to date"
                                     : fmt::format("{:.1f} s", outcome.wall_s).c_str());
    }
}

} // namespace abtool
