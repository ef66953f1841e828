#include "src/session.hpp"

#include "abtool/error.hpp"
#include "abtool/runners.hpp"
#include "src/analysis.hpp"
#include "src/host.hpp"
#include "src/pilot.hpp"
#include "src/report/outputs.hpp"
#include "src/report/progress.hpp"
#include "src/results_store.hpp"
#include "src/run_store.hpp"
#include "src/scheduler.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <exception>
#include <set>
#include <thread>

namespace abtool {

namespace {

// ABTOOL_ENV_PADDING's length is drawn from [0, k_env_padding_max) per run, from its own seeded
// stream so that the schedule's draws do not depend on it.
constexpr std::uint64_t k_env_padding_max = 4096;
constexpr std::uint64_t k_env_padding_stream = 0xabf00d5eedULL;

std::string describe_ref(const worktrees::ResolvedRef& ref) {
    return describe(PlannedRef{ref.name, ref.commit, ref.content_id,
                               ref.kind == worktrees::RefKind::snapshot ? "snapshot" : "commit",
                               ""});
}

void note(const std::string& text) {
    std::fprintf(stderr, "abtool: note: %s\n", text.c_str());
}

void apply_overrides(const RunOptions& options, Config& config) {
    if (options.rounds) {
        if (*options.rounds < 2) {
            throw Error(ErrorKind::usage, "--rounds must be at least 2");
        }
        config.run.rounds = *options.rounds;
        if (config.run.max_rounds && *config.run.max_rounds < config.run.rounds) {
            config.run.max_rounds = config.run.rounds;
        }
    }
    if (options.max_rounds) {
        if (*options.max_rounds < config.run.rounds) {
            throw Error(ErrorKind::usage,
                        fmt::format("--max-rounds ({}) must be at least the rounds ({})",
                                    *options.max_rounds, config.run.rounds));
        }
        config.run.max_rounds = *options.max_rounds;
    }
    if (options.seed) {
        config.run.seed = *options.seed;
    }
    if (options.threshold) {
        config.run.threshold = threshold_from_flag(*options.threshold);
    }
    if (options.results) {
        config.results_file = std::filesystem::absolute(*options.results);
    }
    if (!options.workloads.empty()) {
        std::vector<WorkloadConfig> selected;
        for (const std::string& name : options.workloads) {
            auto it =
                std::find_if(config.workloads.begin(), config.workloads.end(),
                             [&](const WorkloadConfig& w) { return w.workload.name == name; });
            if (it == config.workloads.end()) {
                std::string known;
                for (const WorkloadConfig& workload : config.workloads) {
                    known += (known.empty() ? "" : ", ") + workload.workload.name;
                }
                throw Error(ErrorKind::usage,
                            fmt::format("--workload '{}' is not in {}", name, config.file.string()),
                            "workloads: " + known);
            }
            selected.push_back(*it);
        }
        config.workloads = std::move(selected);
    }
}

runners::Workload with_worktree(const runners::Workload& workload,
                                const std::filesystem::path& worktree) {
    // {worktree} placeholders name the ref's own checkout.
    runners::Workload copy = workload;
    const auto substitute = [&](std::vector<std::string>& argv) {
        for (std::string& arg : argv) {
            for (std::size_t at = arg.find("{worktree}"); at != std::string::npos;
                 at = arg.find("{worktree}", at)) {
                arg.replace(at, 10, worktree.string());
                at += worktree.string().size();
            }
        }
    };
    std::visit(
        [&](auto& spec) {
            using Spec = std::decay_t<decltype(spec)>;
            if constexpr (std::is_same_v<Spec, runners::PublishWorkload>) {
                substitute(spec.server);
            } else {
                substitute(spec.argv);
            }
        },
        copy.spec);
    return copy;
}

struct RefSide {
    Side side;
    const worktrees::Worktree* worktree;
    std::string label;
};

// The real WorkloadRunner: a run is runners::run_workload in the side's worktree; a duet launch
// is two of them on two threads, released by one StartGate.
class RefRunner : public WorkloadRunner {
public:
    RefRunner(const RefSide& a, const RefSide& b, const RunOptions& options, std::uint64_t seed)
        : m_a(a), m_b(b), m_options(options), m_padding(seed ^ k_env_padding_stream) {}

    runners::RunResult run(const RunRequest& request) override {
        return run_with(request, context(request, nullptr));
    }

