// GitHub Actions: annotations for the worst regressions (GitHub shows at most 10 errors and 10
// warnings a step), the Markdown summary appended to $GITHUB_STEP_SUMMARY (capped at 1 MiB),
// verdict and counts in $GITHUB_OUTPUT, and comment.md for a sticky PR comment.
#include "src/report/exporters.hpp"
#include "src/report/outputs.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace abtool::report {

namespace {

constexpr std::size_t k_annotation_cap = 10;
constexpr std::size_t k_summary_cap = 1024 * 1024;

// Workflow-command data: %, CR and LF are escaped; in properties also : and ,.
std::string escape_data(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '%') {
            out += "%25";
        } else if (c == '\r') {
            out += "%0D";
        } else if (c == '\n') {
            out += "%0A";
        } else {
            out += c;
        }
    }
    return out;
}

std::string escape_property(const std::string& text) {
    std::string out;
    for (char c : escape_data(text)) {
        if (c == ':') {
            out += "%3A";
        } else if (c == ',') {
            out += "%2C";
        } else {
            out += c;
        }
    }
    return out;
}

void append_file(const char* variable, const std::string& text) {
    const char* path = std::getenv(variable);
    if (path != nullptr && *path != '\0') {
        std::ofstream(path, std::ios::app) << text;
    }
}

} // namespace

void publish_to_github_actions(const Report& report, const GateSummary& gate,
                               const std::filesystem::path& run_dir) {
    const std::string markdown = MarkdownExporter().serialize(report);
    if (!run_dir.empty()) {
        std::ofstream(run_dir / "comment.md", std::ios::trunc) << markdown;
    }
    const char* actions = std::getenv("GITHUB_ACTIONS");
    if (actions == nullptr || std::string(actions) != "true") {
        return;
    }
    std::size_t errors = 0, warnings = 0, omitted = 0;
    for (const Row* row : worst_first(report)) {
        const bool error = row->verdict == Verdict::slo_violated ||
                           (row->verdict == Verdict::regressed && row->gated);
        const bool warning = !error && row->verdict == Verdict::regressed;
        if (!error && !warning) {
            continue;
        }
        std::size_t& count = error ? errors : warnings;
        if (count == k_annotation_cap) {
            ++omitted;
            continue;
        }
        ++count;
        const std::string title =
            fmt::format("abtool: {} {}", row_name(*row), to_string(row->verdict));
        const std::string message =
            row->slo ? *row->slo
                     : fmt::format("{} ({} vs {}): {}", format_percent(row->comparison.delta_pct),
                                   report.ref_b, report.ref_a, row->comparison.reason);
        std::printf("::%s title=%s::%s\n", error ? "error" : "warning",
                    escape_property(title).c_str(), escape_data(message).c_str());
    }
    if (omitted > 0) {
        std::printf("::notice title=abtool::%zu more regression(s) in the step summary\n", omitted);
    }
    std::string summary = markdown;
    if (summary.size() > k_summary_cap) {
        const std::string note = "\n\n… truncated: the whole report is in the run's artifacts.\n";
        summary = summary.substr(0, k_summary_cap - note.size()) + note;
    }
    append_file("GITHUB_STEP_SUMMARY", summary);
    append_file("GITHUB_OUTPUT",
                fmt::format("verdict={}\nregressed={}\nimproved={}\nunchanged={}\ninconclusive={}\n"
                            "slo_violated={}\nrun_dir={}\n",
                            gate.failed ? "fail" : "pass", gate.regressed, gate.improved,
                            gate.unchanged, gate.inconclusive, gate.slo_violated,
                            run_dir.string()));
    std::fflush(stdout);
}

} // namespace abtool::report
