#include "src/commands/conclude.hpp"

#include "abtool/error.hpp"
#include "src/report/outputs.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <unistd.h>

namespace abtool {

int conclude(const report::Report& analyzed, const OutputOptions& outputs, Strict strict,
             const RunDir& run_dir, const std::optional<std::string>& shard) {
    // --strict travels in the report, so that every output states the gate the exit code does.
    report::Report report = analyzed;
    report.strict = strict == Strict::yes;
    const bool color = isatty(STDOUT_FILENO) != 0 && std::getenv("NO_COLOR") == nullptr;
    std::fputs(
        report::terminal_table(report, color ? report::Color::yes : report::Color::no).c_str(),
        stdout);
    for (const std::string& warning : report.warnings) {
        std::fprintf(stdout, "warning: %s\n", warning.c_str());
    }
    report::write_outputs(report, outputs, run_dir.path());
    const report::GateSummary gate = report::summarize(report);
    std::fprintf(
        stdout,
        "%s: %d regressed, %d improved, %d unchanged, %d inconclusive, %d slo-violated "
        "(gated metrics)%s\n",
        shard         ? (*shard + " alone, not a gate").c_str()
        : gate.failed ? "gate FAILED"
                      : "gate passed",
        gate.regressed, gate.improved, gate.unchanged, gate.inconclusive, gate.slo_violated,
        gate.informational_regressed > 0 ? fmt::format("; {} informational metric(s) regressed too",
                                                       gate.informational_regressed)
                                               .c_str()
                                         : "");
    std::fflush(stdout);
    // After the verdict line: a step summary or $GITHUB_OUTPUT that cannot be written ends the
    // run with exit 3 (Error(storage)), and the verdict must already be on the screen.
    if (!shard) {
        report::publish_to_github_actions(report, run_dir.path());
    }
    if (!report.unmeasured.empty()) {
        // DESIGN.md exit 3: a workload that did not measure what it gates failed to run, whatever
        // else the table says.
        std::string lines;
        for (const std::string& line : report.unmeasured) {
            lines += "\n  " + line;
        }
        throw Error(ErrorKind::workload,
                    fmt::format("{} gated metric(s) yielded no comparable value, so the gate "
                                "cannot pass:{}",
                                report.unmeasured.size(), lines),
                    fmt::format("nothing was appended to results.csv; samples and errors: {}",
                                run_dir.samples_file().string()));
    }
    return gate.failed && !shard ? 1 : 0;
}

} // namespace abtool
