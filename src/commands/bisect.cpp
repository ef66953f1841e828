// abtool bisect: confirms the regression between --good and --bad with a normal paired run, then
// walks the first-parent commits between them (experiment/bisect_search.hpp) with two normal
// paired runs per probe. Every comparison is a run directory of its own; the log
// .abtool/bisect/<good>..<bad>.json ties them together, is rewritten after each comparison, and
// lets --resume reuse them after an interrupt.
#include "src/commands/bisect_log.hpp"
#include "src/commands/commands.hpp"

#include "abtool/error.hpp"
#include "abtool/worktrees.hpp"
#include "src/experiment/bisect_search.hpp"
#include "src/experiment/session.hpp"
#include "src/report/outputs.hpp"
#include "src/results/results_store.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>

namespace abtool {

namespace {

using bisect::PairOutcome;

// The row of the bisected workload, case and metric; nullptr when the report has none.
const report::Row* find_row(const report::Report& report, const BisectSelection& selection) {
    for (const report::Row& row : report.rows) {
        if (row.workload == selection.workload && row.case_name == selection.case_name &&
            row.metric == selection.metric) {
            return &row;
        }
    }
    return nullptr;
}

PairOutcome outcome_of(const Experiment& experiment, const BisectSelection& selection,
                       PairOutcome outcome) {
    const report::Row* row = find_row(experiment.report, selection);
    outcome.run_dir = experiment.run_dir.path().string();
    if (row == nullptr || row->comparison.n == 0) {
        outcome.failure =
            fmt::format("{} has no paired value in {}", describe(selection), outcome.run_dir);
        return outcome;
    }
    outcome.ran = true;
    outcome.verdict = row->comparison.verdict;
    outcome.delta_pct = row->comparison.delta_pct;
    outcome.ci_low_pct = row->comparison.ci_low_pct;
    outcome.ci_high_pct = row->comparison.ci_high_pct;
    outcome.rounds = row->comparison.n;
    return outcome;
}

void record_rows(const Experiment& experiment) {
    const std::vector<ResultRow> rows = rows_from_report(experiment.report);
    ResultsStore(experiment.config.results_file).append(rows);
}

std::string short_id(const std::string& commit) {
    return commit.substr(0, 12);
}

// The real Prober: each comparison a normal run of the bisected workload alone, remembered in
// the log (and taken from it on --resume).
class LiveProber : public bisect::Prober {
public:
    LiveProber(const RunOptions& base, const BisectOptions& options, BisectLog& log)
        : m_base(base), m_options(options), m_log(log) {}

