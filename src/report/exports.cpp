// --export formats, for dashboards users already have.
#include "src/report/exporters.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>

namespace abtool::report {

namespace {

// Go benchmark names: "Benchmark" + a name without spaces.
std::string go_name(const Row& row) {
    std::string name = "Benchmark" + row.workload;
    if (!row.case_name.empty()) {
        name += "/" + row.case_name;
    }
    for (char& c : name) {
        if (std::isspace(static_cast<unsigned char>(c))) {
            c = '_';
        }
    }
    return name;
}

} // namespace

std::string JunitExporter::serialize(const Report& report) const {
    // One rule (fails_gate, the exit code's): a <failure> for every row that fails the gate, and
    // failures= counts exactly those. An informational regression is no failure: CI systems
    // would turn it red; it goes to <system-out>, where the test report still shows it.
    std::size_t failures = 0;
    for (const Row& row : report.rows) {
        failures += fails_gate(row, report);
    }
    std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    xml += fmt::format("<testsuite name=\"abtool {} vs {}\" tests=\"{}\" failures=\"{}\">\n",
                       escape_xml(report.ref_a), escape_xml(report.ref_b), report.rows.size(),
                       failures);
    if (report.strict) {
        xml += "  <properties><property name=\"strict\" value=\"true\"/></properties>\n";
    }
    for (const Row* row : worst_first(report)) {
        xml += fmt::format("  <testcase classname=\"{}\" name=\"{}\">", escape_xml(row->workload),
                           escape_xml(row_name(*row)));
        const std::string message = row->slo ? *row->slo : row->comparison.reason;
        if (fails_gate(*row, report)) {
            xml += fmt::format("<failure message=\"{}\">{}</failure>",
                               escape_xml(to_string(row->verdict)), escape_xml(message));
        } else if (informational_regression(*row)) {
            xml += fmt::format("<system-out>informational metric regressed (does not gate): "
                               "{}</system-out>",
                               escape_xml(message));
        }
        xml += "</testcase>\n";
    }
    return xml + "</testsuite>\n";
}

std::string BencherExporter::serialize(const Report& report) const {
    // Bencher Metric Format: {benchmark: {measure: {value, lower_value, upper_value}}}. The value
    // is B's median (what a dashboard tracks run after run). The interval is of the change B/A
    // on the log scale around the median log-ratio (delta); its bounds are carried onto the
    // value by the same factors: lower = value * (1 + ci_low) / (1 + delta), upper likewise, so
    // lower <= value <= upper whenever the interval holds its estimate. An interval that does
    // not (a Wilcoxon interval is centred on the Hodges-Lehmann estimate, not on the median) is
    // widened to the value: Bencher rejects a value outside its own bounds as a
    // contradiction, and a dashboard would draw one. No interval (or a non-finite bound): no
    // bounds.
    nlohmann::json json = nlohmann::json::object();
    for (const Row& row : report.rows) {
        const stats::Comparison& c = row.comparison;
        if (c.b.n == 0 || !std::isfinite(c.b.median)) {
            continue;
        }
        const double value = c.b.median;
        nlohmann::json measure{{"value", value}};
        if (c.interval != stats::IntervalMethod::none) {
            const double lower = value * (1 + c.ci_low_pct / 100) / (1 + c.delta_pct / 100);
            const double upper = value * (1 + c.ci_high_pct / 100) / (1 + c.delta_pct / 100);
            if (std::isfinite(lower) && std::isfinite(upper)) {
                measure["lower_value"] = std::min({lower, upper, value});
                measure["upper_value"] = std::max({lower, upper, value});
            }
        }
        const std::string name =
            row.case_name.empty() ? row.workload : row.workload + "/" + row.case_name;
        json[name][row.metric] = measure;
    }
    return json.dump(2) + "\n";
}

std::string BenchstatExporter::serialize(const Report& report) const {
    // Both files carry the same configuration lines: benchstat groups results into tables by
    // their configuration ("key: value" lines) and compares columns by file, so a line that
    // differs between A and B (a ref in pkg:) would put them in two tables with no delta. The
    // file names (-a, -b) say which side is which.
    std::string text = "goos: linux\npkg: abtool\n";
    for (const Row& row : report.rows) {
        const std::vector<double>& values = m_side == Side::a ? row.a_values : row.b_values;
        std::string unit = row.metric + (row.unit.empty() ? "" : "-" + row.unit);
        for (char& c : unit) {
            if (std::isspace(static_cast<unsigned char>(c))) {
                c = '_';
            }
        }
        for (double value : values) {
            if (std::isfinite(value)) { // a failed run's NaN is no sample benchstat can read
                text += fmt::format("{} 1 {} {}\n", go_name(row), value, unit);
            }
        }
    }
    return text;
}

std::string GhaBenchmarkExporter::serialize(const Report& report) const {
    nlohmann::json entries = nlohmann::json::array();
    for (const Row& row : report.rows) {
        const stats::Comparison& c = row.comparison;
        if (row.direction != m_direction || c.b.n == 0 || !std::isfinite(c.b.median)) {
            continue;
        }
        nlohmann::json entry{
            {"name", row_name(row)},
            {"unit", row.unit},
            {"value", c.b.median},
            {"extra", fmt::format("delta {} vs {}; verdict {}", format_percent(c.delta_pct),
                                  report.ref_a, to_string(row.verdict))}};
        // "range" is optional in the format: without an interval there is none to give (a
        // "± nan%" would be shown as is).
        const double half_width = (c.ci_high_pct - c.ci_low_pct) / 2;
        if (c.interval != stats::IntervalMethod::none && std::isfinite(half_width)) {
            entry["range"] = fmt::format("± {:.2f}%", half_width);
        }
        entries.push_back(std::move(entry));
    }
    return entries.dump(2) + "\n";
}

} // namespace abtool::report
