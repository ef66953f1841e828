// stats/design.cpp: the rounds a verdict needs before it can be significant at all, and the
// choice of round design from a pilot's log-ratios. Pilot series are drawn from a seeded
// splitmix64 through the normal quantile, so every figure is the same on every platform.
#include "abtool/stats.hpp"
#include "stats/numeric.hpp"
#include "stats/ranktests.hpp"
#include "stats/verdict.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace abtool::stats {
namespace {

// ---- smallest_p_value ----------------------------------------------------------------------

TEST(SmallestP, SixPairs_IsOneIn32) {
    EXPECT_DOUBLE_EQ(smallest_p_value(6), 0.03125);
    EXPECT_DOUBLE_EQ(smallest_p_value(8), 2.0 / 256);
}

TEST(SmallestP, MatchesTheExactWilcoxonWithEveryPairOnOneSide) {
    // The claim smallest_p_value makes about the verdict's test, checked against that test:
    // n distinct positive (or negative) differences are the most extreme sign pattern.
    for (std::size_t n = 1; n <= 30; ++n) {
        std::vector<double> up, down;
        for (std::size_t k = 0; k < n; ++k) {
            up.push_back(0.01 * static_cast<double>(k + 1));
            down.push_back(-0.01 * static_cast<double>(k + 1));
        }
        const detail::SignedRank positive = detail::wilcoxon_signed_rank(up);
        ASSERT_TRUE(positive.exact) << n;
        EXPECT_DOUBLE_EQ(positive.p_value, smallest_p_value(n)) << n;
        EXPECT_DOUBLE_EQ(detail::wilcoxon_signed_rank(down).p_value, smallest_p_value(n)) << n;
        if (n >= 2) { // any other sign pattern gives a larger p: flip the smallest difference
            up[0] = -up[0];
            EXPECT_GT(detail::wilcoxon_signed_rank(up).p_value, smallest_p_value(n)) << n;
        }
    }
}

TEST(SmallestP, NoPairsOrOne_IsOne) {
    EXPECT_EQ(smallest_p_value(0), 1.0);
    EXPECT_EQ(smallest_p_value(1), 1.0);
}

// ---- rounds_for_significance ---------------------------------------------------------------

TEST(RoundsForSignificance, OneGated_NeedsSix) {
    // 2/2^6 = 0.03125 < 0.05.
    EXPECT_EQ(rounds_for_significance(1, Options{}), 6u);
}

TEST(RoundsForSignificance, TwoGatedUnderHolm_NeedsEight) {
    // 2 x 0.03125 = 0.0625 >= 0.05 at 6; 2 x 2/2^7 = 0.03125 < 0.05, rounded up to a whole block.
    EXPECT_EQ(rounds_for_significance(2, Options{}), 8u);
    Options bh;
    bh.multiplicity = Multiplicity::benjamini_hochberg;
    EXPECT_EQ(rounds_for_significance(2, bh), 8u) << "one change among 2: p x 2 / 1, like Holm";
}

TEST(RoundsForSignificance, NoCorrection_GatedDoesNotMultiply) {
    Options none;
    none.multiplicity = Multiplicity::none;
    EXPECT_EQ(rounds_for_significance(2, none), 6u);
    EXPECT_EQ(rounds_for_significance(1000, none), 6u);
    EXPECT_GT(rounds_for_significance(1000, Options{}), 6u);
}

TEST(RoundsForSignificance, TwoLooks_HalveAlpha) {
    // alpha 0.025 per look: 0.03125 at 6 is not below it, 2/2^7 = 0.0156 is: 7, a block is 8.
    Options looks;
    looks.looks = 2;
    EXPECT_EQ(rounds_for_significance(1, looks), 8u);
    // Two gated at two looks: 2 x 2/2^n < 0.025 from n = 8.
    EXPECT_EQ(rounds_for_significance(2, looks), 8u);
    // Three gated: 3 x 2/2^8 = 0.0234 < 0.025 still; four: 4 x 2/2^8 = 0.03125 needs n = 9 -> 10.
    EXPECT_EQ(rounds_for_significance(3, looks), 8u);
    EXPECT_EQ(rounds_for_significance(4, looks), 10u);
}

TEST(RoundsForSignificance, SmallestEvenCountAtOrAboveSix_ReachesAlpha) {
    // The definition, over a grid: even, >= 6, reachable, and two rounds fewer would not be.
    for (const double confidence : {0.9, 0.95, 0.99, 0.999}) {
        for (int looks = 1; looks <= 5; ++looks) {
            for (std::size_t gated = 1; gated <= 64; ++gated) {
                Options options;
                options.confidence = confidence;
                options.looks = looks;
                const double alpha = detail::alpha_per_look(options);
                const std::size_t n = rounds_for_significance(gated, options);
                const double m = static_cast<double>(gated);
                EXPECT_EQ(n % 2, 0u);
                EXPECT_GE(n, 6u);
                EXPECT_LT(m * smallest_p_value(n), alpha) << gated << " " << looks;
                if (n > 6) {
                    EXPECT_GE(m * smallest_p_value(n - 2), alpha) << gated << " " << looks;
                }
            }
        }
    }
}

PairedInput slower_every_round(std::size_t n, double factor) {
    PairedInput input;
    for (std::size_t k = 0; k < n; ++k) {
        input.a.push_back(10 + 0.1 * static_cast<double>(k % 4));
        // Distinct ratios: no ties in |d|, so the verdict uses the exact test.
        input.b.push_back(input.a.back() * factor * (1 + 0.001 * static_cast<double>(k)));
    }
    return input;
}

TEST(RoundsForSignificance, TwoGated_IsWhereTheVerdictsOwnHolmFirstSeesAChange) {
    // End to end: one metric 10% slower every round, the other unchanged. At 6 rounds Holm
    // keeps the change from being significant (0.0625); at rounds_for_significance it is not.
    Options options;
    options.resamples = 0;
    const std::size_t enough = rounds_for_significance(2, options);
    for (const std::size_t n : {enough - 2, enough}) {
        PairedInput unchanged = slower_every_round(n, 1.0);
        for (std::size_t k = 0; k < n; k += 2) {
            std::swap(unchanged.a[k], unchanged.b[k]); // half the pairs on each side
        }
        const std::vector<PairedInput> inputs{slower_every_round(n, 1.10), unchanged};
        const std::vector<Comparison> compared = compare_paired_all(inputs, options);
        EXPECT_DOUBLE_EQ(compared[0].p_value, smallest_p_value(n));
        EXPECT_EQ(compared[0].verdict == Verdict::regressed, n == enough)
            << n << " rounds: " << compared[0].reason;
    }
}

// ---- choose_design -------------------------------------------------------------------------

// Standard normal draws, fully specified: splitmix64 through Acklam's normal quantile, the
// uniform taken at the centre of its 2^-53 cell so it is never 0 or 1.
class Normal {
public:
    explicit Normal(std::uint64_t seed) : m_random(seed) {}
    double operator()() {
        const double u = (static_cast<double>(m_random.next() >> 11) + 0.5) * 0x1.0p-53;
        return detail::normal_quantile(u);
    }

private:
    detail::Random m_random;
};

// n pilot log-ratios around `estimate` (a log-ratio) with spread `sigma` (a fraction).
std::vector<double> pilot_series(std::uint64_t seed, std::size_t n, double estimate, double sigma) {
    Normal normal(seed);
    std::vector<double> d;
    for (std::size_t k = 0; k < n; ++k) {
        d.push_back(estimate + sigma * normal());
    }
    return d;
}

DesignPilot design(std::string name, bool concurrent, double seconds_per_round,
                   std::vector<std::vector<double>> log_ratios) {
    DesignPilot pilot;
    pilot.name = std::move(name);
    pilot.concurrent = concurrent;
    pilot.seconds_per_round = seconds_per_round;
    pilot.log_ratios = std::move(log_ratios);
    return pilot;
}

// 40 pilot rounds per design: the scaled MAD's relative standard error is about
// 1.166 / sqrt(40) = 18% (its efficiency is 37% for normal noise), so the 10x and 2.5x spread
// ratios below are each several standard errors from the rule's boundary (ln 2.5 = 0.92 against
// sqrt(2) x 0.18 = 0.26 for a ratio of two estimates).
constexpr std::size_t k_pilot_rounds = 40;
const double k_three_pct = std::log(1.03);

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

TEST(ChooseDesign, DuetNarrower_IsChosen) {
    // The agreement check at 95% over all series (1.96 combined standard errors for one) turns
    // an unbiased duet away in 5% of pilots (the rule's price for catching interference); these
    // fixed seeds are in the other 95%, as are those of the unbiased duets below.
    const std::vector<DesignPilot> designs{
        design("alternate", false, 1.0, {pilot_series(1, k_pilot_rounds, k_three_pct, 0.02)}),
        design("duet", true, 0.5, {pilot_series(2, k_pilot_rounds, k_three_pct, 0.002)}),
    };
    const DesignChoice choice = choose_design(designs);
    ASSERT_EQ(choice.assessments.size(), 2u);
    EXPECT_EQ(choice.chosen, 1u) << choice.reason;
    EXPECT_FALSE(choice.fallback);
    EXPECT_TRUE(choice.assessments[0].eligible);
    EXPECT_TRUE(choice.assessments[1].eligible) << choice.assessments[1].why_not;
    // The robust spread and the median recover the model (18% relative error per spread, see
    // above; the median's standard error is 1.25 sigma / sqrt(40) = 0.2 sigma: 4 of them).
    EXPECT_NEAR(choice.assessments[0].sigma_d[0], 0.02, 0.02 * 0.5);
    EXPECT_NEAR(choice.assessments[1].sigma_d[0], 0.002, 0.002 * 0.5);
    EXPECT_NEAR(choice.assessments[0].estimate[0], k_three_pct, 4 * 0.2 * 0.02);
    EXPECT_NEAR(choice.assessments[1].estimate[0], k_three_pct, 4 * 0.2 * 0.002);
    // The score is the worst series' sigma^2 per round's seconds.
    const double sigma = choice.assessments[1].sigma_d[0];
    EXPECT_DOUBLE_EQ(choice.assessments[1].score, sigma * sigma * 0.5);

    // One line: the design, its spread, its seconds per round and its gain over the reference.
    EXPECT_EQ(choice.reason.find("duet: spread "), 0u) << choice.reason;
    EXPECT_FALSE(contains(choice.reason, "\n"));
    const std::string seconds = "0.5 s/round: ";
    const std::size_t at = choice.reason.find(seconds);
    ASSERT_NE(at, std::string::npos) << choice.reason;
    const double gain = std::stod(choice.reason.substr(at + seconds.size()));
    EXPECT_NEAR(gain, choice.assessments[0].score / choice.assessments[1].score, 0.005 * gain);
    EXPECT_TRUE(
        contains(choice.reason, "x less machine time than alternate for the same interval width"))
        << choice.reason;
}

TEST(ChooseDesign, DuetWidensOneSeries_IsNotChosen) {
    // Series 1 is CPU-bound: duet is 10x narrower. Series 2 copies memory: the other side's
    // traffic makes duet 2.5x wider there. Even its worst series would score 6x better than
    // alternate x3's (ln 6 = 1.8 against 0.51 for the ratio of two variance estimates, each
    // 2 x 18% relative error), so only the rule that a concurrent design may widen no series
    // keeps it out.
    const std::vector<DesignPilot> designs{
        design("alternate", false, 1.0,
               {pilot_series(11, k_pilot_rounds, k_three_pct, 0.02),
                pilot_series(12, k_pilot_rounds, 0.0, 0.004)}),
        design("alternate x3", false, 3.0,
               {pilot_series(13, k_pilot_rounds, k_three_pct, 0.01),
                pilot_series(14, k_pilot_rounds, 0.0, 0.003)}),
        design("duet", true, 0.5,
               {pilot_series(15, k_pilot_rounds, k_three_pct, 0.002),
                pilot_series(16, k_pilot_rounds, 0.0, 0.010)}),
    };
    const DesignChoice choice = choose_design(designs);
    EXPECT_NE(choice.chosen, 2u) << choice.reason;
    EXPECT_FALSE(designs[choice.chosen].concurrent) << choice.reason;
    EXPECT_FALSE(choice.fallback);
    EXPECT_TRUE(choice.assessments[0].eligible);
    EXPECT_TRUE(choice.assessments[1].eligible) << "a sequential design is never held to the rule";
    const DesignAssessment& duet = choice.assessments[2];
    EXPECT_FALSE(duet.eligible);
    EXPECT_EQ(duet.why_not.find("widens series 2: spread "), 0u) << duet.why_not;
    double worst = 0;
    for (double sigma : duet.sigma_d) {
        worst = std::max(worst, sigma * sigma);
    }
    EXPECT_LT(worst * designs[2].seconds_per_round, choice.assessments[choice.chosen].score)
        << "without the rule duet would have won";
}

TEST(ChooseDesign, DuetBiased_IsNotChosen) {
    // Duet reads +1% for a true +3%, with a tenth of the spread: narrow and wrong. The combined
    // uncertainty is 1.96 x 1.25 x sqrt(1%^2 + 0.1%^2) / sqrt(40) = 0.39 points; the gap is 2.
    const std::vector<DesignPilot> designs{
        design("alternate", false, 1.0, {pilot_series(21, k_pilot_rounds, k_three_pct, 0.01)}),
        design("duet", true, 1.0, {pilot_series(22, k_pilot_rounds, std::log(1.01), 0.001)}),
    };
    const DesignChoice choice = choose_design(designs);
    EXPECT_EQ(choice.chosen, 0u) << choice.reason;
    EXPECT_FALSE(choice.fallback) << "the reference is chosen on its figures";
    EXPECT_FALSE(choice.assessments[1].eligible);
    EXPECT_EQ(choice.assessments[1].why_not.find("biased on series 1: estimate "), 0u)
        << choice.assessments[1].why_not;
    EXPECT_LT(choice.assessments[1].sigma_d[0], choice.assessments[0].sigma_d[0])
        << "narrower: only the bias rule keeps it out";

    // The same duet, unbiased, is taken: the bias rule is what decided.
    const std::vector<DesignPilot> fair{
        designs[0],
        design("duet", true, 1.0, {pilot_series(22, k_pilot_rounds, k_three_pct, 0.001)}),
    };
    EXPECT_EQ(choose_design(fair).chosen, 1u) << choose_design(fair).assessments[1].why_not;
}

TEST(ChooseDesign, DeterministicMetric_TiesGoToReference) {
    // Instruction counts: B executes 2% more every round, whatever the design. Every spread and
    // score is 0, duet's estimate agrees exactly, and the tie goes to plain alternate rounds.
    const std::vector<double> constant(8, std::log(1.02));
    const std::vector<DesignPilot> designs{
        design("alternate", false, 1.0, {constant}),
        design("alternate x3", false, 3.0, {constant}),
        design("duet", true, 0.5, {constant}),
    };
    const DesignChoice choice = choose_design(designs);
    EXPECT_EQ(choice.chosen, 0u) << choice.reason;
    EXPECT_FALSE(choice.fallback);
    for (const DesignAssessment& assessment : choice.assessments) {
        EXPECT_TRUE(assessment.eligible) << assessment.why_not;
        EXPECT_EQ(assessment.score, 0.0);
    }
    EXPECT_EQ(choice.reason.find("alternate: spread 0.00%"), 0u) << choice.reason;
}

TEST(ChooseDesign, TooFewPilotValues_FallsBack) {
    // The reference's second series kept two finite values of four: nothing can be weighed.
    const std::vector<DesignPilot> designs{
        design("alternate", false, 1.0,
               {pilot_series(31, 6, 0.0, 0.01), {0.01, std::nan(""), INFINITY, 0.02}}),
        design("duet", true, 0.5, {pilot_series(32, 6, 0.0, 0.001), pilot_series(33, 6, 0, 0.001)}),
    };
    const DesignChoice choice = choose_design(designs);
    EXPECT_EQ(choice.chosen, 0u);
    EXPECT_TRUE(choice.fallback);
    EXPECT_TRUE(contains(choice.reason, "not enough pilot information")) << choice.reason;
    EXPECT_FALSE(choice.assessments[0].eligible);
    EXPECT_EQ(choice.assessments[0].why_not, "series 2 has 2 usable pilot round(s), needs 3");
    EXPECT_FALSE(choice.assessments[1].eligible) << "nothing to compare it with";
    EXPECT_FALSE(choice.assessments[1].why_not.empty());
}

TEST(ChooseDesign, TooFewValuesInACandidate_OnlyThatCandidateIsOut) {
    const std::vector<DesignPilot> designs{
        design("alternate", false, 1.0, {pilot_series(41, 6, 0.0, 0.01)}),
        design("duet", true, 0.5, {{0.001, std::nan(""), -0.001}}),
    };
    const DesignChoice choice = choose_design(designs);
    EXPECT_EQ(choice.chosen, 0u);
    EXPECT_FALSE(choice.fallback) << "the reference had its figures";
    EXPECT_TRUE(choice.assessments[0].eligible);
    EXPECT_EQ(choice.assessments[1].why_not, "series 1 has 2 usable pilot round(s), needs 3");
}

TEST(ChooseDesign, NonFiniteValues_AreDropped) {
    const std::vector<double> finite = pilot_series(51, 9, 0.01, 0.01);
    std::vector<double> with_gaps = finite;
    with_gaps.insert(with_gaps.begin() + 3, std::nan(""));
    with_gaps.push_back(-INFINITY);
    const std::vector<DesignPilot> clean{design("alternate", false, 1.0, {finite})};
    const std::vector<DesignPilot> gappy{design("alternate", false, 1.0, {with_gaps})};
    const DesignChoice a = choose_design(clean);
    const DesignChoice b = choose_design(gappy);
    EXPECT_EQ(a.assessments[0].sigma_d, b.assessments[0].sigma_d);
    EXPECT_EQ(a.assessments[0].estimate, b.assessments[0].estimate);
    EXPECT_DOUBLE_EQ(b.assessments[0].sigma_d[0], 1.4826 * detail::mad(finite));
    EXPECT_DOUBLE_EQ(b.assessments[0].estimate[0], median(finite));
    EXPECT_TRUE(std::isfinite(b.assessments[0].score));
}

TEST(ChooseDesign, NoGatedSeries_FallsBackToReference) {
    const std::vector<DesignPilot> designs{design("alternate", false, 1.0, {}),
                                           design("duet", true, 0.5, {})};
    const DesignChoice choice = choose_design(designs);
    EXPECT_EQ(choice.chosen, 0u);
    EXPECT_TRUE(choice.fallback);
    EXPECT_FALSE(choice.reason.empty());
    EXPECT_EQ(choice.assessments.size(), 2u);
}

TEST(ChooseDesign, RepeatCostsMoreButNarrower_ScoreDecides) {
    // Alternate x3 takes 3x the seconds per round, so it wins only when its variance is more
    // than 3x smaller. The same standard normal draws, scaled, make the spread ratio exact, so
    // 3.3x and 2.7x sit on either side of the boundary whatever the draws.
    const std::vector<double> z = pilot_series(61, 12, 0.0, 1.0);
    const auto scaled = [&](double sigma) {
        std::vector<double> d;
        for (double value : z) {
            d.push_back(k_three_pct + sigma * value);
        }
        return d;
    };
    const double sigma = 0.01;
    for (const double variance_ratio : {3.3, 2.7}) {
        const std::vector<DesignPilot> designs{
            design("alternate", false, 1.0, {scaled(sigma)}),
            design("alternate x3", false, 3.0, {scaled(sigma / std::sqrt(variance_ratio))}),
        };
        const DesignChoice choice = choose_design(designs);
        EXPECT_EQ(choice.chosen, variance_ratio > 3 ? 1u : 0u)
            << variance_ratio << ": " << choice.reason;
        EXPECT_NEAR(choice.assessments[0].score / choice.assessments[1].score, variance_ratio / 3,
                    1e-9);
    }
}

TEST(ChooseDesign, SameFigures_SameChoice) {
    // No generator inside: the choice is a function of the pilot's numbers alone.
    const std::vector<DesignPilot> designs{
        design("alternate", false, 1.0, {pilot_series(71, 8, 0.0, 0.01)}),
        design("duet", true, 0.7, {pilot_series(72, 8, 0.0, 0.004)}),
    };
    const DesignChoice first = choose_design(designs);
    const DesignChoice second = choose_design(designs);
    EXPECT_EQ(first.chosen, second.chosen);
    EXPECT_EQ(first.reason, second.reason);
    EXPECT_EQ(first.assessments[1].score, second.assessments[1].score);
}

} // namespace
} // namespace abtool::stats
