// stats: reference values from SciPy 1.10 (tests/fixtures/stats/make_reference.py), the verdict
// rules, multiplicity control, degenerate inputs, and seeded simulations of A/A experiments,
// real changes, interval coverage and drift.
#include "abtool/stats.hpp"
#include "stats/bootstrap.hpp"
#include "stats/numeric.hpp"
#include "stats/ranktests.hpp"
#include "stats/verdict.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <numeric>
#include <random>
#include <span>
#include <stdexcept>
#include <vector>

namespace abtool::stats {
namespace {

const nlohmann::json& reference() {
    static const nlohmann::json json = [] {
        std::ifstream in(std::string(ABTOOL_FIXTURES_DIR) + "/stats/reference.json");
        return nlohmann::json::parse(in);
    }();
    return json;
}

std::vector<double> doubles(const nlohmann::json& array) {
    return array.get<std::vector<double>>();
}

// ---- reference values ------------------------------------------------------------------

TEST(Reference, WilcoxonPValues_MatchScipy) {
    // scipy.stats.wilcoxon(d, method="exact" | "approx"), see make_reference.py.
    for (const auto& entry : reference().at("cases")) {
        const auto d = doubles(entry.at("d"));
        const double expected = entry.at("wilcoxon_p").get<double>();
        EXPECT_NEAR(detail::wilcoxon_signed_rank(d).p_value, expected, 1e-9 * expected + 1e-12)
            << entry.at("name");
    }
}

TEST(Reference, HodgesLehmannAndWilcoxonInterval_MatchDefinition) {
    for (const auto& entry : reference().at("cases")) {
        const auto d = doubles(entry.at("d"));
        EXPECT_NEAR(detail::hodges_lehmann(d), entry.at("hodges_lehmann").get<double>(), 1e-12)
            << entry.at("name");
        const auto interval = detail::wilcoxon_interval(d, 0.95);
        ASSERT_TRUE(interval.has_value()) << entry.at("name");
        EXPECT_NEAR(interval->low, entry.at("wilcoxon_interval_95")[0].get<double>(), 1e-12)
            << entry.at("name");
        EXPECT_NEAR(interval->high, entry.at("wilcoxon_interval_95")[1].get<double>(), 1e-12)
            << entry.at("name");
    }
}

TEST(Reference, MedianAndPercentiles_MatchNumpyType7) {
    for (const auto& entry : reference().at("cases")) {
        const Descriptives described = describe(doubles(entry.at("d")));
        EXPECT_NEAR(described.median, entry.at("median").get<double>(), 1e-12);
        EXPECT_NEAR(described.p50, entry.at("percentiles_type7")[0].get<double>(), 1e-12);
        EXPECT_NEAR(described.p95, entry.at("percentiles_type7")[1].get<double>(), 1e-12);
        EXPECT_NEAR(described.p99, entry.at("percentiles_type7")[2].get<double>(), 1e-12);
    }
}

TEST(Reference, WilcoxonPValue_FarBelowMachineEpsilon_MatchesScipy) {
    // 200 positive differences: p ~ 1e-34, which 1 - Phi(|z|) would round to 0.
    for (const auto& entry : reference().at("cases")) {
        if (entry.at("name") == "approx_n200_tiny_p") {
            const double expected = entry.at("wilcoxon_p").get<double>();
            ASSERT_LT(expected, 1e-20);
            EXPECT_NEAR(detail::wilcoxon_signed_rank(doubles(entry.at("d"))).p_value, expected,
                        1e-9 * expected);
            return;
        }
    }
    FAIL() << "reference case approx_n200_tiny_p missing";
}

TEST(Reference, MannWhitney_MatchesScipyExactAndAsymptotic) {
    // scipy.stats.mannwhitneyu(a, b, method="asymptotic" | "auto"); "auto" is exact here (a
    // sample of <= 8 values, no ties).
    int exact = 0;
    for (const auto& entry : reference().at("mann_whitney")) {
        const double expected = entry.at("p").get<double>();
        const bool automatic = entry.at("method") == "auto";
        exact += automatic;
        EXPECT_NEAR(detail::mann_whitney_p(doubles(entry.at("a")), doubles(entry.at("b")),
                                           automatic ? detail::MannWhitneyMethod::automatic
                                                     : detail::MannWhitneyMethod::asymptotic),
                    expected, 1e-9 * expected + 1e-12);
    }
    EXPECT_GE(exact, 3);
}

TEST(Reference, Spearman_RhoAndPValue_MatchScipy) {
    // scipy.stats.spearmanr(x, y): correlation, and pvalue from the t approximation.
    const auto& entry = reference().at("spearman");
    const auto x = doubles(entry.at("x"));
    const double rho = detail::spearman_rho(x, doubles(entry.at("y")));
    EXPECT_NEAR(rho, entry.at("rho").get<double>(), 1e-12);
    const double expected = entry.at("p").get<double>();
    EXPECT_NEAR(detail::spearman_p(rho, x.size()), expected, 1e-9 * expected);
}

TEST(Reference, Unpaired_HodgesLehmannMannWhitneyAndBca_MatchScipy) {
    // np.median(np.subtract.outer(log b, log a)); scipy.stats.mannwhitneyu(a, b);
    // scipy.stats.bootstrap((a, b), log(median(b) / median(a)), method="BCa", 100,000 resamples).
    for (const auto& entry : reference().at("unpaired")) {
        const auto a = doubles(entry.at("a"));
        const auto b = doubles(entry.at("b"));
        std::vector<double> log_a, log_b;
        for (double v : a) {
            log_a.push_back(std::log(v));
        }
        for (double v : b) {
            log_b.push_back(std::log(v));
        }
        EXPECT_NEAR(detail::hodges_lehmann_two_sample(log_a, log_b),
                    entry.at("hodges_lehmann_log").get<double>(), 1e-12);
        const double p = entry.at("mann_whitney_p").get<double>();
        EXPECT_NEAR(detail::mann_whitney_p(a, b), p, 1e-9 * p);
        const double low = entry.at("bca_95")[0].get<double>();
        const double high = entry.at("bca_95")[1].get<double>();
        const detail::BootstrapInterval ours =
            detail::bootstrap_log_ratio_of_medians(a, b, 0.95, 100000, 7);
        EXPECT_TRUE(ours.bca);
        // Monte Carlo error of the ends with 100,000 resamples on both sides: a few percent of
        // the width (a pooled jackknife shifts the ends by more, see make_reference.py).
        const double tolerance = 0.03 * (high - low);
        EXPECT_NEAR(ours.low, low, tolerance);
        EXPECT_NEAR(ours.high, high, tolerance);
    }
}

TEST(Reference, NormalQuantile_MatchesScipy) {
    for (const auto& entry : reference().at("normal")) {
        EXPECT_NEAR(detail::normal_quantile(entry.at("p").get<double>()),
                    entry.at("quantile").get<double>(), 1e-9);
    }
}

TEST(Reference, BcaBootstrap_WithinMonteCarloErrorOfScipy) {
    // scipy.stats.bootstrap((d,), np.median, method="BCa", n_resamples=10000 and 100000):
    // different generators, so the ends agree within the Monte Carlo error of an end, not
    // exactly. With 100,000 resamples here that error is a few percent of the width; SciPy's
    // standard_error, about 30% of the width, would be far too loose to catch a wrong BCa.
    for (const auto& entry : reference().at("bootstrap")) {
        const auto d = doubles(entry.at("d"));
        const detail::BootstrapInterval ours = detail::bootstrap_median(d, 0.95, 100000, 7);
        const double low = entry.at("bca_95")[0].get<double>();
        const double high = entry.at("bca_95")[1].get<double>();
        // 5%: a median's bootstrap distribution is atomic (its values are data points and
        // midpoints), and where the BCa level falls at the boundary of two atoms the end may
        // land on the neighbouring one; here they are 4.4% of the width apart.
        const double tolerance = 0.05 * (high - low);
        EXPECT_TRUE(ours.bca) << entry.at("name");
        EXPECT_NEAR(ours.low, low, tolerance) << entry.at("name");
        EXPECT_NEAR(ours.high, high, tolerance) << entry.at("name");
    }
}

TEST(SignedRank, TiesAndZerosAtSmallN_ExactGivenTheTies_NotTheNormalApproximation) {
    // A change that is the same in every round (b = a x 1.005 for a deterministic counter) gives
    // six bit-identical d_k for one A count and d_k a few ulps apart for another: the same data,
    // so the same p. Six equal |d_k| are tied ranks; every sign pattern stays equally likely
    // under the null, so "all six on one side" still has probability 2/64 (SciPy >= 1.15's
    // permutation test). The normal approximation gave the tied series 0.014, below anything
    // six rounds can show, and Holm over two cases then called it significant or not depending
    // on how B / A rounded.
    std::vector<double> tied(6, std::log(1.005)), untied;
    for (std::size_t k = 0; k < tied.size(); ++k) {
        untied.push_back(tied[k] + 1e-15 * static_cast<double>(k));
    }
    EXPECT_DOUBLE_EQ(detail::wilcoxon_signed_rank(tied).p_value, smallest_p_value(6));
    EXPECT_DOUBLE_EQ(detail::wilcoxon_signed_rank(untied).p_value, smallest_p_value(6));
    // Zeros are dropped (zero_method "wilcox"): one nonzero difference has two equally likely
    // signs, p = 1; two tied ones put T+ (in half-ranks) at 0, 3 or 6 with probabilities 1/4,
    // 1/2, 1/4, so both positive is p = 2 x 1/4.
    const double x = std::log(1.005);
    EXPECT_DOUBLE_EQ(detail::wilcoxon_signed_rank(std::vector<double>{0, 0, 0, 0, 0, x}).p_value,
                     1.0);
    EXPECT_DOUBLE_EQ(detail::wilcoxon_signed_rank(std::vector<double>{0, 0, x, 0, 0, x}).p_value,
                     0.5);
    // Above 13 rounds the tie-corrected normal approximation stays (SciPy's "auto" too): 14
    // equal differences, z = -52.5 / sqrt((14 x 15 x 29 - 14 x 195 / 2) / 24) = -3.74.
    const double z = -52.5 / std::sqrt((14.0 * 15 * 29 - 14.0 * 195 / 2) / 24);
    EXPECT_NEAR(detail::wilcoxon_signed_rank(std::vector<double>(14, x)).p_value,
                std::erfc(-z / std::sqrt(2.0)), 1e-15);
}

TEST(Bootstrap, SameSeedSameInterval) {
    const std::vector<double> d{0.01, 0.03, -0.02, 0.05, 0.0, 0.02, 0.04, -0.01};
    const auto a = detail::bootstrap_median(d, 0.95, 2000, 3);
    const auto b = detail::bootstrap_median(d, 0.95, 2000, 3);
    EXPECT_EQ(a.low, b.low);
    EXPECT_EQ(a.high, b.high);
}

TEST(Bootstrap, MedianOfCounts_EqualsTheMedianOfTheSortedResample) {
    // Each bootstrap resample's median comes from index counts, not a sort: it must be exactly
    // the median of the resample itself, for odd and even sizes and with repeated values.
    detail::Random random(11);
    for (const std::size_t n : {1u, 2u, 3u, 8u, 9u, 50u, 201u}) {
        std::vector<double> sorted;
        for (std::size_t i = 0; i < n; ++i) {
            sorted.push_back(std::floor(random.uniform() * 10)); // ties on purpose
        }
        std::sort(sorted.begin(), sorted.end());
        for (int r = 0; r < 200; ++r) {
            std::vector<std::uint32_t> counts(n);
            std::vector<double> resample;
            for (std::size_t i = 0; i < n; ++i) {
                const std::size_t index = random.below(n);
                ++counts[index];
                resample.push_back(sorted[index]);
            }
            ASSERT_EQ(detail::median_of_counts(sorted, counts), detail::median(resample)) << n;
        }
    }
}

TEST(Multiplicity, AllCasesInParallel_IdenticalToOneCaseAtATime) {
    std::vector<PairedInput> inputs;
    detail::Random random(5);
    for (int c = 0; c < 24; ++c) {
        PairedInput input;
        for (int k = 0; k < 30; ++k) {
            input.a.push_back(100 * (1 + 0.05 * (random.uniform() - 0.5)));
            input.b.push_back(100 * (1 + 0.01 * c) * (1 + 0.05 * (random.uniform() - 0.5)));
        }
        inputs.push_back(input);
    }
    Options options;
    options.resamples = 2000;
    const std::vector<Comparison> all = compare_paired_all(inputs, options);
    ASSERT_EQ(all.size(), inputs.size());
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const Comparison one = compare_paired(inputs[i], options);
        EXPECT_EQ(all[i].delta_pct, one.delta_pct) << i;
        EXPECT_EQ(all[i].ci_low_pct, one.ci_low_pct) << i;
        EXPECT_EQ(all[i].ci_high_pct, one.ci_high_pct) << i;
        EXPECT_EQ(all[i].bootstrap_low_pct, one.bootstrap_low_pct) << i;
        EXPECT_EQ(all[i].bootstrap_high_pct, one.bootstrap_high_pct) << i;
        EXPECT_EQ(all[i].p_value, one.p_value) << i;
        EXPECT_GE(all[i].p_adjusted, one.p_value) << i << ": Holm only raises p";
    }
}

// ---- verdicts --------------------------------------------------------------------------

PairedInput scaled(const std::vector<double>& a, double factor, Direction direction) {
    PairedInput input;
    input.a = a;
    for (std::size_t k = 0; k < a.size(); ++k) {
        // A deterministic wobble so that not every pair has the same ratio.
        input.b.push_back(a[k] * factor * (1 + 0.002 * static_cast<double>(k % 3) - 0.002));
    }
    input.direction = direction;
    return input;
}

const std::vector<double> k_times{10.1, 10.3, 9.9,  10.0, 10.2, 10.4,
                                  9.8,  10.1, 10.0, 10.2, 10.3, 9.9};

TEST(Verdict, SlowerByMoreThanThreshold_IsRegressed) {
    const Comparison c = compare_paired(scaled(k_times, 1.10, Direction::lower), Options{});
    EXPECT_EQ(c.verdict, Verdict::regressed) << c.reason;
    EXPECT_NEAR(c.delta_pct, 10, 0.5);
    EXPECT_LT(c.ci_low_pct, c.delta_pct);
    EXPECT_GT(c.ci_high_pct, c.delta_pct);
}

TEST(Verdict, FasterByMoreThanThreshold_IsImproved) {
    EXPECT_EQ(compare_paired(scaled(k_times, 0.90, Direction::lower), Options{}).verdict,
              Verdict::improved);
}

TEST(Verdict, HigherIsBetter_FlipsTheMeaningOfADrop) {
    // Throughput falling by 10% is a regression.
    EXPECT_EQ(compare_paired(scaled(k_times, 0.90, Direction::higher), Options{}).verdict,
              Verdict::regressed);
    EXPECT_EQ(compare_paired(scaled(k_times, 1.10, Direction::higher), Options{}).verdict,
              Verdict::improved);
}

TEST(Verdict, TinyChangeWithTightInterval_IsUnchanged) {
    const Comparison c = compare_paired(scaled(k_times, 1.001, Direction::lower), Options{});
    EXPECT_EQ(c.verdict, Verdict::unchanged) << c.reason;
}

TEST(Verdict, SignificantButBelowThreshold_IsNotRegressed) {
    Options options;
    options.threshold = 0.20;
    const Comparison c = compare_paired(scaled(k_times, 1.10, Direction::lower), options);
    EXPECT_NE(c.verdict, Verdict::regressed);
    EXPECT_LT(c.p_value, 0.05);
}

TEST(Verdict, DegenerateInputs_AreInconclusiveWithAReason) {
    const std::vector<std::pair<std::vector<double>, std::vector<double>>> cases{
        {{1, 2}, {1, 2}},                        // n < 3
        {{1, 2, 3, 4}, {1, 2, 3}},               // mismatched lengths
        {{1, 0, 3, 4}, {1, 2, 3, 4}},            // zero
        {{1, -2, 3, 4}, {1, 2, 3, 4}},           // negative
        {{1, std::nan(""), 3, 4}, {1, 2, 3, 4}}, // NaN
        {{1, 2, 3, 4}, {1, 2, 3, INFINITY}},     // infinity
    };
    for (const auto& [a, b] : cases) {
        PairedInput input;
        input.a = a;
        input.b = b;
        const Comparison c = compare_paired(input, Options{});
        EXPECT_EQ(c.verdict, Verdict::inconclusive);
        EXPECT_FALSE(c.reason.empty());
        EXPECT_EQ(c.interval, IntervalMethod::none);
        EXPECT_TRUE(std::isfinite(c.delta_pct));
    }
}

TEST(Verdict, DegenerateInputs_ValidatedBeforeAnySort) {
    // NaN in std::sort is undefined behaviour: describe() gives n only and compare_paired says
    // why, whichever side and position the NaN is in.
    std::vector<double> with_nan{3, 1, std::nan(""), 2, 5, 4, 7, 6};
    const Descriptives described = describe(with_nan);
    EXPECT_EQ(described.n, with_nan.size());
    EXPECT_TRUE(described.outliers.empty());
    PairedInput input;
    input.a = std::vector<double>(8, 1.0);
    input.b = with_nan;
    const Comparison c = compare_paired(input, Options{});
    EXPECT_EQ(c.verdict, Verdict::inconclusive);
    EXPECT_NE(c.reason.find("NaN"), std::string::npos) << c.reason;
    const Comparison u = compare_unpaired(with_nan, input.a, Direction::lower, Options{});
    EXPECT_EQ(u.verdict, Verdict::inconclusive);
    EXPECT_NE(u.reason.find("NaN"), std::string::npos) << u.reason;
}

TEST(Verdict, TooFewRoundsForTheConfidence_IsInconclusiveWithoutAnInterval) {
    // At 95% the exact Wilcoxon interval needs 6 rounds; [min, max] of 5 would cover only
    // 1 - 2^-4 = 94%. With Bonferroni over 11 looks (alpha 0.0045) it needs 9.
    PairedInput five = scaled({10.1, 10.3, 9.9, 10.0, 10.2}, 1.10, Direction::lower);
    five.b[2] *= 1.01; // not all equal ratios
    const Comparison c = compare_paired(five, Options{});
    EXPECT_EQ(c.verdict, Verdict::inconclusive);
    EXPECT_EQ(c.interval, IntervalMethod::none);
    EXPECT_NE(c.reason.find("too few rounds for this confidence"), std::string::npos) << c.reason;
    EXPECT_FALSE(detail::wilcoxon_interval(std::vector<double>{0.1, 0.2, 0.3, 0.4, 0.5}, 0.95));
    EXPECT_TRUE(detail::wilcoxon_interval(std::vector<double>{0.1, 0.2, 0.3, 0.4, 0.5, 0.6}, 0.95));

    PairedInput eight =
        scaled(std::vector<double>(k_times.begin(), k_times.begin() + 8), 1.10, Direction::lower);
    Options looks;
    looks.looks = 11;
    const Comparison at_8 = compare_paired(eight, looks);
    EXPECT_EQ(at_8.verdict, Verdict::inconclusive);
    EXPECT_NE(at_8.reason.find("too few rounds"), std::string::npos) << at_8.reason;
    EXPECT_EQ(compare_paired(eight, Options{}).verdict, Verdict::regressed);
}

TEST(Verdict, ZeroSpread_DecidedByThresholdWithNoVariationReason) {
    // A deterministic metric (bytes, counts) gives the same ratio every round: all-equal
    // ratios must not stay inconclusive forever. Zero change is unchanged at any n; a constant
    // change is judged by the threshold once all rounds on one side can be significant: 2/2^n
    // < 0.05 from 6 rounds. At 4 rounds that is 2/16 = 0.125 (tied or not), so +25% is
    // inconclusive there, as it would be for any data. The reason says there was no variation.
    const auto constant = [](std::size_t n, double factor, Direction direction) {
        PairedInput input;
        input.a = std::vector<double>(n, 4096);
        input.b = std::vector<double>(n, 4096 * factor);
        input.direction = direction;
        return compare_paired(input, Options{});
    };
    const auto check = [](const Comparison& c, Verdict expected) {
        EXPECT_EQ(c.verdict, expected) << c.reason;
        EXPECT_NE(c.reason.find("no variation across rounds"), std::string::npos) << c.reason;
    };
    check(constant(10, 1.0, Direction::lower), Verdict::unchanged);
    check(constant(10, 1.25, Direction::lower), Verdict::regressed);
    check(constant(10, 0.75, Direction::lower), Verdict::improved);
    check(constant(10, 1.25, Direction::higher), Verdict::improved);
    check(constant(10, 1.01, Direction::lower), Verdict::unchanged);
    check(constant(4, 1.0, Direction::lower), Verdict::unchanged);
    check(constant(4, 1.25, Direction::lower), Verdict::inconclusive);
    EXPECT_DOUBLE_EQ(constant(4, 1.25, Direction::lower).p_value, 2.0 / 16);
    check(constant(6, 1.25, Direction::lower), Verdict::regressed);
    EXPECT_EQ(constant(10, 1.0, Direction::lower).p_value, 1);
    // The reason survives the run-wide multiplicity pass, which decides again.
    PairedInput same;
    same.a = std::vector<double>(10, 7.0);
    same.b = std::vector<double>(10, 7.0);
    const auto all = compare_paired_all(std::vector<PairedInput>{same, same}, Options{});
    check(all[1], Verdict::unchanged);
}

TEST(Descriptives, OutliersFlaggedWhenMadIsZero_MeanAbsoluteDeviationFallback) {
    // More than half the values equal (a quantised timer): MAD is 0, and the modified z-score
    // falls back to 1.2533 x the mean absolute deviation, so the 50 is still flagged and the
    // 10.5 is not.
    const std::vector<double> values{10, 10, 10, 10, 10, 10, 10, 10.5, 50};
    const Descriptives d = describe(values);
    EXPECT_EQ(d.mad, 0);
    EXPECT_EQ(d.outliers, std::vector<std::size_t>{8});
    EXPECT_TRUE(describe(std::vector<double>(9, 10.0)).outliers.empty());
}

// ---- multiplicity ----------------------------------------------------------------------

TEST(Multiplicity, HolmAndBenjaminiHochberg_MatchHandComputedValues) {
    // Holm: sorted p (0.01, 0.02, 0.03, 0.04) * (4, 3, 2, 1) = (0.04, 0.06, 0.06, 0.04) -> running
    // max (0.04, 0.06, 0.06, 0.06). BH: p * 4 / rank = (0.04, 0.04, 0.04, 0.04), running min.
    const std::vector<double> p{0.03, 0.01, 0.04, 0.02};
    const auto holm = detail::adjust_p_values(p, Multiplicity::holm);
    EXPECT_NEAR(holm[1], 0.04, 1e-12);
    EXPECT_NEAR(holm[3], 0.06, 1e-12);
    EXPECT_NEAR(holm[0], 0.06, 1e-12);
    EXPECT_NEAR(holm[2], 0.06, 1e-12);
    const auto bh = detail::adjust_p_values(p, Multiplicity::benjamini_hochberg);
    for (double value : bh) {
        EXPECT_NEAR(value, 0.04, 1e-12);
    }
}

// ---- simulations -----------------------------------------------------------------------

// How benchmark noise is modelled. `cv` is the CV of the A_k series (and of B_k), as abtool
// reports it. Most of it is usually a per-round machine state (frequency, cache and scheduler
// state, background load) that A_k and B_k of one round share, since they run back to back;
// pairing cancels that part. `independent_cv` is the per-run part they do not share. The
// fully independent case (independent_cv == cv) is the worst one for a paired design and is
// simulated too.
struct Noise {
    double cv = 0.05;
    double independent_cv = 0.015;
    double outlier_rate = 0;  // share of runs hit by a heavy-tailed slowdown
    double drift_per_run = 0; // relative slowdown of the machine per run of the schedule
};

Noise shared(double cv) {
    return Noise{cv, 0.015, 0, 0};
}
Noise independent(double cv) {
    return Noise{cv, cv, 0, 0};
}
Noise with_outliers(Noise noise) {
    noise.outlier_rate = 0.05;
    return noise;
}
Noise with_drift(Noise noise) {
    noise.drift_per_run = 0.002; // 8% slower by the 40th run
    return noise;
}

std::string describe_noise(const Noise& noise) {
    char text[160];
    std::snprintf(text, sizeof text, "cv %.2f (independent %.3f) outliers %.2f drift %.3f/run",
                  noise.cv, noise.independent_cv, noise.outlier_rate, noise.drift_per_run);
    return text;
}

// One simulated experiment of n rounds, B `change` times A, scheduled as abtool does: A/B/B/A
// blocks, round k running AB when k is even and BA when it is odd, on runs 2k and 2k + 1 of the
// schedule. Drift is a function of that run index, so it does not cancel within a round by
// construction: in an AB round B runs later than A, in a BA round earlier, and only the balanced
// order keeps the median of d at zero.
PairedInput simulate(std::mt19937_64& rng, std::size_t n, double change, const Noise& noise) {
    const double total = std::log(1 + noise.cv * noise.cv);
    const double own = std::log(1 + noise.independent_cv * noise.independent_cv);
    std::normal_distribution<double> machine_noise(0, std::sqrt(std::max(0.0, total - own)));
    std::normal_distribution<double> run_noise(0, std::sqrt(own));
    std::uniform_real_distribution<double> uniform(0, 1);
    std::exponential_distribution<double> spike(5);
    PairedInput input;
    for (std::size_t k = 0; k < n; ++k) {
        const double machine = std::exp(machine_noise(rng));
        const auto run = [&](double truth, std::size_t run_index) {
            double value = truth * machine *
                           (1 + noise.drift_per_run * static_cast<double>(run_index)) *
                           std::exp(run_noise(rng));
            if (uniform(rng) < noise.outlier_rate) {
                value *= 1 + spike(rng);
            }
            return value;
        };
        const bool ab = k % 2 == 0;
        const double a = run(100, 2 * k + (ab ? 0 : 1));
        const double b = run(100 * change, 2 * k + (ab ? 1 : 0));
        input.a.push_back(a);
        input.b.push_back(b);
        input.order.push_back(ab ? Order::ab : Order::ba);
    }
    return input;
}

std::vector<double> log_ratios(const PairedInput& input) {
    std::vector<double> d;
    for (std::size_t k = 0; k < input.a.size(); ++k) {
        d.push_back(std::log(input.b[k] / input.a[k]));
    }
    return d;
}

// Simulations judge the verdict, which uses the Wilcoxon interval, not the reported bootstrap
// one: skipping the bootstrap keeps thousands of experiments within seconds under ASan.
Options simulation_options() {
    Options options;
    options.resamples = 0;
    return options;
}

struct Rates {
    double regressed = 0, improved = 0, unchanged = 0;
};

Rates rates(std::size_t experiments, std::size_t n, double change, const Noise& noise,
            std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    const Options options = simulation_options();
    Rates rates;
    for (std::size_t i = 0; i < experiments; ++i) {
        const Verdict verdict = compare_paired(simulate(rng, n, change, noise), options).verdict;
        rates.regressed += verdict == Verdict::regressed;
        rates.improved += verdict == Verdict::improved;
        rates.unchanged += verdict == Verdict::unchanged;
    }
    const double total = static_cast<double>(experiments);
    return {rates.regressed / total, rates.improved / total, rates.unchanged / total};
}

// The A/A noise models: CV 2-10% both ways, heavy-tailed outliers and drift.
const std::vector<Noise> k_aa_noises{shared(0.02),
                                     shared(0.05),
                                     shared(0.10),
                                     independent(0.02),
                                     independent(0.05),
                                     independent(0.10),
                                     with_outliers(shared(0.05)),
                                     with_outliers(independent(0.05)),
                                     with_drift(shared(0.05)),
                                     with_drift(independent(0.05)),
                                     with_drift(with_outliers(independent(0.10)))};

TEST(Calibration, AA_FalseAlarmRateAtMostNominal_LogNormalOutliersDrift) {
    // Any verdict other than unchanged/inconclusive on identical code is a false alarm. Over all
    // noise models together the rate must be at most the nominal 5% itself. Per model it must
    // too, up to the simulation's own error: with fully independent noise the rate sits at the
    // exact Wilcoxon test's attained size, 0.0484 at 20 rounds (just under 5% by construction),
    // and 2000 experiments estimate it within +-0.005, so a bare "<= 0.05" per model would fail
    // by chance about one seed in four; a one-sided 99% binomial margin at 5% (0.0614) does not,
    // while a rule that really inflated false alarms (for instance no Bonferroni over looks:
    // 14-17%) would still fail it.
    const std::size_t experiments = 2000;
    const double margin = 2.33 * std::sqrt(0.05 * 0.95 / static_cast<double>(experiments));
    double total = 0;
    for (std::size_t model = 0; model < k_aa_noises.size(); ++model) {
        const Noise& noise = k_aa_noises[model];
        // A seed per model: with one seed, models that differ only in scale would draw the
        // same signs and ranks and share one estimate's error.
        const Rates r = rates(experiments, 20, 1.0, noise, 42 + model);
        const double alarms = r.regressed + r.improved;
        total += alarms;
        std::printf("A/A 20 rounds, %s: false alarms %.4f, unchanged %.3f\n",
                    describe_noise(noise).c_str(), alarms, r.unchanged);
        EXPECT_LE(alarms, 0.05 + margin) << describe_noise(noise);
    }
    const double pooled = total / static_cast<double>(k_aa_noises.size());
    std::printf("A/A 20 rounds, all %zu noise models (%zu experiments): false alarms %.4f\n",
                k_aa_noises.size(), k_aa_noises.size() * experiments, pooled);
    EXPECT_LE(pooled, 0.05);
}

TEST(Calibration, AA_AdaptiveRounds_InterimLooksDoNotInflateFalseAlarms) {
    // The session's loop: analyse after the planned rounds and after every further A/B/B/A block,
    // stop when should_stop says so or at max_rounds, with every look's alpha corrected for the
    // planned number of looks. Peeking without that correction would raise the false-alarm
    // rate; with it, A/A experiments stay within the nominal 5%.
    const AdaptivePolicy policy{10, 30};
    Options options = simulation_options();
    options.looks = planned_looks(policy);
    for (const Noise& noise :
         {shared(0.05), independent(0.05), independent(0.10),
          with_drift(with_outliers(shared(0.05))), with_drift(with_outliers(independent(0.05)))}) {
        std::mt19937_64 rng(99);
        const int experiments = 400;
        int alarms = 0;
        std::size_t rounds_used = 0;
        for (int i = 0; i < experiments; ++i) {
            const PairedInput all = simulate(rng, policy.max_rounds, 1.0, noise);
            std::size_t rounds = policy.min_rounds;
            Comparison last;
            while (true) {
                PairedInput seen;
                seen.a.assign(all.a.begin(), all.a.begin() + static_cast<std::ptrdiff_t>(rounds));
                seen.b.assign(all.b.begin(), all.b.begin() + static_cast<std::ptrdiff_t>(rounds));
                seen.order.assign(all.order.begin(),
                                  all.order.begin() + static_cast<std::ptrdiff_t>(rounds));
                last = compare_paired(seen, options);
                if (rounds >= policy.max_rounds ||
                    should_stop(std::span<const Comparison>(&last, 1), rounds, policy)) {
                    break;
                }
                rounds += 2;
            }
            rounds_used += rounds;
            alarms += last.verdict == Verdict::regressed || last.verdict == Verdict::improved;
        }
        const double rate = alarms / static_cast<double>(experiments);
        std::printf("adaptive A/A (10..30 rounds), %s: false alarms %.3f, mean rounds %.1f\n",
                    describe_noise(noise).c_str(), rate,
                    static_cast<double>(rounds_used) / experiments);
        EXPECT_LE(rate, 0.05) << describe_noise(noise);
    }
}

TEST(Calibration, AA_SuiteOf50Cases_HolmKeepsAnyFalseRegressionAtMost5Percent) {
    // One run of a 50-case suite on identical code, the cases cycling through the A/A noise
    // models. Under Holm, the share of runs with ANY false regression or improvement must be at
    // most 5%; without a correction it would be most runs, which the test also shows.
    std::mt19937_64 rng(2024);
    const int runs = 200;
    int holm_runs = 0, uncorrected_runs = 0;
    const Options holm = simulation_options();
    const Options uncorrected = holm;
    for (int r = 0; r < runs; ++r) {
        std::vector<PairedInput> cases;
        for (std::size_t c = 0; c < 50; ++c) {
            cases.push_back(simulate(rng, 20, 1.0, k_aa_noises[c % k_aa_noises.size()]));
        }
        const auto alarm = [](const std::vector<Comparison>& all) {
            return std::any_of(all.begin(), all.end(), [](const Comparison& c) {
                return c.verdict == Verdict::regressed || c.verdict == Verdict::improved;
            });
        };
        std::vector<Comparison> all = compare_paired_all(cases, holm);
        holm_runs += alarm(all);
        for (std::size_t c = 0; c < all.size(); ++c) {
            if (all[c].interval != IntervalMethod::none) {
                all[c].p_adjusted = all[c].p_value; // what no correction would give
                detail::decide(all[c], cases[c].direction, uncorrected);
            }
        }
        uncorrected_runs += alarm(all);
    }
    const double holm_rate = holm_runs / static_cast<double>(runs);
    const double uncorrected_rate = uncorrected_runs / static_cast<double>(runs);
    std::printf("A/A suite of 50 cases, 20 rounds: runs with any false alarm: Holm %.3f, "
                "uncorrected %.3f\n",
                holm_rate, uncorrected_rate);
    EXPECT_LE(holm_rate, 0.05);
    EXPECT_GT(uncorrected_rate, 0.2) << "the simulation must be able to produce false alarms";
}

TEST(Calibration, RealChange_OneAndAHalfTimesTheThreshold_FoundIn90PercentAt20Rounds) {
    // Issue 4: +3% (1.5 x the 2% threshold) at CV 5%, 20 rounds, found in >= 90% of
    // experiments, with CV 5% as abtool reports it (the CV of the A_k series) and modelled as
    // benchmark noise behaves: a per-round machine factor shared by A_k and B_k, which pairing
    // cancels, plus 1.5% of independent per-run noise.
    const Rates found = rates(500, 20, 1.03, shared(0.05), 7);
    const Rates at_3x = rates(500, 20, 1.06, shared(0.05), 8);
    std::printf("power, 20 rounds, threshold 2%%, %s: +3%% found in %.3f, +6%% in %.3f\n",
                describe_noise(shared(0.05)).c_str(), found.regressed, at_3x.regressed);
    EXPECT_GE(found.regressed, 0.90);
    EXPECT_GE(at_3x.regressed, 0.99);

    // The limitation, shown rather than hidden: with CV 5% that is all independent per run
    // (nothing shared for pairing to cancel), 20 rounds find +3% far less often; planning says
    // how many rounds that noise needs.
    const Noise worst = independent(0.05);
    const Rates worst_20 = rates(500, 20, 1.03, worst, 9);
    std::mt19937_64 rng(10);
    Options plan;
    plan.threshold = 0.03; // the change to find
    const NoiseFloor floor = noise_floor(log_ratios(simulate(rng, 200, 1.0, worst)), plan);
    ASSERT_TRUE(floor.estimable);
    const Rates worst_planned = rates(500, floor.rounds_needed, 1.03, worst, 11);
    std::printf("power, threshold 2%%, %s: +3%% found in %.3f at 20 rounds; planning (A/A, 200 "
                "rounds, sigma_d %.4f) asks %zu rounds to detect +3%% with 80%% power, where it "
                "is found in %.3f\n",
                describe_noise(worst).c_str(), worst_20.regressed, floor.sigma_d,
                floor.rounds_needed, worst_planned.regressed);
    EXPECT_LT(worst_20.regressed, found.regressed);
    EXPECT_GT(floor.rounds_needed, 20u);
    EXPECT_GT(worst_planned.regressed, worst_20.regressed);
}

TEST(Calibration, WilcoxonInterval_CoversTruth_PrintsTableForBothKinds) {
    // Both interval kinds, every n from 6 to 200, under log-normal noise (CV 5%) and heavy-tailed
    // noise (the same, plus 5% of runs slowed by an exponential spike of mean +20%, on either
    // side). The bootstrap uses 500 resamples here to keep the test fast; verdicts use 10,000.
    std::printf("coverage of the true shift (nominal 0.95), 400 experiments each:\n");
    std::printf("%6s %12s %12s %12s %12s\n", "", "log-normal", "", "heavy-tailed", "");
    std::printf("%6s %12s %12s %12s %12s\n", "n", "Wilcoxon", "bootstrap", "Wilcoxon", "bootstrap");
    const int experiments = 400;
    const double floor = 0.95 - 3 * std::sqrt(0.05 * 0.95 / experiments);
    for (std::size_t n : {6u, 8u, 10u, 12u, 16u, 20u, 30u, 50u, 100u, 200u}) {
        std::printf("%6zu", n);
        for (const Noise& noise : {independent(0.05), with_outliers(independent(0.05))}) {
            std::mt19937_64 rng(n);
            int wilcoxon = 0, bootstrap = 0;
            for (int i = 0; i < experiments; ++i) {
                const std::vector<double> d = log_ratios(simulate(rng, n, 1.05, noise));
                const double truth = std::log(1.05);
                const auto w = detail::wilcoxon_interval(d, 0.95);
                ASSERT_TRUE(w.has_value()) << n;
                wilcoxon += w->low <= truth && truth <= w->high;
                const auto b =
                    detail::bootstrap_median(d, 0.95, 500, static_cast<std::uint64_t>(i));
                bootstrap += b.low <= truth && truth <= b.high;
            }
            const double w_rate = wilcoxon / static_cast<double>(experiments);
            const double b_rate = bootstrap / static_cast<double>(experiments);
            std::printf(" %12.3f %12.3f", w_rate, b_rate);
            // The verdict's interval keeps nominal coverage at every n (within simulation
            // error), whatever the noise.
            EXPECT_GE(w_rate, floor) << "n = " << n << ", outliers " << noise.outlier_rate;
        }
        std::printf("\n");
    }
}

TEST(Calibration, SequentialScheduleFailsUnderDrift_InterleavedHolds) {
    // All of A, then all of B, on a machine that slows 0.3% per run: the drift lands on B.
    std::mt19937_64 rng(11);
    std::normal_distribution<double> normal(0, 0.02);
    int sequential_alarms = 0, interleaved_alarms = 0;
    const int experiments = 300;
    for (int i = 0; i < experiments; ++i) {
        PairedInput sequential, interleaved;
        for (std::size_t k = 0; k < 20; ++k) {
            const auto at = [&](double run) {
                return 100 * (1 + 0.003 * run) * std::exp(normal(rng));
            };
            sequential.a.push_back(at(static_cast<double>(k)));
            sequential.b.push_back(at(static_cast<double>(k + 20)));
            interleaved.a.push_back(at(static_cast<double>(2 * k + (k % 2))));
            interleaved.b.push_back(at(static_cast<double>(2 * k + 1 - (k % 2))));
        }
        const Options options = simulation_options();
        sequential_alarms += compare_paired(sequential, options).verdict == Verdict::regressed;
        interleaved_alarms += compare_paired(interleaved, options).verdict == Verdict::regressed;
    }
    std::printf("drift 0.3%%/run, identical code: sequential schedule calls a regression in %.3f "
                "of experiments, interleaved A/B/B/A in %.3f\n",
                sequential_alarms / static_cast<double>(experiments),
                interleaved_alarms / static_cast<double>(experiments));
    EXPECT_GT(sequential_alarms, experiments / 2);
    EXPECT_LE(interleaved_alarms, experiments / 20);
}

TEST(Diagnostics, OrderEffect_WarnedWhenTheOrdersDisagree_NotForNoiseOrALargeChange) {
    const auto run = [](double ab_factor, double ba_factor, double noise) {
        PairedInput input;
        detail::Random random(21);
        for (int k = 0; k < 20; ++k) {
            const bool ab = k % 2 == 0;
            input.order.push_back(ab ? Order::ab : Order::ba);
            input.a.push_back(100);
            input.b.push_back(100 * (ab ? ab_factor : ba_factor) *
                              (1 + noise * (random.uniform() - 0.5)));
        }
        Options options;
        options.resamples = 1000;
        const Comparison c = compare_paired(input, options);
        return std::any_of(c.warnings.begin(), c.warnings.end(),
                           [](const std::string& w) { return w.rfind("order effect", 0) == 0; });
    };
    EXPECT_TRUE(run(1.00, 1.06, 0.01)) << "B gains 6% only when it runs first";
    EXPECT_FALSE(run(1.00, 1.00, 0.04)) << "noise alone";
    EXPECT_FALSE(run(5.00, 5.00, 0.04)) << "a +400% change the same in both orders";
}

bool warns_trend(const Comparison& c) {
    return std::any_of(c.warnings.begin(), c.warnings.end(),
                       [](const std::string& w) { return w.rfind("trend", 0) == 0; });
}

TEST(Diagnostics, DriftWithinTheRun_IsWarnedAsATrend) {
    // A clean linear drift, and the same under noise (d_k = 0.2% k plus independent CV 2%).
    PairedInput clean;
    for (std::size_t k = 0; k < 20; ++k) {
        clean.a.push_back(100);
        clean.b.push_back(100 * (1 + 0.01 * static_cast<double>(k)));
    }
    EXPECT_TRUE(warns_trend(compare_paired(clean, simulation_options())));
    std::mt19937_64 rng(31);
    int warned = 0;
    for (int i = 0; i < 100; ++i) {
        PairedInput input = simulate(rng, 30, 1.0, independent(0.02));
        for (std::size_t k = 0; k < input.b.size(); ++k) {
            input.b[k] *= 1 + 0.002 * static_cast<double>(k);
        }
        warned += warns_trend(compare_paired(input, simulation_options()));
    }
    std::printf("trend warnings, linear drift of 0.2%%/round over 30 rounds, CV 2%%: %d of 100\n",
                warned);
    EXPECT_GE(warned, 80);
}

TEST(Diagnostics, TrendWarning_RarelyRaisedByNoiseAlone) {
    // Spearman p < 0.05 and |rho| >= 0.3: under pure noise the warning comes about as often as
    // the 5% test level at any number of rounds (|rho| > 0.5 alone warned in about a third of
    // 6-round runs); at 6 rounds the t approximation is a little liberal (about 7%).
    for (const std::size_t n : {6u, 20u, 200u}) {
        std::mt19937_64 rng(n + 40);
        int warned = 0;
        const int experiments = n == 200 ? 200 : 1000;
        for (int i = 0; i < experiments; ++i) {
            warned += warns_trend(
                compare_paired(simulate(rng, n, 1.0, independent(0.05)), simulation_options()));
        }
        const double rate = warned / static_cast<double>(experiments);
        std::printf("trend warnings under pure noise, %zu rounds: %.3f\n", n, rate);
        EXPECT_LE(rate, 0.08) << n;
    }
}

// ---- unpaired ----------------------------------------------------------------------------

TEST(Unpaired, KnownShiftFound_AANotFlagged) {
    // Stored baselines against a later run, no pairs: Mann-Whitney and the BCa interval of the
    // ratio of medians. A +10% shift at CV 3% with 30 values a side is found; identical
    // distributions are not flagged in more than the nominal share of 200 seeded experiments.
    std::mt19937_64 rng(77);
    std::normal_distribution<double> noise(0, 0.03);
    const auto sample = [&](double centre, std::size_t n) {
        std::vector<double> values;
        for (std::size_t i = 0; i < n; ++i) {
            values.push_back(centre * std::exp(noise(rng)));
        }
        return values;
    };
    Options options;
    options.resamples = 2000;
    const Comparison shifted =
        compare_unpaired(sample(100, 30), sample(110, 30), Direction::lower, options);
    EXPECT_EQ(shifted.verdict, Verdict::regressed) << shifted.reason;
    EXPECT_NEAR(shifted.hl_delta_pct, 10, 3);
    EXPECT_LT(shifted.ci_low_pct, shifted.hl_delta_pct);
    EXPECT_GT(shifted.ci_high_pct, shifted.hl_delta_pct);
    int alarms = 0;
    const int experiments = 200;
    for (int i = 0; i < experiments; ++i) {
        const Comparison c =
            compare_unpaired(sample(100, 30), sample(100, 30), Direction::lower, options);
        alarms += c.verdict == Verdict::regressed || c.verdict == Verdict::improved;
    }
    std::printf("unpaired A/A, 30 values a side, CV 3%%: false alarms %.3f\n",
                alarms / static_cast<double>(experiments));
    EXPECT_LE(alarms, experiments / 20);
}

// ---- planning --------------------------------------------------------------------------

TEST(Planning, NoiseFloor_NoisierNeedsMoreRounds) {
    std::mt19937_64 rng(5);
    const auto floor_at = [&](double cv) {
        return noise_floor(log_ratios(simulate(rng, 30, 1.0, independent(cv))), Options{});
    };
    const NoiseFloor quiet = floor_at(0.01);
    const NoiseFloor noisy = floor_at(0.08);
    EXPECT_TRUE(quiet.estimable);
    EXPECT_LT(quiet.rounds_needed, noisy.rounds_needed);
    EXPECT_LT(quiet.detectable_pct, noisy.detectable_pct);
    EXPECT_EQ(quiet.rounds_needed % 2, 0u);
}

TEST(Planning, RoundsNeeded_UseTheHodgesLehmannEfficiency) {
    // n = (z_0.975 + z_0.8)^2 (pi/3) sigma_d^2 / ln(1.02)^2 + 2, for sigma_d = 1.4826 MAD of
    // d = +-s (MAD = s): with s = 0.02, 7.849 * 1.0472 * 0.02965^2 / 0.0198^2 = 18.4 + 2 -> 22.
    std::vector<double> d;
    for (int k = 0; k < 20; ++k) {
        d.push_back(k % 2 == 0 ? 0.02 : -0.02);
    }
    const NoiseFloor floor = noise_floor(d, Options{});
    ASSERT_TRUE(floor.estimable);
    EXPECT_NEAR(floor.sigma_d, 1.4826 * 0.02, 1e-12);
    const double z = detail::normal_quantile(0.975) + detail::normal_quantile(0.8);
    const double expected =
        z * z * (M_PI / 3) * floor.sigma_d * floor.sigma_d / std::pow(std::log1p(0.02), 2) + 2;
    const auto rounds = static_cast<std::size_t>(std::ceil(expected));
    EXPECT_EQ(floor.rounds_needed, rounds + rounds % 2);
}

TEST(Planning, NoSpreadOrTooFewRounds_IsNotEstimable) {
    // A deterministic metric has no noise to plan against, and 2 rounds no spread to measure:
    // "not estimable" rather than a made-up round count.
    const NoiseFloor flat = noise_floor(std::vector<double>(20, 0.0), Options{});
    EXPECT_FALSE(flat.estimable);
    EXPECT_EQ(flat.rounds_needed, 0u);
    EXPECT_FALSE(noise_floor(std::vector<double>{0.01, -0.02}, Options{}).estimable);
}

TEST(Planning, AdaptiveStopsWhenDecidedOrAtMax) {
    const AdaptivePolicy policy{10, 30};
    EXPECT_EQ(planned_looks(policy), 11);
    Comparison open;
    Comparison decided;
    decided.verdict = Verdict::unchanged;
    EXPECT_FALSE(should_stop(std::vector<Comparison>{open}, 12, policy));
    EXPECT_TRUE(should_stop(std::vector<Comparison>{decided}, 12, policy));
    EXPECT_TRUE(should_stop(std::vector<Comparison>{open}, 30, policy));
}

TEST(RankTests, MannWhitneyInterval_IsTheExactOrderStatisticsOfTheDifferences) {
    // m = n = 5 at 95%: P(U <= 2) = 0.0159 <= 0.025 < P(U <= 3) = 0.0278 (the Mann-Whitney
    // tables), so the interval runs from the 3rd smallest to the 3rd largest of the 25
    // differences b_j - a_i. Here they are 10 + (j - i): 6 once, 7 twice, ..., 14 once.
    const std::vector<double> a{0, 1, 2, 3, 4}, b{10, 11, 12, 13, 14};
    const auto interval = detail::mann_whitney_interval(a, b, 0.95);
    ASSERT_TRUE(interval.has_value());
    EXPECT_TRUE(interval->exact);
    EXPECT_DOUBLE_EQ(interval->low, 7);
    EXPECT_DOUBLE_EQ(interval->high, 13);
    EXPECT_DOUBLE_EQ(detail::hodges_lehmann_two_sample(a, b), 10);
    // Two values a side: even [min, max] covers with probability 1 - 2/6 < 95%: no interval.
    EXPECT_FALSE(
        detail::mann_whitney_interval(std::vector<double>{0, 1}, std::vector<double>{5, 6}, 0.95));
    // Above 50 values the normal approximation: c = floor(mn/2 - 1.96 sqrt(mn(m+n+1)/12)).
    std::vector<double> x(30), y(30);
    for (std::size_t i = 0; i < 30; ++i) {
        x[i] = static_cast<double>(i);
        y[i] = static_cast<double>(i) + 100;
    }
    const auto wide = detail::mann_whitney_interval(x, y, 0.95);
    ASSERT_TRUE(wide.has_value());
    EXPECT_FALSE(wide->exact);
    // 900 differences 100 + t, t = j - i, t taken 30 - |t| times; c = floor(450 - 1.96 *
    // sqrt(900 * 61 / 12)) = 317, and the 318th smallest is t = -5: the counts 1, 2, ..., 24 of
    // t = -29..-6 sum to 300, and t = -5 takes the next 25.
    EXPECT_DOUBLE_EQ(wide->low, 95);
    EXPECT_DOUBLE_EQ(wide->high, 105);
}

// A duet whose two CPUs differ, as the host's stutter made them here: the second CPU `slow` times
// slower during the first `slow_rounds` rounds (+25% for 30 s was seen). B takes the second CPU in
// the rounds `balance` marks, two of every four as the plan's A/B/B/A blocks swap them; each run
// has its own noise (cv) and a round's machine state is shared.
PairedInput duet(std::mt19937_64& rng, std::size_t n, double change, double slow,
                 std::size_t slow_rounds, double cv) {
    std::normal_distribution<double> run_noise(0, std::sqrt(std::log(1 + cv * cv)));
    std::normal_distribution<double> machine_noise(0, 0.05);
    PairedInput input;
    input.balance_name = "CPU";
    for (std::size_t k = 0; k < n; ++k) {
        const bool b_second = k % 4 == 1 || k % 4 == 2;
        const double second = k < slow_rounds ? slow : 1.0;
        const double machine = std::exp(machine_noise(rng));
        input.a.push_back(100 * machine * (b_second ? 1.0 : second) * std::exp(run_noise(rng)));
        input.b.push_back(100 * change * machine * (b_second ? second : 1.0) *
                          std::exp(run_noise(rng)));
        input.order.push_back(k % 2 == 0 ? Order::ab : Order::ba);
        input.balance.push_back(b_second);
    }
    return input;
}

TEST(Crossover, OneCpuSlowForMostOfTheRun_AFivePercentChangeIsStillResolved) {
    // 20 rounds, B 5% slower, one CPU 25% slower for 14 of them, 1% noise per run. The paired
    // deltas are +5% +- 25%: their interval spans both modes. Told which CPU B had, the crossover
    // analysis takes the 25% out and resolves the 5%.
    std::mt19937_64 rng(7);
    Options options = simulation_options();
    int regressed_paired = 0, regressed_crossover = 0, covered = 0;
    const int experiments = 200;
    for (int i = 0; i < experiments; ++i) {
        PairedInput input = duet(rng, 20, 1.05, 1.25, 14, 0.01);
        const Comparison with = compare_paired(input, options);
        regressed_crossover += with.verdict == Verdict::regressed;
        covered += with.ci_low_pct <= 5 && 5 <= with.ci_high_pct;
        EXPECT_TRUE(with.interval == IntervalMethod::crossover_exact)
            << stats::to_string(with.interval);
        EXPECT_TRUE(std::any_of(with.warnings.begin(), with.warnings.end(), [](const auto& w) {
            return w.rfind("CPU effect removed: ", 0) == 0;
        }));
        input.balance.clear();
        regressed_paired += compare_paired(input, options).verdict == Verdict::regressed;
    }
    std::printf("+5%% with one CPU +25%% for 14 of 20 rounds: regressed %d/%d paired, %d/%d "
                "crossover (interval covering +5%%: %d)\n",
                regressed_paired, experiments, regressed_crossover, experiments, covered);
    EXPECT_GE(regressed_crossover, experiments * 95 / 100);
    EXPECT_LE(regressed_paired, experiments / 2);
    EXPECT_GE(covered, experiments * 90 / 100);
}

TEST(Calibration, AA_ACpuEffect_FalseAlarmsAtMostNominal_WithOrWithoutTheCrossover) {
    // Identical code in a duet whose CPUs may differ (none, +10% throughout, +25% for half the
    // run), at 20 and 40 rounds: removing the CPU effect must not raise false alarms above the
    // nominal 5% (the same one-sided 99% binomial margin as the A/A test above).
    const std::size_t experiments = 2000;
    const double margin = 2.33 * std::sqrt(0.05 * 0.95 / static_cast<double>(experiments));
    std::uint64_t seed = 500;
    for (const std::size_t n : {20, 40}) {
        for (const auto& [slow, slow_rounds] :
             {std::pair{1.0, n}, std::pair{1.10, n}, std::pair{1.25, n / 2}}) {
            for (const double cv : {0.01, 0.05}) {
                std::mt19937_64 rng(seed++);
                int alarms = 0, crossovers = 0;
                for (std::size_t i = 0; i < experiments; ++i) {
                    const Comparison c = compare_paired(duet(rng, n, 1.0, slow, slow_rounds, cv),
                                                        simulation_options());
                    alarms += c.verdict == Verdict::regressed || c.verdict == Verdict::improved;
                    crossovers += c.interval == IntervalMethod::crossover_exact ||
                                  c.interval == IntervalMethod::crossover_normal;
                }
                const double rate = alarms / static_cast<double>(experiments);
                std::printf("A/A duet %zu rounds, CPU x%.2f for %zu rounds, cv %.2f: false alarms "
                            "%.4f (crossover used in %d)\n",
                            n, slow, slow_rounds, cv, rate, crossovers);
                EXPECT_LE(rate, 0.05 + margin) << n << " " << slow << " " << cv;
            }
        }
    }
}

// ---- Theil-Sen slope (a soak run's memory trend) -------------------------------------------

TEST(TheilSen, ExactLine_GivesItsSlope) {
    const std::vector<double> x = {0, 1, 2.5, 4, 7, 7.5, 11, 20};
    std::vector<double> y;
    for (const double v : x) {
        y.push_back(2.5 * v - 7);
    }
    EXPECT_DOUBLE_EQ(theil_sen_slope(x, y), 2.5);
}

TEST(TheilSen, AFewHugeOutliers_StillGiveTheLinesSlope) {
    // 60 one-second samples of RSS growing 0.5 kB/s, three of them wild (a GC pause's spike, a
    // drop, a one-off allocation). Only the 174 pairs touching an outlier (3 x 57 + 3) can be
    // off: the other 1596 of 1770 slopes are exactly 0.5 (halves are exact in binary), so the
    // median is 0.5 exactly. A least-squares slope follows the spikes.
    std::vector<double> x, y;
    for (int i = 0; i < 60; ++i) {
        x.push_back(i);
        y.push_back(1000 + 0.5 * i);
    }
    y[10] = 1e9;
    y[30] = -1e9;
    y[55] = 5e8;
    EXPECT_DOUBLE_EQ(theil_sen_slope(x, y), 0.5);
    const double mean_x = 29.5;
    const double mean_y = std::accumulate(y.begin(), y.end(), 0.0) / 60;
    double sxy = 0, sxx = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        sxy += (x[i] - mean_x) * (y[i] - mean_y);
        sxx += (x[i] - mean_x) * (x[i] - mean_x);
    }
    EXPECT_GT(std::abs(sxy / sxx - 0.5), 1e5); // what the robust slope is for
}

