// --html: one self-contained file (inline CSS and SVG, no script or font from the network).
// Per row: both sides' per-round values as a strip plot, the paired deltas in round order (so
// drift is visible) inside the +-threshold band, and the interval against that band; a soak
// workload's windows as time series.
#include "abtool/short_commit.hpp"
#include "src/report/exporters.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <map>
#include <optional>

namespace abtool::report {

namespace {

constexpr double k_width = 420, k_height = 120, k_pad = 24;

// Every number written into an SVG attribute goes through here: a NaN or infinity (a failed
// run's value, a row without an interval) would print as "nan"/"inf", which the browser rejects
// ("Error: <circle> attribute cy: Expected length") and draws at 0 as if it were data.
bool drawable(double value) {
    return std::isfinite(value);
}

std::string strip_plot(const Row& row) {
    std::vector<double> all;
    for (const std::vector<double>* values : {&row.a_values, &row.b_values}) {
        std::copy_if(values->begin(), values->end(), std::back_inserter(all), drawable);
    }
    if (all.empty()) {
        return "<p>no samples</p>";
    }
    const auto [low_it, high_it] = std::minmax_element(all.begin(), all.end());
    const double low = *low_it, high = *high_it > *low_it ? *high_it : *low_it + 1;
    const auto x = [&](double v) {
        return k_pad + (v - low) / (high - low) * (k_width - 2 * k_pad);
    };
    std::string svg = fmt::format(
        R"(<svg class="chart" width="{}" height="{}" viewBox="0 0 {} {}" role="img" aria-label="A and B values">)",
        k_width, k_height, k_width, k_height);
    for (const auto& [values, y, color, label] :
         {std::tuple{&row.a_values, 35.0, "#1f77b4", "A"},
          std::tuple{&row.b_values, 80.0, "#d62728", "B"}}) {
        svg += fmt::format(R"(<text x="4" y="{}" class="label">{}</text>)", y + 4, label);
        for (std::size_t i = 0; i < values->size(); ++i) {
            if (!drawable((*values)[i])) {
                continue; // a failed round: listed in the errors, not drawn
            }
            svg += fmt::format(
                R"(<circle cx="{:.1f}" cy="{:.1f}" r="3" fill="{}" fill-opacity="0.6"><title>round {}: {}</title></circle>)",
                x((*values)[i]), y + static_cast<double>(i % 5) * 2 - 4, color, i + 1,
                format_number((*values)[i]));
        }
    }
    svg += fmt::format(
        R"(<text x="{}" y="{}" class="axis">{}</text><text x="{}" y="{}" class="axis" text-anchor="end">{}</text>)",
        k_pad, k_height - 4, escape_xml(format_number(low) + " " + row.unit), k_width - k_pad,
        k_height - 4, escape_xml(format_number(high) + " " + row.unit));
    return svg + "</svg>";
}

std::string delta_plot(const Row& row, double threshold_pct) {
    const stats::Comparison& c = row.comparison;
    std::vector<double> pct; // per round, in round order; NaN for a round with no pair
    for (double value : c.log_ratios) {
        pct.push_back((std::exp(value) - 1) * 100);
    }
    if (std::none_of(pct.begin(), pct.end(), drawable)) {
        return "<p>no paired rounds</p>";
    }
    // No interval (too few rounds, or unpaired): no bar and no estimate drawn, said in words;
    // the defaults (0, 0) would draw a confident "no change".
    const bool interval = c.interval != stats::IntervalMethod::none && drawable(c.ci_low_pct) &&
                          drawable(c.ci_high_pct);
    const bool estimate = interval && drawable(c.delta_pct);
    double limit = threshold_pct * 1.5;
    for (double value : pct) {
        limit = drawable(value) ? std::max(limit, std::abs(value)) : limit;
    }
    if (interval) {
        limit = std::max({limit, std::abs(c.ci_low_pct), std::abs(c.ci_high_pct)});
    }
    limit = limit > 0 ? limit * 1.1 : 1;
    const auto y = [&](double v) {
        return k_height / 2 - v / limit * (k_height / 2 - 10);
    };
    const auto x = [&](std::size_t i) {
        return k_pad + (pct.size() > 1
                            ? static_cast<double>(i) / static_cast<double>(pct.size() - 1)
                            : 0.5) *
                           (k_width - 3 * k_pad);
    };
    std::string svg = fmt::format(
        R"(<svg class="chart" width="{}" height="{}" viewBox="0 0 {} {}" role="img" aria-label="paired deltas by round">)",
        k_width, k_height, k_width, k_height);
    svg += fmt::format(R"(<rect x="0" y="{:.1f}" width="{}" height="{:.1f}" fill="#eee"/>)",
                       y(threshold_pct), k_width, y(-threshold_pct) - y(threshold_pct));
    svg += fmt::format(R"(<line x1="0" x2="{}" y1="{:.1f}" y2="{:.1f}" stroke="#999"/>)", k_width,
                       y(0), y(0));
    std::string points;
    for (std::size_t i = 0; i < pct.size(); ++i) {
        if (drawable(pct[i])) {
            points += fmt::format("{:.1f},{:.1f} ", x(i), y(pct[i]));
        }
    }
    svg += fmt::format(R"(<polyline points="{}" fill="none" stroke="#555" stroke-width="1"/>)",
                       points);
    for (std::size_t i = 0; i < pct.size(); ++i) {
        if (drawable(pct[i])) {
            svg += fmt::format(
                R"(<circle cx="{:.1f}" cy="{:.1f}" r="2.5" fill="#333"><title>round {}: {}</title></circle>)",
                x(i), y(pct[i]), i + 1, format_percent(pct[i]));
        }
    }
    // The interval, at the right edge.
    const double bar_x = k_width - k_pad;
    if (interval) {
        svg += fmt::format(
            R"(<line x1="{0}" x2="{0}" y1="{1:.1f}" y2="{2:.1f}" stroke="#d62728" stroke-width="4"><title>interval [{3}, {4}]</title></line>)",
            bar_x, y(c.ci_low_pct), y(c.ci_high_pct), format_percent(c.ci_low_pct),
            format_percent(c.ci_high_pct));
    } else {
        svg +=
            fmt::format(R"(<text x="{}" y="14" class="axis" text-anchor="end">no interval</text>)",
                        k_width - 4);
    }
    if (estimate) {
        svg += fmt::format(R"(<circle cx="{}" cy="{:.1f}" r="4" fill="#d62728"/>)", bar_x,
                           y(c.delta_pct));
    }
    return svg + "</svg>";
}

// One soak measure of a workload over time: a line per run through its windows' values at their
// middle (A blue, B red), so a leak climbs and a degradation bends instead of hiding in a summary.
template <typename Value>
std::string soak_chart(const std::vector<const SoakRun*>& runs, const char* what, const char* unit,
                       Value value) {
    double end_s = 0, low = std::numeric_limits<double>::infinity(), high = -low;
    for (const SoakRun* run : runs) {
        for (const runners::SoakWindow& window : run->windows) {
            end_s = std::max(end_s, window.end_s);
            if (const std::optional<double> v = value(window); v && drawable(*v)) {
                low = std::min(low, *v);
                high = std::max(high, *v);
            }
        }
    }
    if (!(low <= high) || !(end_s > 0)) {
        return fmt::format("<p>{}: no values</p>", what);
    }
    high = high > low ? high : low + 1;
    const auto x = [&](double t_s) {
        return k_pad + t_s / end_s * (k_width - 2 * k_pad);
    };
    const auto y = [&](double v) {
        return k_height - k_pad - (v - low) / (high - low) * (k_height - 2 * k_pad);
    };
    std::string svg = fmt::format(
        R"(<svg class="chart" width="{}" height="{}" viewBox="0 0 {} {}" role="img" aria-label="{} over the run">)",
        k_width, k_height, k_width, k_height, what);
    svg += fmt::format(R"(<text x="4" y="12" class="label">{} ({})</text>)", what, unit);
    for (const SoakRun* run : runs) {
        std::string points;
        for (const runners::SoakWindow& window : run->windows) {
            if (const std::optional<double> v = value(window); v && drawable(*v)) {
                points +=
                    fmt::format("{:.1f},{:.1f} ", x((window.start_s + window.end_s) / 2), y(*v));
            }
        }
        svg += fmt::format(
            R"(<polyline points="{}" fill="none" stroke="{}" stroke-opacity="0.6"><title>{} round {} run {}</title></polyline>)",
            points, run->side == 'A' ? "#1f77b4" : "#d62728", run->side, run->round, run->rep + 1);
    }
    svg += fmt::format(
        R"(<text x="{}" y="{}" class="axis">{}</text><text x="{}" y="{}" class="axis">{}</text>)",
        k_pad, y(high) - 2, escape_xml(format_number(high)), k_pad, y(low) + 12,
        escape_xml(format_number(low)));
    svg += fmt::format(R"(<text x="{}" y="{}" class="axis" text-anchor="end">{} s</text>)",
                       k_width - k_pad, k_height - 4, escape_xml(format_number(end_s)));
    return svg + "</svg>";
}

// Each soak workload's windows over time: p99 latency, the server group's RSS, errors. (Built by
// appending only: GCC 12 at -O3 warns falsely (-Wrestrict) on `" " + std::string&&`.)
std::string soak_section(const Report& report) {
    std::map<std::string, std::vector<const SoakRun*>> by_workload;
    for (const SoakRun& run : report.soak) {
        by_workload[run.workload].push_back(&run);
    }
    if (by_workload.empty()) {
        return {};
    }
    std::string html = "<h2>Soak</h2>\n";
    for (const auto& [workload, runs] : by_workload) {
        html += fmt::format("<div class=\"case soak\"><h3>{}: soak, {} runs (A blue, B red)</h3>",
                            escape_xml(workload), runs.size());
        html += soak_chart(runs, "latency p99", "ms",
                           [](const runners::SoakWindow& w) { return w.latency_p99_ms; });
        html += ' ';
        html += soak_chart(runs, "server RSS", "kB", [](const runners::SoakWindow& w) {
            return w.rss_kb ? std::optional<double>(static_cast<double>(*w.rss_kb)) : std::nullopt;
        });
        html += ' ';
        html += soak_chart(runs, "errors", "per window", [](const runners::SoakWindow& w) {
            return std::optional<double>(static_cast<double>(w.errors));
        });
        html += "</div>\n";
    }
    return html;
}

} // namespace

std::string HtmlExporter::serialize(const Report& report) const {
    const GateSummary gate = summarize(report);
    std::string html = R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>abtool report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse}td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:left}
