// --json: schema "abtool-report-1". Top level: run metadata (run_id, timestamp, refs, commits,
// rounds, seed, threshold_pct, confidence, host, abtool_version, paired, interval_note,
// warnings) and "rows": per workload/case/metric its primary_key, kind, unit, direction, gated,
// verdict, reason, slo, n, a/b descriptives, delta_pct, hl_delta_pct, ci_low_pct, ci_high_pct,
// interval, bootstrap interval, p_value, p_adjusted, warnings, errors and the raw per-round
// series a_values, b_values and order ("AB"/"BA").
#include "src/report/exporters.hpp"

#include <nlohmann/json.hpp>

#include <cmath>

namespace abtool::report {

namespace {

nlohmann::json number(double value) {
    return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

nlohmann::json side(const stats::Descriptives& d) {
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

} // namespace

std::string JsonExporter::serialize(const Report& report) const {
    nlohmann::json rows = nlohmann::json::array();
    for (const Row* row : worst_first(report)) {
        const stats::Comparison& c = row->comparison;
        nlohmann::json order = nlohmann::json::array();
        for (stats::Order o : row->order) {
            order.push_back(o == stats::Order::ab ? "AB" : "BA");
        }
        rows.push_back(
            {{"primary_key", row->primary_key},
             {"workload", row->workload},
             {"kind", row->kind},
             {"case", row->case_name},
             {"metric", row->metric},
             {"unit", row->unit},
             {"direction", row->direction == stats::Direction::lower ? "lower" : "higher"},
             {"gated", row->gated},
             {"verdict", to_string(row->verdict)},
             {"reason", c.reason},
             {"slo", row->slo ? nlohmann::json(*row->slo) : nlohmann::json(nullptr)},
             {"n", c.n},
             {"a", side(c.a)},
             {"b", side(c.b)},
             {"delta_pct", number(c.delta_pct)},
             {"hl_delta_pct", number(c.hl_delta_pct)},
             {"ci_low_pct", number(c.ci_low_pct)},
             {"ci_high_pct", number(c.ci_high_pct)},
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
             {"order", order}});
    }
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
                              {"interval_note", report.interval_note},
                              {"host", report.host},
                              {"abtool_version", report.abtool_version},
                              {"warnings", report.warnings},
                              {"run_dir", report.run_dir},
                              {"rows", rows}};
    return json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

} // namespace abtool::report
