// Deterministic counters (instructions from perf_event_open or cachegrind) through the verdict
// engine: an A/A spread of zero or of a few instructions in 1e9, changes that give the same
// log-ratio in every round, thresholds of a fraction of a percent set per case, and the
// post-mortem (unpaired) path. Every expected number is derived in a comment from the method.
#include "abtool/stats.hpp"
#include "stats/numeric.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace abtool::stats {
namespace {

constexpr double k_count = 1e9; // instructions of one run

// n rounds of a counter: A counts k_count (+ 37 k when `varying`, so the rounds differ the way
// ASLR and the environment make them), B exactly `factor` times A's count of the same round.
// Rounds alternate AB, BA as the scheduler's balanced blocks do.
PairedInput counter(std::size_t n, double factor, bool varying = false) {
    PairedInput input;
    for (std::size_t k = 0; k < n; ++k) {
        const double a = k_count + (varying ? 37.0 * static_cast<double>(k) : 0.0);
        input.a.push_back(a);
        input.b.push_back(a * factor);
        input.order.push_back(k % 2 == 0 ? Order::ab : Order::ba);
    }
    return input;
}

// A/A jitter of a few instructions: a_k = 1e9 + u_k, b_k = 1e9 + v_k with u, v uniform on
// {-3..3} from a seeded generator, and v_k = u_k in every third round, so that d_k = 0 exactly
// there. |d_k| <= ln((1e9 + 3) / (1e9 - 3)) < 6.0001e-9.
PairedInput jitter(std::size_t n, std::uint64_t seed) {
    detail::Random random(seed);
    PairedInput input;
    for (std::size_t k = 0; k < n; ++k) {
        const double u = static_cast<double>(random.below(7)) - 3;
        const double v = k % 3 == 0 ? u : static_cast<double>(random.below(7)) - 3;
        input.a.push_back(k_count + u);
        input.b.push_back(k_count + v);
        input.order.push_back(k % 2 == 0 ? Order::ab : Order::ba);
    }
    return input;
}
constexpr double k_jitter_bound_pct = 6.0001e-7; // the bound on |d_k| above, in %

Options with_threshold(double threshold) {
    Options options;
    options.threshold = threshold;
    return options;
}

void expect_finite(const Descriptives& d, const std::string& what) {
    for (const double value :
         {d.min, d.max, d.mean, d.median, d.stddev, d.cv_pct, d.mad, d.p50, d.p95, d.p99}) {
        EXPECT_TRUE(std::isfinite(value)) << what;
    }
}

// No NaN or infinity anywhere in a comparison a report would print.
void expect_finite(const Comparison& c) {
    for (const double value :
         {c.delta_pct, c.hl_delta_pct, c.ci_low_pct, c.ci_high_pct, c.bootstrap_low_pct,
          c.bootstrap_high_pct, c.p_value, c.p_adjusted}) {
        EXPECT_TRUE(std::isfinite(value)) << c.reason;
    }
    EXPECT_TRUE(std::all_of(c.log_ratios.begin(), c.log_ratios.end(),
                            [](double d) { return std::isfinite(d); }));
    expect_finite(c.a, "A");
    expect_finite(c.b, "B");
    for (const std::string& warning : c.warnings) {
        EXPECT_EQ(warning.find("nan"), std::string::npos) << warning;
        EXPECT_EQ(warning.find("inf"), std::string::npos) << warning;
    }
}

bool warns(const Comparison& c, const std::string& prefix) {
    return std::any_of(c.warnings.begin(), c.warnings.end(),
                       [&](const std::string& w) { return w.find(prefix) != std::string::npos; });
}

std::string warnings_of(const Comparison& c) {
    std::string all;
    for (const std::string& warning : c.warnings) {
        all += warning + "; ";
    }
    return all;
}

// ---- A/A: identical counts ---------------------------------------------------------------

TEST(Counters, IdenticalCountsEveryRound_UnchangedZeroIntervalNoVariationNoNaN) {
    // d_k = 0 in every round: every Walsh average is 0, so the interval is [0, 0]; the signed-rank
    // test drops zero differences (zero_method "wilcox") and has nothing left: p = 1; the
    // bootstrap median of zeros is 0 in every resample.
    for (const std::size_t n : {6u, 20u}) {
        for (const bool varying : {false, true}) {
            const Comparison c = compare_paired(counter(n, 1.0, varying), with_threshold(0.002));
            SCOPED_TRACE("n = " + std::to_string(n) + (varying ? ", varying" : ", constant"));
            EXPECT_EQ(c.verdict, Verdict::unchanged) << c.reason;
            EXPECT_EQ(c.ci_low_pct, 0);
            EXPECT_EQ(c.ci_high_pct, 0);
            EXPECT_EQ(c.delta_pct, 0);
            EXPECT_EQ(c.hl_delta_pct, 0);
            EXPECT_EQ(c.bootstrap_low_pct, 0);
            EXPECT_EQ(c.bootstrap_high_pct, 0);
            EXPECT_EQ(c.p_value, 1);
            EXPECT_EQ(c.interval, IntervalMethod::wilcoxon_exact);
            EXPECT_NE(c.reason.find("no variation across rounds"), std::string::npos) << c.reason;
            EXPECT_TRUE(c.warnings.empty()) << warnings_of(c);
            EXPECT_TRUE(c.a.outliers.empty());
            // CV of 1e9 + 37 k, k < 20: stddev below 37 x 6 = 222 instructions, < 3e-5 %.
            EXPECT_LT(c.a.cv_pct, 3e-5);
            expect_finite(c);
        }
    }
}

// ---- deterministic changes ---------------------------------------------------------------

TEST(Counters, PlusHalfPercentEveryRound_SixRoundsThreshold02_Regressed) {
    // d_k = ln(1.005) in all six rounds: delta 0.5%, interval [0.5%, 0.5%]; all six differences
    // positive is the most extreme of the 2^6 sign patterns, p = 2/64 = 0.03125 < 0.05, and
    // 0.5% > 0.2%.
    for (const bool varying : {false, true}) {
        const Comparison c = compare_paired(counter(6, 1.005, varying), with_threshold(0.002));
        EXPECT_EQ(c.verdict, Verdict::regressed) << c.reason;
        EXPECT_NEAR(c.delta_pct, 0.5, 1e-9);
        EXPECT_NEAR(c.ci_low_pct, 0.5, 1e-9);
        EXPECT_NEAR(c.ci_high_pct, 0.5, 1e-9);
        EXPECT_DOUBLE_EQ(c.p_value, 2.0 / 64);
        // Said whether or not B / A rounded alike in every round.
        EXPECT_NE(c.reason.find("no variation across rounds"), std::string::npos) << c.reason;
        EXPECT_TRUE(c.warnings.empty()) << warnings_of(c);
        expect_finite(c);
    }
}

TEST(Counters, PlusHalfPercent_SixRoundsHolmOverTwoGated_NotSignificant_EightRoundsAre) {
    // A limitation, not a bug: at 6 rounds the smallest p is 2/64 = 0.03125, and Holm over two
    // gated cases doubles it to 0.0625 > 0.05, so no change, however clear, is significant. The
    // interval [0.5%, 0.5%] is outside +-0.2%: inconclusive. The planner knows: 2 x 2/2^7 =
    // 0.03125 < 0.05 needs 7 rounds, 8 in whole blocks, where Holm gives 2 x 2/256 = 0.0156.
    const Options options = with_threshold(0.002);
    const std::vector<PairedInput> at_6{counter(6, 1.005), counter(6, 1.0)};
    const std::vector<Comparison> six = compare_paired_all(at_6, options);
    EXPECT_DOUBLE_EQ(six[0].p_value, 2.0 / 64);
    EXPECT_DOUBLE_EQ(six[0].p_adjusted, 2 * 2.0 / 64);
    EXPECT_EQ(six[0].verdict, Verdict::inconclusive) << six[0].reason;
    EXPECT_NE(six[0].reason.find("not significant"), std::string::npos) << six[0].reason;
    EXPECT_EQ(six[1].verdict, Verdict::unchanged) << six[1].reason;

    EXPECT_EQ(rounds_for_significance(2, options), 8u);
    const std::vector<PairedInput> at_8{counter(8, 1.005), counter(8, 1.0)};
    const std::vector<Comparison> eight = compare_paired_all(at_8, options);
    EXPECT_DOUBLE_EQ(eight[0].p_adjusted, 2 * 2.0 / 256);
    EXPECT_EQ(eight[0].verdict, Verdict::regressed) << eight[0].reason;
    EXPECT_EQ(eight[1].verdict, Verdict::unchanged) << eight[1].reason;
}

TEST(Counters, PlusTenthPercent_RegressedAtThreshold005_UnchangedAtThreshold02) {
    // d_k = ln(1.001): p = 2/64 at 6 rounds either way; 0.1% > 0.05% is a regression, and at
    // 0.2% the interval [0.1%, 0.1%] lies inside +-0.2%.
    const Comparison tight = compare_paired(counter(6, 1.001, true), with_threshold(0.0005));
    EXPECT_EQ(tight.verdict, Verdict::regressed) << tight.reason;
    EXPECT_NEAR(tight.delta_pct, 0.1, 1e-9);
    const Comparison loose = compare_paired(counter(6, 1.001, true), with_threshold(0.002));
    EXPECT_EQ(loose.verdict, Verdict::unchanged) << loose.reason;
    EXPECT_NEAR(loose.ci_low_pct, 0.1, 1e-9);
    EXPECT_NEAR(loose.ci_high_pct, 0.1, 1e-9);
}

TEST(Counters, MinusHalfPercentEveryRound_Improved) {
    // The mirror image of +0.5%: p = 2/64, -0.5% beyond -0.2%. Here B / A does not round alike
    // in every round (d_k a few ulps apart), and the reason still says there was no variation.
    const Comparison c = compare_paired(counter(6, 0.995, true), with_threshold(0.002));
    EXPECT_EQ(c.verdict, Verdict::improved) << c.reason;
    EXPECT_NEAR(c.delta_pct, -0.5, 1e-9);
    EXPECT_DOUBLE_EQ(c.p_value, 2.0 / 64);
    const auto [lowest, highest] = std::minmax_element(c.log_ratios.begin(), c.log_ratios.end());
    EXPECT_LT(*lowest, *highest) << "the d_k are meant to differ in their last bits";
    EXPECT_LT(*highest - *lowest, 1e-15);
    EXPECT_NE(c.reason.find("no variation across rounds"), std::string::npos) << c.reason;
}

// ---- per-case thresholds -----------------------------------------------------------------

TEST(Counters, PerCaseThreshold_OverridesTheRunsForThatCaseOnly_HolmOverAllCases) {
    // Two cases of one run at 8 rounds, both +0.1% in every round (p = 2/256 each), the run's
    // threshold 2%: the one with its own 0.05% regresses, the other is unchanged (the interval
    // [0.1%, 0.1%] is inside +-2%). Holm counts both cases whatever their thresholds: sorted
    // p x (2, 1) = (0.0156, 0.0078), running max 0.0156 for both.
    PairedInput instructions = counter(8, 1.001, true);
    instructions.threshold = 0.0005;
    const std::vector<PairedInput> inputs{instructions, counter(8, 1.001, true)};
    const std::vector<Comparison> all = compare_paired_all(inputs, Options{});
    EXPECT_EQ(all[0].verdict, Verdict::regressed) << all[0].reason;
    EXPECT_NE(all[0].reason.find("(> 0.05%)"), std::string::npos) << all[0].reason;
    EXPECT_EQ(all[1].verdict, Verdict::unchanged) << all[1].reason;
    EXPECT_NE(all[1].reason.find("+-2%"), std::string::npos) << all[1].reason;
    for (const Comparison& c : all) {
        EXPECT_DOUBLE_EQ(c.p_value, 2.0 / 256);
        EXPECT_DOUBLE_EQ(c.p_adjusted, 2 * 2.0 / 256);
    }
    // One case alone honours its threshold too.
    EXPECT_EQ(compare_paired(instructions, Options{}).verdict, Verdict::regressed);

    // The same through the post-mortem path: 6 values a side, A's all below B's, so U takes its
    // most extreme value: exact Mann-Whitney p = 2 / C(12, 6) = 2/924, Holm 4/924 < 0.05.
    UnpairedInput stored{instructions.a, instructions.b, Direction::lower, 0.0005};
    stored.a.resize(6);
    stored.b.resize(6);
    UnpairedInput wall = stored;
    wall.threshold.reset();
    const std::vector<UnpairedInput> unpaired{stored, wall};
    const std::vector<Comparison> post = compare_unpaired_all(unpaired, Options{});
    EXPECT_EQ(post[0].verdict, Verdict::regressed) << post[0].reason;
    EXPECT_EQ(post[1].verdict, Verdict::unchanged) << post[1].reason;
    EXPECT_NEAR(post[0].p_adjusted, 4.0 / 924, 1e-12);
}

// ---- jitter and flaky counters -----------------------------------------------------------

TEST(Counters, JitterOfAFewInstructions_UnchangedFinitePAndInterval) {
    // Every Walsh average of the d_k lies between their min and max, so the interval is inside
    // +-6e-7 %, far inside +-0.2%: unchanged, whatever p says (it may be anything; it must be a
    // number). Rounds with d_k = 0 exactly are dropped by the signed-rank test, not ranked.
    for (const std::size_t n : {6u, 7u, 20u, 50u}) {
        for (std::uint64_t seed = 1; seed <= 20; ++seed) {
            const PairedInput input = jitter(n, seed);
            const Comparison c = compare_paired(input, with_threshold(0.002));
            SCOPED_TRACE("n = " + std::to_string(n) + ", seed " + std::to_string(seed));
            EXPECT_EQ(c.verdict, Verdict::unchanged) << c.reason;
            EXPECT_LE(std::abs(c.ci_low_pct), k_jitter_bound_pct);
            EXPECT_LE(std::abs(c.ci_high_pct), k_jitter_bound_pct);
            EXPECT_GE(c.p_value, 0);
            EXPECT_LE(c.p_value, 1);
            expect_finite(c);
            EXPECT_GE(std::count(c.log_ratios.begin(), c.log_ratios.end(), 0.0), 2);
        }
    }
}

TEST(Counters, FlakyCounter_OneOrTwoRoundsOfSix_NotRegressed) {
    // Five (four) rounds with d = 0 and one (two) at +0.5%: the median of d is 0 (its 3rd and
    // 4th values are 0). Hodges-Lehmann, the 11th of the 21 Walsh averages: with one flaky
    // round 15 of them are 0, so 0; with two, 10 are 0 and 8 are d/2, so the 11th is d/2 =
    // +0.25%, still half the change. The signed-rank test drops the zeros: one
    // nonzero difference has two equally likely signs, p = 1; two tied ones have T+ in
    // {0, 3, 6} (in doubled ranks) with probabilities 1/4, 1/2, 1/4, p = 2 x 1/4 = 0.5. At 6
    // rounds the interval is [min, max] of the Walsh averages = [0, 0.5%]: not within +-0.2%,
    // not significant: inconclusive, which says one round cannot decide.
    for (const std::size_t flaky : {1u, 2u}) {
        PairedInput input = counter(6, 1.0, true);
        for (std::size_t k = 0; k < flaky; ++k) {
            input.b[2 + 2 * k] *= 1.005;
        }
        const Comparison c = compare_paired(input, with_threshold(0.002));
        SCOPED_TRACE(std::to_string(flaky) + " flaky round(s)");
        EXPECT_EQ(c.verdict, Verdict::inconclusive) << c.reason;
        EXPECT_EQ(c.delta_pct, 0);
        EXPECT_NEAR(c.hl_delta_pct, flaky == 1 ? 0 : 100 * (std::sqrt(1.005) - 1), 1e-9);
        EXPECT_DOUBLE_EQ(c.p_value, flaky == 1 ? 1.0 : 0.5);
        EXPECT_EQ(c.ci_low_pct, 0);
        EXPECT_NEAR(c.ci_high_pct, 0.5, 1e-9);
        expect_finite(c);
    }
}

// ---- noise floor -------------------------------------------------------------------------

TEST(Counters, NoiseFloor_AllZeroNotEstimable_JitterTiny) {
    // No spread: nothing to plan against (estimable false, every figure 0, no NaN).
    const NoiseFloor flat = noise_floor(std::vector<double>(20, 0.0), with_threshold(0.002));
    EXPECT_FALSE(flat.estimable);
    for (const double value : {flat.sigma_d, flat.noise_pct, flat.detectable_pct}) {
        EXPECT_EQ(value, 0);
    }
    EXPECT_EQ(flat.rounds_needed, 0u);
    // Jitter: |d_k - median| <= 1.2e-8, so sigma_d = 1.4826 MAD <= 1.78e-8 and noise_pct =
    // 100 (e^(1.96 sqrt(pi/3) sigma_d / sqrt(20)) - 1) <= 8e-7 %. The rounds a 0.2% threshold
    // needs: (2.80 x 1.023 x 1.78e-8 / 0.002)^2 + 2 ~ 2, raised to the floor of 6.
    const std::vector<double> d = compare_paired(jitter(20, 3), Options{}).log_ratios;
    const NoiseFloor tiny = noise_floor(d, with_threshold(0.002));
    ASSERT_TRUE(tiny.estimable);
    EXPECT_GT(tiny.noise_pct, 0);
    EXPECT_LT(tiny.noise_pct, 8e-7);
    EXPECT_LE(tiny.sigma_d, 1.78e-8);
    EXPECT_EQ(tiny.rounds_needed, 6u);
}

// ---- warnings ----------------------------------------------------------------------------

TEST(Counters, DeterministicSeries_NoWarnings) {
    // Equal counts and a +0.5% change in every round, at 6 and 20 rounds with balanced orders:
    // no spread at all, so nothing to call an outlier, a trend, an order effect or a high CV.
    for (const std::size_t n : {6u, 20u}) {
        for (const double factor : {1.0, 1.005}) {
            for (const bool varying : {false, true}) {
                const Comparison c =
                    compare_paired(counter(n, factor, varying), with_threshold(0.002));
                EXPECT_TRUE(c.warnings.empty())
                    << n << " rounds, x" << factor << ": " << warnings_of(c);
            }
        }
    }
}

TEST(Counters, InstructionLevelPatterns_NotWarned_MaterialOnesAre) {
    // Patterns of a few instructions in 1e9 are real in the ranks and meaningless in size: a
    // warning needs the pattern to reach half the threshold (0.1% here), as the order-effect
    // rule always has.
    const Options options = with_threshold(0.002);
    // Jitter: the ranks alone would warn of a trend in about 1 series in 20 (the test's level).
    int warned = 0;
    for (std::uint64_t seed = 1; seed <= 100; ++seed) {
        warned += !compare_paired(jitter(20, seed), options).warnings.empty();
    }
    EXPECT_EQ(warned, 0);
    // One round 1 instruction off among 19 equal ones: MAD is 0 and the mean-absolute-deviation
    // fallback makes its z-score 20 / 1.2533 = 16, for one instruction.
    PairedInput one_off = counter(20, 1.0);
    one_off.b[7] += 1;
    EXPECT_FALSE(warns(compare_paired(one_off, options), "outlier")) << "1 instruction";
    // B's count creeping up by one instruction a round (the environment growing): Spearman rho
    // is 1, the drift 19 instructions.
    PairedInput creeping = counter(20, 1.0);
    for (std::size_t k = 0; k < creeping.b.size(); ++k) {
        creeping.b[k] += static_cast<double>(k);
    }
    EXPECT_FALSE(warns(compare_paired(creeping, options), "trend")) << "19 instructions";

    // The material versions still warn, each with its figure: a +0.5% flaky round (0.5% from
    // the median of 0), and a counter creeping 0.1% a round (1.9% over the run).
    PairedInput flaky = counter(20, 1.0);
    flaky.b[7] *= 1.005;
    const Comparison f = compare_paired(flaky, options);
    EXPECT_TRUE(warns(f, "1 outlier round(s)")) << warnings_of(f);
    EXPECT_TRUE(warns(f, "round 8")) << warnings_of(f);
    EXPECT_NE(f.verdict, Verdict::regressed) << f.reason;
    PairedInput drifting = counter(20, 1.0);
    for (std::size_t k = 0; k < drifting.b.size(); ++k) {
        drifting.b[k] *= 1 + 0.001 * static_cast<double>(k);
    }
    const Comparison t = compare_paired(drifting, options);
    EXPECT_TRUE(warns(t, "trend")) << warnings_of(t);
}

// ---- post-mortem (unpaired) --------------------------------------------------------------

TEST(Counters, Unpaired_PlusHalfPercentRegressed_EqualUnchanged) {
    // Six stored counts a side. +0.5%: every B above every A, so U is extreme. With A varying
    // (no ties) the exact p is 2 / C(12, 6) = 2/924; with both sides constant (two blocks of 6
    // ties) the tie-corrected normal approximation gives z = (36 - 18 - 0.5) / sqrt(3 (13 -
    // 420/132)) = 3.22, p = 0.0013. The bootstrap medians' ratio is 1.005 in every resample
    // (constant sides) or within 4e-7 of it. Equal sides: p = 1 and an interval of 0 (constant)
    // or within +-2e-5 %, the medians of resamples of {1e9 + 37 k} being at most 185 apart.
    for (const bool varying : {false, true}) {
        SCOPED_TRACE(varying ? "varying" : "constant");
        const PairedInput up = counter(6, 1.005, varying);
        const Comparison c = compare_unpaired(up.a, up.b, Direction::lower, with_threshold(0.002));
        EXPECT_EQ(c.verdict, Verdict::regressed) << c.reason;
        EXPECT_NEAR(c.p_value, varying ? 2.0 / 924 : 0.00126, varying ? 1e-12 : 5e-5);
        EXPECT_NEAR(c.ci_low_pct, 0.5, 4e-5);
        EXPECT_NEAR(c.ci_high_pct, 0.5, 4e-5);
        expect_finite(c);
        const PairedInput same = counter(6, 1.0, varying);
        const Comparison s =
            compare_unpaired(same.a, same.b, Direction::lower, with_threshold(0.002));
        EXPECT_EQ(s.verdict, Verdict::unchanged) << s.reason;
        EXPECT_EQ(s.p_value, 1);
        EXPECT_LE(std::abs(s.ci_low_pct), 2e-5);
        EXPECT_LE(std::abs(s.ci_high_pct), 2e-5);
        expect_finite(s);
    }
}

} // namespace
} // namespace abtool::stats
