#include "src/session.hpp"

#include "abtool/error.hpp"
#include "abtool/runners.hpp"
#include "src/analysis.hpp"
#include "src/host.hpp"
#include "src/report/outputs.hpp"
#include "src/results_store.hpp"
#include "src/run_store.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <unistd.h>

namespace abtool {

namespace {

using Clock = std::chrono::steady_clock;

std::string short_id(const std::string& id) {
    return id.substr(0, 7);
}

std::string describe_ref(const worktrees::ResolvedRef& ref) {
    if (ref.kind == worktrees::RefKind::snapshot) {
        return fmt::format("ref '{}' (snapshot {} on {})", ref.name, short_id(ref.content_id),
                           short_id(ref.commit));
    }
    return fmt::format("ref '{}' ({})", ref.name, short_id(ref.commit));
}

std::string format_duration(double seconds) {
    const auto total = static_cast<long long>(seconds + 0.5);
    return total >= 3600 ? fmt::format("{}:{:02}:{:02}", total / 3600, total / 60 % 60, total % 60)
                         : fmt::format("{}:{:02}", total / 60, total % 60);
}

// Round i of n, elapsed and remaining time, and what runs now: a rewritten line on a terminal,
// one line per round otherwise (CI logs, pipes).
class Progress {
public:
    explicit Progress(std::size_t rounds)
        : m_rounds(rounds), m_start(Clock::now()),
          m_live(isatty(STDERR_FILENO) != 0 && std::getenv("CI") == nullptr) {}

    void set_rounds(std::size_t rounds) { m_rounds = rounds; }

    void running(std::size_t round, const std::string& what) {
        if (m_live) {
            std::fprintf(stderr, "\r\033[K%s  %s", status(round - 1).c_str(), what.c_str());
            std::fflush(stderr);
        }
    }

    void round_done(std::size_t round) {
        if (!m_live) {
            std::fprintf(stderr, "%s\n", status(round).c_str());
        }
    }

    void finish() {
        if (m_live) {
            std::fprintf(stderr, "\r\033[K");
        }
        std::fprintf(stderr, "rounds done in %s\n", format_duration(elapsed()).c_str());
    }

private:
    double elapsed() const { return std::chrono::duration<double>(Clock::now() - m_start).count(); }

    std::string status(std::size_t done) const {
        std::string remaining = "?";
        if (done > 0) {
            remaining = format_duration(elapsed() / static_cast<double>(done) *
                                        static_cast<double>(m_rounds - std::min(done, m_rounds)));
        }
        return fmt::format("round {}/{}  {} elapsed, ~{} left", done, m_rounds,
                           format_duration(elapsed()), remaining);
    }

