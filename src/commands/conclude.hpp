// The end every report-producing command shares: the terminal table, the requested files,
// GitHub Actions outputs, and the gate's exit code (DESIGN.md "Exit codes"). A report with an
// unmeasured gated metric ends in an Error (exit 3) once the table and files are out.
#pragma once

#include "src/core/options.hpp"
#include "src/report/report.hpp"
#include "src/results/run_dir.hpp"

namespace abtool {

// `run_dir`: the run's directory (empty for compare, which has none).
int conclude(const report::Report& report, const OutputOptions& outputs, Strict strict,
             const RunDir& run_dir);

} // namespace abtool
