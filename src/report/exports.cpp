// --export formats, for dashboards users already have.
#include "src/report/exporters.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

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
    const GateSummary gate = summarize(report, StrictGate::no);
    std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    xml += fmt::format("<testsuite name=\"abtool {} vs {}\" tests=\"{}\" failures=\"{}\">\n",
                       escape_xml(report.ref_a), escape_xml(report.ref_b), report.rows.size(),
                       gate.regressed + gate.slo_violated);
    for (const Row* row : worst_first(report)) {
        xml += fmt::format("  <testcase classname=\"{}\" name=\"{}\">", escape_xml(row->workload),
                           escape_xml(row_name(*row)));
        if (row->verdict == Verdict::regressed || row->verdict == Verdict::slo_violated) {
            xml += fmt::format("<failure message=\"{}\">{}</failure>",
                               escape_xml(to_string(row->verdict)),
                               escape_xml(row->slo ? *row->slo : row->comparison.reason));
        }
        xml += "</testcase>\n";
    }
    return xml + "</testsuite>\n";
}

std::string BencherExporter::serialize(const Report& report) const {
    // Bencher Metric Format: {benchmark: {measure: {value, lower_value, upper_value}}}, B's
    // median with the interval carried onto it.
    nlohmann::json json = nlohmann::json::object();
    for (const Row& row : report.rows) {
        if (row.comparison.b.n == 0) {
            continue;
        }
        const double value = row.comparison.b.median;
        nlohmann::json measure{{"value", value}};
        if (row.comparison.interval != stats::IntervalMethod::none) {
            measure["lower_value"] =
                row.comparison.a.median * (1 + row.comparison.ci_low_pct / 100);
            measure["upper_value"] =
                row.comparison.a.median * (1 + row.comparison.ci_high_pct / 100);
        }
        const std::string name =
            row.case_name.empty() ? row.workload : row.workload + "/" + row.case_name;
        json[name][row.metric] = measure;
    }
    return json.dump(2) + "\n";
}

std::string BenchstatExporter::serialize(const Report& report) const {
    std::string text = fmt::format("goos: linux\npkg: abtool/{}\n",
                                   m_side == Side::a ? report.ref_a : report.ref_b);
    for (const Row& row : report.rows) {
        const std::vector<double>& values = m_side == Side::a ? row.a_values : row.b_values;
        std::string unit = row.metric + (row.unit.empty() ? "" : "-" + row.unit);
        for (char& c : unit) {
            if (std::isspace(static_cast<unsigned char>(c))) {
                c = '_';
            }
        }
        for (double value : values) {
            text += fmt::format("{} 1 {} {}\n", go_name(row), value, unit);
        }
    }
    return text;
}

std::string GhaBenchmarkExporter::serialize(const Report& report) const {
    nlohmann::json entries = nlohmann::json::array();
    for (const Row& row : report.rows) {
        if (row.direction != m_direction || row.comparison.b.n == 0) {
            continue;
        }
        entries.push_back(
            {{"name", row_name(row)},
             {"unit", row.unit},
             {"value", row.comparison.b.median},
             {"range", fmt::format("± {:.2f}%",
                                   (row.comparison.ci_high_pct - row.comparison.ci_low_pct) / 2)},
             {"extra", fmt::format("delta {:+.2f}% vs {}; verdict {}", row.comparison.delta_pct,
                                   report.ref_a, to_string(row.verdict))}});
    }
    return entries.dump(2) + "\n";
}

} // namespace abtool::report