    PairOutcome compare(const std::string& a, const std::string& b, double threshold,
                        bisect::Rounds rounds) override {
        if (const PairOutcome* known = m_log.find(a, b, threshold, rounds)) {
            std::fprintf(stderr, "abtool: bisect: %s -> %s at %.3g%%: from the log (%s)\n",
                         short_id(a).c_str(), short_id(b).c_str(), threshold * 100,
                         known->run_dir.c_str());
            return *known;
        }
        RunOptions options = m_base;
        options.ref_a = a;
        options.ref_b = b;
        options.threshold = fmt::format("{:.17g}", threshold);
        options.threshold_everywhere = true;
        options.adaptive = rounds == bisect::Rounds::adaptive;
        PairOutcome outcome;
        outcome.a = a;
        outcome.b = b;
        outcome.threshold = threshold;
        outcome.rounds_kind = rounds;
        try {
            const Experiment experiment = run_experiment(options);
            outcome = outcome_of(experiment, m_log.selection, outcome);
            if (m_options.record) {
                record_rows(experiment);
            }
        } catch (const Error& error) {
            if (error.kind() != ErrorKind::build && error.kind() != ErrorKind::workload) {
                throw;
            }
            outcome.failure = error.what();
        }
        std::fprintf(stdout, "  %s -> %s: %s\n", short_id(a).c_str(), short_id(b).c_str(),
                     describe(outcome).c_str());
        std::fflush(stdout);
        m_log.comparisons.push_back(outcome);
        m_log.write();
        return outcome;
    }

private:
    const RunOptions& m_base;
    const BisectOptions& m_options;
    BisectLog& m_log;
};

RunOptions base_options(const BisectOptions& options, const std::filesystem::path& cwd) {
    RunOptions base;
    base.config = options.config;
    base.rounds = options.rounds;
    base.max_rounds = options.max_rounds;
    // Unsure probes add rounds: adaptive by default, up to three times the rounds.
    base.default_max_rounds_factor = 3;
    base.measurement = options.measurement;
    base.rebuild = options.rebuild;
    base.cwd = cwd;
    return base;
}

// How much worse B is than A on a row, as a log ratio (negative: better).
double worse_by(const report::Row& row) {
    const double sign = row.direction == stats::Direction::lower ? 1.0 : -1.0;
    return sign * std::log1p(row.comparison.delta_pct / 100);
}

// The gated row the bisect follows: the one named, or the worst regressed one (with
// `regressed_only` false: the worst gated one, to say what the confirming run saw).
const report::Row* choose_row(const report::Report& report, const BisectOptions& options,
                              bool regressed_only = true) {
    const report::Row* chosen = nullptr;
    for (const report::Row& row : report.rows) {
        const bool named = (!options.workload || row.workload == *options.workload) &&
                           (!options.case_name || row.case_name == *options.case_name) &&
                           (!options.metric || row.metric == *options.metric);
        if (!named || row.comparison.n == 0) {
            continue;
        }
        const bool explicit_choice = options.case_name || options.metric;
        if (!explicit_choice && (!row.gated || (regressed_only && row.comparison.verdict !=
                                                                      stats::Verdict::regressed))) {
            continue;
        }
        if (chosen == nullptr || worse_by(row) > worse_by(*chosen)) {
            chosen = &row;
        }
    }
    return chosen;
}

// The confirming run: good against bad at the user's threshold. Sets the log's selection and
// delta; false when there is nothing to bisect.
bool confirm(const BisectOptions& options, const RunOptions& base, BisectLog& log) {
    RunOptions run = base;
    run.ref_a = log.good.commit;
    run.ref_b = log.bad.commit;
    run.threshold = options.threshold;
    if (options.workload) {
        run.workloads = {*options.workload};
    }
    std::fprintf(stdout, "bisect: confirming the regression from %s to %s\n",
                 describe(log.good).c_str(), describe(log.bad).c_str());
    std::fflush(stdout);
    const Experiment experiment = run_experiment(run);
    if (!experiment.report.unmeasured.empty()) {
        // As for a run (DESIGN.md exit 3): what is gated was not measured, so "no regression"
        // would be a claim on nothing.
        throw Error(ErrorKind::workload,
                    fmt::format("the confirming run measured no comparable value for {} gated "
                                "metric(s), first: {}",
                                experiment.report.unmeasured.size(),
                                experiment.report.unmeasured.front()),
                    "samples and errors: " + experiment.run_dir.samples_file().string());
    }
    if (options.record) {
        record_rows(experiment);
    }
    const report::Row* row = choose_row(experiment.report, options);
    if (row == nullptr && (options.case_name || options.metric)) {
        std::vector<BisectSelection> measured;
        for (const report::Row& each : experiment.report.rows) {
            measured.push_back({each.workload, each.case_name, each.metric, each.unit});
        }
        throw_no_row(measured, options);
    }
    if (row == nullptr) { // nothing gated regressed: say what the worst gated case did
        row = choose_row(experiment.report, options, false);
    }
    if (row == nullptr) {
        throw Error(ErrorKind::workload,
                    fmt::format("the confirming run compared no gated metric, so it cannot say "
                                "whether anything regressed (run {})",
                                experiment.run_dir.path().string()),
                    "gate a metric the workloads report (metric = ...), or name one with "
                    "--workload/--case/--metric");
    }
    log.selection = BisectSelection{row->workload, row->case_name, row->metric, row->unit};
    PairOutcome outcome;
    outcome.a = log.good.commit;
    outcome.b = log.bad.commit;
    outcome.threshold = row->threshold_pct.value_or(experiment.report.threshold_pct) / 100;
    log.confirmation = outcome_of(experiment, log.selection, outcome);
    log.threshold = outcome.threshold;
    if (row->comparison.verdict != stats::Verdict::regressed) {
        log.state = "no-regression";
        return false;
    }
    return true;
}

void print_no_regression(const BisectLog& log) {
    // The worst gated case (confirm() chose it), so that inconclusive is told from unchanged.
    const std::string what =
        fmt::format("{} is {}", describe(log.selection), describe(log.confirmation));
    std::fprintf(stdout, "no regression to bisect: %s from %s to %s (run %s)\n", what.c_str(),
                 describe(log.good).c_str(), describe(log.bad).c_str(),
                 log.confirmation.run_dir.c_str());
    if (log.confirmation.ran && log.confirmation.verdict == stats::Verdict::inconclusive) {
        std::fprintf(stdout, "bisect: inconclusive is not unchanged: more --rounds or "
                             "--max-rounds may resolve it\n");
    }
}

} // namespace

int run_bisect(const BisectOptions& options) {
    const std::filesystem::path cwd = std::filesystem::current_path();
    worktrees::Repository repo = worktrees::Repository::open(cwd);
    BisectLog log = open_log(repo, options);
    report::check_output_paths(OutputOptions{options.json, options.markdown, {}, {}});
    const RunOptions base = base_options(options, cwd);
    if (!log.resumed) {
        if (!confirm(options, base, log)) {
            log.write();
            write_bisect_outputs(log, options);
            print_no_regression(log);
            return 0;
        }
        log.write();
    } else {
        std::fprintf(stdout, "bisect: resuming from %s: %zu comparison(s) reused\n",
                     log.file.c_str(), log.comparisons.size());
    }
    print_header(log);
    RunOptions probe_base = base;
    probe_base.workloads = {log.selection.workload};
    LiveProber prober(probe_base, options, log);
    log.search = bisect::Search{};
    try {
        bisect::run_search(log.commit_ids(), std::log1p(log.confirmation.delta_pct / 100),
                           log.threshold, prober, log.search);
    } catch (const Error& error) {
        if (error.kind() == ErrorKind::interrupted) {
            log.state = "interrupted";
            log.write();
            write_bisect_outputs(log, options);
            std::fprintf(stderr,
                         "abtool: bisect interrupted: the step lies in %s..%s; the log is %s: "
                         "the same command with --resume continues from it\n",
                         short_id(log.commits[log.search.low].commit).c_str(),
                         short_id(log.commits[log.search.high].commit).c_str(), log.file.c_str());
        }
        throw;
    }
    log.state = "done";
    log.write();
    print_result(log);
    write_bisect_outputs(log, options);
    return 0;
}

} // namespace abtool
