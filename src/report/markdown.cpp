#include "abtool/short_commit.hpp"
#include "src/report/exporters.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace abtool::report {

namespace {

const char* emoji(Verdict verdict) {
    switch (verdict) {
    case Verdict::regressed:
    case Verdict::slo_violated:
        return "🔴";
    case Verdict::improved:
        return "🟢";
    case Verdict::unchanged:
        return "⚪";
    case Verdict::inconclusive:
        break;
    }
    return "🟡";
}

std::string escape(const std::string& cell) {
    std::string out;
    for (char c : cell) {
        if (c == '|') {
            out += "\\|";
        } else if (c == '\n') {
            out += ' ';
        } else {
            out += c;
        }
    }
    return out;
}

// A list item's text: on one line. Unlike a table cell, a '|' needs no escape there (and inside
// a code span the backslash would show).
std::string one_line(const std::string& text) {
    std::string out = text;
    std::replace(out.begin(), out.end(), '\n', ' ');
    return out;
}

} // namespace

std::string MarkdownExporter::serialize(const Report& report) const {
    const GateSummary gate = summarize(report);
    std::string out = "<!-- abtool-report -->\n";
    out += fmt::format("## abtool: {} {} — `{}` vs `{}`\n\n", gate.failed ? "❌" : "✅",
                       gate_outcome(gate), report.ref_a, report.ref_b);
    out +=
        fmt::format("A = `{}` ({}), B = `{}` ({}); {} {} rounds, threshold {}{}.\n\n", report.ref_a,
                    short_commit(report.commit_a), report.ref_b, short_commit(report.commit_b),
                    report.rounds, report.paired ? "paired" : "unpaired", threshold_text(report),
                    report.strict ? ", --strict (an inconclusive gated metric fails)" : "");
    for (const std::string& line : report.unmeasured) {
        out += fmt::format("**Not measured:** {}\n\n", escape(line));
    }
    const Table table = verdict_table(report);
    out += "| | " + fmt::format("{}", fmt::join(table.header, " | ")) + " |\n|";
    for (std::size_t i = 0; i <= table.header.size(); ++i) {
        out += i >= 4 && i <= 9 ? "---:|" : "---|";
    }
    out += "\n";
    for (std::size_t i = 0; i < table.cells.size(); ++i) {
        std::vector<std::string> cells;
        for (const std::string& cell : table.cells[i]) {
            cells.push_back(escape(cell));
        }
        out += fmt::format("| {} | {} |\n", emoji(table.rows[i]->verdict), fmt::join(cells, " | "));
    }
    out += fmt::format("\n{} regressed, {} improved, {} unchanged, {} inconclusive, {} "
                       "slo-violated{}.\n",
                       gate.regressed, gate.improved, gate.unchanged, gate.inconclusive,
                       gate.slo_violated,
                       gate.informational_regressed > 0
                           ? fmt::format(" among gated metrics; {} informational metric(s) "
                                         "regressed too",
                                         gate.informational_regressed)
                           : std::string());
    // How each workload's rounds ran and why: one bullet each, the pilot's evidence nested.
    if (!report.designs.empty()) {
        out += "\n**Design**\n\n";
    }
    for (const DesignReport& design : report.designs) {
        out += fmt::format("- `{}`: {}\n", one_line(design.workload),
                           one_line(design_summary(design)));
        if (shows_evidence(design)) {
            for (const std::string& line : design.evidence) {
                out += "  - " + one_line(line) + "\n";
            }
        }
    }
    std::string details;
    if (!report.interval_note.empty()) {
        details += "- " + interval_note_line(report) + "\n";
    }
    for (const std::string& warning : report.warnings) {
        details += "- warning: " + escape(warning) + "\n";
    }
    for (const Row* row : table.rows) {
        if (row->slo) {
            details += "- slo-violated: " + escape(row->workload + " " + *row->slo) + "\n";
        }
        for (const std::string& warning : row->comparison.warnings) {
            details += "- " + escape(row_name(*row) + ": " + warning) + "\n";
        }
    }
    if (!details.empty()) {
        out += "\n<details><summary>Details</summary>\n\n" + details + "\n</details>\n";
    }
    out += fmt::format("\n<sub>abtool {} · run {} · host {}</sub>\n", report.abtool_version,
                       report.run_id, report.host);
    return out;
}

} // namespace abtool::report
