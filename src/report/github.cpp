// GitHub Actions: annotations for the worst regressed cases (GitHub shows at most 10 errors and
// 10 warnings a step: one per case, not per metric, so that ten metrics of one case do not hide
// every other case), the Markdown summary appended to $GITHUB_STEP_SUMMARY (capped at 1 MiB, cut
// at a line or at least a UTF-8 character boundary), verdict and counts in $GITHUB_OUTPUT, and
// comment.md for a sticky PR comment (capped at GitHub's 65,536 characters a comment).
#include "abtool/atomic_file.hpp"
#include "abtool/error.hpp"
#include "abtool/unique_fd.hpp"
#include "src/report/exporters.hpp"
#include "src/report/outputs.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <optional>

namespace abtool::report {

namespace {

constexpr std::size_t k_annotation_cap = 10;
constexpr std::size_t k_summary_cap = 1024 * 1024;
constexpr std::size_t k_comment_cap = 65536; // characters; bytes >= characters, so bytes is safe

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

// Appends `text` to the file $`variable` names, when it names one; a refused open or write is
// returned as a message naming the variable, the file and the reason (a gate must never lose its
// verdict silently).
std::optional<std::string> append_file(const char* variable, const std::string& text) {
    const char* path = std::getenv(variable);
    if (path == nullptr || *path == '\0') {
        return std::nullopt;
    }
    const UniqueFd fd(open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
    const int error = fd ? write_all(fd.get(), text) : errno;
    if (error != 0) {
        return fmt::format("${} ({}): {}: {}", variable, path, fd ? "write" : "open",
                           std::strerror(error));
    }
    return std::nullopt;
}

// One annotation: a case and the rows of it that fail the gate (error) or, when none does,
// that regressed without gating (warning). Rows are in worst-first order.
struct CaseAnnotation {
    std::string workload, case_name;
    bool error = false;
    std::vector<const Row*> rows;
};

std::vector<CaseAnnotation> annotations_by_case(const Report& report) {
    const std::vector<const Row*> ordered = worst_first(report);
    std::map<const Row*, std::size_t> position;
    std::vector<CaseAnnotation> cases;
    for (const Row* row : ordered) {
        position[row] = position.size();
        const bool error = fails_gate(*row, report);
        if (!error && !informational_regression(*row)) {
            continue;
        }
        auto found = std::find_if(cases.begin(), cases.end(), [&](const CaseAnnotation& c) {
            return c.workload == row->workload && c.case_name == row->case_name;
        });
        if (found == cases.end()) {
            cases.push_back({row->workload, row->case_name, error, {}});
            found = cases.end() - 1;
        }
        if (error && !found->error) {
            // A failing metric makes the case an error; warnings-only rows before it go.
            found->error = true;
            found->rows.clear();
        }
        if (error == found->error) {
            found->rows.push_back(row);
        }
    }
    // Errors first, each kind by its worst row of that kind: an error case by its worst failing
    // row, not by an informational row that worst_first put earlier (a +50% informational
    // regression ranks above a gated inconclusive that fails under --strict).
    std::stable_sort(cases.begin(), cases.end(),
                     [&](const CaseAnnotation& a, const CaseAnnotation& b) {
                         if (a.error != b.error) {
                             return a.error;
                         }
                         return position.at(a.rows.front()) < position.at(b.rows.front());
                     });
    return cases;
}

std::string row_change(const Row& row, const Report& report) {
    if (row.slo) {
        return row.metric + " " + *row.slo;
    }
    return fmt::format("{} {} {} ({} vs {}): {}", row.metric, to_string(row.verdict),
                       format_percent(row.comparison.delta_pct), report.ref_b, report.ref_a,
                       row.comparison.reason);
}

} // namespace

std::string truncate_markdown(const std::string& text, std::size_t max_bytes) {
    if (text.size() <= max_bytes) {
        return text;
    }
    const std::string note = "\n\n… truncated: the whole report is in the run's artifacts.\n";
    std::size_t cut = max_bytes > note.size() ? max_bytes - note.size() : 0;
    // Never inside a UTF-8 sequence (GitHub rejects invalid UTF-8): back up over continuation
    // bytes (10xxxxxx) to the start of the character that does not fit.
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
        --cut;
    }
    // Prefer a whole line when one ends in the second half, so no table row is cut in two.
    const std::size_t newline = cut == 0 ? std::string::npos : text.rfind('\n', cut - 1);
    if (newline != std::string::npos && newline >= cut / 2) {
        cut = newline + 1;
    }
    return text.substr(0, cut) + note;
}

void publish_to_github_actions(const Report& report, const std::filesystem::path& run_dir) {
    const GateSummary gate = summarize(report);
    const std::string markdown = MarkdownExporter().serialize(report);
    if (!run_dir.empty()) {
        write_file_atomically(run_dir / "comment.md", truncate_markdown(markdown, k_comment_cap));
    }
    const char* actions = std::getenv("GITHUB_ACTIONS");
    if (actions == nullptr || std::string(actions) != "true") {
        return;
    }
    std::size_t errors = 0, warnings = 0, omitted = 0;
    for (const CaseAnnotation& annotation : annotations_by_case(report)) {
        std::size_t& count = annotation.error ? errors : warnings;
        if (count == k_annotation_cap) {
            ++omitted;
            continue;
        }
        ++count;
        const Row& worst = *annotation.rows.front();
        const std::string title =
            fmt::format("abtool: {} {}", row_name(worst), to_string(worst.verdict));
        std::string message = row_change(worst, report);
        if (annotation.rows.size() > 1) {
            message +=
                fmt::format("\nalso {} other metric(s) of this case:", annotation.rows.size() - 1);
            for (std::size_t i = 1; i < annotation.rows.size(); ++i) {
                // Two appends: GCC 12 at -O3 warns (-Wrestrict, an error here) on "\n" + string.
                message += '\n';
                message += row_change(*annotation.rows[i], report);
            }
        }
        std::printf("::%s title=%s::%s\n", annotation.error ? "error" : "warning",
                    escape_property(title).c_str(), escape_data(message).c_str());
    }
    if (omitted > 0) {
        std::printf("::notice title=abtool::%zu more regressed case(s) in the step summary\n",
                    omitted);
    }
    std::fflush(stdout);
    // Both are attempted; then any failure ends the run with exit 3, naming the file.
    std::vector<std::string> failed;
    for (auto error :
         {append_file("GITHUB_STEP_SUMMARY", truncate_markdown(markdown, k_summary_cap)),
          append_file("GITHUB_OUTPUT",
                      fmt::format("verdict={}\nregressed={}\nimproved={}\nunchanged={}\n"
                                  "inconclusive={}\nslo_violated={}\ninformational_regressed={}\n"
                                  "strict={}\nrun_dir={}\n",
                                  gate.failed ? "fail" : "pass", gate.regressed, gate.improved,
                                  gate.unchanged, gate.inconclusive, gate.slo_violated,
                                  gate.informational_regressed, report.strict ? "true" : "false",
                                  run_dir.string()))}) {
        if (error) {
            failed.push_back(*error);
        }
    }
    if (!failed.empty()) {
        throw Error(ErrorKind::storage,
                    fmt::format("the gate's outputs for GitHub Actions could not be written: {}",
                                fmt::join(failed, "; ")),
                    fmt::format("the verdict above stands ({}); the step must not pass on it",
                                gate.failed ? "gate FAILED" : "gate passed"));
    }
}

} // namespace abtool::report
