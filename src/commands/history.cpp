// abtool history: a primary key's trend over results.csv, one line per run (B's median, the
// run's delta and verdict), a terminal sparkline, and the step changes in it.
//
// A step is a persistent level shift of B's median, not one odd run. Run i starts a step when,
// with `before` the up to 5 runs before i (at least 3, none before the previous step) and `after`
// runs i..i+2 (at least 2):
//   - the shift median(after) / median(before) - 1 is larger than
//     min_shift = max(the run's threshold, 3 x the within-segment noise), the noise being the
//     median absolute deviation of every run from its own segment's median, relative to it;
//   - and every run of `after` lies beyond min_shift on the same side of median(before).
// A last run that crosses min_shift alone is marked as an unconfirmed shift: one more run tells.
// Runs without a B median (NaN: every B run failed) are left out of the sparkline's scale, drawn
// as a gap, and out of step detection.
#include "src/commands/commands.hpp"

#include "abtool/error.hpp"
#include "abtool/short_commit.hpp"
#include "src/commands/results_file.hpp"
#include "src/results/results_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>

namespace abtool {

namespace {

constexpr std::size_t k_before_max = 5;
constexpr std::size_t k_before_min = 3;
constexpr std::size_t k_after_max = 3;
constexpr std::size_t k_after_min = 2;
constexpr double k_noise_factor = 3;

std::string sparkline(const std::vector<double>& values) {
    static const char* k_bars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    std::vector<double> finite;
    std::copy_if(values.begin(), values.end(), std::back_inserter(finite),
                 [](double value) { return std::isfinite(value); });
    if (finite.empty()) {
        return "";
    }
    const auto [low, high] = std::minmax_element(finite.begin(), finite.end());
    const double span = *high - *low;
    std::string line;
    for (double value : values) {
        if (!std::isfinite(value)) {
            line += "·"; // a run without a B median
            continue;
        }
        const auto level = span > 0 ? static_cast<int>(std::lround((value - *low) / span * 7)) : 3;
        line += k_bars[std::clamp(level, 0, 7)];
    }
    return line;
}

using stats::median; // the stats library's: one median for all of abtool

// Relative deviations of a segment's values from its median.
void add_deviations(const std::vector<double>& segment, std::vector<double>& deviations) {
    const double level = median(segment);
    for (double value : segment) {
        deviations.push_back(std::abs(value / level - 1));
    }
}

struct Step {
    double shift_pct = 0;
    double min_shift_pct = 0;
    bool confirmed = true; // false: the last run alone crosses min_shift
};

// Steps in `values` (finite B medians in run order), keyed by the index of the first run after
// the change; `threshold_pct[i]` is run i's threshold. The rule is in the file comment.
std::map<std::size_t, Step> find_steps(const std::vector<double>& values,
                                       const std::vector<double>& threshold_pct) {
    std::map<std::size_t, Step> steps;
    std::size_t segment_start = 0; // no window reaches back across a step already found
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i - segment_start < k_before_min) {
            continue;
        }
        const std::size_t from = std::max(segment_start, i >= k_before_max ? i - k_before_max : 0);
        const std::vector<double> before(values.begin() + static_cast<std::ptrdiff_t>(from),
                                         values.begin() + static_cast<std::ptrdiff_t>(i));
        const std::size_t to = std::min(values.size(), i + k_after_max);
        const std::vector<double> after(values.begin() + static_cast<std::ptrdiff_t>(i),
                                        values.begin() + static_cast<std::ptrdiff_t>(to));
        const double level = median(before);
        if (!(level > 0)) {
            continue;
        }
        std::vector<double> deviations;
        add_deviations(before, deviations);
        if (after.size() >= k_after_min) {
            add_deviations(after, deviations);
        }
        const double noise_pct = median(deviations) * 100;
        const double min_shift_pct = std::max(threshold_pct[i], k_noise_factor * noise_pct);
        const double shift_pct = (median(after) / level - 1) * 100;
        const bool all_beyond = std::all_of(after.begin(), after.end(), [&](double value) {
            const double change_pct = (value / level - 1) * 100;
            return std::abs(change_pct) > min_shift_pct && (change_pct > 0) == (shift_pct > 0);
        });
        if (!std::isfinite(shift_pct) || std::abs(shift_pct) <= min_shift_pct || !all_beyond) {
            continue;
        }
        if (after.size() >= k_after_min) {
            steps[i] = Step{shift_pct, min_shift_pct, true};
            segment_start = i;
        } else {
            steps[i] = Step{shift_pct, min_shift_pct, false};
        }
    }
    return steps;
}

} // namespace

