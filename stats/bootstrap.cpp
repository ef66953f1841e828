#include "stats/bootstrap.hpp"

#include "stats/numeric.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>
#include <vector>

namespace abtool::stats::detail {

namespace {

// The BCa acceleration from jackknife values, one group per sample, as SciPy's bootstrap
// computes it: each sample's leave-one-out statistics are centred on their own mean, with
// U_i = (n_j - 1)(mean_j - theta_i) and a = sum_j sum U^3 / n_j^3 / (6 (sum_j sum U^2 /
// n_j^2)^1.5). For one sample this is Efron's sum d^3 / (6 (sum d^2)^1.5); for two samples, pooling
// the jackknife values around one mean would mix the two samples' shifts into the skewness. nullopt
// when every jackknife value is the same (the acceleration is undefined).
std::optional<double> acceleration(std::span<const std::vector<double>> groups) {
    double numerator = 0, denominator = 0;
    for (const std::vector<double>& jackknife : groups) {
        const double n = static_cast<double>(jackknife.size());
        const double centre = mean(jackknife);
        double cubes = 0, squares = 0;
        for (double value : jackknife) {
            const double u = (n - 1) * (centre - value);
            cubes += u * u * u;
            squares += u * u;
        }
        numerator += cubes / (n * n * n);
        denominator += squares / (n * n);
    }
    if (!(denominator > 0)) {
        return std::nullopt;
    }
    return numerator / (6 * std::pow(denominator, 1.5));
}

// BCa from the sorted bootstrap distribution, the estimate and the acceleration.
BootstrapInterval bca(std::vector<double>& boot, double estimate, std::optional<double> accel,
                      double confidence) {
    std::sort(boot.begin(), boot.end());
    const double alpha = 1 - confidence;
    BootstrapInterval interval;
    const double count = static_cast<double>(boot.size());
    const auto below =
        static_cast<double>(std::lower_bound(boot.begin(), boot.end(), estimate) - boot.begin());
    const auto not_above =
        static_cast<double>(std::upper_bound(boot.begin(), boot.end(), estimate) - boot.begin());
    const double proportion = (below + not_above) / 2 / count; // ties split evenly
    const bool defined = proportion > 0 && proportion < 1 && accel.has_value();
    double low_q = alpha / 2, high_q = 1 - alpha / 2;
    if (defined) {
        const double z0 = normal_quantile(proportion);
        const double a = *accel;
        const auto adjust = [&](double q) {
            const double z = normal_quantile(q);
            return normal_cdf(z0 + (z0 + z) / (1 - a * (z0 + z)));
        };
        low_q = adjust(alpha / 2);
        high_q = adjust(1 - alpha / 2);
        interval.bca = std::isfinite(low_q) && std::isfinite(high_q);
        if (!interval.bca) {
            low_q = alpha / 2;
            high_q = 1 - alpha / 2;
        }
    }
    interval.low = quantile_sorted(boot, low_q);
    interval.high = quantile_sorted(boot, high_q);
    return interval;
}

std::vector<double> jackknife_medians(std::span<const double> values) {
    std::vector<double> result;
    result.reserve(values.size());
    std::vector<double> rest;
    for (std::size_t skip = 0; skip < values.size(); ++skip) {
        rest.clear();
        for (std::size_t i = 0; i < values.size(); ++i) {
            if (i != skip) {
                rest.push_back(values[i]);
            }
        }
        result.push_back(median(rest));
    }
    return result;
}

// Medians of bootstrap resamples without sorting each one: a resample of `sorted` is a count per
// index, and its order statistics are found by walking the counts. O(n) per resample instead of
// O(n log n), with the same value a sort of the resample would give.
class ResampleMedian {
public:
    explicit ResampleMedian(std::span<const double> values)
        : m_sorted(values.begin(), values.end()), m_counts(values.size()) {
        std::sort(m_sorted.begin(), m_sorted.end());
    }

    double draw(Random& random) {
        const std::size_t n = m_sorted.size();
        std::fill(m_counts.begin(), m_counts.end(), 0u);
        for (std::size_t i = 0; i < n; ++i) {
            ++m_counts[random.below(n)];
        }
        return median_of_counts(m_sorted, m_counts);
    }

private:
    std::vector<double> m_sorted;
    std::vector<std::uint32_t> m_counts;
};

} // namespace

double median_of_counts(std::span<const double> sorted, std::span<const std::uint32_t> counts) {
    std::size_t n = 0;
    for (const std::uint32_t count : counts) {
        n += count;
    }
    // The (n-1)/2-th and n/2-th smallest (0-based): the same element for odd n.
    const std::size_t low_rank = (n - 1) / 2, high_rank = n / 2;
    std::size_t seen = 0, index = 0;
    while (seen + counts[index] <= low_rank) {
        seen += counts[index++];
    }
    const double low = sorted[index];
    while (seen + counts[index] <= high_rank) {
        seen += counts[index++];
    }
    return 0.5 * (low + sorted[index]);
}

BootstrapInterval bootstrap_median(std::span<const double> values, double confidence, int resamples,
                                   std::uint64_t seed) {
    if (values.size() < 2) {
        return {};
    }
    Random random(seed);
    ResampleMedian resample(values);
    std::vector<double> boot(static_cast<std::size_t>(resamples));
    for (double& statistic : boot) {
        statistic = resample.draw(random);
    }
    const std::vector<double> jackknife = jackknife_medians(values);
    return bca(boot, median({values.begin(), values.end()}),
               acceleration(std::span<const std::vector<double>>(&jackknife, 1)), confidence);
}

BootstrapInterval bootstrap_log_ratio_of_medians(std::span<const double> a,
                                                 std::span<const double> b, double confidence,
                                                 int resamples, std::uint64_t seed) {
    if (a.size() < 2 || b.size() < 2) {
        return {};
    }
    Random random(seed);
    ResampleMedian resample_a(a), resample_b(b);
    std::vector<double> boot(static_cast<std::size_t>(resamples));
    for (double& statistic : boot) {
        const double median_a = resample_a.draw(random);
        statistic = std::log(resample_b.draw(random) / median_a);
    }
    const double median_a = median({a.begin(), a.end()});
    const double median_b = median({b.begin(), b.end()});
    // Jackknife each sample in turn with the other held whole, one group per sample.
    std::vector<double> jackknife[2];
    for (double value : jackknife_medians(a)) {
        jackknife[0].push_back(std::log(median_b / value));
    }
    for (double value : jackknife_medians(b)) {
        jackknife[1].push_back(std::log(value / median_a));
    }
    return bca(boot, std::log(median_b / median_a), acceleration(jackknife), confidence);
}

} // namespace abtool::stats::detail