    std::pair<runners::RunResult, runners::RunResult>
    run_together(const RunRequest& first, const RunRequest& second) override {
        const auto gate = std::make_shared<runners::StartGate>(2);
        // Contexts (and their padding draws) are made here, in one order, before any thread.
        const runners::RunContext context_first = context(first, gate);
        const runners::RunContext context_second = context(second, gate);
        runners::RunResult result_second;
        std::exception_ptr error_second;
        std::thread thread([&] {
            try {
                result_second = run_with(second, context_second);
            } catch (...) {
                error_second = std::current_exception();
            }
        });
        runners::RunResult result_first;
        std::exception_ptr error_first;
        try {
            result_first = run_with(first, context_first);
        } catch (...) {
            error_first = std::current_exception();
        }
        thread.join();
        for (const std::exception_ptr& error : {error_first, error_second}) {
            if (error) {
                std::rethrow_exception(error);
            }
        }
        return {std::move(result_first), std::move(result_second)};
    }

private:
    const RefSide& side(Side which) const { return which == Side::a ? m_a : m_b; }

    runners::RunContext context(const RunRequest& request,
                                std::shared_ptr<runners::StartGate> gate) {
        runners::RunContext context;
        context.worktree = side(request.side).worktree->path();
        context.cpus = request.cpus;
        context.load_cpus = request.load_cpus;
        context.nice = m_options.nice;
        context.label = side(request.side).label;
        context.start_gate = std::move(gate);
        if (m_options.env_padding) {
            // A random-length variable moves the stack's alignment from run to run, so neither
            // ref keeps a lucky or unlucky layout (Mytkowicz et al., ASPLOS 2009; hyperfine).
            context.env["ABTOOL_ENV_PADDING"] =
                std::string(m_padding.below(k_env_padding_max), 'x');
        }
        return context;
    }

    static runners::RunResult run_with(const RunRequest& request,
                                       const runners::RunContext& context) {
        return runners::run_workload(with_worktree(request.workload->workload, context.worktree),
                                     context);
    }

