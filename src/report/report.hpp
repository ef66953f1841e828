// The one result model every output is made from (terminal, JSON, Markdown, HTML, exports,
// results.csv rows): a run's or a comparison's rows, each a workload/case/metric with its
// statistics and raw per-round series. Reporters read it; nothing writes back into it.
#pragma once

#include "abtool/runners.hpp"
#include "abtool/stats.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace abtool::report {

// DESIGN.md's verdict words; slo_violated overrides the stats verdict for a B value that broke
// an absolute limit.
enum class Verdict { regressed, improved, unchanged, inconclusive, slo_violated };
std::string to_string(Verdict verdict);                            // "regressed" ... "slo-violated"
std::optional<Verdict> verdict_from_string(std::string_view text); // nullopt for anything else
// The statistics' verdict as a report states it (slo-violated is the report's own, on B).
Verdict to_report(stats::Verdict verdict);

struct Row {
    std::string primary_key;
    std::string workload;
    std::string kind;      // command | hotpath | publish
    std::string case_name; // "" for command and publish workloads
    std::string metric;
    std::string unit;
    stats::Direction direction = stats::Direction::lower;
    bool gated = true; // a regression here fails the gate
    // Its workload's own `threshold` (in %), when it sets one: over the report's threshold_pct.
    std::optional<double> threshold_pct;
    stats::Comparison comparison;
    Verdict verdict = Verdict::inconclusive;
    std::optional<std::string> slo;         // the limit B broke: "p99_ms 7.21 > 5"
    int errors_a = 0, errors_b = 0;         // failed runs per side
    std::vector<double> a_values, b_values; // per round, in round order (a run's median)
    std::vector<stats::Order> order;
};

// How a workload's rounds ran (DESIGN.md "Rounds") and why: every report states it, so that a
// verdict can be read against the design that produced it.
struct DesignReport {
    std::string workload;
    std::string schedule = "alternate"; // alternate | duet
    std::size_t repeat = 1;             // runs per side per round
    // How a side's repeats became its round value: "min", "median", or, when not configured,
    // "min for durations, else median" (empty when repeat is 1: nothing to summarise).
    std::string summary;
    std::string chosen_by = "config"; // config | flag | pilot | fallback
    std::string reason;               // one line: why this design
    // One line per candidate the pilot ran ("duet: spread 0.41%, 0.62 s/round, score 1.0e-05"),
    // empty without a pilot.
    std::vector<std::string> evidence;
    // Duet: how far apart A's and B's children started (exec to exec), over the measured rounds.
    std::optional<double> launch_skew_median_us, launch_skew_max_us;
    // What counted the workload's counters ("perf" | "cachegrind") and why; empty when it
    // counts nothing.
    std::string counter_backend;
    std::string counter_reason;
    // cachegrind: the measured runs' median wall time over that of the workload's native runs
    // (k_native_pilot), "38x slower"; unset without them.
    std::optional<double> counter_slowdown;
};
// "duet", "alternate", "alternate x3 (min)": the design in a few words.
std::string describe(const DesignReport& design);

// One soak run's windows (DESIGN.md "Soak"), in time order: the HTML report draws them as a
// time series per workload, so that a leak or a slow degradation is seen, not only summarised.
struct SoakRun {
    std::string workload;
    char side = 'A'; // 'A' | 'B'
    std::size_t round = 0, rep = 0;
    std::vector<runners::SoakWindow> windows;
};

