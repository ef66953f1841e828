#include "src/commands.hpp"

#include "abtool/error.hpp"
#include "src/analysis.hpp"
#include "src/commands/conclude.hpp"
#include "src/report/outputs.hpp"
#include "src/run_store.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace abtool {

int run_analyze(const AnalyzeOptions& options) {
    const std::filesystem::path& run_dir = options.run_dir;
    if (!std::filesystem::is_regular_file(run_dir / "plan.json")) {
        throw Error(
            ErrorKind::usage,
            fmt::format("{} is not an abtool run directory (no plan.json)", run_dir.string()),
            "run directories are .abtool/runs/<run_id>/ in the repository");
    }
    report::check_output_paths(options.outputs);
    const Plan plan =
        plan_from_json(read_json_file(run_dir / "plan.json"), (run_dir / "plan.json").string());
    Config config = parse_config(plan.config_text, plan.config_file);
    // The run measured the plan's workloads only (--workload selects some): SLOs and rows of the
    // others would judge workloads that never ran.
    std::erase_if(config.workloads, [&](const WorkloadConfig& workload) {
        return std::find(plan.workloads.begin(), plan.workloads.end(), workload.workload.name) ==
               plan.workloads.end();
    });
    const SamplesFile samples = read_samples(run_dir / "samples.jsonl");

    AnalysisSettings settings;
    settings.threshold = plan.threshold;
    settings.confidence = options.confidence.value_or(plan.confidence);
    settings.multiplicity = config.run.multiplicity;
    if (options.threshold) {
        settings.threshold = threshold_from_flag(*options.threshold);
    }
    if (options.summary) {
        settings.summary = parse_summary(*options.summary);
        if (!settings.summary) {
            throw Error(ErrorKind::usage,
                        fmt::format("--summary '{}': use min or median", *options.summary));
        }
    }
    if (plan.max_rounds > plan.rounds) {
        settings.looks = stats::planned_looks({plan.rounds, plan.max_rounds});
    }
    report::Report report = analyze_records(plan, config, samples.records, settings);
    report.run_dir = run_dir.string();
    report.warnings.insert(report.warnings.end(), samples.warnings.begin(), samples.warnings.end());
    return conclude(report, options.outputs, options.strict, run_dir);
}

} // namespace abtool
