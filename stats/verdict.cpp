#include "stats/verdict.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

namespace abtool::stats {

std::string to_string(Verdict verdict) {
    switch (verdict) {
    case Verdict::regressed:
        return "regressed";
    case Verdict::improved:
        return "improved";
    case Verdict::unchanged:
        return "unchanged";
    case Verdict::inconclusive:
        break;
    }
    return "inconclusive";
}

std::string to_string(IntervalMethod method) {
    switch (method) {
    case IntervalMethod::bca_bootstrap:
        return "BCa bootstrap";
    case IntervalMethod::percentile_bootstrap:
        return "percentile bootstrap";
    case IntervalMethod::wilcoxon_exact:
        return "exact Wilcoxon";
    case IntervalMethod::wilcoxon_normal:
        return "Wilcoxon (normal approximation)";
    case IntervalMethod::crossover_exact:
        return "exact Mann-Whitney, crossover";
    case IntervalMethod::crossover_normal:
        return "Mann-Whitney (normal approximation), crossover";
    case IntervalMethod::none:
        break;
    }
    return "none";
}

namespace detail {

double alpha_per_look(const Options& options) {
    return (1 - options.confidence) / std::max(1, options.looks);
}

bool no_variation(std::span<const double> log_ratios) {
    if (log_ratios.empty()) {
        return false;
    }
    const auto [lowest, highest] = std::minmax_element(log_ratios.begin(), log_ratios.end());
    return *highest - *lowest <= 1e-12;
}

void decide(Comparison& c, Direction direction, const Options& options) {
    const double t = options.threshold * 100;
    const double alpha = alpha_per_look(options);
    // "Worse" is slower for lower-is-better metrics and a drop for higher-is-better ones.
    const double sign = direction == Direction::lower ? 1 : -1;
    const double worse_by = sign * c.delta_pct;
    const bool significant = c.p_adjusted < alpha;
    const auto format = [](double value) {
        std::ostringstream out;
        out.precision(3);
        out << value;
        return out.str();
    };
    if (significant && worse_by > t) {
        c.verdict = Verdict::regressed;
        c.reason = "worse by " + format(std::abs(c.delta_pct)) + "% (> " + format(t) +
                   "%), p = " + format(c.p_adjusted);
    } else if (significant && -worse_by > t) {
        c.verdict = Verdict::improved;
        c.reason = "better by " + format(std::abs(c.delta_pct)) + "% (> " + format(t) +
                   "%), p = " + format(c.p_adjusted);
    } else if (c.ci_low_pct >= -t && c.ci_high_pct <= t) {
        c.verdict = Verdict::unchanged;
        c.reason = "interval [" + format(c.ci_low_pct) + "%, " + format(c.ci_high_pct) +
                   "%] within +-" + format(t) + "%";
    } else {
        c.verdict = Verdict::inconclusive;
        c.reason = significant
                       ? "significant but within the threshold's reach: interval [" +
                             format(c.ci_low_pct) + "%, " + format(c.ci_high_pct) +
                             "%] crosses +-" + format(t) + "%"
                       : "not significant (p = " + format(c.p_adjusted) + ") and the interval [" +
                             format(c.ci_low_pct) + "%, " + format(c.ci_high_pct) +
                             "%] is not within +-" + format(t) + "%: more rounds would tell";
    }
    if (no_variation(c.log_ratios)) {
        // Said so that a reader of a zero-width interval knows it is not a tight estimate but a
        // deterministic metric (or a quantised one that never moved).
        c.reason += "; no variation across rounds";
    }
}

std::vector<double> adjust_p_values(const std::vector<double>& p, Multiplicity method) {
    const std::size_t m = p.size();
    std::vector<double> adjusted(p);
    if (method == Multiplicity::none || m <= 1) {
        return adjusted;
    }
    std::vector<std::size_t> order(m);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(),
              [&](std::size_t i, std::size_t j) { return p[i] < p[j]; });
    if (method == Multiplicity::holm) {
        // Holm (1979): step-down, controls the family-wise error rate.
        double running = 0;
        for (std::size_t rank = 0; rank < m; ++rank) {
            const double value = std::min(1.0, static_cast<double>(m - rank) * p[order[rank]]);
            running = std::max(running, value);
            adjusted[order[rank]] = running;
        }
    } else {
        // Benjamini-Hochberg (1995): step-up, controls the false discovery rate.
        double running = 1;
        for (std::size_t rank = m; rank-- > 0;) {
            const double value = std::min(1.0, p[order[rank]] * static_cast<double>(m) /
                                                   static_cast<double>(rank + 1));
            running = std::min(running, value);
            adjusted[order[rank]] = running;
        }
    }
    return adjusted;
}

} // namespace detail

} // namespace abtool::stats