TEST(TheilSen, SmallDataset_MatchesTheHandComputedMedianOfPairwiseSlopes) {
    // x = 1..5, y = 2 3 7 5 11. The 10 pairwise slopes (y_j - y_i) / (x_j - x_i):
    //   (1,2) 1/1 = 1     (1,3) 5/2 = 2.5   (1,4) 3/3 = 1    (1,5) 9/4 = 2.25
    //   (2,3) 4/1 = 4     (2,4) 2/2 = 1     (2,5) 8/3 = 2.667
    //   (3,4) -2/1 = -2   (3,5) 4/2 = 2     (4,5) 6/1 = 6
    // Sorted: -2 1 1 1 2 | 2.25 2.5 2.667 4 6: an even count, so the median is (2 + 2.25) / 2 =
    // 2.125 (scipy.stats.theilslopes(y, x).slope, which takes np.median of the slopes).
    const std::vector<double> x = {1, 2, 3, 4, 5};
    const std::vector<double> y = {2, 3, 7, 5, 11};
    EXPECT_DOUBLE_EQ(theil_sen_slope(x, y), 2.125);
}

TEST(TheilSen, PairsWithEqualX_AreLeftOut) {
    // x = 0 1 1 3, y = 0 2 4 3. The pair at x = 1 has no slope; the other five:
    //   (0,1a) 2/1 = 2   (0,1b) 4/1 = 4   (0,3) 3/3 = 1   (1a,3) 1/2 = 0.5   (1b,3) -1/2 = -0.5
    // Sorted: -0.5 0.5 1 2 4: an odd count, median 1.
    const std::vector<double> x = {0, 1, 1, 3};
    const std::vector<double> y = {0, 2, 4, 3};
    EXPECT_DOUBLE_EQ(theil_sen_slope(x, y), 1.0);
}

TEST(TheilSen, BadInput_Throws_NonFinite_IsNaN) {
    const std::vector<double> three = {1, 2, 3};
    const std::vector<double> two = {1, 2};
    const std::vector<double> same = {4, 4, 4};
    const std::vector<double> one = {1};
    const std::vector<double> none;
    EXPECT_THROW(theil_sen_slope(three, two), std::invalid_argument);
    EXPECT_THROW(theil_sen_slope(same, three), std::invalid_argument);
    EXPECT_THROW(theil_sen_slope(one, one), std::invalid_argument);
    EXPECT_THROW(theil_sen_slope(none, none), std::invalid_argument);
    const std::vector<double> with_nan = {1, std::numeric_limits<double>::quiet_NaN(), 3};
    EXPECT_TRUE(std::isnan(theil_sen_slope(three, with_nan)));
    EXPECT_TRUE(std::isnan(theil_sen_slope(with_nan, three)));
}

} // namespace
} // namespace abtool::stats
