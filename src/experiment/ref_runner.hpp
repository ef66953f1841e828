// The real WorkloadRunner (scheduler.hpp): a run is runners::run_workload in its side's
// worktree, with {worktree} substituted, the side's CPUs and the run's environment padding; a
// duet launch is two of them on two threads, released together by one runners::StartGate.
#pragma once

#include "abtool/worktrees.hpp"
#include "src/core/options.hpp"
#include "src/core/plan.hpp"
#include "src/experiment/scheduler.hpp"
#include "src/results/run_dir.hpp"

#include <filesystem>
#include <string>

namespace abtool {

struct RefSide {
    Side side;
    const worktrees::Worktree* worktree;
    std::string label; // "ref 'dev' (3f2a1c9)"
};

class RefRunner : public WorkloadRunner {
public:
    // Each run's stdout is kept in the run directory (RunDir::stdout_file, by its output_name).
    RefRunner(const RefSide& a, const RefSide& b, const RunOptions& options, std::uint64_t seed,
              RunDir run_dir);

    runners::RunResult run(const RunRequest& request) override;
    std::pair<runners::RunResult, runners::RunResult>
    run_together(const RunRequest& first, const RunRequest& second) override;

private:
    const RefSide& side(Side which) const { return which == Side::a ? m_a : m_b; }
    runners::RunContext context(const RunRequest& request,
                                std::shared_ptr<runners::StartGate> gate);

    const RefSide& m_a;
    const RefSide& m_b;
    const RunOptions& m_options;
    SeededGenerator m_padding;
    RunDir m_run_dir;
};

} // namespace abtool
