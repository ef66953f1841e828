#include "src/commands.hpp"

#include "abtool/error.hpp"
#include "src/commands/results_file.hpp"
#include "src/results_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace abtool {

namespace {

std::string sparkline(const std::vector<double>& values) {
    static const char* k_bars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    if (values.empty()) {
        return "";
    }
    const auto [low, high] = std::minmax_element(values.begin(), values.end());
    std::string line;
    for (double value : values) {
        const double span = *high - *low;
        const auto level = span > 0 ? static_cast<int>(std::lround((value - *low) / span * 7)) : 3;
        line += k_bars[std::clamp(level, 0, 7)];
    }
    return line;
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
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
        if (rows.size() > options.limit) {
            rows.erase(rows.begin(), rows.end() - static_cast<std::ptrdiff_t>(options.limit));
        }
        const ResultRow& first = *rows.front();
        std::fprintf(stdout, "%s  %s%s%s %s (%s, %s is better)\n", key.c_str(),
                     first.workload.c_str(), first.case_name.empty() ? "" : "/",
                     first.case_name.c_str(), first.metric.c_str(), first.unit.c_str(),
                     first.direction.c_str());
        std::vector<double> medians;
        for (const ResultRow* row : rows) {
            medians.push_back(row->b_median);
        }
        std::fprintf(stdout, "  %s\n", sparkline(medians).c_str());
        for (std::size_t i = 0; i < rows.size(); ++i) {
            const ResultRow& row = *rows[i];
            // A step: this run's B median differs from the median of the five runs before it by
            // more than the run's threshold, a level shift rather than one run's noise.
            std::string step;
            if (i >= 3) {
                const std::vector<double> before(
                    medians.begin() + static_cast<std::ptrdiff_t>(i >= 5 ? i - 5 : 0),
                    medians.begin() + static_cast<std::ptrdiff_t>(i));
                const double reference = median(before);
                const double change = (row.b_median / reference - 1) * 100;
                if (std::isfinite(change) && std::abs(change) > row.threshold_pct) {
                    step = fmt::format("  <- step {:+.1f}%", change);
                }
            }
            std::fprintf(
                stdout, "  %s  %-28s %-12s %12.4g %9s  %-12s%s\n", row.timestamp.c_str(),
                row.run_id.c_str(), row.commit_b.substr(0, 10).c_str(), row.b_median,
                std::isfinite(row.delta_pct) ? fmt::format("{:+.2f}%", row.delta_pct).c_str() : "-",
                row.verdict.c_str(), step.c_str());
        }
        std::fprintf(stdout, "\n");
    }
    return 0;
}

} // namespace abtool
