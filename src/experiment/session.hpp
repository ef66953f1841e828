// A session carries one experiment from refs to raw samples: provisions both worktrees, builds
// them, writes plan.json, runs the warm-ups and the scheduled rounds (adding A/B/B/A blocks while
// an adaptive run is inconclusive) and appends every sample to samples.jsonl as it is taken.
// It stops cleanly between runs on SIGINT/SIGTERM. Verdicts are analysis.hpp's.
#pragma once

#include "abtool/worktrees.hpp"
#include "src/core/config.hpp"
#include "src/core/options.hpp"
#include "src/core/plan.hpp"
#include "src/experiment/analysis.hpp"
#include "src/experiment/pilot.hpp"
#include "src/results/run_dir.hpp"

#include <filesystem>
#include <optional>

namespace abtool {

struct Experiment {
    Config config;
    Plan plan;
    RunDir run_dir;
    report::Report report;
    AnalysisSettings settings;
    // Calibration: every candidate design of each workload, run A/A for the plan's rounds (the
    // records hold their runs); a comparison's measured rounds are skipped then.
    std::vector<Pilot> calibrations;
    std::vector<SampleRecord> records;
};

// The config file a run reads: --config (relative to `cwd`), else abtool.toml at the root.
std::filesystem::path run_config_file(const RunOptions& options, const worktrees::Repository& repo,
                                      const std::filesystem::path& cwd);

// An interrupted or failed run's summary.json: the rounds it completed, no verdicts.
void write_incomplete_summary(const RunDir& run_dir, const Plan& plan,
                              const std::vector<SampleRecord>& records);

// The whole pipeline up to the report: config, refs, worktrees, builds, plan, rounds, analysis
// (options.calibrate: up to the calibration runs).
// Writes summary.json. Throws Error(interrupted) after an interrupt (samples kept), Error(build)
// or Error(workload) when a ref cannot be built or a workload fails every warm-up run.
Experiment run_experiment(const RunOptions& options);

} // namespace abtool
