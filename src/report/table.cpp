#include "abtool/short_commit.hpp"
#include "src/report/exporters.hpp"
#include "src/report/outputs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace abtool::report {

std::string format_number(double value) {
    if (!std::isfinite(value)) {
        return "-";
    }
    const double magnitude = std::abs(value);
    if (magnitude >= 1e6 || (magnitude > 0 && magnitude < 1e-3)) {
        return fmt::format("{:.3e}", value);
    }
    return fmt::format("{:.4g}", value);
}

std::string format_value(double value, const std::string& unit) {
    if (unit != "count" || !std::isfinite(value) || std::abs(value) >= 1e18) {
        return format_number(value) + " " + unit;
    }
    const std::string digits = fmt::format("{:.0f}", std::abs(value));
    std::string grouped;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) {
            grouped += ',';
        }
        grouped += digits[i];
    }
    return (value < 0 ? "-" : "") + grouped;
}

std::string threshold_text(const Report& report) {
    std::string text = fmt::format("{:.3g}%", report.threshold_pct);
    std::string own;
    std::set<std::string> named;
    for (const Row& row : report.rows) {
        if (row.threshold_pct && named.insert(row.workload).second) {
            own += fmt::format("{}{}: {:.3g}%", own.empty() ? "" : ", ", row.workload,
                               *row.threshold_pct);
        }
    }
    return own.empty() ? text : text + " (" + own + ")";
}

std::string format_percent(double value) {
    return std::isfinite(value) ? fmt::format("{:+.2f}%", value) : "-";
}

std::string escape_xml(const std::string& text) {
    std::string out;
    for (char c : text) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        default:
            out += c;
        }
    }
    return out;
}

namespace {

// Microseconds as a person reads them: "12", "0.5", "1234" (never an exponent).
std::string format_us(double value) {
    return std::abs(value) >= 100 ? fmt::format("{:.0f}", value) : fmt::format("{:.3g}", value);
}

} // namespace

std::string design_summary(const DesignReport& design) {
    std::string text = describe(design);
    text += " (";
    text += design.chosen_by;
    text += ")";
    if (!design.reason.empty()) {
        text += ": ";
        text += design.reason;
    }
    const auto measured = [](const std::optional<double>& value) {
        return value.has_value() && std::isfinite(*value);
    };
    const bool median = measured(design.launch_skew_median_us);
    const bool max = measured(design.launch_skew_max_us);
    if (median || max) {
        text += "; launch skew";
        if (median) {
            text += " median " + format_us(*design.launch_skew_median_us) + " us";
        }
        if (max) {
            text += median ? ", max " : " max ";
            text += format_us(*design.launch_skew_max_us) + " us";
        }
    }
    if (!design.counter_backend.empty()) {
        text += "; counted by ";
        text += design.counter_backend;
        if (!design.counter_reason.empty()) {
            text += " (" + design.counter_reason + ")";
        }
        if (measured(design.counter_slowdown)) {
            text += fmt::format(", {:.3g}x slower than a native run: its times are informational",
                                *design.counter_slowdown);
        }
    }
    return text;
}

bool shows_evidence(const DesignReport& design) {
    return design.chosen_by == "pilot" || design.chosen_by == "fallback";
}

std::string row_name(const Row& row) {
    std::string name = row.workload;
    if (!row.case_name.empty()) {
        name += "/" + row.case_name;
    }
    return name + " " + row.metric;
}

