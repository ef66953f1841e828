// The search of `abtool bisect` with a fake Prober: each commit has a true value, a comparison's
// delta is the exact ratio of the two commits' values with a fixed ±half-width interval, judged by
// DESIGN.md's verdict rule at the threshold it was asked for. No process runs here (the search
// starts none): tests/integration/bisect_test.cpp drives the real command on real repositories.
#include "src/experiment/bisect_search.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace abtool::bisect {
namespace {

class FakeProber : public Prober {
public:
    // values[i]: commit i's true value (lower is better); `failing`: commits that do not build.
    FakeProber(std::vector<double> values, std::set<std::size_t> failing = {},
               double half_width_pct = 0.5, bool higher_is_better = false)
        : m_values(std::move(values)), m_failing(std::move(failing)), m_half_width(half_width_pct),
          m_sign(higher_is_better ? -1 : 1) {}

    PairOutcome compare(const std::string& a, const std::string& b, double threshold,
                        Rounds rounds) override {
        ++calls;
        compared.emplace_back(a, b);
        if (rounds == Rounds::adaptive) {
            ++adaptive_calls;
        }
        PairOutcome outcome;
        outcome.a = a;
        outcome.b = b;
        outcome.threshold = threshold;
        outcome.rounds_kind = rounds;
        const std::size_t ia = std::stoul(a), ib = std::stoul(b);
        if (m_failing.count(ia) != 0 || m_failing.count(ib) != 0) {
            outcome.failure = "build failed";
            return outcome;
        }
        outcome.ran = true;
        outcome.rounds = 20;
        outcome.delta_pct = (m_values[ib] / m_values[ia] - 1) * 100;
        // Adaptive rounds narrow the interval as far as `adaptive_half_width` says.
        const double half =
            rounds == Rounds::adaptive ? std::min(m_half_width, adaptive_half_width) : m_half_width;
        outcome.ci_low_pct = outcome.delta_pct - half;
        outcome.ci_high_pct = outcome.delta_pct + half;
        if (const auto reach = planned_reach.find({ia, ib});
            rounds == Rounds::planned && reach != planned_reach.end()) {
            outcome.ci_low_pct = outcome.delta_pct - reach->second.first;
            outcome.ci_high_pct = outcome.delta_pct + reach->second.second;
        }
        const double t = threshold * 100;
        const double worse_by = m_sign * outcome.delta_pct;
        const double worse_low =
            std::min(m_sign * outcome.ci_low_pct, m_sign * outcome.ci_high_pct);
        if (worse_low > 0 && worse_by > t) {
            outcome.verdict = stats::Verdict::regressed;
        } else if (worse_low + 2 * m_half_width < 0 && -worse_by > t) {
            outcome.verdict = stats::Verdict::improved;
        } else if (outcome.ci_low_pct >= -t && outcome.ci_high_pct <= t) {
            outcome.verdict = stats::Verdict::unchanged;
        }
        return outcome;
    }

    std::size_t calls = 0;
    std::size_t adaptive_calls = 0;
    double adaptive_half_width = 1e9; // no narrower than the planned rounds' by default
    // A pair's planned interval, as (below, above) its delta in points: a skewed one.
    std::map<std::pair<std::size_t, std::size_t>, std::pair<double, double>> planned_reach;
    std::vector<std::pair<std::string, std::string>> compared;

private:
    std::vector<double> m_values;
    std::set<std::size_t> m_failing;
    double m_half_width;
    double m_sign; // 1: higher values are worse
};

std::vector<std::string> commit_ids(std::size_t count) {
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < count; ++i) {
        ids.push_back(std::to_string(i));
    }
    return ids;
}

// 17 commits (good = 0, bad = 16), the value going from 100 to 100 * (1 + step) at `culprit`.
std::vector<double> one_step(std::size_t culprit, double step) {
    std::vector<double> values(17, 100.0);
    for (std::size_t i = culprit; i < values.size(); ++i) {
        values[i] = 100 * (1 + step);
    }
    return values;
}

Search searched(FakeProber& prober, const std::vector<double>& values, double threshold = 0.02) {
    Search search;
    run_search(commit_ids(values.size()), std::log(values.back() / values.front()), threshold,
               prober, search);
    return search;
}