struct Report {
    std::string run_id;
    std::string timestamp; // ISO 8601 UTC of the run's start
    std::string target_id = "local";
    std::string ref_a, commit_a, ref_b, commit_b;
    std::size_t rounds = 0;
    std::uint64_t seed = 0;
    double threshold_pct = 2;
    double confidence = 0.95;
    std::string interval_note; // which interval the verdicts used, and why
    std::string host;
    std::string abtool_version;
    bool paired = true;                // false for `abtool compare` (stored rows, no pairs)
    std::string multiplicity = "Holm"; // the p-value correction across the run's cases
    // --strict: an inconclusive gated metric fails the gate too. It lives here, not beside the
    // reporters, so that the exit code, the terminal line, Markdown, HTML, JUnit and
    // $GITHUB_OUTPUT all state the same gate (a PR comment saying "passed" on a failed check
    // was the bug this prevents).
    bool strict = false;
    std::vector<Row> rows;
    std::vector<DesignReport> designs; // one per workload that ran (empty for compare)
    std::vector<std::string> warnings; // run-level: governor, load, order effects...
    // The gate's evidence rule (DESIGN.md exit 3: a workload that did not measure what it gates):
    // a gated row counts as compared when its verdict's interval exists over at least min_pairs
    // valid pairs (paired: the planned rounds, or the rounds at which one metric can reach
    // significance at the report's confidence when that is more).
    std::size_t min_pairs = 1;
    // Each gated metric that yielded no comparable value, in one line naming the workload, the
    // metric and what was seen. Not empty: the run failed (exit 3), its gate cannot pass.
    std::vector<std::string> unmeasured;
    std::vector<SoakRun> soak; // the measured soak runs' windows (SampleRecord::window)
    std::string config_text;   // the abtool.toml the run used
    std::string run_dir;       // where plan.json and samples.jsonl are
};

// The one rule of what fails the gate: a gated regression, an SLO violation (always gates), or
// under report.strict a gated inconclusive. JUnit failures, ::error annotations and the counts
// below all use it.
bool fails_gate(const Row& row, const Report& report);
// The rule itself, for any row: an SLO violation always fails; a gated metric fails when it
// regressed, or with --strict when it is inconclusive. (`abtool compare` applies it to stored
// rows.)
bool fails_gate(Verdict verdict, bool gated, bool strict);
// A regression of a metric that does not gate: reported (warning, JUnit system-out), never fails.
bool informational_regression(const Row& row);
// A gated row whose verdict stands on evidence: an interval over at least report.min_pairs pairs.
bool compared(const Row& row, const Report& report);

// Counts of the gated metrics (and SLO violations, which always gate).
struct GateSummary {
    int regressed = 0, improved = 0, unchanged = 0, inconclusive = 0, slo_violated = 0;
    int informational_regressed = 0; // regressions among metrics that do not gate
    int compared = 0;   // gated rows with an interval over at least report.min_pairs pairs
    int unmeasured = 0; // report.unmeasured.size()
    bool nothing_compared = false; // a paired report without one compared gated row
    // Some row fails_gate, a gated metric went unmeasured, or a run (paired) compared no gated
    // metric: the invariant that a gate never passes on nothing is asserted here, in the one
    // place every output and the exit code read it from. (`compare` of stored rows without raw
    // samples tests nothing by construction and says so; it is exempt.)
    bool failed = false;
};
GateSummary summarize(const Report& report);
// The gate's outcome in words, the same in every report: "regression", "SLO violated",
// "failed: 2 inconclusive under --strict", "failed: nothing compared" or "passed".
std::string gate_outcome(const GateSummary& gate);

// Rows worst first: regressions by delta, then SLO violations, inconclusive, unchanged, improved.
std::vector<const Row*> worst_first(const Report& report);

// report.interval_note, and for a paired report the p-values' test and correction
// ("; p: Wilcoxon signed-rank, Holm-adjusted"), as one line without its newline. A compare
// report's note names its own test (Mann-Whitney, unpaired). Empty without a note.
std::string interval_note_line(const Report& report);
// A paired run's Report::interval_note: "95% intervals: exact Wilcoxon (...)" for the interval
// methods its verdicts used; empty when none was (nothing was tested).
std::string paired_interval_note(const std::set<std::string>& methods, double confidence);
// `abtool compare`'s Report::interval_note: bootstrap intervals and Mann-Whitney U when some row
// was tested, else the delta of stored medians.
std::string unpaired_interval_note(bool any_tested, double confidence);
// Report::multiplicity: "Holm", "Benjamini-Hochberg" or "not".
std::string multiplicity_name(stats::Multiplicity multiplicity);

// One output format (hyperfine's Exporter): serialize the whole report to bytes.
class Exporter {
public:
    virtual ~Exporter() = default;
    virtual std::string serialize(const Report& report) const = 0;
};

} // namespace abtool::report
