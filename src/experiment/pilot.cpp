#include "src/experiment/pilot.hpp"

#include "abtool/stats.hpp"
#include "src/experiment/analysis.hpp"
#include "src/experiment/scheduler.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

namespace abtool {

namespace {

// The repeat the pilot tries besides one run per side: enough for a min to shed a stutter that
// hits one run in a few (this VM: a spike every ~6 runs), few enough to stay affordable.
constexpr std::size_t k_pilot_repeat = 3;

using SeriesKey = std::pair<std::string, std::string>; // case, metric

// The records that make up `design`'s rounds: its own label, or for the derived reference, the
// first repetition of the runs it is read from.
struct Source {
    std::string label;
    std::size_t reps = 1; // the repetitions of each side that count
};

// Per design, per series: round -> side (0 = A) -> rep -> values.
using RoundValues =
    std::map<std::size_t, std::map<int, std::map<std::size_t, std::vector<double>>>>;

struct SeriesValues {
    std::string unit;
    runners::Direction direction = runners::Direction::lower;
    RoundValues values;
};

DesignRounds evaluate(const WorkloadDesign& design, const Source& source,
                      const std::vector<SampleRecord>& records, runners::Gate only,
                      std::vector<SeriesKey>& series_order) {
    std::map<SeriesKey, SeriesValues> series;
    // round -> (side, rep) -> the run's wall time
    std::map<std::size_t, std::map<std::pair<int, std::size_t>, double>> run_ms;
    for (const SampleRecord& record : records) {
        if (record.pilot != source.label || record.workload != design.workload ||
            record.rep >= source.reps) {
            continue;
        }
        const int side = record.side == Side::a ? 0 : 1;
        run_ms[record.round][{side, record.rep}] = record.run_ms;
        if (record.error || (only == runners::Gate::yes && record.gate != runners::Gate::yes)) {
            continue;
        }
        SeriesValues& entry = series[{record.case_name, record.metric}];
        entry.unit = record.unit;
        entry.direction = record.direction;
        entry.values[record.round][side][record.rep].push_back(record.value);
    }
    for (const auto& [key, entry] : series) {
        if (std::find(series_order.begin(), series_order.end(), key) == series_order.end()) {
            series_order.push_back(key);
        }
    }

    DesignRounds rounds;
    rounds.label = pilot_label(design);
    rounds.concurrent = design.schedule == Schedule::duet;
    for (const SeriesKey& key : series_order) {
        DesignSeries out{key.first, key.second, {}};
        const auto it = series.find(key);
        if (it != series.end()) {
            const Summary summary =
                summary_for(design.summary, it->second.unit, it->second.direction);
            for (const auto& [round, sides] : it->second.values) {
                if (sides.size() != 2) {
                    continue; // a failed run on one side: no pair
                }
                double value[2] = {0, 0};
                for (const auto& [side, reps] : sides) {
                    std::vector<std::vector<double>> runs;
                    for (const auto& [rep, values] : reps) {
                        runs.push_back(values);
                    }
                    value[side] = round_value(runs, summary);
                }
                out.log_ratios.push_back(std::log(value[1] / value[0]));
            }
        }
        rounds.series.push_back(std::move(out));
    }
    // Machine time of a round: the runs one after another, or a duet launch's longer side.
    std::vector<double> seconds;
    for (const auto& [round, runs] : run_ms) {
        double total_ms = 0;
        std::map<std::size_t, double> launch_ms;
        for (const auto& [side_rep, ms] : runs) {
            if (rounds.concurrent) {
                launch_ms[side_rep.second] = std::max(launch_ms[side_rep.second], ms);
            } else {
                total_ms += ms;
            }
        }
        for (const auto& [rep, ms] : launch_ms) {
            total_ms += ms;
        }
        seconds.push_back(total_ms / 1e3);
    }
    rounds.seconds_per_round = seconds.empty() ? 0 : stats::median(seconds);
    return rounds;
}

std::string evidence_line(const DesignRounds& pilot, const stats::DesignAssessment& assessment) {
    double worst = 0;
    for (double sigma : assessment.sigma_d) {
        worst = std::max(worst, sigma);
    }
    std::string line = fmt::format("{}: spread {:.2f}%, {:.3g} s/round", pilot.label, worst * 100,
                                   pilot.seconds_per_round);
    if (assessment.eligible) {
        line += fmt::format(", score {:.3g}", assessment.score);
    } else {
        line += ", not eligible: " + assessment.why_not;
    }
    return line;
}

} // namespace

Pilot pilot_candidates(const WorkloadDesign& base, std::optional<std::size_t> configured_repeat,
                       const std::vector<std::vector<int>>& duet_cpus) {
    Pilot pilot;
    WorkloadDesign alternate = base;
    alternate.schedule = Schedule::alternate;
    alternate.duet_cpus.clear();
    WorkloadDesign duet = base;
    duet.schedule = Schedule::duet;
    duet.duet_cpus = duet_cpus;
    if (configured_repeat) {
        alternate.repeat = duet.repeat = *configured_repeat;
        pilot.runs.push_back(alternate);
        pilot.designs.push_back(alternate);
    } else {
        WorkloadDesign repeated = alternate;
        repeated.repeat = k_pilot_repeat;
        alternate.repeat = duet.repeat = 1;
        pilot.runs.push_back(repeated);
        pilot.designs = {alternate, repeated};
    }
    if (!duet_cpus.empty()) {
        pilot.runs.push_back(duet);
        pilot.designs.push_back(duet);
    }
    return pilot;
}

std::vector<DesignRounds> pilot_rounds(const Pilot& pilot, const std::vector<SampleRecord>& records,
                                       runners::Gate only) {
    std::vector<Source> sources;
    for (const WorkloadDesign& design : pilot.designs) {
        const bool derived =
            std::none_of(pilot.runs.begin(), pilot.runs.end(), [&](const WorkloadDesign& run) {
                return pilot_label(run) == pilot_label(design);
            });
        // The derived reference reads the first repetition of the alternate runs.
        sources.push_back(derived ? Source{pilot_label(pilot.runs.front()), 1}
                                  : Source{pilot_label(design), design.repeat});
    }
    // Two passes: a series seen by any design is asked of every design.
    std::vector<SeriesKey> series_order;
    for (std::size_t i = 0; i < pilot.designs.size(); ++i) {
        evaluate(pilot.designs[i], sources[i], records, only, series_order);
    }
    std::vector<DesignRounds> result;
    for (std::size_t i = 0; i < pilot.designs.size(); ++i) {
        result.push_back(evaluate(pilot.designs[i], sources[i], records, only, series_order));
    }
    return result;
}

WorkloadDesign choose_from_pilot(const Pilot& pilot, const std::vector<SampleRecord>& records) {
    const std::vector<DesignRounds> rounds = pilot_rounds(pilot, records, runners::Gate::yes);
    std::vector<stats::DesignPilot> evaluated;
    for (const DesignRounds& design : rounds) {
        stats::DesignPilot entry;
        entry.name = design.label;
        entry.concurrent = design.concurrent;
        entry.seconds_per_round = design.seconds_per_round;
        for (const DesignSeries& series : design.series) {
            entry.log_ratios.push_back(series.log_ratios);
        }
        evaluated.push_back(std::move(entry));
    }
    const stats::DesignChoice choice = stats::choose_design(evaluated);

    WorkloadDesign chosen = pilot.designs.at(choice.chosen);
    chosen.chosen_by = choice.fallback ? "fallback" : "pilot";
    chosen.reason = choice.reason;
    for (std::size_t i = 0; i < rounds.size(); ++i) {
        chosen.evidence.push_back(evidence_line(rounds[i], choice.assessments.at(i)));
        if (rounds[i].concurrent && !choice.assessments[i].eligible) {
            chosen.reason += fmt::format("; duet not used: {}", choice.assessments[i].why_not);
        }
    }
    return chosen;
}

std::string toml_lines(const WorkloadDesign& design) {
    std::string lines = fmt::format("schedule = \"{}\"", to_string(design.schedule));
    if (design.repeat > 1) {
        lines += fmt::format("\nrepeat = {}", design.repeat);
    }
    return lines;
}

} // namespace abtool
