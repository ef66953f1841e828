// Rank tests: Wilcoxon signed-rank (p-value, Hodges-Lehmann estimate and its interval),
// Mann-Whitney U and Spearman's rho. Conventions follow SciPy 1.10 so that reference values
// generated there match: zero_method="wilcox" (zeros dropped), no continuity correction, exact
// null distribution for n <= 50 without zeros or ties, normal approximation with the tie
// correction otherwise.
#pragma once

#include <span>
#include <vector>

namespace abtool::stats::detail {

std::vector<double> average_ranks(std::span<const double> values);

struct SignedRank {
    double p_value = 1;
    double r_plus = 0;
    bool exact = false;
};
SignedRank wilcoxon_signed_rank(std::span<const double> differences);

double hodges_lehmann(std::span<const double> differences);

struct Interval {
    double low = 0, high = 0;
    bool exact = false;
};
// The distribution-free interval of the Hodges-Lehmann estimate from the order statistics of
// the Walsh averages (Hollander and Wolfe, Nonparametric Statistical Methods, 3.3).
Interval wilcoxon_interval(std::span<const double> differences, double confidence);

// Two-sided Mann-Whitney U p-value, normal approximation with tie and continuity corrections
// (SciPy's method="asymptotic", use_continuity=True).
double mann_whitney_p(std::span<const double> a, std::span<const double> b);

double spearman_rho(std::span<const double> x, std::span<const double> y);

} // namespace abtool::stats::detail
