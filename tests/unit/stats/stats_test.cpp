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
#include <random>
#include <span>

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
        const detail::Interval interval = detail::wilcoxon_interval(d, 0.95);
        EXPECT_NEAR(interval.low, entry.at("wilcoxon_interval_95")[0].get<double>(), 1e-12)
            << entry.at("name");
        EXPECT_NEAR(interval.high, entry.at("wilcoxon_interval_95")[1].get<double>(), 1e-12)
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

TEST(Reference, MannWhitney_MatchesScipyAsymptotic) {
    for (const auto& entry : reference().at("mann_whitney")) {
        const double expected = entry.at("p").get<double>();
        EXPECT_NEAR(detail::mann_whitney_p(doubles(entry.at("a")), doubles(entry.at("b"))),
                    expected, 1e-9 * expected + 1e-12);
    }
}

TEST(Reference, Spearman_MatchesScipy) {
    const auto& entry = reference().at("spearman");
    EXPECT_NEAR(detail::spearman_rho(doubles(entry.at("x")), doubles(entry.at("y"))),
                entry.at("rho").get<double>(), 1e-12);
}

TEST(Reference, NormalQuantile_MatchesScipy) {
    for (const auto& entry : reference().at("normal")) {
        EXPECT_NEAR(detail::normal_quantile(entry.at("p").get<double>()),
                    entry.at("quantile").get<double>(), 1e-9);
    }
}

