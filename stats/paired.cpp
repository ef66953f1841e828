#include "abtool/stats.hpp"

#include "stats/bootstrap.hpp"
#include "stats/numeric.hpp"
#include "stats/ranktests.hpp"
#include "stats/verdict.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <optional>
#include <sstream>
#include <thread>

namespace abtool::stats {

namespace {

double to_pct(double log_ratio) {
    return (std::exp(log_ratio) - 1) * 100;
}

std::string figure(double value) {
    std::ostringstream out;
    out.precision(3);
    out << value;
    return out.str();
}

// Why these values cannot give a verdict, or nullopt when they can.
std::optional<std::string> degenerate(std::span<const double> a, std::span<const double> b,
                                      bool paired) {
    if (paired && a.size() != b.size()) {
        return "A and B have different numbers of rounds";
    }
    if (a.size() < 3 || b.size() < 3) {
        return "fewer than 3 values per side";
    }
    for (std::span<const double> side : {a, b}) {
        for (double value : side) {
            if (!std::isfinite(value)) {
                return "a value is NaN or infinite";
            }
            if (value <= 0) {
                return "a value is zero or negative: ratios need positive values";
            }
        }
    }
    return std::nullopt;
}

// The smallest pattern in the paired deltas worth a warning: half the threshold, in the log
// domain. Ranks and MAD-based scores are blind to size, and a deterministic counter's rounds
// differ by a few instructions in 1e9: enough for a perfect rank trend, or for an "outlier"
// when MAD is 0 and one round is one instruction off. Such patterns cannot change what a verdict
// means, so they are not warned about.
double material(const Options& options) {
    return std::log1p(options.threshold / 2);
}

void warn_trend(Comparison& c, const Options& options) {
    const std::span<const double> d = c.log_ratios;
    if (d.size() < 6) {
        return;
    }
    // Deltas spread over less than the material size cannot have drifted by more.
    const auto [lowest, highest] = std::minmax_element(d.begin(), d.end());
    if (*highest - *lowest <= material(options)) {
        return;
    }
    std::vector<double> rounds(d.size());
    for (std::size_t k = 0; k < d.size(); ++k) {
        rounds[k] = static_cast<double>(k + 1);
    }
    const double rho = detail::spearman_rho(rounds, d);
    const double p = detail::spearman_p(rho, d.size());
    // The paired deltas drift with time (the machine changed during the run, and the median
    // over rounds hides it) when the rank correlation is both significant and not small:
    // p < 0.05 alone would warn about negligible trends at 200 rounds, |rho| alone about noise
    // at 6 rounds (where |rho| > 0.5 happens one run in three).
    if (p < 0.05 && std::abs(rho) >= 0.3) {
        c.warnings.push_back("trend: the paired delta drifts with the round number (Spearman "
                             "rho " +
                             figure(rho) + ", p " + figure(p) + ")");
    }
}

void warn_order_effect(Comparison& c, const PairedInput& input, const Options& options) {
    const std::size_t n = c.log_ratios.size();
    if (input.order.size() != n || n < 6) {
        return;
    }
    std::vector<double> ab, ba;
    for (std::size_t k = 0; k < n; ++k) {
        (input.order[k] == Order::ab ? ab : ba).push_back(c.log_ratios[k]);
    }
    if (ab.size() < 3 || ba.size() < 3) {
        return;
    }
    // Whichever runs second gains or loses from the first (caches, heat). The orders disagree
    // when their deltas differ by more than the material size (in the log domain, so a large
    // change does not make a large gap by itself) and a rank test says the two groups differ:
    // noise alone then rarely raises the warning.
    const double gap = detail::median(ab) - detail::median(ba);
    const double p = detail::mann_whitney_p(ab, ba);
    if (std::abs(gap) > material(options) && p < 0.05) {
        c.warnings.push_back("order effect: the delta is " + figure(to_pct(detail::median(ab))) +
                             "% in AB rounds and " + figure(to_pct(detail::median(ba))) +
                             "% in BA rounds (Mann-Whitney p " + figure(p) + ")");
    }
}

void warn_outliers(Comparison& c, const Options& options) {
    const Descriptives described = describe(c.log_ratios);
    std::string rounds;
    std::size_t count = 0;
    for (const std::size_t k : described.outliers) {
        const double d = c.log_ratios[k];
        if (std::abs(d - described.median) > material(options)) {
            rounds += count++ == 0 ? "" : ", ";
            rounds += "round " + std::to_string(k + 1) + " (" + figure(to_pct(d)) + "%)";
        }
    }
    if (count > 0) {
        c.warnings.push_back(std::to_string(count) +
                             " outlier round(s) in the paired deltas (modified z-score > 3.5), "
                             "kept: " +
                             rounds);
    }
}

// A position effect the schedule balanced: one CPU slower than the other for a while, or the
// second run of a round faster. The deltas of rounds with B in the one position are delta + e, in
// the other delta - e, and their paired interval is as wide as e however many rounds run. The
// crossover analysis of a two-period design (Koch 1972) is not: for x of the one position and y
// of the other, x_i + y_j = 2 delta for every such pair of rounds, so the two-sample
// Hodges-Lehmann shift of x against -y, halved, estimates delta; its Mann-Whitney interval,
// halved, is the interval, and its Mann-Whitney test the p-value. Used (true) only when the two
// positions' deltas differ materially and significantly (the order warning's rule), with at
// least 5 rounds in each: otherwise the paired analysis stands.
bool remove_position_effect(Comparison& c, const PairedInput& input, const Options& options,
                            double level) {
    const std::size_t n = c.log_ratios.size();
    if (input.balance.size() != n) {
        return false;
    }
    std::vector<double> first, second, second_negated;
    for (std::size_t k = 0; k < n; ++k) {
        (input.balance[k] ? second : first).push_back(c.log_ratios[k]);
    }
    if (first.size() < 5 || second.size() < 5 ||
        std::abs(detail::median(first) - detail::median(second)) <= material(options) ||
        detail::mann_whitney_p(first, second) >= 0.05) {
        return false;
    }
    for (double d : second) {
        second_negated.push_back(-d);
    }
    const auto interval = detail::mann_whitney_interval(second_negated, first, level);
    if (!interval) {
        return false;
    }
    const double in_first = detail::median(first), in_second = detail::median(second);
    c.delta_pct = to_pct(detail::hodges_lehmann_two_sample(second_negated, first) / 2);
    c.ci_low_pct = to_pct(interval->low / 2);
    c.ci_high_pct = to_pct(interval->high / 2);
    c.interval =
        interval->exact ? IntervalMethod::crossover_exact : IntervalMethod::crossover_normal;
    c.p_value = c.p_adjusted = detail::mann_whitney_p(second_negated, first);
    c.warnings.push_back(input.balance_name + " effect removed: the delta is " +
                         figure(to_pct(in_first)) + "% and " + figure(to_pct(in_second)) +
                         "% in the two positions; the verdict takes " + figure(c.delta_pct) +
                         "% [" + figure(c.ci_low_pct) + "%, " + figure(c.ci_high_pct) +
                         "%] from both (crossover)");
    return true;
}

void add_diagnostics(Comparison& c, const PairedInput& input, const Options& options) {
    warn_trend(c, options);
    warn_order_effect(c, input, options);
    warn_outliers(c, options);
    for (const auto& [side, stats] : {std::pair{"A", &c.a}, std::pair{"B", &c.b}}) {
        if (stats->cv_pct > 10) {
            c.warnings.push_back(std::string("high CV on ") + side + ": " + figure(stats->cv_pct) +
                                 "%");
        }
    }
}

// The run's options with the case's own threshold, when it has one.
template <typename Input>
Options for_case(const Input& input, Options options) {
    options.threshold = input.threshold.value_or(options.threshold);
    return options;
}

} // namespace

Comparison compare_paired(const PairedInput& input, const Options& run_options) {
    const Options options = for_case(input, run_options);
    Comparison c;
    c.n = std::min(input.a.size(), input.b.size());
    // Validate before anything sorts: NaN in a sort is undefined behaviour.
    const std::optional<std::string> reason = degenerate(input.a, input.b, true);
    c.a = describe(input.a);
    c.b = describe(input.b);
    if (reason) {
        c.verdict = Verdict::inconclusive;
        c.reason = *reason;
        return c;
    }
    for (std::size_t k = 0; k < c.n; ++k) {
        c.log_ratios.push_back(std::log(input.b[k] / input.a[k]));
    }
    const double estimate = detail::median(c.log_ratios);
    c.delta_pct = to_pct(estimate);
    c.hl_delta_pct = to_pct(detail::hodges_lehmann(c.log_ratios));
    c.p_value = detail::wilcoxon_signed_rank(c.log_ratios).p_value;
    c.p_adjusted = c.p_value;

    if (options.resamples > 0) {
        const double level = 1 - detail::alpha_per_look(options);
        const detail::BootstrapInterval boot =
            detail::bootstrap_median(c.log_ratios, level, options.resamples, options.seed);
        c.bootstrap_low_pct = to_pct(boot.low);
        c.bootstrap_high_pct = to_pct(boot.high);
        c.bootstrap_is_bca = boot.bca;
    }
    add_diagnostics(c, input, options);

    // The verdict's interval: the exact Wilcoxon signed-rank interval, which keeps its nominal
    // coverage at every n from 6 to 200 in the calibration test (0.935-0.980), where the BCa
    // bootstrap interval of the median under-covers at small n (down to 0.895).
    const double level = 1 - detail::alpha_per_look(options);
    if (detail::no_variation(c.log_ratios)) {
        // Every round gave the same ratio (a deterministic metric: bytes, counts): every Walsh
        // average is that ratio, so the interval is the point (the ratios' min and max, a few
        // ulps apart at most) at any n and the threshold rule decides, rather than leaving such
        // a metric inconclusive forever.
        const auto [lowest, highest] =
            std::minmax_element(c.log_ratios.begin(), c.log_ratios.end());
        c.ci_low_pct = to_pct(*lowest);
        c.ci_high_pct = to_pct(*highest);
        c.interval = IntervalMethod::wilcoxon_exact;
    } else if (const auto interval = detail::wilcoxon_interval(c.log_ratios, level)) {
        c.ci_low_pct = to_pct(interval->low);
        c.ci_high_pct = to_pct(interval->high);
        c.interval =
            interval->exact ? IntervalMethod::wilcoxon_exact : IntervalMethod::wilcoxon_normal;
    } else {
        c.verdict = Verdict::inconclusive;
        c.reason = "too few rounds for this confidence: " + std::to_string(c.n) +
                   " rounds cannot give a " + figure(100 * level) + "% interval";
        return c;
    }
    if (!detail::no_variation(c.log_ratios)) {
        remove_position_effect(c, input, options, level);
    }
    detail::decide(c, input.direction, options);
    return c;
}

namespace {

// Multiplicity control across one run's cases, then each verdict again with its adjusted p. Only
// the cases that were tested (have an interval) count in the correction.
template <typename Input>
void adjust_across_cases(std::vector<Comparison>& comparisons, std::span<const Input> inputs,
                         const Options& options) {
    std::vector<double> p_values;
    std::vector<std::size_t> tested;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        if (comparisons[i].interval != IntervalMethod::none) {
            p_values.push_back(comparisons[i].p_value);
            tested.push_back(i);
        }
    }
    const std::vector<double> adjusted = detail::adjust_p_values(p_values, options.multiplicity);
    for (std::size_t j = 0; j < tested.size(); ++j) {
        Comparison& c = comparisons[tested[j]];
        c.p_adjusted = adjusted[j];
        const Input& input = inputs[tested[j]];
        detail::decide(c, input.direction, for_case(input, options));
    }
}

} // namespace

