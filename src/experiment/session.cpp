#include "src/experiment/session.hpp"

#include "abtool/error.hpp"
#include "abtool/runners.hpp"
#include "src/core/host.hpp"
#include "src/experiment/analysis.hpp"
#include "src/experiment/checkouts.hpp"
#include "src/experiment/pilot.hpp"
#include "src/experiment/ref_runner.hpp"
#include "src/experiment/remote.hpp"
#include "src/experiment/scheduler.hpp"
#include "src/report/outputs.hpp"
#include "src/report/progress.hpp"
#include "src/results/results_store.hpp"
#include "src/results/run_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <tuple>
#include <unistd.h>

namespace abtool {

namespace {

// Each counting workload's backend, resolved on this machine (auto: perf where it can count every
// counter, else cachegrind) and said on stderr. Refused with Error(config) when nothing here can
// count it, and when cachegrind would slow a workload whose times gate: valgrind's run says
// nothing of the native one.
void resolve_counting(Config& config) {
    for (WorkloadConfig& workload : config.workloads) {
        runners::Counting* counting = runners::counting_of(workload.workload);
        if (counting == nullptr || !counting->active()) {
            continue;
        }
        const std::string what = workload.describe(config.file);
        const runners::CounterChoice choice = runners::choose_counter_backend(*counting, what);
        counting->backend = choice.backend;
        workload.counter_reason = choice.reason;
        const std::vector<std::string> gated = runners::gated_metrics(workload.workload);
        const auto time = std::find_if(gated.begin(), gated.end(), [](const std::string& metric) {
            return !runners::counter_named(metric);
        });
        if (choice.backend == runners::CounterBackend::cachegrind &&
            (gated.empty() || time != gated.end())) {
            throw Error(
                ErrorKind::config,
                fmt::format("{}: cachegrind would count it ({}), running it under valgrind many "
                            "times slower, yet {} gates: a measure taken under valgrind says "
                            "nothing of the native run",
                            what, choice.reason,
                            gated.empty() ? std::string("every metric it reports")
                                          : "'" + *time + "'"),
                "gate on the count (metric = \"instructions\"), or count with perf on a machine "
                "with a hardware PMU (counter_backend = \"perf\")");
        }
        std::string names;
        for (const runners::Counter counter : counting->counters) {
            names += (names.empty() ? "" : ", ") + std::string(runners::to_string(counter));
        }
        std::fprintf(stderr, "abtool: workload '%s' counts %s with %s: %s\n",
                     workload.workload.name.c_str(), names.c_str(),
                     std::string(runners::to_string(choice.backend)).c_str(),
                     choice.reason.c_str());
    }
}

// The config a run measures with: abtool.toml at the repository root (or --config), with the
// flags on top. Everything that can be refused is refused here, before the first checkout.
Config run_config(const RunOptions& options, const worktrees::Repository& repo,
                  const std::filesystem::path& cwd) {
    Config config = load_config(run_config_file(options, repo, cwd));
    apply_run_flags(options, config);
    if (options.shard) {
        const auto [index, count] = parse_shard(*options.shard);
        select_shard(config, index, count);
    }
    resolve_counting(config);
    if (!options.calibrate) {
        if (!config.shard && !options.as_target) { // abtool merge, or the caller, appends
            ResultsStore(config.results_file).check_appendable();
        }
        report::check_output_paths(options.outputs);
    }
    return config;
}

// The gated series the records show (warm-up and pilot runs report them before round 1).
std::size_t gated_series(const std::vector<SampleRecord>& records) {
    std::set<std::tuple<std::string, std::string, std::string>> seen;
    for (const SampleRecord& record : records) {
        if (!record.error && record.gate == runners::Gate::yes) {
            seen.insert({record.workload, record.case_name, record.metric});
        }
    }
    return seen.size();
}

// Now the gated metrics are known (from the warm-up and pilot runs): are the rounds enough? A
// shard plans for the whole suite, which the merged run corrects over.
void reach_significance(Plan& plan, const Config& config, const std::vector<SampleRecord>& records,
                        Strict strict) {
    const std::size_t gated = gated_series(records);
    if (gated == 0) {
        return;
    }
    plan_reachable_rounds(plan, config, gated + (plan.shard ? plan.shard->other_gated : 0), strict,
                          plan.shard ? "seen in the warm-up runs, and the other shards' counted "
                                       "from the config"
                                     : "seen in the warm-up runs");
}

// schedule = "auto": a recorded pilot per workload, then its design is fixed in the plan.
void choose_designs(Plan& plan, const Config& config, Scheduler& scheduler) {
    for (WorkloadDesign& design : plan.designs) {
        if (design.schedule != Schedule::automatic) {
            continue;
        }
        const WorkloadConfig& workload = *std::find_if(
            config.workloads.begin(), config.workloads.end(),
            [&](const WorkloadConfig& w) { return w.workload.name == design.workload; });
        const std::optional<std::size_t> repeat =
            workload.design.repeat ? workload.design.repeat : config.run.design.repeat;
        const Pilot pilot = pilot_candidates(design, repeat, design.duet_cpus);
        std::string names;
        for (const WorkloadDesign& candidate : pilot.runs) {
            names += (names.empty() ? "" : ", ") + pilot_label(candidate);
        }
        std::fprintf(stderr, "abtool: pilot '%s': %zu rounds each of %s%s\n",
                     design.workload.c_str(), plan.pilot_rounds, names.c_str(),
                     design.duet_cpus.empty() ? " (no duet: fewer CPUs than it needs)" : "");
        scheduler.run_pilot(workload, pilot.runs, plan.pilot_rounds);
        design = choose_from_pilot(pilot, scheduler.records());
        if (design.schedule != Schedule::duet) {
            design.duet_cpus.clear();
        }
        std::fprintf(stderr, "abtool: design '%s': %s (%s): %s\n", design.workload.c_str(),
                     pilot_label(design).c_str(), design.chosen_by.c_str(), design.reason.c_str());
    }
}

// calibrate: every candidate design of every workload for the plan's rounds, A/A.
std::vector<Pilot> calibrate_designs(const Plan& plan, const Config& config, Scheduler& scheduler) {
    std::vector<Pilot> pilots;
    for (const WorkloadConfig& workload : config.workloads) {
        const WorkloadDesign design = plan.design_of(workload.workload.name);
        const std::optional<std::size_t> repeat =
            workload.design.repeat ? workload.design.repeat : config.run.design.repeat;
        Pilot pilot = pilot_candidates(design, repeat, design.duet_cpus);
        std::fprintf(stderr, "abtool: calibrating '%s': %zu rounds of each design\n",
                     workload.workload.name.c_str(), plan.rounds);
        scheduler.run_pilot(workload, pilot.runs, plan.rounds);
        pilots.push_back(std::move(pilot));
    }
    return pilots;
}

// The measured rounds, adding blocks while an adaptive run has an open verdict.
void run_measured_rounds(Scheduler& scheduler, const Plan& plan, const Config& config,
                         const AnalysisSettings& settings) {
    const stats::AdaptivePolicy policy{plan.rounds, plan.max_rounds};
    report::TerminalProgress progress;
    scheduler.run_rounds(
        [&](const std::vector<SampleRecord>& records, std::size_t rounds_done) {
            const report::Report interim = analyze_records(plan, config, records, settings, {});
            std::vector<stats::Comparison> comparisons;
            for (const report::Row& row : interim.rows) {
                if (row.gated) {
                    comparisons.push_back(row.comparison);
                }
            }
            return !stats::should_stop(comparisons, rounds_done, policy);
        },
        progress);
}

// plan.json, and for a run on a target (--as-target) the same plan to the caller.
void publish_plan(const RunDir& run_dir, const Plan& plan, const RunOptions& options) {
    run_dir.write_plan(plan);
    if (options.as_target) {
        stream_to_caller(
            "plan", to_json(plan).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
}

} // namespace

std::filesystem::path run_config_file(const RunOptions& options, const worktrees::Repository& repo,
                                      const std::filesystem::path& cwd) {
    return options.config.empty() ? repo.root() / "abtool.toml"
                                  : std::filesystem::absolute(cwd / options.config);
}

void write_incomplete_summary(const RunDir& run_dir, const Plan& plan,
                              const std::vector<SampleRecord>& records) {
    report::Report incomplete;
    incomplete.run_id = plan.run_id;
    incomplete.rounds = completed_rounds(plan, records);
    incomplete.threshold_pct = plan.threshold * 100;
    run_dir.write_summary(incomplete, false);
}

Experiment run_experiment(const RunOptions& options) {
    const std::filesystem::path cwd =
        options.cwd.empty() ? std::filesystem::current_path() : options.cwd;
    worktrees::Repository repo = worktrees::Repository::open(cwd);
    Experiment experiment;
    Config& config = experiment.config;
    config = run_config(options, repo, cwd);
    Plan& plan = experiment.plan;
    plan = make_plan(options, config,
                     options.measurement.cpus.empty() ? allowed_cpus() : options.measurement.cpus);
    const auto [ref_a, ref_b] = resolve_refs(repo, options, config);

    experiment.run_dir = RunDir::create(repo.state_dir(), plan.run_id);
    const RunDir& run_dir = experiment.run_dir;
    std::fprintf(stderr, "abtool: A = %s, B = %s\nabtool: run %s\n", describe_ref(ref_a).c_str(),
                 describe_ref(ref_b).c_str(), run_dir.path().c_str());
    const Checkouts checkouts = provision(repo, ref_a, ref_b, plan, options.calibrate);
    plan.a = planned_ref(ref_a, checkouts.a);
    plan.b = planned_ref(ref_b, checkouts.checkout_b());
    const RefSide side_a{Side::a, &checkouts.a, describe_ref(ref_a)};
    const RefSide side_b{Side::b, &checkouts.checkout_b(), describe_ref(ref_b)};
    build_refs(config, options, {&side_a, &side_b}, run_dir);
    publish_plan(run_dir, plan, options);

    SamplesWriter samples(run_dir.samples_file());
    RefRunner runner(side_a, side_b, options, plan.seed, run_dir);
    Scheduler scheduler(
        plan, config, runner,
        [&](const std::vector<SampleRecord>& records) {
            samples.append(records);
            if (options.as_target) {
                stream_to_caller("sample", sample_lines(records));
            }
        },
        run_dir);
    AnalysisSettings& settings = experiment.settings;
    settings = settings_for(plan, config);
    try {
        scheduler.warm_up();
        for (const WorkloadConfig& workload : config.workloads) {
            const runners::Counting* counting = runners::counting_of(workload.workload);
            if (counting != nullptr && counting->active() &&
                counting->backend == runners::CounterBackend::cachegrind) {
                scheduler.run_native_reference(workload, options.calibrate ? plan.rounds : 2);
            }
        }
        if (options.calibrate) {
            experiment.calibrations = calibrate_designs(plan, config, scheduler);
        } else {
            choose_designs(plan, config, scheduler);
            reach_significance(plan, config, scheduler.records(), options.strict);
            publish_plan(run_dir, plan, options);  // the designs, as chosen
            settings = settings_for(plan, config); // and the rounds, as raised
            run_measured_rounds(scheduler, plan, config, settings);
        }
    } catch (const Error& error) {
        if (error.kind() == ErrorKind::interrupted || error.kind() == ErrorKind::workload) {
            write_incomplete_summary(run_dir, plan, scheduler.records());
        }
        throw;
    }
    experiment.records = scheduler.records();
    experiment.report =
        analyze_records(plan, config, experiment.records, settings, scheduler.windows());
    experiment.report.run_dir = run_dir.path().string();
    for (const std::string& warning : scheduler.warnings()) {
        experiment.report.warnings.push_back(warning);
    }
    run_dir.write_summary(experiment.report, true);
    return experiment;
}

} // namespace abtool
