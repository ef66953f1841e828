// The two refs on disk for one run: resolved (CURRENT as a snapshot), checked out (one worktree
// per content, a second one when one content runs against itself at the same time) and built
// (a matching build stamp skips a build).
#pragma once

#include "abtool/worktrees.hpp"
#include "src/core/config.hpp"
#include "src/core/options.hpp"
#include "src/core/plan.hpp"
#include "src/experiment/ref_runner.hpp"
#include "src/results/run_dir.hpp"

#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace abtool {

// "ref 'dev' (3f2a1c9)", "ref 'CURRENT' (snapshot 1a2b3c4 on 3f2a1c9)".
std::string describe_ref(const worktrees::ResolvedRef& ref);

// Both refs of a run, abtool's own files in the repository (results.csv, the report files) kept
// as HEAD has them in a CURRENT snapshot; their warnings said on stderr, each once (both refs may
// be CURRENT). On a target (--as-target), named as the caller names them.
std::pair<worktrees::ResolvedRef, worktrees::ResolvedRef>
resolve_refs(worktrees::Repository& repo, const RunOptions& options, const Config& config);

struct Checkouts {
    worktrees::Worktree a;
    std::optional<worktrees::Worktree> b; // empty when B is A's checkout
    const worktrees::Worktree& checkout_b() const { return b ? *b : a; }
};

// One checkout per content. Calibrate, and a duet (or a pilot that may choose one) of one
// content against itself, need a second checkout of it: two runs at once must not share a
// working directory, and A and B then differ only in where they live.
Checkouts provision(worktrees::Repository& repo, const worktrees::ResolvedRef& ref_a,
                    const worktrees::ResolvedRef& ref_b, const Plan& plan, bool calibrate);

// The plan's record of a ref: what it resolved to and where it is checked out.
PlannedRef planned_ref(const worktrees::ResolvedRef& ref, const worktrees::Worktree& worktree);

// Builds each checkout once (a build stamp that matches skips it), logging to the run directory.
void build_refs(const Config& config, const RunOptions& options,
                std::initializer_list<const RefSide*> sides, const RunDir& run_dir);

} // namespace abtool
