#include "src/cli/cli.hpp"

#include "abtool/edit_distance.hpp"

#include "abtool/error.hpp"
#include "src/core/config.hpp"
#include "src/core/host.hpp"
#include "src/report/outputs.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <functional>
#include <utility>
#include <vector>

namespace abtool {

namespace {

constexpr const char* k_description =
    "abtool: is ref B slower (or faster) than ref A, by how much, and how sure are we?\n"
    "Checks out both refs as worktrees, builds them, runs the workloads of abtool.toml in\n"
    "interleaved A/B/B/A rounds and gates on paired statistics.";

// A count flag checked against the limits of its abtool.toml key (config.hpp), on its text, so
// that "-1" or "18446744073709551615" is named as written rather than wrapped or clamped.
CLI::Validator within(const CountLimit& limit) {
    return CLI::Validator(
        [limit](std::string& text) { return flag_count_error(limit, text).value_or(""); },
        fmt::format("{}-{}", limit.min, limit.max));
}

void add_outputs(CLI::App* app, OutputOptions& outputs) {
    app->add_option("--json", outputs.json, "Write the report as JSON to FILE");
    app->add_option("--markdown", outputs.markdown,
                    "Write a Markdown report to FILE (for $GITHUB_STEP_SUMMARY and PR comments)");
    app->add_option("--html", outputs.html, "Write a self-contained HTML report to FILE");
    app->add_option("--export", outputs.exports,
                    "FORMAT[=PATH]: " + report::export_format_names() + " (repeatable)");
}

// What a run asks of the machine and the schedule, shared by run and calibrate so that an A/A
// calibration is measured exactly like the comparison it calibrates.
void add_measurement_options(CLI::App* app, MeasurementOptions& options, bool& no_padding) {
    app->add_option("--schedule", options.schedule,
                    "How rounds run, for every workload: alternate, duet or auto (a pilot "
                    "picks; overrides abtool.toml)");
    app->add_option("--seed", options.seed, "Schedule and bootstrap seed")
        ->check(within(k_seed_limit));
    app->add_option("--cpus", options.cpus, "Pin workloads to these CPUs (e.g. --cpus 1)")
        ->delimiter(',');
    app->add_option("--nice", options.nice, "Niceness added to workload processes (-20 to 19)");
    app->add_flag("--no-env-padding", no_padding, "Do not vary the environment size between runs");
    app->add_option("--target", options.target,
                    "Where the workloads run: a target id of targets.json (default: local)");
    app->add_option("--targets", options.targets,
                    "The targets registry (default: targets.json beside abtool.toml)");
}

// Exit 2 naming the flag, before anything is checked out: a CPU abtool may not use, or a
// negative niceness without the privilege, would otherwise fail every run of every workload.
void check_measurement_options(MeasurementOptions& options, bool no_padding) {
    options.env_padding = !no_padding;
    if (!options.cpus.empty()) {
        const std::vector<int> allowed = allowed_cpus();
        for (int cpu : options.cpus) {
            if (std::find(allowed.begin(), allowed.end(), cpu) == allowed.end()) {
                throw Error(
                    ErrorKind::usage,
                    fmt::format("--cpus: CPU {} is not one abtool may run on", cpu),
                    fmt::format("allowed CPUs (sched_getaffinity): {}", fmt::join(allowed, ",")));
            }
        }
    }
    const int nice = options.nice;
    if (nice < -20 || nice > 19) {
        throw Error(ErrorKind::usage, fmt::format("--nice {} is out of range (-20 to 19)", nice));
    }
    if (!niceness_allowed(nice)) {
        throw Error(
            ErrorKind::usage,
            fmt::format("--nice {}: lowering niceness needs privilege this process lacks", nice),
            "run as root, grant CAP_SYS_NICE, raise RLIMIT_NICE, or use --nice 0 or more");
    }
}

// The options of a run: at the top level (abtool --ref-a ...) and as `abtool run`.
struct RunCommand {
    RunOptions options;
    bool strict = false, rebuild = false, no_padding = false;

    void add_to(CLI::App* app) {
        app->add_option("--ref-a", options.ref_a,
                        "Baseline ref (branch, tag, SHA, HEAD~N, CURRENT)");
        app->add_option("--ref-b", options.ref_b,
                        "Candidate ref (default: CURRENT, the working tree with its changes)");
        app->add_option("--config", options.config,
                        "Config file (default: abtool.toml at the root)");
        app->add_option("--workload", options.workloads, "Run only this workload (repeatable)");
        app->add_option("--rounds", options.rounds, "Paired rounds (overrides [run] rounds)")
            ->check(within(k_rounds_limit));
        app->add_option("--max-rounds", options.max_rounds,
                        "Adaptive: add A/B/B/A blocks up to this many rounds while inconclusive")
            ->check(within(k_max_rounds_limit));
        app->add_option("--threshold", options.threshold,
                        "Smallest change that counts: 2% or 0.02");
        app->add_option("--results", options.results, "results.csv to append to");
        app->add_option("--shard", options.shard,
                        "K/N: run the K-th of N deterministic shares of the workloads and cases, "
                        "appending nothing (abtool merge joins the shards)");
        add_measurement_options(app, options.measurement, no_padding);
        app->add_flag("--strict", strict, "Inconclusive verdicts fail the gate");
        app->add_flag("--rebuild", rebuild, "Build both refs even when a build stamp matches");
        add_outputs(app, options.outputs);
        // Internal: what the abtool on this side of ssh passes to the target's (remote.hpp).
        app->add_option("--as-target", options.as_target)->group("");
        app->add_option("--run-id", options.run_id)->group("");
        app->add_option("--ref-a-name", options.as_target_names.first)->group("");
        app->add_option("--ref-b-name", options.as_target_names.second)->group("");
    }

