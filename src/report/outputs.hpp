// Writing a Report where the user asked: the terminal table, --json/--markdown/--html files,
// --export formats, and GitHub Actions' annotations, step summary and outputs.
#pragma once

#include "src/core/options.hpp"
#include "src/report/report.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace abtool::report {

enum class Color { no, yes };

// The --export formats, "gha-benchmark, bencher, ...", for help and error messages.
std::string export_format_names();

// Before the first run: every output path's directory exists and is writable, every --export
// format is known. Throws Error(usage) naming the flag and path.
void check_output_paths(const OutputOptions& outputs);

// The table for the terminal (sorted worst first), shared with Markdown's table builder.
std::string terminal_table(const Report& report, Color color);

// The files write_outputs writes outside the run directory: --json, --markdown, --html and each
// --export FORMAT=PATH (benchstat's PATH-a/PATH-b, gha-benchmark's PATH-smaller-is-better and
// PATH-bigger-is-better). A session keeps these as HEAD has them when a ref is CURRENT.
std::vector<std::filesystem::path> output_files(const OutputOptions& outputs);

// Writes --json, --markdown, --html and --export files; exports without a path go to run_dir.
void write_outputs(const Report& report, const OutputOptions& outputs,
                   const std::filesystem::path& run_dir);

// When GITHUB_ACTIONS=true: annotations on stdout (one per regressed case, worst first, at most
// 10 errors and 10 warnings), the step summary and $GITHUB_OUTPUT (verdict from summarize(),
// so --strict included); always writes comment.md into run_dir for a sticky PR comment.
void publish_to_github_actions(const Report& report, const std::filesystem::path& run_dir);

// text cut to at most max_bytes with a note that it was, at a line end when one is near and
// never inside a UTF-8 character.
std::string truncate_markdown(const std::string& text, std::size_t max_bytes);

} // namespace abtool::report
