// --json: the whole report as one JSON document, for scripts and dashboards. Stable within a
// "format" value; a field is only added, never renamed or re-typed, until the format changes.
// Numbers that are not finite (no interval, a side without samples) are null.
//
// Top level (format "abtool-report-1"):
//   format          "abtool-report-1"
//   run_id          string, the run directory's name (.abtool/runs/<run_id>); compare:
//                   "compare-<a new id>", naming no directory
//   timestamp       string, ISO 8601 UTC of the run's start
//   target_id       string, where the workloads ran ("local")
//   ref_a, ref_b    string, the refs as given (A is the baseline, B the candidate)
//   commit_a/_b     string, the full commit ids they resolved to
//   rounds          integer, interleaved rounds run
//   seed            integer, the order/bootstrap seed (same seed, same order and intervals)
//   threshold_pct   number, smallest change that counts, in %
//   confidence      number, e.g. 0.95
//   paired          bool, false for `abtool compare` (stored rows, unpaired tests)
//   strict          bool, --strict: an inconclusive gated metric fails the gate
//   gate            object, the exit code's gate: verdict ("pass"|"fail"), outcome (words, as
//                   in the Markdown heading), regressed, improved, unchanged, inconclusive,
//                   slo_violated (counts of gated metrics), informational_regressed
//   interval_note   string, which interval the verdicts used and why
//   multiplicity    string, the p-value correction across the cases: "Holm" (default) or
//                   "Benjamini-Hochberg" ([run] multiplicity = "bh")
//   host, abtool_version, run_dir   strings
//   warnings        [string], run-level warnings (governor, load, order effects...)
//   rows            [row], worst first (as the table)
//   designs         [design], how each workload's rounds ran and why, in run order; [] when
//                   no rounds ran (`abtool compare`)
// Each row:
//   primary_key     string, stable hash of the benchmark identity (results.csv's key)
//   workload, kind ("command"|"hotpath"|"publish"|"stream"), case, metric, unit  strings
//                   (case "" if none)
//   direction       "lower"|"higher", which way is better
//   gated           bool, whether a regression of this metric fails the gate
//   verdict         "regressed"|"improved"|"unchanged"|"inconclusive"|"slo-violated"
//   reason          string, the verdict in one line;  slo  string|null, the limit B broke
//   n               integer, rounds (pairs) analysed
//   a, b            {n, min, max, mean, median, stddev, cv_pct, p95, outliers: [index]}
//   delta_pct       e^median(ln(b/a)) - 1, in %;  hl_delta_pct  Hodges-Lehmann estimate, in %
//   ci_low_pct, ci_high_pct   the verdict's interval of the change, in % (null: none)
//   interval        which interval: "exact Wilcoxon", "BCa bootstrap", ..., "none"
//   bootstrap_low_pct, bootstrap_high_pct, bootstrap_is_bca   the bootstrap interval, reported
//   p_value, p_adjusted       Wilcoxon signed-rank (Mann-Whitney when unpaired); adjusted by
//                             `multiplicity` above (Holm, or Benjamini-Hochberg)
//   warnings        [string], per-row (order effect, trend, outliers, high CV)
//   errors_a, errors_b        integer, failed runs per side
//   threshold_pct   number|null, the workload's own threshold when it sets one (else the
//                   report's threshold_pct applies)
//   a_values, b_values        [number|null], per round in round order (a run's median)
//   order           ["AB"|"BA"], which side ran first in each round
// Each design (DESIGN.md "Rounds"):
//   workload        string
//   schedule        "alternate"|"duet"
//   repeat          integer, runs per side per round
//   summary         "min"|"median", how a side's repeats became its round value
//   chosen_by       "config"|"flag"|"pilot"|"fallback"
//   reason          string, why this design, in one line
//   evidence        [string], one line per candidate the pilot ran ([] without a pilot)
//   launch_skew_median_us, launch_skew_max_us   number|null, duet: how far apart A's and B's
//                   children started, over the measured rounds (null when not measured)
//   counter_backend "perf"|"cachegrind"|null, what counted the workload's counters
//   counter_reason  string, why that backend ("" when it counts nothing)
//   counter_slowdown number|null, cachegrind: measured wall time over a native run's
#include "src/report/exporters.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <optional>

