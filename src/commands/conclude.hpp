// The end every report-producing command shares: the terminal table, the requested files,
// GitHub Actions outputs, and the gate's exit code (DESIGN.md "Exit codes"). A report with an
// unmeasured gated metric ends in an Error (exit 3) once the table and files are out.
#pragma once

#include "src/options.hpp"
#include "src/report/report.hpp"

#include <filesystem>

namespace abtool {

int conclude(const report::Report& report, const OutputOptions& outputs, Strict strict,
             const std::filesystem::path& run_dir);

} // namespace abtool