std::vector<Comparison> compare_paired_all(std::span<const PairedInput> inputs,
                                           const Options& options) {
    // Cases are independent (each resamples from the same seed), so they run on all cores and the
    // results are those of a serial loop, whatever the thread count.
    std::vector<Comparison> comparisons(inputs.size());
    std::atomic<std::size_t> next{0};
    const auto work = [&] {
        for (std::size_t i = next++; i < inputs.size(); i = next++) {
            comparisons[i] = compare_paired(inputs[i], options);
        }
    };
    const std::size_t threads =
        std::min<std::size_t>(inputs.size(), std::max(1u, std::thread::hardware_concurrency()));
    std::vector<std::thread> pool;
    for (std::size_t t = 1; t < threads; ++t) {
        pool.emplace_back(work);
    }
    work();
    for (std::thread& thread : pool) {
        thread.join();
    }
    adjust_across_cases(comparisons, inputs, options);
    return comparisons;
}

Comparison compare_unpaired(std::span<const double> a, std::span<const double> b,
                            Direction direction, const Options& options) {
    Comparison c;
    c.n = std::min(a.size(), b.size());
    const std::optional<std::string> reason = degenerate(a, b, false);
    c.a = describe(a);
    c.b = describe(b);
    if (reason) {
        c.verdict = Verdict::inconclusive;
        c.reason = *reason;
        return c;
    }
    const double estimate = std::log(c.b.median / c.a.median);
    c.delta_pct = to_pct(estimate);
    std::vector<double> log_a, log_b;
    for (double value : a) {
        log_a.push_back(std::log(value));
    }
    for (double value : b) {
        log_b.push_back(std::log(value));
    }
    c.hl_delta_pct = to_pct(detail::hodges_lehmann_two_sample(log_a, log_b));
    c.p_value = detail::mann_whitney_p(a, b);
    c.p_adjusted = c.p_value;
    const detail::BootstrapInterval boot = detail::bootstrap_log_ratio_of_medians(
        a, b, 1 - detail::alpha_per_look(options), options.resamples, options.seed);
    c.ci_low_pct = c.bootstrap_low_pct = to_pct(boot.low);
    c.ci_high_pct = c.bootstrap_high_pct = to_pct(boot.high);
    c.bootstrap_is_bca = boot.bca;
    c.interval = boot.bca ? IntervalMethod::bca_bootstrap : IntervalMethod::percentile_bootstrap;
    c.warnings.push_back("unpaired: no rounds pair A with B, so machine drift is not cancelled");
    detail::decide(c, direction, options);
    return c;
}

std::vector<Comparison> compare_unpaired_all(std::span<const UnpairedInput> inputs,
                                             const Options& options) {
    std::vector<Comparison> comparisons;
    for (const UnpairedInput& input : inputs) {
        comparisons.push_back(
            compare_unpaired(input.a, input.b, input.direction, for_case(input, options)));
    }
    adjust_across_cases(comparisons, inputs, options);
    return comparisons;
}

} // namespace abtool::stats