    RunOptions finish() {
        if (options.ref_a.empty()) {
            throw Error(ErrorKind::usage, "--ref-a is required",
                        "e.g. abtool --ref-a main --ref-b CURRENT");
        }
        if (options.ref_b.empty()) {
            options.ref_b = "CURRENT";
        }
        options.strict = strict ? Strict::yes : Strict::no;
        options.rebuild = rebuild ? RebuildRefs::yes : RebuildRefs::no;
        check_measurement_options(options.measurement, no_padding);
        if (options.run_id &&
            (options.run_id->empty() ||
             !std::all_of(options.run_id->begin(), options.run_id->end(), [](char c) {
                 return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-';
             }))) {
            throw Error(ErrorKind::usage, fmt::format("--run-id '{}': letters, digits and '-' "
                                                      "only",
                                                      *options.run_id));
        }
        return options;
    }
};

struct AnalyzeCommand {
    AnalyzeOptions options;
    bool strict = false;

    void add_to(CLI::App* app) {
        app->add_option("run_dir", options.run_dir, "A .abtool/runs/<run_id> directory")
            ->required();
        app->add_option("--threshold", options.threshold, "Another threshold: 2% or 0.02");
        app->add_option("--confidence", options.confidence, "Another confidence level");
        app->add_option("--summary", options.summary,
                        "Re-summarise each side's repeats per round: min or median");
        app->add_flag("--strict", strict, "Inconclusive verdicts fail the gate");
        add_outputs(app, options.outputs);
    }
    AnalyzeOptions finish() {
        options.strict = strict ? Strict::yes : Strict::no;
        return options;
    }
};

struct MergeCommand {
    MergeOptions options;
    bool strict = false;

    void add_to(CLI::App* app) {
        app->add_option("run_dirs", options.run_dirs,
                        "Every shard's run directory (abtool run --shard K/N)")
            ->required();
        app->add_option("--results", options.results,
                        "results.csv to append to (default: the config's)");
        app->add_flag("--strict", strict, "Inconclusive verdicts fail the gate");
        add_outputs(app, options.outputs);
    }
    MergeOptions finish() {
        options.strict = strict ? Strict::yes : Strict::no;
        return options;
    }
};

struct CompareCommand {
    CompareOptions options;
    bool strict = false;

    void add_to(CLI::App* app) {
        app->add_option("--baseline", options.baseline, "RUN_ID, REF or latest-pass (default)");
        app->add_option("--candidate", options.candidate, "RUN_ID or latest (default)");
        app->add_option("--results", options.results, "results.csv to read");
        app->add_option("--threshold", options.threshold, "Threshold: 2% or 0.02");
        app->add_flag("--strict", strict, "Inconclusive verdicts fail the gate");
        add_outputs(app, options.outputs);
    }
    CompareOptions finish() {
        options.strict = strict ? Strict::yes : Strict::no;
        return options;
    }
};

struct HistoryCommand {
    HistoryOptions options;

    void add_to(CLI::App* app) {
        app->add_option("--key", options.key, "Primary key");
        app->add_option("--workload", options.workload, "Workload name");
        app->add_option("--case", options.case_name, "Case name");
        app->add_option("--metric", options.metric, "Metric name");
        app->add_option("--results", options.results, "results.csv to read");
        app->add_option("--limit", options.limit, "Show at most this many runs");
    }
    HistoryOptions finish() const {
        if (options.limit < 1) {
            throw Error(ErrorKind::usage,
                        fmt::format("--limit must be at least 1, not {}", options.limit));
        }
        return options;
    }
};

struct CalibrateCommand {
    CalibrateOptions options;
    bool no_padding = false;

    void add_to(CLI::App* app) {
        app->add_option("--ref", options.ref, "Ref to calibrate (default HEAD)");
        app->add_option("--rounds", options.rounds, "Paired rounds")->check(within(k_rounds_limit));
        app->add_option("--workload", options.workloads, "Only this workload");
        app->add_option("--config", options.config, "Config file");
        add_measurement_options(app, options.measurement, no_padding);
    }
    CalibrateOptions finish() {
        check_measurement_options(options.measurement, no_padding);
        return options;
    }
};

struct DemoCommand {
    DemoOptions options;

    void add_to(CLI::App* app) {
        app->add_option("--dir", options.dir, "Scratch directory (default: a new temp dir)");
    }
    DemoOptions finish() const { return options; }
};

struct GcCommand {
    GcCommandOptions options;