TEST(BisectSearch, EveryCulpritOfSixteenCommits_IsFoundExactlyInFourProbes) {
    for (std::size_t culprit = 1; culprit <= 16; ++culprit) {
        const std::vector<double> values = one_step(culprit, 0.05);
        FakeProber prober(values);
        const Search search = searched(prober, values);
        ASSERT_EQ(search.steps.size(), 1u) << "culprit " << culprit;
        EXPECT_EQ(search.steps[0].high, culprit);
        EXPECT_TRUE(search.steps[0].exact());
        EXPECT_LE(search.probes.size(), 4u) << "culprit " << culprit;
        // The culprit against its parent, at the user's threshold.
        EXPECT_TRUE(search.steps[0].own.ran);
        EXPECT_NEAR(search.steps[0].own.delta_pct, 5.0, 1e-9);
        EXPECT_DOUBLE_EQ(search.steps[0].own.threshold, 0.02);
        for (const Probe& probe : search.probes) {
            EXPECT_TRUE(probe.verdict == ProbeVerdict::good || probe.verdict == ProbeVerdict::bad);
            EXPECT_NEAR(probe.share, probe.index >= culprit ? 1.0 : 0.0, 1e-9);
            EXPECT_LE(probe.share_low, probe.share);
            EXPECT_GE(probe.share_high, probe.share);
            // A third of the range's 5%: every probe's threshold.
            EXPECT_NEAR(probe.threshold, std::expm1(std::log(1.05) / 3), 1e-12);
        }
    }
}

TEST(BisectSearch, TwoSteps_AreBothFound_TheLargerOneLargest) {
    std::vector<double> values(17, 100.0);
    for (std::size_t i = 5; i < 17; ++i) {
        values[i] = i < 12 ? 130.0 : 160.0;
    }
    FakeProber prober(values);
    const Search search = searched(prober, values);
    ASSERT_EQ(search.steps.size(), 2u);
    EXPECT_EQ(search.steps[0].high, 5u);
    EXPECT_EQ(search.steps[1].high, 12u);
    EXPECT_TRUE(search.steps[0].exact() && search.steps[1].exact());
    const Step* largest = largest_step(search);
    ASSERT_NE(largest, nullptr);
    EXPECT_EQ(largest->high, 5u); // +30% against +23%
    bool between = false;
    for (const Probe& probe : search.probes) {
        between = between || probe.verdict == ProbeVerdict::between;
    }
    EXPECT_TRUE(between);
}

TEST(BisectSearch, ACommitThatDoesNotBuild_IsSkipped_AndTheCulpritStillFound) {
    const std::vector<double> values = one_step(11, 0.3);
    FakeProber prober(values, {8}); // 8 is the first probe: (0 + 16) / 2
    const Search search = searched(prober, values);
    ASSERT_FALSE(search.probes.empty());
    EXPECT_EQ(search.probes[0].index, 8u);
    EXPECT_EQ(search.probes[0].verdict, ProbeVerdict::skipped);
    ASSERT_EQ(search.steps.size(), 1u);
    EXPECT_EQ(search.steps[0].high, 11u);
    EXPECT_TRUE(search.steps[0].exact());
}

TEST(BisectSearch, TheCulpritsNeighboursDoNotBuild_ARangeIsReported) {
    const std::vector<double> values = one_step(9, 0.3);
    FakeProber prober(values, {8, 9});
    const Search search = searched(prober, values);
    ASSERT_EQ(search.steps.size(), 1u);
    const Step& step = search.steps[0];
    EXPECT_FALSE(step.exact());
    EXPECT_FALSE(step.own.ran);
    // The step lies in (low, high], which holds 9 and only commits that did not build before it.
    EXPECT_LT(step.low, 9u);
    EXPECT_GE(step.high, 9u);
    for (std::size_t i = step.low + 1; i < step.high; ++i) {
        EXPECT_TRUE(i == 8 || i == 9) << i;
    }
}

TEST(BisectSearch, IntervalsWiderThanAThirdOfD_StillPlaceEveryCommit) {
    // ±3% on a 5% step: no comparison is `unchanged` at D/3 (1.6%), yet the two comparisons of a
    // probe together place each commit on its side of the middle.
    for (const std::size_t culprit : {1u, 8u, 9u, 16u}) {
        const std::vector<double> values = one_step(culprit, 0.05);
        FakeProber prober(values, {}, 3.0);
        const Search search = searched(prober, values);
        ASSERT_EQ(search.steps.size(), 1u);
        EXPECT_EQ(search.steps[0].high, culprit);
        EXPECT_TRUE(search.steps[0].exact());
        EXPECT_LE(search.probes.size(), 4u);
        for (const Probe& probe : search.probes) {
            EXPECT_LT(probe.share_low, probe.share);
            EXPECT_GT(probe.share_high, probe.share);
        }
    }
}

