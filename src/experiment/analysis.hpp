// From a run's raw records to its Report: groups samples by workload/case/metric, pairs A and B
// round by round (a run with several repetitions contributes its median), runs the paired
// statistics with multiplicity control, and applies the SLO limits on B. Used by a live run and
// by `abtool analyze`, so both give the same verdicts from the same files.
//
// Failed runs (a run that reported an error instead of samples) have no pair and leave the
// paired statistics alone, but they are not lost: error_rate_max counts each failed run of B as
// `count` failed messages, and without that SLO, B failing more runs than A is the report's
// first warning (the gate still passes: DESIGN.md's exit 1 is for regressions and SLOs).
#pragma once

#include "src/core/config.hpp"
#include "src/core/plan.hpp"
#include "src/report/report.hpp"
#include "src/results/run_store.hpp"

#include <optional>
#include <vector>

namespace abtool {

struct AnalysisSettings {
    double threshold = 0.02;
    double confidence = 0.95;
    // `abtool analyze --summary`: how a side's repeats become its round value, for every
    // workload, in place of the plan's.
    std::optional<Summary> summary;
    int looks = 1; // adaptive runs: planned interim looks (stats::planned_looks)
    stats::Multiplicity multiplicity = stats::Multiplicity::holm; // [run] multiplicity
};

// What the plan asked for: its threshold, confidence, the config's multiplicity correction and,
// for an adaptive run, its planned interim looks.
AnalysisSettings settings_for(const Plan& plan, const Config& config);

// `config` is the plan's own config (parse_config on plan.config_text). `windows`: the soak runs'
// windows (SamplesFile::windows), for Report::soak; warm-up and pilot runs' are left out.
report::Report analyze_records(const Plan& plan, const Config& config,
                               const std::vector<SampleRecord>& records,
                               const AnalysisSettings& settings,
                               const std::vector<SampleRecord>& windows);

// How a side's repeats in one round become its round value: the configured summary, else min
// for durations (a time unit, lower is better: interference only adds time) and median for the
// rest.
Summary summary_for(std::optional<Summary> configured, const std::string& unit,
                    runners::Direction direction);
// One side's value in one round: each run contributes the median of the values it reported
// (its own repetitions), and the runs are summarised by `summary`.
double round_value(const std::vector<std::vector<double>>& runs, Summary summary);

// The rounds for which every workload has a record on both sides.
std::size_t completed_rounds(const Plan& plan, const std::vector<SampleRecord>& records);

} // namespace abtool