.regressed,.slo-violated,.failed{color:#c00;font-weight:bold}.improved{color:#080}.inconclusive{color:#a60}
.case{margin:1.5em 0;padding:1em;border:1px solid #ddd;border-radius:6px}
.label,.axis{font-size:11px;fill:#555}pre{background:#f6f6f6;padding:1em;overflow:auto}
</style></head><body>
)";
    html += fmt::format("<h1 class=\"gate {}\">abtool: {}</h1>\n",
                        gate.failed ? "failed" : "passed", escape_xml(gate_outcome(gate)));
    html += fmt::format("<p>A = <code>{}</code> ({}), B = <code>{}</code> ({}); {} rounds; "
                        "threshold {}{}; seed {}; host {}; run {}</p>\n",
                        escape_xml(report.ref_a), escape_xml(short_commit(report.commit_a)),
                        escape_xml(report.ref_b), escape_xml(short_commit(report.commit_b)),
                        report.rounds, escape_xml(threshold_text(report)),
                        report.strict ? " (--strict: an inconclusive gated metric fails)" : "",
                        report.seed, escape_xml(report.host), escape_xml(report.run_id));
    const Table table = verdict_table(report);
    html += "<table><tr>";
    for (const std::string& title : table.header) {
        html += "<th>" + escape_xml(title) + "</th>";
    }
    html += "</tr>\n";
    for (std::size_t i = 0; i < table.cells.size(); ++i) {
        html += "<tr>";
        for (std::size_t j = 0; j < table.cells[i].size(); ++j) {
            const std::string css = j + 1 == table.cells[i].size()
                                        ? " class=\"" + to_string(table.rows[i]->verdict) + "\""
                                        : "";
            html += "<td" + css + ">" + escape_xml(table.cells[i][j]) + "</td>";
        }
        html += "</tr>\n";
    }
    html += "</table>\n";
    // How each workload's rounds ran and why, to read the verdicts above against.
    if (!report.designs.empty()) {
        html += "<h2>Design</h2><ul class=\"designs\">";
        for (const DesignReport& design : report.designs) {
            html += "<li><code>" + escape_xml(design.workload) +
                    "</code>: " + escape_xml(design_summary(design));
            if (shows_evidence(design) && !design.evidence.empty()) {
                html += "<ul>";
                for (const std::string& line : design.evidence) {
                    html += "<li>" + escape_xml(line) + "</li>";
                }
                html += "</ul>";
            }
            html += "</li>";
        }
        html += "</ul>\n";
    }
    for (const Row* row : table.rows) {
        html += fmt::format("<div class=\"case\"><h3>{} <span class=\"{}\">{}</span></h3><p>{}</p>",
                            escape_xml(row_name(*row)), to_string(row->verdict),
                            to_string(row->verdict), escape_xml(row->comparison.reason));
        html += strip_plot(*row) + " " +
                delta_plot(*row, row->threshold_pct.value_or(report.threshold_pct)) + "</div>\n";
    }
    html += soak_section(report);
    if (!report.warnings.empty()) {
        html += "<h2>Warnings</h2><ul>";
        for (const std::string& warning : report.warnings) {
            html += "<li>" + escape_xml(warning) + "</li>";
        }
        html += "</ul>\n";
    }
    html += "<h2>Config</h2><pre>" + escape_xml(report.config_text) + "</pre>\n";
    html += fmt::format("<p><small>abtool {} · {}</small></p>\n</body></html>\n",
                        escape_xml(report.abtool_version), escape_xml(report.interval_note));
    return html;
}

} // namespace abtool::report