    std::size_t m_rounds;
    Clock::time_point m_start;
    bool m_live;
};

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

std::string command_of(const runners::Workload& workload) {
    return std::visit(
        [](const auto& spec) {
            using Spec = std::decay_t<decltype(spec)>;
            if constexpr (std::is_same_v<Spec, runners::PublishWorkload>) {
                return fmt::format("{}", fmt::join(spec.server, " "));
            } else {
                return spec.shell ? *spec.shell : fmt::format("{}", fmt::join(spec.argv, " "));
            }
        },
        workload.spec);
}

struct RefSide {
    Side side;
    const worktrees::Worktree* worktree;
    std::string label;
};

[[noreturn]] void interrupted(const std::filesystem::path& run_dir, std::size_t rounds_done) {
    nlohmann::json summary{{"complete", false}, {"rounds_completed", rounds_done}};
    write_json_file(run_dir / "summary.json", summary);
    throw Error(ErrorKind::interrupted,
                fmt::format("interrupted after {} complete round(s); samples kept in {}",
                            rounds_done, (run_dir / "samples.jsonl").string()),
                "nothing was appended to results.csv; `abtool analyze " + run_dir.string() +
                    "` reads the partial samples");
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
            std::fprintf(stderr,
                         "abtool: note: %s = %zu rounded up to %zu: rounds come in balanced "
                         "blocks of one AB and one BA round\n",
                         key, asked, used);
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

    experiment.run_dir = repo.state_dir() / "runs" / plan.run_id;
    const std::filesystem::path& run_dir = experiment.run_dir;
    std::filesystem::create_directories(run_dir);
    std::fprintf(stderr, "abtool: A = %s, B = %s\nabtool: run %s\n", describe_ref(ref_a).c_str(),
                 describe_ref(ref_b).c_str(), run_dir.string().c_str());

    // One checkout per content; calibrate needs a second checkout of the same content so that A
    // and B differ only in where they live.
    worktrees::Worktree worktree_a = worktrees::provision(repo, ref_a, worktrees::Slot::primary);
    std::optional<worktrees::Worktree> worktree_b;
    if (options.calibrate || ref_b.content_id != ref_a.content_id) {
        worktree_b.emplace(worktrees::provision(repo, ref_b,
                                                options.calibrate ? worktrees::Slot::secondary
                                                                  : worktrees::Slot::primary));
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

    const std::vector<RefSide> sides{{Side::a, &worktree_a, describe_ref(ref_a)},
                                     {Side::b, &checkout_b, describe_ref(ref_b)}};
    if (config.build.present()) {
        runners::BuildSpec build{config.build.argv, config.build.shell, config.build.env,
                                 config.build.timeout};
        std::set<std::string> built;
        for (const RefSide& side : sides) {
            if (!built.insert(side.worktree->path().string()).second) {
                continue;
            }
            const runners::BuildOutcome outcome = runners::build(
                build, side.worktree->path(), side.worktree->meta_dir(),
                side.worktree->ref().content_id,
                run_dir / fmt::format("build-{}.log", to_string(side.side)), side.label,
                options.rebuild == RebuildRefs::yes ? runners::Rebuild::yes : runners::Rebuild::no);
            std::fprintf(stderr, "abtool: build %s: %s\n", side.label.c_str(),
                         outcome.skipped ? "up to date"
                                         : fmt::format("{:.1f} s", outcome.wall_s).c_str());
        }
    }
    write_json_file(run_dir / "plan.json", to_json(plan));

    SamplesWriter samples(run_dir / "samples.jsonl");
    std::vector<SampleRecord> records;
    SeededGenerator padding(plan.seed ^ 0xabf00d5eedULL);
    const auto run_once = [&](const WorkloadConfig& workload, const RefSide& side,
                              std::size_t round) {
        runners::RunContext context;
        context.worktree = side.worktree->path();
        context.cpus = options.cpus;
        context.nice = options.nice;
        context.label = side.label;
        if (options.env_padding) {
            // A random-length variable moves the stack's alignment from run to run, so neither
            // ref keeps a lucky or unlucky layout (Mytkowicz et al., ASPLOS 2009; hyperfine).
            context.env["ABTOOL_ENV_PADDING"] = std::string(padding.below(4096), 'x');
        }
        const runners::RunResult result =
            runners::run_workload(with_worktree(workload.workload, context.worktree), context);
        // A run that finished is kept even when the interrupt came just after it: samples.jsonl
        // holds every finished run. One that was cut short is neither a sample nor an error.
        // Rounds counted from the samples, as analyze counts them: a stop after a round's last
        // run has completed that round.
        if (result.interrupted) {
            interrupted(run_dir, completed_rounds(plan, records));
        }
        std::vector<SampleRecord> run_records =
            records_of(round, side.side, workload.workload.name, result);
        samples.append(run_records);
        records.insert(records.end(), run_records.begin(), run_records.end());
        if (runners::stop_requested()) {
            interrupted(run_dir, completed_rounds(plan, records));
        }
        return result;
    };

    for (const WorkloadConfig& workload : config.workloads) {
        for (const RefSide& side : sides) {
            std::optional<std::string> last_error;
            std::size_t failures = 0;
            for (std::size_t i = 0; i < plan.warmup; ++i) {
                const runners::RunResult result = run_once(workload, side, 0);
                if (result.error) {
                    ++failures;
                    last_error = result.error;
                }
            }
            if (plan.warmup > 0 && failures == plan.warmup) {
                write_json_file(run_dir / "summary.json",
                                {{"complete", false}, {"rounds_completed", 0}});
                throw Error(
                    ErrorKind::workload,
                    fmt::format("workload '{}' failed every warm-up run on {}: `{}`: {}",
                                workload.workload.name, side.label, command_of(workload.workload),
                                *last_error),
                    fmt::format("samples and errors: {}", (run_dir / "samples.jsonl").string()));
            }
        }
    }

    std::map<std::string, const WorkloadConfig*> by_name;
    for (const WorkloadConfig& workload : config.workloads) {
        by_name[workload.workload.name] = &workload;
    }
    AnalysisSettings& settings = experiment.settings;
    settings.threshold = plan.threshold;
    settings.confidence = plan.confidence;
    settings.multiplicity = config.run.multiplicity;
    const stats::AdaptivePolicy policy{plan.rounds, plan.max_rounds};
    settings.looks = plan.max_rounds > plan.rounds ? stats::planned_looks(policy) : 1;

    Progress progress(plan.rounds);
    std::size_t target = plan.rounds;
    for (const PlannedRound& round : plan.schedule) {
        if (round.index > target) {
            // Adaptive: past the planned rounds, add a block only while some verdict is open.
            const report::Report interim = analyze_records(plan, config, records, settings);
            std::vector<stats::Comparison> comparisons;
            for (const report::Row& row : interim.rows) {
                if (row.gated) {
                    comparisons.push_back(row.comparison);
                }
            }
            if (stats::should_stop(comparisons, target, policy)) {
                break;
            }
            target += 2;
            progress.set_rounds(std::min(target, plan.max_rounds));
        }
        for (const std::string& name : round.workloads) {
            const WorkloadConfig& workload = *by_name.at(name);
            const RefSide& first = round.order == stats::Order::ab ? sides[0] : sides[1];
            const RefSide& second = round.order == stats::Order::ab ? sides[1] : sides[0];
            for (const RefSide* side : {&first, &second}) {
                progress.running(round.index,
                                 fmt::format("{} {}", side->side == Side::a ? "A" : "B", name));
                run_once(workload, *side, round.index);
            }
        }
        progress.round_done(round.index);
    }
    progress.finish();

    // A workload that failed every measured run on a side has nothing to compare: that is a
    // workload that does not run (exit 3), not a gate that passes on no evidence.
    for (const WorkloadConfig& workload : config.workloads) {
        for (const RefSide& side : sides) {
            std::size_t failed = 0;
            const std::string* last_error = nullptr;
            std::set<std::size_t> rounds_seen;
            for (const SampleRecord& record : records) {
                if (record.round == 0 || record.side != side.side ||
                    record.workload != workload.workload.name) {
                    continue;
                }
                if (record.error) {
                    ++failed;
                    last_error = &*record.error;
                }
                rounds_seen.insert(record.round);
            }
            const std::size_t runs = rounds_seen.size();
            if (runs > 0 && failed >= runs && last_error != nullptr) {
                write_json_file(run_dir / "summary.json",
                                {{"complete", false}, {"rounds_completed", runs}});
                throw Error(
                    ErrorKind::workload,
                    fmt::format("workload '{}' failed all {} measured run(s) on {}: `{}`: {}",
                                workload.workload.name, runs, side.label,
                                command_of(workload.workload), *last_error),
                    fmt::format("nothing was appended to results.csv; samples and errors: {}",
                                (run_dir / "samples.jsonl").string()));
            }
        }
    }

    experiment.report = analyze_records(plan, config, records, settings);
    experiment.report.run_dir = run_dir.string();
    write_summary(run_dir, experiment.report, true);
    return experiment;
}

} // namespace abtool
