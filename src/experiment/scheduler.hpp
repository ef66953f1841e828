// The scheduler runs a plan: warm-up runs, a pilot's candidate designs, then the measured rounds
// in the plan's order (adding A/B/B/A blocks while an adaptive run is open), each round under its
// workload's design: alternate (A then B, or B then A, `repeat` times), or duet (A and B started
// together, each on its own CPU set, swapped in balanced blocks). It starts no process itself:
// every run goes through an injected WorkloadRunner (ninja's CommandRunner shape), so the order
// of runs, CPU assignment, repetitions, failures and the adaptive loop are unit-tested with a
// fake runner in milliseconds. It computes no verdict: `keep_going` judges adaptive rounds.
#pragma once

#include "abtool/runners.hpp"
#include "src/core/config.hpp"
#include "src/core/plan.hpp"
#include "src/report/progress.hpp"
#include "src/results/run_dir.hpp"
#include "src/results/run_store.hpp"

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace abtool {

// One run the scheduler asks for: a workload on one side, pinned where the design says.
struct RunRequest {
    const WorkloadConfig* workload = nullptr;
    Side side = Side::a;
    std::vector<int> cpus;      // empty: not pinned
    std::vector<int> load_cpus; // a publish duet's load generator
    // Names the run's kept stdout in the run directory: "r3-a", "r3-b-2" (the second of a
    // repeat), "pilot-duet-r1-a", "warmup-2-b". Empty: not kept.
    std::string output_name;
};

class WorkloadRunner {
public:
    virtual ~WorkloadRunner() = default;
    virtual runners::RunResult run(const RunRequest& request) = 0;
    // A duet launch: both runs released at one instant (runners::StartGate); results in order.
    virtual std::pair<runners::RunResult, runners::RunResult>
    run_together(const RunRequest& first, const RunRequest& second) = 0;
};

class Scheduler {
public:
    using Sink = std::function<void(const std::vector<SampleRecord>&)>;
    // Whether to add another A/B/B/A block past the planned rounds (adaptive runs).
    using KeepGoing =
        std::function<bool(const std::vector<SampleRecord>& records, std::size_t rounds_done)>;

    // `plan` (its schedule and designs) and `config` are read as they are when each step runs.
    // Every run's records go to `sink` as soon as it ends. `run_dir` is named in messages.
    Scheduler(const Plan& plan, const Config& config, WorkloadRunner& runner, Sink sink,
              RunDir run_dir);

    // `plan.warmup` runs per workload and side (round 0). Throws Error(workload) when a workload
    // fails every warm-up run on a side.
    void warm_up();
    // `rounds` pilot rounds of each candidate design of one workload, the candidates taking
    // turns round by round so that drift falls on all of them alike. Records carry the
    // candidate's label (pilot_label) and never enter a verdict.
    void run_pilot(const WorkloadConfig& workload, const std::vector<WorkloadDesign>& candidates,
                   std::size_t rounds);
    // A workload counted under cachegrind: `rounds` alternate rounds of it run natively (nothing
    // counted), recorded as pilot k_native_pilot (never part of a verdict), so that a report can
    // say how many times slower valgrind made it.
    void run_native_reference(const WorkloadConfig& workload, std::size_t rounds);
    // The measured rounds; returns how many ran. Throws Error(interrupted) on a stop request
    // (the runs that finished are kept) and Error(workload) when a workload failed every
    // measured run on a side.
    std::size_t run_rounds(const KeepGoing& keep_going, ScheduleObserver& observer);

    const std::vector<SampleRecord>& records() const { return m_records; }
    // Soak runs' windows (SampleRecord::window), kept apart from records(): nothing that groups
    // samples by metric ever sees one.
    const std::vector<SampleRecord>& windows() const { return m_windows; }
    // Run-level warnings of what the runs did besides measuring: processes a workload left
    // behind (killed at the end of each run), one line per workload and side.
    std::vector<std::string> warnings() const;

private:
    const WorkloadConfig& workload(const std::string& name) const;
    // One round of `design` for one workload: its runs in order, or its duet launches.
    void run_round(const WorkloadConfig& workload, const WorkloadDesign& design,
                   const PlannedRound& round, const std::optional<std::string>& pilot,
                   ScheduleObserver* observer);
    RunRequest request(const WorkloadConfig& workload, const WorkloadDesign& design, Side side,
                       bool swapped) const;
    void keep(const RunKey& key, const runners::RunResult& result);
    [[noreturn]] void interrupted() const;
    void check_measured_failures() const;

    const Plan& m_plan;
    const Config& m_config;
    WorkloadRunner& m_runner;
    Sink m_sink;
    RunDir m_run_dir;
    std::vector<SampleRecord> m_records;
    std::vector<SampleRecord> m_windows;
    struct Strays {
        std::size_t count = 0, runs = 0;
        std::string first; // "pid 4242 `sleep 20`"
    };
    std::map<std::pair<std::string, Side>, Strays> m_strays;
};

// The label a pilot's records carry for a candidate: "alternate x3", "duet".
std::string pilot_label(const WorkloadDesign& design);

} // namespace abtool