namespace abtool::report {

namespace {

nlohmann::json number(double value) {
    return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

// A side without samples has no numbers: null, not the struct's zeros (a 0 median reads as one).
nlohmann::json side(const stats::Descriptives& d) {
    if (d.n == 0) {
        return {{"n", 0},
                {"min", nullptr},
                {"max", nullptr},
                {"mean", nullptr},
                {"median", nullptr},
                {"stddev", nullptr},
                {"cv_pct", nullptr},
                {"p95", nullptr},
                {"outliers", nlohmann::json::array()}};
    }
    return {{"n", d.n},
            {"min", number(d.min)},
            {"max", number(d.max)},
            {"mean", number(d.mean)},
            {"median", number(d.median)},
            {"stddev", number(d.stddev)},
            {"cv_pct", number(d.cv_pct)},
            {"p95", number(d.p95)},
            {"outliers", d.outliers}};
}

nlohmann::json optional_number(const std::optional<double>& value) {
    return value ? number(*value) : nlohmann::json(nullptr);
}

nlohmann::json designs(const Report& report) {
    nlohmann::json out = nlohmann::json::array();
    for (const DesignReport& design : report.designs) {
        out.push_back({{"workload", design.workload},
                       {"schedule", design.schedule},
                       {"repeat", design.repeat},
                       {"summary", design.summary},
                       {"chosen_by", design.chosen_by},
                       {"reason", design.reason},
                       {"evidence", design.evidence},
                       {"launch_skew_median_us", optional_number(design.launch_skew_median_us)},
                       {"launch_skew_max_us", optional_number(design.launch_skew_max_us)},
                       {"counter_backend", design.counter_backend.empty()
                                               ? nlohmann::json(nullptr)
                                               : nlohmann::json(design.counter_backend)},
                       {"counter_reason", design.counter_reason},
                       {"counter_slowdown", optional_number(design.counter_slowdown)}});
    }
    return out;
}

// One row of the report, as "rows" lists it.
nlohmann::json row_json(const Row* row) {
    const stats::Comparison& c = row->comparison;
    const bool tested = c.interval != stats::IntervalMethod::none;
    // A change needs a value on both sides: null when one has none (not the struct's 0).
    const bool both = c.a.n > 0 && c.b.n > 0;
    nlohmann::json order = nlohmann::json::array();
    for (stats::Order o : row->order) {
        order.push_back(o == stats::Order::ab ? "AB" : "BA");
    }
    return {{"primary_key", row->primary_key},
            {"workload", row->workload},
            {"kind", row->kind},
            {"case", row->case_name},
            {"metric", row->metric},
            {"unit", row->unit},
            {"direction", to_string(row->direction)},
            {"gated", row->gated},
            {"threshold_pct", optional_number(row->threshold_pct)},
            {"verdict", to_string(row->verdict)},
            {"reason", c.reason},
            {"slo", row->slo ? nlohmann::json(*row->slo) : nlohmann::json(nullptr)},
            {"n", c.n},
            {"a", side(c.a)},
            {"b", side(c.b)},
            {"delta_pct", both ? number(c.delta_pct) : nlohmann::json(nullptr)},
            {"hl_delta_pct", both ? number(c.hl_delta_pct) : nlohmann::json(nullptr)},
            // No interval: null, not the struct's 0 (a "[0, 0]" would read as certainty).
            {"ci_low_pct", tested ? number(c.ci_low_pct) : nlohmann::json(nullptr)},
            {"ci_high_pct", tested ? number(c.ci_high_pct) : nlohmann::json(nullptr)},
            {"interval", stats::to_string(c.interval)},
            {"bootstrap_low_pct", number(c.bootstrap_low_pct)},
            {"bootstrap_high_pct", number(c.bootstrap_high_pct)},
            {"bootstrap_is_bca", c.bootstrap_is_bca},
            {"p_value", number(c.p_value)},
            {"p_adjusted", number(c.p_adjusted)},
            {"warnings", c.warnings},
            {"errors_a", row->errors_a},
            {"errors_b", row->errors_b},
            {"a_values", row->a_values},
            {"b_values", row->b_values},
            {"order", order}};
}

} // namespace

std::string JsonExporter::serialize(const Report& report) const {
    nlohmann::json rows = nlohmann::json::array();
    for (const Row* row : worst_first(report)) {
        rows.push_back(row_json(row));
    }
    const GateSummary gate = summarize(report);
    const nlohmann::json gate_json{{"verdict", gate.failed ? "fail" : "pass"},
                                   {"outcome", gate_outcome(gate)},
                                   {"regressed", gate.regressed},
                                   {"improved", gate.improved},
                                   {"unchanged", gate.unchanged},
                                   {"inconclusive", gate.inconclusive},
                                   {"slo_violated", gate.slo_violated},
                                   {"informational_regressed", gate.informational_regressed},
                                   {"compared", gate.compared},
                                   {"unmeasured", report.unmeasured}};
    const nlohmann::json json{{"format", "abtool-report-1"},
                              {"run_id", report.run_id},
                              {"timestamp", report.timestamp},
                              {"target_id", report.target_id},
                              {"ref_a", report.ref_a},
                              {"commit_a", report.commit_a},
                              {"ref_b", report.ref_b},
                              {"commit_b", report.commit_b},
                              {"rounds", report.rounds},
                              {"seed", report.seed},
                              {"threshold_pct", report.threshold_pct},
                              {"confidence", report.confidence},
                              {"paired", report.paired},
                              {"strict", report.strict},
                              {"gate", gate_json},
                              {"interval_note", report.interval_note},
                              {"multiplicity", report.multiplicity},
                              {"host", report.host},
                              {"abtool_version", report.abtool_version},
                              {"warnings", report.warnings},
                              {"run_dir", report.run_dir},
                              {"rows", rows},
                              {"designs", designs(report)}};
    return json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

} // namespace abtool::report