TEST(BisectSearch, ANoisyProbe_IsUnsureAndLeftOut) {
    // ±6% on a 5% step: a probe cannot tell its side; every commit is left out, and the step is
    // known only to lie somewhere in the whole range.
    const std::vector<double> values = one_step(3, 0.05);
    FakeProber prober(values, {}, 6.0);
    const Search search = searched(prober, values);
    EXPECT_EQ(search.probes.size(), 15u);
    for (const Probe& probe : search.probes) {
        EXPECT_EQ(probe.verdict, ProbeVerdict::unsure);
    }
    ASSERT_EQ(search.steps.size(), 1u);
    EXPECT_EQ(search.steps[0].low, 0u);
    EXPECT_EQ(search.steps[0].high, 16u);
}

TEST(BisectSearch, AProbeThePlannedRoundsLeaveUnsure_IsRunAgainAdaptively) {
    const std::vector<double> values = one_step(9, 0.05);
    FakeProber prober(values, {}, 6.0); // unsure on the planned rounds (see above)
    prober.adaptive_half_width = 1.0;   // placed once the rounds are added
    const Search search = searched(prober, values);
    ASSERT_EQ(search.steps.size(), 1u);
    EXPECT_EQ(search.steps[0].high, 9u);
    EXPECT_LE(search.probes.size(), 4u);
    for (const Probe& probe : search.probes) {
        EXPECT_EQ(probe.from_low.rounds_kind, Rounds::adaptive);
        EXPECT_EQ(probe.to_high.rounds_kind, Rounds::adaptive);
    }
    // Each probe: two planned and two adaptive comparisons; then the culprit's own (adaptive).
    EXPECT_EQ(prober.calls, 4 * search.probes.size() + 1);
    EXPECT_EQ(prober.adaptive_calls, 2 * search.probes.size() + 1);
}

TEST(BisectSearch, ASkewedInterval_CountsByTheSideThatMatters) {
    // The first probe, commit 8 of a step at 9: 0 -> 8 is +0% [-20%, +1.5%] (a stutter slowed some
    // of 0's runs), 8 -> 16 is +5% [+4.5%, +5.5%]. Half-widths alone (10.75 and 0.5) leave 8
    // unsure; x's upper end and y's lower end place it as good on the planned rounds.
    const std::vector<double> values = one_step(9, 0.05);
    FakeProber prober(values);
    prober.planned_reach[{0, 8}] = {20.0, 1.5};
    const Search search = searched(prober, values);
    ASSERT_FALSE(search.probes.empty());
    const Probe& first = search.probes.front();
    EXPECT_EQ(first.index, 8u);
    EXPECT_EQ(first.verdict, ProbeVerdict::good);
    EXPECT_LT(first.share_high, 0.5);
    EXPECT_LT(first.share_low, -1.0) << "the long side still shows, on the side that cannot matter";
    EXPECT_EQ(prober.adaptive_calls, 1u); // the culprit's own comparison
    ASSERT_EQ(search.steps.size(), 1u);
    EXPECT_EQ(search.steps[0].high, 9u);
}

TEST(BisectSearch, OnlyTheInconclusiveComparison_IsRunAgainAdaptively) {
    // 0 -> 8 planned is +0% +-20% (inconclusive), 8 -> 16 +5% +-0.5% (regressed): 8 is unsure on
    // the planned rounds, and only 0 -> 8 runs again; 8 -> 16 keeps its planned verdict.
    const std::vector<double> values = one_step(9, 0.05);
    FakeProber prober(values);
    prober.planned_reach[{0, 8}] = {20.0, 20.0};
    const Search search = searched(prober, values);
    ASSERT_FALSE(search.probes.empty());
    const Probe& first = search.probes.front();
    EXPECT_EQ(first.index, 8u);
    EXPECT_EQ(first.verdict, ProbeVerdict::good);
    EXPECT_EQ(first.from_low.rounds_kind, Rounds::adaptive);
    EXPECT_EQ(first.to_high.rounds_kind, Rounds::planned);
    EXPECT_EQ(prober.adaptive_calls, 2u); // 0 -> 8 again, and the culprit's own comparison
    EXPECT_EQ(prober.calls, 2 * search.probes.size() + 2);
}