    void add_to(CLI::App* app) {
        app->add_option("--older-than", options.older_than, "Age, e.g. 14d (default), 12h");
        app->add_flag("--dry-run", options.dry_run, "Only list what would be removed");
    }
    GcCommandOptions finish() const { return options; }
};

struct BisectCommand {
    BisectOptions options;
    bool no_padding = false, rebuild = false;

    void add_to(CLI::App* app) {
        app->add_option("--good", options.good, "A ref without the regression")->required();
        app->add_option("--bad", options.bad, "A later ref with it (on --good's history)")
            ->required();
        app->add_option("--workload", options.workload,
                        "Bisect this workload (default: the worst regressed gated case's)");
        app->add_option("--case", options.case_name, "Bisect this case");
        app->add_option("--metric", options.metric, "Bisect this metric");
        app->add_option("--config", options.config,
                        "Config file (default: abtool.toml at the root)");
        app->add_option("--rounds", options.rounds, "Paired rounds of each comparison")
            ->check(within(k_rounds_limit));
        app->add_option("--max-rounds", options.max_rounds,
                        "Add rounds up to this many while a comparison is inconclusive "
                        "(default: 3 times the rounds)")
            ->check(within(k_max_rounds_limit));
        app->add_option("--threshold", options.threshold,
                        "Smallest change that counts between the endpoints: 2% or 0.02");
        add_measurement_options(app, options.measurement, no_padding);
        app->add_option("--json", options.json, "Write the bisect log as JSON to FILE");
        app->add_option("--markdown", options.markdown, "Write a Markdown summary to FILE");
        app->add_flag("--record", options.record,
                      "Append every comparison's rows to results.csv (default: none)");
        app->add_flag("--resume", options.resume,
                      "Continue an interrupted bisect of the same endpoints from its log");
        app->add_flag("--rebuild", rebuild, "Build every ref even when a build stamp matches");
    }
    BisectOptions finish() {
        options.rebuild = rebuild ? RebuildRefs::yes : RebuildRefs::no;
        check_measurement_options(options.measurement, no_padding);
        return options;
    }
};

// CLI11's parse error as abtool's: a misspelt command ("analize") reaches CLI11 as an unexpected
// argument, so name the command it was meant to be, as config keys do.
[[noreturn]] void usage_error(const CLI::App& app, const CLI::ParseError& error, int argc,
                              const char* const* argv) {
    if (argc > 1 && argv[1][0] != '-') {
        const std::string word = argv[1];
        for (const CLI::App* command : app.get_subcommands({})) {
            const std::string& name = command->get_name();
            if (name != word && edit_distance(word, name) <= 2) {
                throw Error(ErrorKind::usage,
                            fmt::format("unknown command '{}' (did you mean '{}'?)", word, name),
                            "see abtool --help");
            }
        }
    }
    throw Error(ErrorKind::usage, error.what(), "see abtool --help");
}

} // namespace

Command parse_command_line(int argc, const char* const* argv) {
    CLI::App app(k_description, "abtool");
    app.set_version_flag("--version", "abtool " ABTOOL_VERSION);
    app.require_subcommand(0, 1);
    app.fallthrough(false);

    RunCommand top, run;
    AnalyzeCommand analyze;
    CompareCommand compare;
    HistoryCommand history;
    CalibrateCommand calibrate;
    DemoCommand demo;
    GcCommand gc;
    BisectCommand bisect;
    MergeCommand merge;
    top.add_to(&app);
    // Each subcommand, and how its options are finished once it is the one parsed.
    std::vector<std::pair<const CLI::App*, std::function<Command()>>> subcommands;
    const auto add = [&](auto& command, const char* name, const char* description) {
        CLI::App* sub = app.add_subcommand(name, description);
        command.add_to(sub);
        subcommands.emplace_back(sub, [&command]() -> Command { return command.finish(); });
    };
    add(run, "run", "Compare two refs (the default command)");
    add(analyze, "analyze", "Recompute verdicts from a run directory's samples");
    add(compare, "compare",
        "Post-mortem: a run's rows against baseline rows in results.csv (unpaired)");
    add(history, "history", "A benchmark's trend over results.csv");
    add(calibrate, "calibrate",
        "A/A: the ref against itself; each case's noise floor and rounds needed");
    add(demo, "demo", "The whole pipeline on the bundled example with a known regression");
    add(gc, "gc", "Remove worktrees and builds not used lately");
    add(bisect, "bisect",
        "The first-parent commit that made a case slower, each probe paired against both ends");
    add(merge, "merge", "Shards of one comparison (--shard K/N) as one run: one gate, one append");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& help) {
        app.exit(help); // prints the help of the subcommand that was asked for
        return ShowedHelp{};
    } catch (const CLI::CallForVersion&) {
        std::puts("abtool " ABTOOL_VERSION);
        return ShowedHelp{};
    } catch (const CLI::ParseError& error) {
        usage_error(app, error, argc, argv);
    }
    for (const auto& [sub, finish] : subcommands) {
        if (sub->parsed()) {
            return finish();
        }
    }
    return top.finish();
}

} // namespace abtool
