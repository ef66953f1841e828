#include "src/commands.hpp"

#include "src/run_store.hpp"
#include "src/session.hpp"

#include <fmt/format.h>

#include <cstdio>

namespace abtool {

int run_calibrate(const CalibrateOptions& options) {
    RunOptions run;
    run.ref_a = options.ref;
    run.ref_b = options.ref;
    run.rounds = options.rounds;
    run.workloads = options.workloads;
    run.config = options.config;
    run.seed = options.seed;
    run.cpus = options.cpus;
    run.nice = options.nice;
    run.env_padding = options.env_padding;
    run.calibrate = true;
    const Experiment experiment = run_experiment(run);

    stats::Options stats_options;
    stats_options.threshold = experiment.settings.threshold;
    stats_options.confidence = experiment.settings.confidence;
    stats_options.seed = experiment.plan.seed;

    std::fprintf(stdout,
                 "A/A calibration of '%s' (%zu rounds, threshold %.3g%%): two checkouts of the "
                 "same content, scheduled like a comparison\n\n",
                 options.ref.c_str(), experiment.report.rounds,
                 experiment.settings.threshold * 100);
    std::fprintf(stdout, "%-40s %10s %10s %10s %12s %14s\n", "workload/case/metric", "A/A delta",
                 "spread", "noise +-", "detectable", "rounds needed");
    nlohmann::json cases = nlohmann::json::array();
    for (const report::Row& row : experiment.report.rows) {
        const stats::NoiseFloor floor =
            stats::noise_floor(row.comparison.log_ratios, stats_options);
        std::string name = row.workload;
        if (!row.case_name.empty()) {
            name += "/" + row.case_name;
        }
        name += "/" + row.metric;
        if (floor.estimable) {
            std::fprintf(stdout, "%-40s %9.2f%% %9.2f%% %9.2f%% %11.2f%% %14zu\n", name.c_str(),
                         row.comparison.delta_pct, floor.sigma_d * 100, floor.noise_pct,
                         floor.detectable_pct, floor.rounds_needed);
        } else {
            // No spread (a deterministic metric), NaN/inf log-ratios or too few rounds: no honest
            // round count.
            std::fprintf(stdout, "%-40s %9.2f%% %48s\n", name.c_str(), row.comparison.delta_pct,
                         floor.n < 3 ? "not estimable (fewer than 3 usable rounds)"
                                     : "not estimable (no variation, or non-finite values)");
        }
        nlohmann::json entry = {{"workload", row.workload},
                                {"case", row.case_name},
                                {"metric", row.metric},
                                {"n", floor.n},
                                {"aa_delta_pct", row.comparison.delta_pct},
                                {"estimable", floor.estimable}};
        // null rather than a made-up number when the series cannot say.
        for (const auto& [key, value] :
             {std::pair{"sigma_d", nlohmann::json(floor.sigma_d)},
              std::pair{"noise_pct", nlohmann::json(floor.noise_pct)},
              std::pair{"detectable_pct", nlohmann::json(floor.detectable_pct)},
              std::pair{"rounds_needed", nlohmann::json(floor.rounds_needed)}}) {
            entry[key] = floor.estimable ? value : nlohmann::json(nullptr);
        }
        cases.push_back(std::move(entry));
    }
    write_json_file(experiment.run_dir / "calibration.json",
                    {{"ref", options.ref},
                     {"rounds", experiment.report.rounds},
                     {"threshold_pct", experiment.settings.threshold * 100},
                     {"warnings", experiment.report.warnings},
                     {"cases", cases}});
    std::fprintf(stdout,
                 "\nspread: sigma_d, the empirical spread of the paired deltas ln(B/A) (robust, "
                 "as a percent); noise: half-width of the paired interval at this many rounds; "
                 "detectable: the smallest change these rounds find with 80%% power; rounds "
                 "needed: for the configured threshold.\ncalibration: %s\n",
                 (experiment.run_dir / "calibration.json").string().c_str());
    // Hygiene and analysis warnings (governor, load, order effects, failed runs) qualify every
    // figure above.
    std::fflush(stdout);
    for (const std::string& warning : experiment.report.warnings) {
        std::fprintf(stderr, "warning: %s\n", warning.c_str());
    }
    return 0;
}

} // namespace abtool