Table verdict_table(const Report& report) {
    Table table;
    table.header = {"workload", "case",     "metric", "A median", "B median",
                    "delta",    "interval", "p",      "CV A/B",   "verdict"};
    for (const Row* row : worst_first(report)) {
        const stats::Comparison& c = row->comparison;
        const bool tested = c.interval != stats::IntervalMethod::none;
        std::string verdict = to_string(row->verdict);
        if (report.paired && row->a_values.empty() && row->b_values.empty()) {
            // No pair to compare (analysis says why in the row's reason): name the empty side.
            verdict = c.a.n > 0 && c.b.n == 0   ? "no value on B"
                      : c.b.n > 0 && c.a.n == 0 ? "no value on A"
                                                : "no pairs";
        }
        if (!row->gated && row->verdict != Verdict::slo_violated) {
            verdict += " (info)";
        }
        const auto cv = [](const stats::Descriptives& side) {
            return side.n > 0 ? fmt::format("{:.1f}%", side.cv_pct) : std::string("-");
        };
        table.cells.push_back({row->workload, row->case_name.empty() ? "-" : row->case_name,
                               row->metric, c.a.n > 0 ? format_value(c.a.median, row->unit) : "-",
                               c.b.n > 0 ? format_value(c.b.median, row->unit) : "-",
                               tested ? format_percent(c.delta_pct) : "-",
                               tested ? fmt::format("[{}, {}]", format_percent(c.ci_low_pct),
                                                    format_percent(c.ci_high_pct))
                                      : "-",
                               tested ? fmt::format("{:.3g}", c.p_adjusted) : "-",
                               c.a.n > 0 || c.b.n > 0 ? cv(c.a) + "/" + cv(c.b) : "-", verdict});
        table.rows.push_back(row);
    }
    return table;
}

namespace {

// A verdict cell in the terminal's colours: red for a failure, green an improvement, yellow
// inconclusive.
std::string paint(Verdict verdict, const std::string& text, Color color) {
    if (color == Color::no) {
        return text;
    }
    switch (verdict) {
    case Verdict::regressed:
    case Verdict::slo_violated:
        return "\033[1;31m" + text + "\033[0m";
    case Verdict::improved:
        return "\033[32m" + text + "\033[0m";
    case Verdict::inconclusive:
        return "\033[33m" + text + "\033[0m";
    case Verdict::unchanged:
        break;
    }
    return text;
}

// What follows the table: the interval note, SLO violations, the gated rows' notes, and how each
// workload's rounds ran and why (to read the verdicts above against).
std::string table_notes(const Report& report, const Table& table) {
    std::string out;
    if (!report.interval_note.empty()) {
        // Appended piecewise: GCC 12 at -O3 flags "\n" + string with a false -Wrestrict (PR
        // 105329).
        out += '\n';
        out += interval_note_line(report);
        out += '\n';
    }
    for (const Row* row : table.rows) {
        if (row->slo) {
            out += fmt::format("slo-violated: {} {}\n", row->workload, *row->slo);
        }
        for (const std::string& warning : row->comparison.warnings) {
            if (row->gated) {
                out += fmt::format("note: {}: {}\n", row_name(*row), warning);
            }
        }
    }
    if (!report.designs.empty()) {
        out += '\n';
    }
    for (const DesignReport& design : report.designs) {
        out += fmt::format("design: {}: {}\n", design.workload, design_summary(design));
        if (shows_evidence(design)) {
            for (const std::string& evidence : design.evidence) {
                out += fmt::format("  {}\n", evidence);
            }
        }
    }
    return out;
}

} // namespace

std::string terminal_table(const Report& report, Color color) {
    const Table table = verdict_table(report);
    std::vector<std::size_t> widths(table.header.size(), 0);
    for (std::size_t i = 0; i < table.header.size(); ++i) {
        widths[i] = table.header[i].size();
        for (const auto& cells : table.cells) {
            widths[i] = std::max(widths[i], cells[i].size());
        }
    }
    std::string out =
        fmt::format("\nA = {} ({}), B = {} ({}), {} rounds, threshold {}\n\n", report.ref_a,
                    short_commit(report.commit_a), report.ref_b, short_commit(report.commit_b),
                    report.rounds, threshold_text(report));
    const auto line = [&](const std::vector<std::string>& cells, const Row* row) {
        std::string text;
        for (std::size_t i = 0; i < cells.size(); ++i) {
            const bool numeric = i >= 3 && i <= 8;
            std::string cell = numeric ? fmt::format("{:>{}}", cells[i], widths[i])
                                       : fmt::format("{:<{}}", cells[i], widths[i]);
            if (row != nullptr && i + 1 == cells.size()) {
                cell = paint(row->verdict, cell, color);
            }
            text += (i == 0 ? "" : "  ") + cell;
        }
        while (!text.empty() && text.back() == ' ') {
            text.pop_back();
        }
        return text + "\n";
    };
    out += line(table.header, nullptr);
    for (std::size_t i = 0; i < table.cells.size(); ++i) {
        out += line(table.cells[i], table.rows[i]);
    }
    return out + table_notes(report, table);
}

} // namespace abtool::report
