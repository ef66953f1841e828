#include "src/experiment/scheduler.hpp"

#include "abtool/error.hpp"
#include "src/experiment/analysis.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <type_traits>
#include <variant>

namespace abtool {

namespace {

// The pilot's orders come from their own stream: the measured rounds' schedule stays what the
// seed alone makes it.
constexpr std::uint64_t k_pilot_stream = 0x9110753eedULL;

const char* side_name(Side side) {
    return side == Side::a ? "A" : "B";
}

} // namespace

std::string pilot_label(const WorkloadDesign& design) {
    const std::string name = to_string(design.schedule);
    return design.repeat > 1 ? fmt::format("{} x{}", name, design.repeat) : name;
}

// RunRequest::output_name of a run of a round.
std::string output_name(const RunKey& key, const WorkloadDesign& design) {
    std::string name = fmt::format("r{}-{}", key.round, to_string(key.side));
    if (design.repeat > 1) {
        name += fmt::format("-{}", key.rep + 1);
    }
    if (!key.pilot) {
        return name;
    }
    std::string pilot = *key.pilot; // "alternate x3"
    std::replace(pilot.begin(), pilot.end(), ' ', '-');
    return "pilot-" + pilot + "-" + name;
}

Scheduler::Scheduler(const Plan& plan, const Config& config, WorkloadRunner& runner, Sink sink,
                     RunDir run_dir)
    : m_plan(plan), m_config(config), m_runner(runner), m_sink(std::move(sink)),
      m_run_dir(std::move(run_dir)) {}

const WorkloadConfig& Scheduler::workload(const std::string& name) const {
    for (const WorkloadConfig& workload : m_config.workloads) {
        if (workload.workload.name == name) {
            return workload;
        }
    }
    throw Error(ErrorKind::usage, fmt::format("the plan names workload '{}', which the config "
                                              "does not define",
                                              name));
}

void Scheduler::interrupted() const {
    const std::size_t rounds = completed_rounds(m_plan, m_records);
    throw Error(ErrorKind::interrupted,
                fmt::format("interrupted after {} complete round(s); samples kept in {}", rounds,
                            m_run_dir.samples_file().string()),
                "nothing was appended to results.csv; `abtool analyze " +
                    m_run_dir.path().string() + "` reads the partial samples");
}

void Scheduler::keep(const RunKey& key, const runners::RunResult& result) {
    if (!result.strays.empty()) {
        Strays& strays = m_strays[{key.workload, key.side}];
        if (strays.runs == 0) {
            std::fprintf(stderr,
                         "abtool: warning: workload '%s' left %zu process(es) running after a run "
                         "on %s (%s): killed\n",
                         key.workload.c_str(), result.strays.size(),
                         describe(key.side == Side::a ? m_plan.a : m_plan.b).c_str(),
                         result.strays.front().c_str());
        }
        strays.count += result.strays.size();
        ++strays.runs;
        if (strays.first.empty()) {
            strays.first = result.strays.front();
        }
    }
    // A run that finished is kept even when the interrupt came just after it: samples.jsonl
    // holds every finished run. One that was cut short is neither a sample nor an error.
    if (result.interrupted) {
        return;
    }
    std::vector<SampleRecord> records = records_of(key, result);
    m_sink(records);
    for (SampleRecord& record : records) {
        (record.window ? m_windows : m_records).push_back(std::move(record));
    }
}

RunRequest Scheduler::request(const WorkloadConfig& workload, const WorkloadDesign& design,
                              Side side, bool swapped) const {
    RunRequest request;
    request.workload = &workload;
    request.side = side;
    if (design.schedule != Schedule::duet) {
        request.cpus = m_plan.cpus;
        return request;
    }
    // The first CPU set is A's unless this launch is swapped; a publish duet has a server and a
    // load generator set per side.
    const std::size_t per_side = design.duet_cpus.size() / 2;
    const bool first = (side == Side::a) != swapped;
    const std::size_t at = first ? 0 : per_side;
    request.cpus = design.duet_cpus.at(at);
    if (per_side > 1) {
        request.load_cpus = design.duet_cpus.at(at + 1);
    }
    return request;
}

namespace {

// What counts the workload's counters, for their samples' records ("" when it counts nothing).
std::string counter_backend(const WorkloadConfig& workload) {
    const runners::Counting* counting = runners::counting_of(workload.workload);
    return counting != nullptr && counting->active()
               ? std::string(runners::to_string(counting->backend))
               : std::string();
}

} // namespace

void Scheduler::run_round(const WorkloadConfig& workload, const WorkloadDesign& design,
                          const PlannedRound& round, const std::optional<std::string>& pilot,
                          ScheduleObserver* observer) {
    const std::string& name = workload.workload.name;
    const auto key = [&](Side side, std::size_t rep, const RunRequest& request) {
        return RunKey{round.index, side, name, rep, pilot, request.cpus, counter_backend(workload)};
    };
    for (std::size_t rep = 0; rep < design.repeat; ++rep) {
        if (design.schedule == Schedule::duet) {
            // Alternate the CPU assignment between repetitions too, from the round's draw.
            const bool swapped = round.swap_cpus != (rep % 2 == 1);
            RunRequest a = request(workload, design, Side::a, swapped);
            RunRequest b = request(workload, design, Side::b, swapped);
            a.output_name = output_name(key(Side::a, rep, a), design);
            b.output_name = output_name(key(Side::b, rep, b), design);
            if (observer != nullptr) {
                observer->running(round.index, fmt::format("A+B {}", name));
            }
            // The runner's two launches are not quite alike (one side's thread is made first,
            // the other's releases the start gate), so which side goes first follows the
            // round's seeded order, and flips between repetitions like the CPUs.
            const bool a_first = (round.order == stats::Order::ab) != (rep % 2 == 1);
            auto [result_a, result_b] = m_runner.run_together(a_first ? a : b, a_first ? b : a);
            if (!a_first) {
                std::swap(result_a, result_b);
            }
            keep(key(Side::a, rep, a), result_a);
            keep(key(Side::b, rep, b), result_b);
            if (result_a.interrupted || result_b.interrupted || runners::stop_requested()) {
                interrupted();
            }
            continue;
        }
        // ABAB... or BABA...: every repetition in the round's order.
        const Side first = round.order == stats::Order::ab ? Side::a : Side::b;
        for (Side side : {first, first == Side::a ? Side::b : Side::a}) {
            RunRequest run = request(workload, design, side, false);
            run.output_name = output_name(key(side, rep, run), design);
            if (observer != nullptr) {
                observer->running(round.index, fmt::format("{} {}", side_name(side), name));
            }
            const runners::RunResult result = m_runner.run(run);
            keep(key(side, rep, run), result);
            if (result.interrupted || runners::stop_requested()) {
                interrupted();
            }
        }
    }
}

void Scheduler::warm_up() {
    for (const WorkloadConfig& workload : m_config.workloads) {
        const WorkloadDesign design = m_plan.design_of(workload.workload.name);
        for (Side side : {Side::a, Side::b}) {
            std::optional<std::string> last_error;
            std::size_t failures = 0;
            for (std::size_t i = 0; i < m_plan.warmup; ++i) {
                // Warm-ups run one at a time, on the side's first CPU set under duet.
                WorkloadDesign alone = design;
                alone.schedule = Schedule::alternate;
                RunRequest run = request(workload, alone, side, false);
                run.output_name = fmt::format("warmup-{}-{}", i + 1, to_string(side));
                const runners::RunResult result = m_runner.run(run);
                keep(RunKey{0, side, workload.workload.name, 0, std::nullopt, run.cpus,
                            counter_backend(workload)},
                     result);
                if (result.interrupted || runners::stop_requested()) {
                    interrupted();
                }
                if (result.error) {
                    ++failures;
                    last_error = result.error;
                }
            }
            if (m_plan.warmup > 0 && failures == m_plan.warmup) {
                const std::string label = describe(side == Side::a ? m_plan.a : m_plan.b);
                throw Error(
                    ErrorKind::workload,
                    fmt::format("workload '{}' failed every warm-up run on {}: "
                                "`{}`: {}",
                                workload.workload.name, label,
                                runners::display_command(workload.workload), *last_error),
                    fmt::format("samples and errors: {}", m_run_dir.samples_file().string()));
            }
        }
    }
}

void Scheduler::run_pilot(const WorkloadConfig& workload,
                          const std::vector<WorkloadDesign>& candidates, std::size_t rounds) {
    const std::vector<PlannedRound> schedule =
        make_schedule(rounds, {workload.workload.name}, m_plan.seed ^ k_pilot_stream);
    for (const PlannedRound& round : schedule) {
        for (const WorkloadDesign& candidate : candidates) {
            run_round(workload, candidate, round, pilot_label(candidate), nullptr);
        }
    }
}

void Scheduler::run_native_reference(const WorkloadConfig& workload, std::size_t rounds) {
    WorkloadConfig native = workload;
    if (runners::Counting* counting = runners::counting_of(native.workload)) {
        counting->counters.clear();
    }
    WorkloadDesign design;
    design.workload = workload.workload.name;
    for (const PlannedRound& round :
         make_schedule(rounds, {workload.workload.name}, m_plan.seed ^ k_pilot_stream)) {
        run_round(native, design, round, std::string(k_native_pilot), nullptr);
    }
}

std::size_t Scheduler::run_rounds(const KeepGoing& keep_going, ScheduleObserver& observer) {
    std::size_t target = m_plan.rounds;
    std::size_t done = 0;
    observer.rounds_planned(target);
    for (const PlannedRound& round : m_plan.schedule) {
        if (round.index > target) {
            // Adaptive: past the planned rounds, add a block only while some verdict is open.
            if (target >= m_plan.max_rounds || !keep_going(m_records, target)) {
                break;
            }
            target += 2;
            observer.rounds_planned(std::min(target, m_plan.max_rounds));
        }
        for (const std::string& name : round.workloads) {
            const WorkloadConfig& config = workload(name);
            run_round(config, m_plan.design_of(name), round, std::nullopt, &observer);
        }
        observer.round_done(round.index);
        done = round.index;
    }
    observer.finished();
    check_measured_failures();
    return done;
}

std::vector<std::string> Scheduler::warnings() const {
    std::vector<std::string> lines;
    for (const auto& [key, strays] : m_strays) {
        lines.push_back(fmt::format(
            "workload '{}' left {} process(es) running after {} of its runs on {} (the first: "
            "{}); abtool killed them at the end of each run: a benchmark that leaves processes "
            "behind loads the runs after it",
            key.first, strays.count, strays.runs,
            describe(key.second == Side::a ? m_plan.a : m_plan.b), strays.first));
    }
    return lines;
}

void Scheduler::check_measured_failures() const {
    // A workload that failed every measured run on a side has nothing to compare: that is a
    // workload that does not run (exit 3), not a gate that passes on no evidence.
    for (const WorkloadConfig& workload : m_config.workloads) {
        for (Side side : {Side::a, Side::b}) {
            std::set<std::pair<std::size_t, std::size_t>> runs, failed;
            const std::string* last_error = nullptr;
            for (const SampleRecord& record : m_records) {
                if (record.round == 0 || record.pilot || record.side != side ||
                    record.workload != workload.workload.name) {
                    continue;
                }
                runs.insert({record.round, record.rep});
                if (record.error) {
                    failed.insert({record.round, record.rep});
                    last_error = &*record.error;
                }
            }
            if (!runs.empty() && failed.size() >= runs.size() && last_error != nullptr) {
                const std::string label = describe(side == Side::a ? m_plan.a : m_plan.b);
                throw Error(ErrorKind::workload,
                            fmt::format("workload '{}' failed all {} measured run(s) on {}: "
                                        "`{}`: {}",
                                        workload.workload.name, runs.size(), label,
                                        runners::display_command(workload.workload), *last_error),
                            fmt::format("nothing was appended to results.csv; samples and "
                                        "errors: {}",
                                        m_run_dir.samples_file().string()));
            }
        }
    }
}

} // namespace abtool