TEST(Reference, BcaBootstrap_WithinBootstrapErrorOfScipy) {
    // scipy.stats.bootstrap((d,), np.median, method="BCa", n_resamples=10000): different
    // generators, so the ends agree within the bootstrap's own error, not exactly.
    for (const auto& entry : reference().at("bootstrap")) {
        const auto d = doubles(entry.at("d"));
        const detail::BootstrapInterval ours = detail::bootstrap_median(d, 0.95, 10000, 7);
        const double tolerance = entry.at("standard_error").get<double>();
        EXPECT_TRUE(ours.bca) << entry.at("name");
        EXPECT_NEAR(ours.low, entry.at("bca_95")[0].get<double>(), tolerance) << entry.at("name");
        EXPECT_NEAR(ours.high, entry.at("bca_95")[1].get<double>(), tolerance) << entry.at("name");
    }
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

TEST(Verdict, AllEqual_IsUnchangedNotACrash) {
    PairedInput input;
    input.a = std::vector<double>(10, 5.0);
    input.b = std::vector<double>(10, 5.0);
    const Comparison c = compare_paired(input, Options{});
    EXPECT_EQ(c.verdict, Verdict::unchanged) << c.reason;
    EXPECT_EQ(c.p_value, 1);
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

struct Noise {
    double cv = 0.05;
    double outlier_rate = 0;    // share of runs hit by a heavy-tailed slowdown
    double drift_per_round = 0; // relative drift of the machine per round
};

// One simulated experiment: n rounds, A and B measured in interleaved order under a machine
// state that drifts; B is `change` times A.
PairedInput simulate(std::mt19937_64& rng, std::size_t n, double change, const Noise& noise) {
    std::normal_distribution<double> normal(0, std::sqrt(std::log(1 + noise.cv * noise.cv)));
    std::uniform_real_distribution<double> uniform(0, 1);
    std::exponential_distribution<double> spike(5);
    PairedInput input;
    for (std::size_t k = 0; k < n; ++k) {
        const double machine = 1 + noise.drift_per_round * static_cast<double>(k);
        const auto run = [&](double truth) {
            double value = truth * machine * std::exp(normal(rng));
            if (uniform(rng) < noise.outlier_rate) {
                value *= 1 + spike(rng);
            }
            return value;
        };
        input.a.push_back(run(100));
        input.b.push_back(run(100 * change));
        input.order.push_back(k % 2 == 0 ? Order::ab : Order::ba);
    }
    return input;
}

struct Rates {
    double regressed = 0, improved = 0, unchanged = 0;
};

Rates rates(std::size_t experiments, std::size_t n, double change, const Noise& noise,
            std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    Options options;
    options.resamples = 200; // the bootstrap interval is reported, not used by verdicts
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

TEST(Calibration, AA_FalseAlarmRateAtMostNominal_LogNormalOutliersDrift) {
    // Any verdict other than unchanged/inconclusive on identical code is a false alarm.
    for (const Noise noise : {Noise{0.02, 0, 0}, Noise{0.05, 0, 0}, Noise{0.10, 0, 0},
                              Noise{0.05, 0.05, 0}, Noise{0.05, 0, 0.002}}) {
        const Rates r = rates(1000, 20, 1.0, noise, 42);
        std::printf("A/A cv %.2f outliers %.2f drift %.3f/round: false alarms %.3f, unchanged "
                    "%.3f\n",
                    noise.cv, noise.outlier_rate, noise.drift_per_round, r.regressed + r.improved,
                    r.unchanged);
        // 5% nominal plus three binomial standard errors at 1000 experiments.
        EXPECT_LE(r.regressed + r.improved, 0.05 + 3 * std::sqrt(0.05 * 0.95 / 1000));
    }
}

TEST(Calibration, AA_AdaptiveRounds_InterimLooksDoNotInflateFalseAlarms) {
    // The session's loop: analyse after the planned rounds and after every further A/B/B/A block,
    // stop when should_stop says so or at max_rounds, with every look's alpha corrected for the
    // planned number of looks. Peeking without that correction would raise the false-alarm
    // rate; with it, A/A experiments stay within the nominal 5%.
    const AdaptivePolicy policy{10, 30};
    Options options;
    options.resamples = 200;
    options.looks = planned_looks(policy);
    for (const Noise noise : {Noise{0.05, 0, 0}, Noise{0.05, 0.05, 0.002}}) {
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
        std::printf("adaptive A/A (10..30 rounds) cv %.2f outliers %.2f drift %.3f/round: false "
                    "alarms %.3f, mean rounds %.1f\n",
                    noise.cv, noise.outlier_rate, noise.drift_per_round, rate,
                    static_cast<double>(rounds_used) / experiments);
        EXPECT_LE(rate, 0.05 + 3 * std::sqrt(0.05 * 0.95 / experiments));
    }
}

TEST(Calibration, RealChange_IsFound) {
    const Rates at_1_5 = rates(500, 20, 1.03, Noise{0.05, 0, 0}, 7);
    const Rates at_3 = rates(500, 20, 1.06, Noise{0.05, 0, 0}, 8);
    const Rates quiet = rates(500, 20, 1.03, Noise{0.02, 0, 0}, 9);
    std::printf("power, 20 rounds, threshold 2%%: +3%% at CV 5%%: %.3f; +6%% at CV 5%%: %.3f; +3%% "
                "at CV 2%%: %.3f\n",
                at_1_5.regressed, at_3.regressed, quiet.regressed);
    // With this rule (significant, and the median estimate itself beyond the threshold), 1.5x
    // the threshold at CV 5% and 20 rounds is found in only about 40% of experiments; issue 4
    // asks for 90% and is not met yet. What the rule does deliver is pinned here: 3x the
    // threshold at CV 5%, or 1.5x at CV 2%, are found in most experiments.
    EXPECT_GE(at_3.regressed, 0.90);
    EXPECT_GE(quiet.regressed, 0.85);
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
        for (const Noise& noise : {Noise{0.05, 0, 0}, Noise{0.05, 0.05, 0}}) {
            std::mt19937_64 rng(n);
            int wilcoxon = 0, bootstrap = 0;
            for (int i = 0; i < experiments; ++i) {
                const PairedInput input = simulate(rng, n, 1.05, noise);
                std::vector<double> d;
                for (std::size_t k = 0; k < n; ++k) {
                    d.push_back(std::log(input.b[k] / input.a[k]));
                }
                const double truth = std::log(1.05);
                const auto w = detail::wilcoxon_interval(d, 0.95);
                wilcoxon += w.low <= truth && truth <= w.high;
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
        sequential_alarms += compare_paired(sequential, Options{}).verdict == Verdict::regressed;
        interleaved_alarms += compare_paired(interleaved, Options{}).verdict == Verdict::regressed;
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

TEST(Diagnostics, DriftWithinTheRun_IsWarnedAsATrend) {
    PairedInput input;
    for (std::size_t k = 0; k < 20; ++k) {
        input.a.push_back(100);
        input.b.push_back(100 * (1 + 0.01 * static_cast<double>(k)));
    }
    const Comparison c = compare_paired(input, Options{});
    bool trend = false;
    for (const std::string& warning : c.warnings) {
        trend = trend || warning.find("trend") != std::string::npos;
    }
    EXPECT_TRUE(trend);
}

// ---- planning --------------------------------------------------------------------------

TEST(Planning, NoiseFloor_NoisierNeedsMoreRounds) {
    std::mt19937_64 rng(5);
    const auto floor_at = [&](double cv) {
        const PairedInput input = simulate(rng, 30, 1.0, Noise{cv, 0, 0});
        std::vector<double> d;
        for (std::size_t k = 0; k < input.a.size(); ++k) {
            d.push_back(std::log(input.b[k] / input.a[k]));
        }
        return noise_floor(d, Options{});
    };
    const NoiseFloor quiet = floor_at(0.01);
    const NoiseFloor noisy = floor_at(0.08);
    EXPECT_LT(quiet.rounds_needed, noisy.rounds_needed);
    EXPECT_LT(quiet.detectable_pct, noisy.detectable_pct);
    EXPECT_EQ(quiet.rounds_needed % 2, 0u);
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

} // namespace
} // namespace abtool::stats
