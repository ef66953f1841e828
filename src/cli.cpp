#include "src/cli.hpp"

#include "abtool/edit_distance.hpp"

#include "abtool/error.hpp"
#include "src/config.hpp"
#include "src/host.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

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
                    "FORMAT[=PATH]: gha-benchmark, bencher, benchstat, junit (repeatable)");
}

// What a run asks of the machine and the schedule, shared by run and calibrate so that an A/A
// calibration is measured exactly like the comparison it calibrates.
void add_measurement_options(CLI::App* app, std::optional<std::string>& schedule,
                             std::optional<std::int64_t>& seed, std::vector<int>& cpus, int& nice,
                             bool& no_padding) {
    app->add_option("--schedule", schedule,
                    "How rounds run, for every workload: alternate, duet or auto (a pilot "
                    "picks; overrides abtool.toml)");
    app->add_option("--seed", seed, "Schedule and bootstrap seed")->check(within(k_seed_limit));
    app->add_option("--cpus", cpus, "Pin workloads to these CPUs (e.g. --cpus 1)")->delimiter(',');
    app->add_option("--nice", nice, "Niceness added to workload processes (-20 to 19)");
    app->add_flag("--no-env-padding", no_padding, "Do not vary the environment size between runs");
}

// Exit 2 naming the flag, before anything is checked out: a CPU abtool may not use, or a
// negative niceness without the privilege, would otherwise fail every run of every workload.
void check_measurement_options(const std::vector<int>& cpus, int nice) {
    if (!cpus.empty()) {
        const std::vector<int> allowed = allowed_cpus();
        for (int cpu : cpus) {
            if (std::find(allowed.begin(), allowed.end(), cpu) == allowed.end()) {
                throw Error(
                    ErrorKind::usage,
                    fmt::format("--cpus: CPU {} is not one abtool may run on", cpu),
                    fmt::format("allowed CPUs (sched_getaffinity): {}", fmt::join(allowed, ",")));
            }
        }
    }
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

void add_run_options(CLI::App* app, RunOptions& options, bool& strict, bool& rebuild,
                     bool& no_padding) {
    app->add_option("--ref-a", options.ref_a, "Baseline ref (branch, tag, SHA, HEAD~N, CURRENT)");
    app->add_option("--ref-b", options.ref_b,
                    "Candidate ref (default: CURRENT, the working tree with its changes)");
    app->add_option("--config", options.config, "Config file (default: abtool.toml at the root)");
    app->add_option("--workload", options.workloads, "Run only this workload (repeatable)");
    app->add_option("--rounds", options.rounds, "Paired rounds (overrides [run] rounds)")
        ->check(within(k_rounds_limit));
    app->add_option("--max-rounds", options.max_rounds,
                    "Adaptive: add A/B/B/A blocks up to this many rounds while inconclusive")
        ->check(within(k_max_rounds_limit));
    app->add_option("--threshold", options.threshold, "Smallest change that counts: 2% or 0.02");
    app->add_option("--results", options.results, "results.csv to append to");
    add_measurement_options(app, options.schedule, options.seed, options.cpus, options.nice,
                            no_padding);
    app->add_flag("--strict", strict, "Inconclusive verdicts fail the gate");
    app->add_flag("--rebuild", rebuild, "Build both refs even when a build stamp matches");
    add_outputs(app, options.outputs);
}

} // namespace