int run_history(const HistoryOptions& options) {
    if (!options.key && !options.workload) {
        throw Error(ErrorKind::usage, "history needs --key PK or --workload W [--case C]");
    }
    const ResultsLocation location = locate_results(options.results);
    const ResultsStore::ReadResult read = ResultsStore(location.file).read();
    std::map<std::string, std::vector<const ResultRow*>> by_key;
    for (const ResultRow& row : read.rows) {
        const bool match = options.key
                               ? row.primary_key == *options.key
                               : row.workload == *options.workload &&
                                     (!options.case_name || row.case_name == *options.case_name) &&
                                     (!options.metric || row.metric == *options.metric);
        if (match) {
            by_key[row.primary_key].push_back(&row);
        }
    }
    if (by_key.empty()) {
        throw Error(
            ErrorKind::usage,
            fmt::format("no rows in {} match {}", location.file.string(),
                        options.key ? "--key " + *options.key : "--workload " + *options.workload),
            "abtool history --workload W lists a workload's keys");
    }
    for (const std::string& warning : read.warnings) {
        std::fprintf(stderr, "warning: %s\n", warning.c_str());
    }
    for (const auto& [key, all_rows] : by_key) {
        std::vector<const ResultRow*> rows = all_rows;
        if (rows.size() > static_cast<std::size_t>(options.limit)) {
            rows.erase(rows.begin(), rows.end() - static_cast<std::ptrdiff_t>(options.limit));
        }
        const ResultRow& first = *rows.front();
        std::fprintf(stdout, "%s  %s%s%s %s (%s, %s is better)\n", key.c_str(),
                     first.workload.c_str(), first.case_name.empty() ? "" : "/",
                     first.case_name.c_str(), first.metric.c_str(), first.unit.c_str(),
                     first.direction.c_str());
        std::vector<double> medians;
        std::vector<double> finite;    // the B medians step detection sees
        std::vector<double> threshold; // their runs' thresholds
        std::vector<std::optional<std::size_t>> finite_index;
        for (const ResultRow* row : rows) {
            medians.push_back(row->b_median);
            finite_index.emplace_back();
            if (std::isfinite(row->b_median)) {
                finite_index.back() = finite.size();
                finite.push_back(row->b_median);
                threshold.push_back(row->threshold_pct);
            }
        }
        const std::map<std::size_t, Step> steps = find_steps(finite, threshold);
        std::fprintf(stdout, "  %s\n", sparkline(medians).c_str());
        for (std::size_t i = 0; i < rows.size(); ++i) {
            const ResultRow& row = *rows[i];
            std::string step;
            if (finite_index[i]) {
                if (auto it = steps.find(*finite_index[i]); it != steps.end()) {
                    step = it->second.confirmed
                               ? fmt::format("  <- step {:+.1f}% (> {:.1f}%)", it->second.shift_pct,
                                             it->second.min_shift_pct)
                               : fmt::format("  <- shift {:+.1f}%? unconfirmed: one run",
                                             it->second.shift_pct);
                }
            }
            std::fprintf(
                stdout, "  %s  %-28s %-12s %12s %9s  %-12s%s\n", row.timestamp.c_str(),
                row.run_id.c_str(), short_commit(row.commit_b).c_str(),
                std::isfinite(row.b_median) ? fmt::format("{:.4g}", row.b_median).c_str() : "-",
                std::isfinite(row.delta_pct) ? fmt::format("{:+.2f}%", row.delta_pct).c_str() : "-",
                row.verdict.c_str(), step.c_str());
        }
        std::fprintf(stdout, "\n");
    }
    std::fprintf(stdout,
                 "step: B's median shifted for %zu+ runs by more than max(threshold, %gx the "
                 "runs' noise)\n",
                 k_after_min, k_noise_factor);
    return 0;
}

} // namespace abtool
