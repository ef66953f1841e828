#include "src/commands/commands.hpp"

#include "abtool/error.hpp"
#include "src/commands/conclude.hpp"
#include "src/experiment/analysis.hpp"
#include "src/report/outputs.hpp"
#include "src/results/run_dir.hpp"
#include "src/results/run_store.hpp"

#include <fmt/format.h>

namespace abtool {

int run_analyze(const AnalyzeOptions& options) {
    const RunDir run_dir(options.run_dir);
    if (!run_dir.has_plan()) {
        throw Error(ErrorKind::usage,
                    fmt::format("{} is not an abtool run directory (no plan.json)",
                                run_dir.path().string()),
                    "run directories are .abtool/runs/<run_id>/ in the repository");
    }
    report::check_output_paths(options.outputs);
    const Plan plan = run_dir.read_plan();
    const Config config = config_of(plan, plan.config_file);
    const SamplesFile samples = read_samples(run_dir.samples_file());

    AnalysisSettings settings = settings_for(plan, config);
    settings.confidence = options.confidence.value_or(plan.confidence);
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
    report::Report report =
        analyze_records(plan, config, samples.records, settings, samples.windows);
    report.run_dir = run_dir.path().string();
    report.warnings.insert(report.warnings.end(), samples.warnings.begin(), samples.warnings.end());
    return conclude(report, options.outputs, options.strict, run_dir);
}

} // namespace abtool
