#include "src/commands/commands.hpp"

#include "src/experiment/scheduler.hpp"
#include "src/experiment/session.hpp"
#include "src/results/run_store.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <optional>

namespace abtool {

namespace {

// One design's A/A figures for one series: a line of the table, and its calibration.json entry.
nlohmann::json design_row(const std::string& workload, const DesignRounds& design,
                          const DesignSeries& series, const stats::Options& stats_options) {
    const stats::NoiseFloor floor = stats::noise_floor(series.log_ratios, stats_options);
    std::string name = workload;
    if (!series.case_name.empty()) {
        name += "/" + series.case_name;
    }
    name += "/" + series.metric;
    const double aa_delta_pct =
        series.log_ratios.empty() ? 0 : std::expm1(stats::median(series.log_ratios)) * 100;
    const double time_s = static_cast<double>(floor.rounds_needed) * design.seconds_per_round;
    if (floor.estimable) {
        std::fprintf(stdout, "%-36s %-14s %9.2f%% %8.2f%% %8.2f%% %10.2f%% %7zu %9.3g %9.0fs\n",
                     name.c_str(), design.label.c_str(), aa_delta_pct, floor.sigma_d * 100,
                     floor.noise_pct, floor.detectable_pct, floor.rounds_needed,
                     design.seconds_per_round, time_s);
    } else {
        // No spread (a deterministic metric), NaN/inf log-ratios or too few rounds:
        // no honest round count.
        std::fprintf(stdout, "%-36s %-14s %9.2f%% %s\n", name.c_str(), design.label.c_str(),
                     aa_delta_pct,
                     floor.n < 3 ? "not estimable (fewer than 3 usable rounds)"
                                 : "not estimable (no variation, or non-finite "
                                   "values)");
    }
    nlohmann::json entry = {{"workload", workload},
                            {"case", series.case_name},
                            {"metric", series.metric},
                            {"design", design.label},
                            {"n", floor.n},
                            {"aa_delta_pct", aa_delta_pct},
                            {"seconds_per_round", design.seconds_per_round},
                            {"estimable", floor.estimable}};
    // null rather than a made-up number when the series cannot say.
    for (const auto& [key, value] :
         {std::pair{"sigma_d", nlohmann::json(floor.sigma_d)},
          std::pair{"noise_pct", nlohmann::json(floor.noise_pct)},
          std::pair{"detectable_pct", nlohmann::json(floor.detectable_pct)},
          std::pair{"rounds_needed", nlohmann::json(floor.rounds_needed)},
          std::pair{"seconds_needed", nlohmann::json(time_s)}}) {
        entry[key] = floor.estimable ? value : nlohmann::json(nullptr);
    }
    return entry;
}

// A workload counted under cachegrind also ran natively (Scheduler::run_native_reference), pilot
// k_native_pilot: its wall time's A/A figures, beside the counts' and valgrind's, show which of
// them a team can gate on. Nullopt when it has no native runs.
std::optional<DesignRounds> native_rounds(const std::string& workload,
                                          const std::vector<SampleRecord>& records) {
    std::map<std::size_t, std::pair<std::optional<double>, std::optional<double>>> wall;
    double seconds = 0;
    for (const SampleRecord& record : records) {
        if (record.error || record.workload != workload || record.metric != "wall_ms" ||
            record.pilot != std::optional<std::string>(k_native_pilot)) {
            continue;
        }
        auto& pair = wall[record.round];
        (record.side == Side::a ? pair.first : pair.second) = record.value;
        seconds += record.run_ms / 1000;
    }
    if (wall.empty()) {
        return std::nullopt;
    }
    DesignRounds native{
        "native", false, seconds / static_cast<double>(wall.size()), {{"", "wall_ms", {}}}};
    for (const auto& [round, pair] : wall) {
        if (pair.first && pair.second && *pair.first > 0 && *pair.second > 0) {
            native.series.front().log_ratios.push_back(std::log(*pair.second / *pair.first));
        }
    }
    return native;
}

} // namespace

int run_calibrate(const CalibrateOptions& options) {
    RunOptions run;
    run.ref_a = options.ref;
    run.ref_b = options.ref;
    run.rounds = options.rounds;
    run.workloads = options.workloads;
    run.config = options.config;
    run.measurement = options.measurement;
    run.calibrate = true;
    const Experiment experiment = run_experiment(run);

    stats::Options stats_options;
    stats_options.threshold = experiment.settings.threshold;
    stats_options.confidence = experiment.settings.confidence;
    stats_options.seed = experiment.plan.seed;

    std::fprintf(stdout,
                 "A/A calibration of '%s' (%zu rounds of each design, threshold %.3g%%): two "
                 "checkouts of the same content, scheduled like a comparison\n\n",
                 options.ref.c_str(), experiment.plan.rounds, experiment.settings.threshold * 100);
    std::fprintf(stdout, "%-36s %-14s %10s %9s %9s %11s %7s %9s %10s\n", "workload/case/metric",
                 "design", "A/A delta", "spread", "noise +-", "detectable", "rounds", "s/round",
                 "time");
    nlohmann::json cases = nlohmann::json::array();
    nlohmann::json designs = nlohmann::json::array();
    std::string toml;
    for (const Pilot& pilot : experiment.calibrations) {
        const std::string& workload = pilot.designs.front().workload;
        const std::vector<DesignRounds> rounds =
            pilot_rounds(pilot, experiment.records, runners::Gate::no);
        const std::size_t series_count = rounds.empty() ? 0 : rounds.front().series.size();
        for (std::size_t i = 0; i < series_count; ++i) {
            for (const DesignRounds& design : rounds) {
                cases.push_back(design_row(workload, design, design.series[i], stats_options));
            }
        }
        if (const auto native = native_rounds(workload, experiment.records)) {
            cases.push_back(design_row(workload, *native, native->series.front(), stats_options));
        }
        const WorkloadDesign best = choose_from_pilot(pilot, experiment.records);
        designs.push_back({{"workload", workload},
                           {"design", pilot_label(best)},
                           {"chosen_by", best.chosen_by},
                           {"reason", best.reason},
                           {"evidence", best.evidence},
                           {"toml", toml_lines(best)}});
        toml += fmt::format("\n# [[workload]] name = \"{}\": {} ({})\n{}\n", workload,
                            pilot_label(best), best.reason, toml_lines(best));
    }
    write_json_file(experiment.run_dir.calibration_file(),
                    {{"ref", options.ref},
                     {"rounds", experiment.plan.rounds},
                     {"threshold_pct", experiment.settings.threshold * 100},
                     {"warnings", experiment.report.warnings},
                     {"cases", cases},
                     {"designs", designs}});
    std::fprintf(stdout,
                 "\nThe best design per workload (narrowest interval per second of machine time "
                 "on its gated metrics); to pin it, put these lines in the workload's "
                 "[[workload]] table:\n%s",
                 toml.c_str());
    std::fprintf(stdout,
                 "\nspread: sigma_d, the empirical spread of the paired deltas ln(B/A) (robust, "
                 "as a percent); noise: half-width of the paired interval at this many rounds; "
                 "detectable: the smallest change these rounds find with 80%% power; rounds: "
                 "the rounds that design needs for the configured threshold; time: those rounds' "
                 "machine time. A workload counted under cachegrind also ran natively (design "
                 "\"native\"): its wall_ms there is the program's own, where the other designs' "
                 "is valgrind's.\ncalibration: %s\n",
                 experiment.run_dir.calibration_file().string().c_str());
    // Hygiene and analysis warnings (governor, load, order effects, failed runs) qualify every
    // figure above.
    std::fflush(stdout);
    for (const std::string& warning : experiment.report.warnings) {
        std::fprintf(stderr, "warning: %s\n", warning.c_str());
    }
    return 0;
}

} // namespace abtool