TEST(BisectSearch, BothComparisonsDecidedButTheShareOpen_OnlyTheWiderRunsAgain) {
    // 0 -> 8 is +0% [-0.5%, +1.5%] (unchanged at 1.64%), 8 -> 16 +5% [+0.05%, +17%] (regressed):
    // both decided, yet x's upper end and y's lower end leave 8's share open. Only 8 -> 16, the
    // wider, runs again; 0 -> 8 keeps its planned verdict.
    const std::vector<double> values = one_step(9, 0.05);
    FakeProber prober(values);
    prober.planned_reach[{0, 8}] = {0.5, 1.5};
    prober.planned_reach[{8, 16}] = {4.95, 12.0};
    const Search search = searched(prober, values);
    ASSERT_FALSE(search.probes.empty());
    const Probe& first = search.probes.front();
    EXPECT_EQ(first.index, 8u);
    EXPECT_EQ(first.verdict, ProbeVerdict::good);
    EXPECT_EQ(first.from_low.rounds_kind, Rounds::planned);
    EXPECT_EQ(first.to_high.rounds_kind, Rounds::adaptive);
    EXPECT_EQ(prober.adaptive_calls, 2u); // 8 -> 16 again, and the culprit's own comparison
}

TEST(BisectSearch, AProbeThePlannedRoundsPlace_IsNotRunAgain) {
    const std::vector<double> values = one_step(9, 0.05);
    FakeProber prober(values);
    const Search search = searched(prober, values);
    EXPECT_EQ(prober.calls, 2 * search.probes.size() + 1);
    EXPECT_EQ(prober.adaptive_calls, 1u); // the culprit's own comparison
}

TEST(BisectSearch, AMetricThatFalls_IsBisectedLikeOneThatRises) {
    std::vector<double> values(17, 100.0);
    for (std::size_t i = 6; i < 17; ++i) {
        values[i] = 70.0; // a higher-is-better metric (throughput) falling 30%
    }
    FakeProber prober(values, {}, 0.5, true);
    const Search search = searched(prober, values);
    ASSERT_EQ(search.steps.size(), 1u);
    EXPECT_EQ(search.steps[0].high, 6u);
    EXPECT_TRUE(search.steps[0].exact());
    for (const Probe& probe : search.probes) {
        // The share is of the range's own delta, whatever its sign.
        EXPECT_NEAR(probe.share, probe.index >= 6 ? 1.0 : 0.0, 1e-9);
        EXPECT_TRUE(probe.verdict == ProbeVerdict::good || probe.verdict == ProbeVerdict::bad);
        // A third of a 30% fall, as a fall: 1 - 0.7^(1/3).
        EXPECT_NEAR(probe.threshold, 1 - std::cbrt(0.7), 1e-12);
    }
}

TEST(Classify, FollowsTheStatedRule) {
    const auto probe = [](stats::Verdict low, stats::Verdict high, double share_low,
                          double share_high, bool ran = true) {
        Probe p;
        p.from_low.ran = ran;
        p.to_high.ran = true;
        p.from_low.verdict = low;
        p.to_high.verdict = high;
        p.share_low = share_low;
        p.share_high = share_high;
        return p;
    };
    using stats::Verdict;
    const Verdict r = Verdict::regressed, u = Verdict::unchanged, i = Verdict::inconclusive;
    EXPECT_EQ(classify(probe(u, r, -0.2, 0.2)), ProbeVerdict::good);
    EXPECT_EQ(classify(probe(i, i, 0.1, 0.49)), ProbeVerdict::good);
    EXPECT_EQ(classify(probe(r, u, 0.8, 1.2)), ProbeVerdict::bad);
    EXPECT_EQ(classify(probe(i, i, 0.51, 0.9)), ProbeVerdict::bad);
    EXPECT_EQ(classify(probe(r, r, 0.4, 0.6)), ProbeVerdict::between);
    EXPECT_EQ(classify(probe(u, u, 0.3, 0.7)), ProbeVerdict::unsure);
    EXPECT_EQ(classify(probe(i, r, k_undefined, k_undefined)), ProbeVerdict::unsure);
    EXPECT_EQ(classify(probe(u, r, -0.2, 0.2, false)), ProbeVerdict::skipped);
}

} // namespace
} // namespace abtool::bisect