    const RefSide& m_a;
    const RefSide& m_b;
    const RunOptions& m_options;
    SeededGenerator m_padding;
};

// The CPUs a duet splits between its sides: --cpus, else every CPU abtool may use. A command or
// hotpath side needs one CPU, a publish side two (its server and its load generator).
std::vector<std::vector<int>> duet_cpu_sets(const WorkloadConfig& workload,
                                            const std::vector<int>& allowed) {
    const bool publish = workload.kind == "publish";
    const std::size_t sets = publish ? 4 : 2;
    if (allowed.size() < sets) {
        return {};
    }
    // Contiguous, equal shares (a leftover CPU stays unused so that neither side has more).
    const std::size_t share = allowed.size() / sets;
    std::vector<std::vector<int>> result(sets);
    for (std::size_t i = 0; i < sets * share; ++i) {
        result[i / share].push_back(allowed[i]);
    }
    return result;
}

// Each workload's design as the flag, its [[workload]] table, [run] or the default say; auto
// stays auto until the pilot. An explicit duet the CPUs cannot hold is refused here, before
// anything is checked out.
std::vector<WorkloadDesign> configured_designs(const RunOptions& options, const Config& config,
                                               const std::vector<int>& allowed) {
    std::vector<WorkloadDesign> designs;
    for (const WorkloadConfig& workload : config.workloads) {
        WorkloadDesign design;
        design.workload = workload.workload.name;
        design.repeat = workload.design.repeat.value_or(config.run.design.repeat.value_or(1));
        design.summary =
            workload.design.summary ? workload.design.summary : config.run.design.summary;
        std::optional<Schedule> schedule;
        if (options.schedule) {
            schedule = parse_schedule(*options.schedule);
            if (!schedule) {
                throw Error(
                    ErrorKind::usage,
                    fmt::format("--schedule '{}': use alternate, duet or auto", *options.schedule));
            }
        }
        design.chosen_by = "flag";
        if (!schedule) {
            schedule =
                workload.design.schedule ? workload.design.schedule : config.run.design.schedule;
            design.chosen_by = schedule ? "config" : "default";
        }
        design.schedule = schedule.value_or(Schedule::automatic);
        if (design.schedule != Schedule::alternate) {
            design.duet_cpus = duet_cpu_sets(workload, allowed);
        }
        if (design.schedule == Schedule::duet && design.duet_cpus.empty()) {
            const std::size_t needed = workload.kind == "publish" ? 4 : 2;
            throw Error(
                ErrorKind::usage,
                fmt::format("workload '{}': schedule \"duet\" needs {} CPUs ({}), abtool "
                            "may use {}",
                            design.workload, needed,
                            needed == 4 ? "a server and a load generator per side" : "one per side",
                            allowed.size()),
                design.chosen_by == "flag"
                    ? "use --schedule alternate or auto, or allow more CPUs (--cpus)"
                    : fmt::format("set schedule = \"alternate\" or \"auto\" in {}",
                                  config.file.string()));
        }
        designs.push_back(std::move(design));
    }
    return designs;
}

// A lower bound on the gated metrics before anything ran: a command gates wall_ms, a publish
// workload p50 latency and throughput, a hotpath at least one metric per listed name.
std::size_t expected_gated(const Config& config) {
    std::size_t gated = 0;
    for (const WorkloadConfig& workload : config.workloads) {
        if (const auto* hotpath = std::get_if<runners::HotpathWorkload>(&workload.workload.spec)) {
            gated += std::max<std::size_t>(1, hotpath->metrics.size());
        } else {
            gated += workload.kind == "publish" ? 2 : 1;
        }
    }
    return gated;
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

// Honest planning: rounds too few for any verdict to reach significance are raised to the
// smallest count that can (--strict: refused), before the first measured round.
void plan_reachable_rounds(Plan& plan, const Config& config, std::size_t gated, Strict strict,
                           const char* basis) {
    stats::Options options;
    options.confidence = plan.confidence;
    options.multiplicity = config.run.multiplicity;
    const auto looks = [&](std::size_t rounds) {
        return plan.max_rounds > rounds
                   ? stats::planned_looks(stats::AdaptivePolicy{rounds, plan.max_rounds})
                   : 1;
    };
    options.looks = looks(plan.rounds);
    std::size_t needed = stats::rounds_for_significance(gated, options);
    // Raising the rounds can change the number of interim looks: settle on a fixed point.
    for (int i = 0; i < 4 && needed > plan.rounds; ++i) {
        options.looks = looks(needed);
        needed = std::max(needed, stats::rounds_for_significance(gated, options));
    }
    if (needed <= plan.rounds) {
        return;
    }
    const double smallest = static_cast<double>(gated) * stats::smallest_p_value(plan.rounds);
    const std::string why = fmt::format(
        "{} rounds cannot reach significance for {} gated metric(s) ({}) under {}: the smallest "
        "p-value they allow is {:.3g}, not below {:.3g}",
        plan.rounds, gated, basis,
        config.run.multiplicity == stats::Multiplicity::holm   ? "Holm"
        : config.run.multiplicity == stats::Multiplicity::none ? "no correction"
                                                               : "Benjamini-Hochberg",
        std::min(1.0, smallest), (1 - plan.confidence) / std::max(1, looks(plan.rounds)));
    if (strict == Strict::yes) {
        throw Error(
            ErrorKind::usage, why,
            fmt::format("--strict refuses a plan that cannot pass: use --rounds {}", needed));
    }
    const std::string raised = fmt::format("{}; rounds raised to {}", why, needed);
    note(raised);
    plan.notes.push_back(raised);
    plan.rounds = needed;
    plan.max_rounds = std::max(plan.max_rounds, needed);
    plan.schedule = make_schedule(plan.max_rounds, plan.workloads, plan.seed);
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

void write_incomplete_summary(const std::filesystem::path& run_dir, std::size_t rounds) {
    write_json_file(run_dir / "summary.json", {{"complete", false}, {"rounds_completed", rounds}});
}

} // namespace

void write_summary(const std::filesystem::path& run_dir, const report::Report& report,
                   bool complete) {
    nlohmann::json rows = nlohmann::json::array();
    for (const report::Row& row : report.rows) {
        rows.push_back({{"primary_key", row.primary_key},
                        {"workload", row.workload},
                        {"case", row.case_name},
                        {"metric", row.metric},
                        {"verdict", report::to_string(row.verdict)},
                        {"delta_pct", row.comparison.delta_pct},
                        {"ci_low_pct", row.comparison.ci_low_pct},
                        {"ci_high_pct", row.comparison.ci_high_pct},
                        {"p_value", row.comparison.p_adjusted},
                        {"n", row.comparison.n}});
    }
    write_json_file(run_dir / "summary.json", {{"run_id", report.run_id},
                                               {"complete", complete},
                                               {"rounds_completed", report.rounds},
                                               {"threshold_pct", report.threshold_pct},
                                               {"warnings", report.warnings},
                                               {"rows", rows}});
}

Experiment run_experiment(const RunOptions& options) {
    const std::filesystem::path cwd =
        options.cwd.empty() ? std::filesystem::current_path() : options.cwd;
    worktrees::Repository repo = worktrees::Repository::open(cwd);
    const std::filesystem::path config_file = options.config.empty()
                                                  ? repo.root() / "abtool.toml"
                                                  : std::filesystem::absolute(cwd / options.config);

    Experiment experiment;
    Config& config = experiment.config;
    config = load_config(config_file);
    apply_overrides(options, config);

    // Everything that can be refused is refused before the first checkout.
    if (!options.calibrate) {
        ResultsStore(config.results_file).check_appendable();
        report::check_output_paths(options.outputs);
    }
    const std::vector<int> allowed = options.cpus.empty() ? allowed_cpus() : options.cpus;
    std::vector<WorkloadDesign> designs = configured_designs(options, config, allowed);

    // abtool's own outputs inside the repository stay as HEAD has them in CURRENT: otherwise the
    // results.csv this run appends would make the next run's CURRENT new content to check out
    // and build.
    std::vector<std::filesystem::path> own_outputs{config.results_file};
    for (const std::filesystem::path& path : report::output_files(options.outputs)) {
        own_outputs.push_back(path);
    }
    const worktrees::ResolvedRef ref_a = repo.resolve(options.ref_a, own_outputs);
    const worktrees::ResolvedRef ref_b = repo.resolve(options.ref_b, own_outputs);
    // (Both refs may be CURRENT: each warning once.)
    std::set<std::string> ref_warnings(ref_a.warnings.begin(), ref_a.warnings.end());
    ref_warnings.insert(ref_b.warnings.begin(), ref_b.warnings.end());
    for (const std::string& warning : ref_warnings) {
        std::fprintf(stderr, "abtool: warning: %s\n", warning.c_str());
    }

    Plan& plan = experiment.plan;
    plan.run_id = new_run_id();
    plan.timestamp = utc_timestamp();
    plan.abtool_version = ABTOOL_VERSION;
    plan.host = host_name();
    plan.mode = options.calibrate ? "calibrate" : "compare";
    plan.config_file = config.file.string();
    plan.config_text = config.text;
    for (const WorkloadConfig& workload : config.workloads) {
        plan.workloads.push_back(workload.workload.name);
    }
    plan.rounds_requested = config.run.rounds;
    plan.max_rounds_requested = config.run.max_rounds.value_or(config.run.rounds);
    plan.rounds = whole_blocks(plan.rounds_requested);
    plan.max_rounds = whole_blocks(plan.max_rounds_requested);
    const auto note_rounding = [](const char* key, std::size_t asked, std::size_t used) {
        if (asked != used) {
            note(fmt::format("{} = {} rounded up to {}: rounds come in balanced blocks of one AB "
                             "and one BA round",
                             key, asked, used));
        }
    };
    note_rounding("rounds", plan.rounds_requested, plan.rounds);
    if (config.run.max_rounds) {
        note_rounding("max_rounds", plan.max_rounds_requested, plan.max_rounds);
    }
    plan.warmup = config.run.warmup;
    plan.seed = config.run.seed;
    plan.threshold = config.run.threshold;
    plan.confidence = config.run.confidence;
    plan.cpus = options.cpus;
    plan.nice = options.nice;
    plan.env_padding = options.env_padding;
    plan.warnings = hygiene_warnings(options.cpus);
    plan.schedule = make_schedule(plan.max_rounds, plan.workloads, plan.seed);
    plan.designs = std::move(designs);
    plan.pilot_rounds = whole_blocks(config.run.pilot_rounds);
    // A first check on what the config alone tells (a lower bound on the gated metrics), so
    // that --strict refuses before anything is built.
    if (!options.calibrate) { // an A/A calibration reaches no verdict: nothing to raise
        plan_reachable_rounds(plan, config, expected_gated(config), options.strict,
                              "counted from the config");
    }

    experiment.run_dir = repo.state_dir() / "runs" / plan.run_id;
    const std::filesystem::path& run_dir = experiment.run_dir;
    std::filesystem::create_directories(run_dir);
    std::fprintf(stderr, "abtool: A = %s, B = %s\nabtool: run %s\n", describe_ref(ref_a).c_str(),
                 describe_ref(ref_b).c_str(), run_dir.string().c_str());

    // One checkout per content. Calibrate, and a duet (or a pilot that may choose one) of one
    // content against itself, need a second checkout of it: two runs at once must not share a
    // working directory, and A and B then differ only in where they live.
    const bool same_content = ref_b.content_id == ref_a.content_id;
    const bool concurrent =
        std::any_of(plan.designs.begin(), plan.designs.end(),
                    [](const WorkloadDesign& design) { return !design.duet_cpus.empty(); });
    worktrees::Worktree worktree_a = worktrees::provision(repo, ref_a, worktrees::Slot::primary);
    std::optional<worktrees::Worktree> worktree_b;
    if (options.calibrate || !same_content || concurrent) {
        worktree_b.emplace(worktrees::provision(
            repo, ref_b, same_content ? worktrees::Slot::secondary : worktrees::Slot::primary));
    }
    const worktrees::Worktree& checkout_b = worktree_b ? *worktree_b : worktree_a;
    for (const worktrees::Worktree* worktree : {&worktree_a, worktree_b ? &*worktree_b : nullptr}) {
        if (worktree != nullptr) {
            std::fprintf(stderr, "abtool: checkout %s: %s\n", describe_ref(worktree->ref()).c_str(),
                         worktree->checked_out_now() ? "checked out" : "reused");
        }
    }
    const auto planned_ref = [](const worktrees::ResolvedRef& ref,
                                const worktrees::Worktree& worktree) {
        return PlannedRef{ref.name, ref.commit, ref.content_id,
                          ref.kind == worktrees::RefKind::snapshot ? "snapshot" : "commit",
                          worktree.path().string()};
    };
    plan.a = planned_ref(ref_a, worktree_a);
    plan.b = planned_ref(ref_b, checkout_b);

    const RefSide side_a{Side::a, &worktree_a, describe_ref(ref_a)};
    const RefSide side_b{Side::b, &checkout_b, describe_ref(ref_b)};
    if (config.build.present()) {
        runners::BuildSpec build{config.build.argv, config.build.shell, config.build.env,
                                 config.build.timeout};
        std::set<std::string> built;
        for (const RefSide* side : {&side_a, &side_b}) {
            if (!built.insert(side->worktree->path().string()).second) {
                continue;
            }
            const runners::BuildOutcome outcome = runners::build(
                build, side->worktree->path(), side->worktree->meta_dir(),
                side->worktree->ref().content_id,
                run_dir / fmt::format("build-{}.log", to_string(side->side)), side->label,
                options.rebuild == RebuildRefs::yes ? runners::Rebuild::yes : runners::Rebuild::no);
            std::fprintf(stderr, "abtool: build %s: %s\n", side->label.c_str(),
                         outcome.skipped ? "up to date"
                                         : fmt::format("{:.1f} s", outcome.wall_s).c_str());
        }
    }
    write_json_file(run_dir / "plan.json", to_json(plan));

    SamplesWriter samples(run_dir / "samples.jsonl");
    RefRunner runner(side_a, side_b, options, plan.seed);
    Scheduler scheduler(
        plan, config, runner,
        [&](const std::vector<SampleRecord>& records) { samples.append(records); }, run_dir);

    AnalysisSettings& settings = experiment.settings;
    settings.threshold = plan.threshold;
    settings.confidence = plan.confidence;
    settings.multiplicity = config.run.multiplicity;
    try {
        scheduler.warm_up();
        if (options.calibrate) {
            experiment.calibrations = calibrate_designs(plan, config, scheduler);
            experiment.records = scheduler.records();
            experiment.report = analyze_records(plan, config, experiment.records, settings);
            experiment.report.run_dir = run_dir.string();
            write_summary(run_dir, experiment.report, true);
            return experiment;
        }
        choose_designs(plan, config, scheduler);
        // Now the gated metrics are known (from the warm-up and pilot runs): check again.
        if (const std::size_t gated = gated_series(scheduler.records()); gated > 0) {
            plan_reachable_rounds(plan, config, gated, options.strict, "seen in the warm-up runs");
        }
        write_json_file(run_dir / "plan.json", to_json(plan)); // the designs, as chosen

        const stats::AdaptivePolicy policy{plan.rounds, plan.max_rounds};
        settings.looks = plan.max_rounds > plan.rounds ? stats::planned_looks(policy) : 1;
        report::TerminalProgress progress;
        scheduler.run_rounds(
            [&](const std::vector<SampleRecord>& records, std::size_t rounds_done) {
                const report::Report interim = analyze_records(plan, config, records, settings);
                std::vector<stats::Comparison> comparisons;
                for (const report::Row& row : interim.rows) {
                    if (row.gated) {
                        comparisons.push_back(row.comparison);
                    }
                }
                return !stats::should_stop(comparisons, rounds_done, policy);
            },
            progress);
    } catch (const Error& error) {
        if (error.kind() == ErrorKind::interrupted || error.kind() == ErrorKind::workload) {
            write_incomplete_summary(run_dir, completed_rounds(plan, scheduler.records()));
        }
        throw;
    }

    experiment.records = scheduler.records();
    experiment.report = analyze_records(plan, config, experiment.records, settings);
    experiment.report.run_dir = run_dir.string();
    write_summary(run_dir, experiment.report, true);
    return experiment;
}

} // namespace abtool
