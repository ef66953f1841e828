// The end every report-producing command shares: the terminal table, the requested files,
// GitHub Actions outputs, and the gate's exit code (DESIGN.md "Exit codes"). A report with an
// unmeasured gated metric ends in an Error (exit 3) once the table and files are out.
#pragma once

#include "src/core/options.hpp"
#include "src/report/report.hpp"
#include "src/results/run_dir.hpp"

#include <optional>
#include <string>

namespace abtool {

// `run_dir`: the run's directory (empty for compare, which has none). `shard`: a shard's run
// ("shard 2/3"), whose verdicts are its own, corrected over its own cases: the counts line says
// so instead of a gate, nothing goes to GitHub Actions, and the code is 0 (abtool merge gates).
int conclude(const report::Report& report, const OutputOptions& outputs, Strict strict,
             const RunDir& run_dir, const std::optional<std::string>& shard = std::nullopt);

} // namespace abtool
