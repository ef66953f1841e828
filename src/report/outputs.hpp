// Writing a Report where the user asked: the terminal table, --json/--markdown/--html files,
// --export formats, and GitHub Actions' annotations, step summary and outputs.
#pragma once

#include "src/options.hpp"
#include "src/report/report.hpp"

#include <filesystem>
#include <string>

namespace abtool::report {

enum class Color { no, yes };

// Before the first run: every output path's directory exists and is writable, every --export
// format is known. Throws Error(usage) naming the flag and path.
void check_output_paths(const OutputOptions& outputs);

// The table for the terminal (sorted worst first), shared with Markdown's table builder.
std::string terminal_table(const Report& report, Color color);

// Writes --json, --markdown, --html and --export files; exports without a path go to run_dir.
void write_outputs(const Report& report, const OutputOptions& outputs,
                   const std::filesystem::path& run_dir);

// When GITHUB_ACTIONS=true: annotations on stdout (capped), the step summary and
// $GITHUB_OUTPUT; writes comment.md into run_dir for a sticky PR comment. No-op otherwise.
void publish_to_github_actions(const Report& report, const GateSummary& gate,
                               const std::filesystem::path& run_dir);

} // namespace abtool::report
