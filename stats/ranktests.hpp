// Rank tests: Wilcoxon signed-rank (p-value, Hodges-Lehmann estimate and its interval),
// Mann-Whitney U and Spearman's rho. Conventions follow SciPy so that reference values
// generated there match: zero_method="wilcox" (SciPy's default: zero differences are dropped
// before ranking, so a round where A and B measured the same says nothing either way; Pratt's
// variant, which ranks the zeros and then drops them, differs only when zeros are common, i.e.
// for quantised metrics, where the no-variation rule of compare_paired decides anyway), no
// continuity correction, exact null distribution for n <= 50 without zeros or ties, the exact
// distribution given the ties (SciPy 1.15's permutation test) for n <= 13 with zeros or ties,
// normal approximation with the tie correction otherwise.
#pragma once

#include <cstddef>
#include <optional>
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
// the Walsh averages (Hollander and Wolfe, Nonparametric Statistical Methods, 3.3). nullopt when
// n is too small for the confidence (at 95%, n <= 5; more with Bonferroni over looks): the
// widest interval, [min, max], would cover less than promised, so there is no interval.
std::optional<Interval> wilcoxon_interval(std::span<const double> differences, double confidence);

// The two-sample Hodges-Lehmann shift: the median of all differences b_j - a_i.
double hodges_lehmann_two_sample(std::span<const double> a, std::span<const double> b);

// The distribution-free interval of that shift from the order statistics of the m n differences
// b_j - a_i (Hollander and Wolfe, Nonparametric Statistical Methods, 4.3): the exact Mann-Whitney
// null distribution while m + n <= 50 (ties ignored, as wilcoxon_interval does), the normal
// approximation above. nullopt when even [min, max] would cover less than promised.
std::optional<Interval> mann_whitney_interval(std::span<const double> a, std::span<const double> b,
                                              double confidence);

// Two-sided Mann-Whitney U p-value, as SciPy 1.10's method="auto": the exact null distribution
// when either sample has at most 8 values and there are no ties, else the normal approximation
// with tie and continuity corrections (method="asymptotic", use_continuity=True).
enum class MannWhitneyMethod { automatic, asymptotic };
double mann_whitney_p(std::span<const double> a, std::span<const double> b,
                      MannWhitneyMethod method = MannWhitneyMethod::automatic);

double spearman_rho(std::span<const double> x, std::span<const double> y);
// Two-sided p-value of rho under independence from the t approximation with n - 2 degrees of
// freedom, t = rho sqrt((n - 2) / (1 - rho^2)) (SciPy's spearmanr).
double spearman_p(double rho, std::size_t n);

} // namespace abtool::stats::detail