Command parse_command_line(int argc, const char* const* argv) {
    CLI::App app(k_description, "abtool");
    app.set_version_flag("--version", "abtool " ABTOOL_VERSION);
    app.require_subcommand(0, 1);
    app.fallthrough(false);

    RunOptions top;
    RunOptions run;
    bool top_strict = false, top_rebuild = false, top_no_padding = false;
    bool run_strict = false, run_rebuild = false, run_no_padding = false;
    add_run_options(&app, top, top_strict, top_rebuild, top_no_padding);
    CLI::App* run_command = app.add_subcommand("run", "Compare two refs (the default command)");
    add_run_options(run_command, run, run_strict, run_rebuild, run_no_padding);

    AnalyzeOptions analyze;
    bool analyze_strict = false;
    CLI::App* analyze_command =
        app.add_subcommand("analyze", "Recompute verdicts from a run directory's samples");
    analyze_command->add_option("run_dir", analyze.run_dir, "A .abtool/runs/<run_id> directory")
        ->required();
    analyze_command->add_option("--threshold", analyze.threshold, "Another threshold: 2% or 0.02");
    analyze_command->add_option("--confidence", analyze.confidence, "Another confidence level");
    analyze_command->add_option("--summary", analyze.summary,
                                "Re-summarise each side's repeats per round: min or median");
    analyze_command->add_flag("--strict", analyze_strict, "Inconclusive verdicts fail the gate");
    add_outputs(analyze_command, analyze.outputs);

    CompareOptions compare;
    bool compare_strict = false;
    CLI::App* compare_command = app.add_subcommand(
        "compare", "Post-mortem: a run's rows against baseline rows in results.csv (unpaired)");
    compare_command->add_option("--baseline", compare.baseline,
                                "RUN_ID, REF or latest-pass (default)");
    compare_command->add_option("--candidate", compare.candidate, "RUN_ID or latest (default)");
    compare_command->add_option("--results", compare.results, "results.csv to read");
    compare_command->add_option("--threshold", compare.threshold, "Threshold: 2% or 0.02");
    compare_command->add_flag("--strict", compare_strict, "Inconclusive verdicts fail the gate");
    add_outputs(compare_command, compare.outputs);

    HistoryOptions history;
    CLI::App* history_command =
        app.add_subcommand("history", "A benchmark's trend over results.csv");
    history_command->add_option("--key", history.key, "Primary key");
    history_command->add_option("--workload", history.workload, "Workload name");
    history_command->add_option("--case", history.case_name, "Case name");
    history_command->add_option("--metric", history.metric, "Metric name");
    history_command->add_option("--results", history.results, "results.csv to read");
    history_command->add_option("--limit", history.limit, "Show at most this many runs");

    CalibrateOptions calibrate;
    CLI::App* calibrate_command = app.add_subcommand(
        "calibrate", "A/A: the ref against itself; each case's noise floor and rounds needed");
    calibrate_command->add_option("--ref", calibrate.ref, "Ref to calibrate (default HEAD)");
    calibrate_command->add_option("--rounds", calibrate.rounds, "Paired rounds")
        ->check(within(k_rounds_limit));
    calibrate_command->add_option("--workload", calibrate.workloads, "Only this workload");
    calibrate_command->add_option("--config", calibrate.config, "Config file");
    bool calibrate_no_padding = false;
    add_measurement_options(calibrate_command, calibrate.schedule, calibrate.seed, calibrate.cpus,
                            calibrate.nice, calibrate_no_padding);

    DemoOptions demo;
    CLI::App* demo_command = app.add_subcommand(
        "demo", "The whole pipeline on the bundled example with a known regression");
    demo_command->add_option("--dir", demo.dir, "Scratch directory (default: a new temp dir)");

    GcCommandOptions gc;
    CLI::App* gc_command = app.add_subcommand("gc", "Remove worktrees and builds not used lately");
    gc_command->add_option("--older-than", gc.older_than, "Age, e.g. 14d (default), 12h");
    gc_command->add_flag("--dry-run", gc.dry_run, "Only list what would be removed");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& help) {
        app.exit(help); // prints the help of the subcommand that was asked for
        return ShowedHelp{};
    } catch (const CLI::CallForVersion&) {
        std::puts("abtool " ABTOOL_VERSION);
        return ShowedHelp{};
    } catch (const CLI::ParseError& error) {
        // A misspelt command ("analize") reaches CLI11 as an unexpected argument: name the
        // command it was meant to be, as config keys do.
        if (argc > 1 && argv[1][0] != '-') {
            const std::string word = argv[1];
            for (const CLI::App* command : app.get_subcommands({})) {
                const std::string& name = command->get_name();
                if (name != word && edit_distance(word, name) <= 2) {
                    throw Error(
                        ErrorKind::usage,
                        fmt::format("unknown command '{}' (did you mean '{}'?)", word, name),
                        "see abtool --help");
                }
            }
        }
        throw Error(ErrorKind::usage, error.what(), "see abtool --help");
    }

    const auto finish_run = [](RunOptions options, bool strict, bool rebuild, bool no_padding) {
        if (options.ref_a.empty()) {
            throw Error(ErrorKind::usage, "--ref-a is required",
                        "e.g. abtool --ref-a main --ref-b CURRENT");
        }
        if (options.ref_b.empty()) {
            options.ref_b = "CURRENT";
        }
        options.strict = strict ? Strict::yes : Strict::no;
        options.rebuild = rebuild ? RebuildRefs::yes : RebuildRefs::no;
        options.env_padding = !no_padding;
        check_measurement_options(options.cpus, options.nice);
        return options;
    };
    if (run_command->parsed()) {
        return finish_run(run, run_strict, run_rebuild, run_no_padding);
    }
    if (analyze_command->parsed()) {
        analyze.strict = analyze_strict ? Strict::yes : Strict::no;
        return analyze;
    }
    if (compare_command->parsed()) {
        compare.strict = compare_strict ? Strict::yes : Strict::no;
        return compare;
    }
    if (history_command->parsed()) {
        if (history.limit < 1) {
            throw Error(ErrorKind::usage,
                        fmt::format("--limit must be at least 1, not {}", history.limit));
        }
        return history;
    }
    if (calibrate_command->parsed()) {
        calibrate.env_padding = !calibrate_no_padding;
        check_measurement_options(calibrate.cpus, calibrate.nice);
        return calibrate;
    }
    if (demo_command->parsed()) {
        return demo;
    }
    if (gc_command->parsed()) {
        return gc;
    }
    return finish_run(top, top_strict, top_rebuild, top_no_padding);
}

} // namespace abtool
