// schedule = "auto": which designs a workload's pilot tries, and which one its records choose
// (stats::choose_design on the spread of each candidate's paired log-ratios per second of machine
// time). Duet is a candidate only where the CPUs allow it; repetitions cost their time, so they
// win only where they narrow the interval by more than they cost.
#pragma once

#include "src/core/config.hpp"
#include "src/core/plan.hpp"
#include "src/results/run_store.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace abtool {

struct Pilot {
    // What the pilot runs (the scheduler's candidates)...
    std::vector<WorkloadDesign> runs;
    // ...and what it compares: with repeat unset, plain alternate rounds are read from the first
    // repetition of the alternate x3 runs (ABAB... starts with an alternate round), so the
    // reference costs no runs of its own. designs[0] is the reference.
    std::vector<WorkloadDesign> designs;
};

// `base` carries the workload's name, its configured repeat (if any) and summary; `duet_cpus`
// the duet CPU sets (empty: duet cannot run here).
Pilot pilot_candidates(const WorkloadDesign& base, std::optional<std::size_t> configured_repeat,
                       const std::vector<std::vector<int>>& duet_cpus);

// One candidate's pilot rounds as its records hold them: per series (case, metric), the paired
// log-ratios d_k = ln(B_k / A_k) of its rounds (a side's repeats summarised as the design says),
// and the machine time of one round (runs one after another; a duet launch counts its longer
// side). Series are in one order across the designs; a design without a series has it empty.
struct DesignSeries {
    std::string case_name, metric;
    std::vector<double> log_ratios;
};
struct DesignRounds {
    std::string label; // pilot_label of the design
    bool concurrent = false;
    double seconds_per_round = 0;
    std::vector<DesignSeries> series;
};
std::vector<DesignRounds> pilot_rounds(const Pilot& pilot, const std::vector<SampleRecord>& records,
                                       runners::Gate only);

// The chosen design, with chosen_by "pilot" (or "fallback" when the pilot could not tell), the
// reason and one evidence line per candidate. Reads only `records` carrying pilot labels.
WorkloadDesign choose_from_pilot(const Pilot& pilot, const std::vector<SampleRecord>& records);
// The TOML a team pins a chosen design with, in its [[workload]] table: schedule, and repeat
// when it is not 1.
std::string toml_lines(const WorkloadDesign& design);

} // namespace abtool
