#include "stats/bootstrap.hpp"

#include "stats/numeric.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

namespace abtool::stats::detail {

namespace {

// BCa from the sorted bootstrap distribution, the estimate and jackknife values.
BootstrapInterval bca(std::vector<double>& boot, double estimate,
                      const std::vector<double>& jackknife, double confidence) {
    std::sort(boot.begin(), boot.end());
    const double alpha = 1 - confidence;
    BootstrapInterval interval;
    const double count = static_cast<double>(boot.size());
    const auto below =
        static_cast<double>(std::lower_bound(boot.begin(), boot.end(), estimate) - boot.begin());
    const auto not_above =
        static_cast<double>(std::upper_bound(boot.begin(), boot.end(), estimate) - boot.begin());
    const double proportion = (below + not_above) / 2 / count; // ties split evenly
    const double jack_mean = mean(jackknife);
    double numerator = 0, denominator = 0;
    for (double value : jackknife) {
        const double d = jack_mean - value;
        numerator += d * d * d;
        denominator += d * d;
    }
    const bool defined = proportion > 0 && proportion < 1 && denominator > 0;
    double low_q = alpha / 2, high_q = 1 - alpha / 2;
    if (defined) {
        const double z0 = normal_quantile(proportion);
        const double a = numerator / (6 * std::pow(denominator, 1.5));
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

} // namespace

BootstrapInterval bootstrap_median(std::span<const double> values, double confidence, int resamples,
                                   std::uint64_t seed) {
    if (values.size() < 2) {
        return {};
    }
    Random random(seed);
    std::vector<double> boot(static_cast<std::size_t>(resamples));
    std::vector<double> sample(values.size());
    for (double& statistic : boot) {
        for (double& value : sample) {
            value = values[random.below(values.size())];
        }
        statistic = median(sample);
    }
    return bca(boot, median({values.begin(), values.end()}), jackknife_medians(values), confidence);
}

BootstrapInterval bootstrap_log_ratio_of_medians(std::span<const double> a,
                                                 std::span<const double> b, double confidence,
                                                 int resamples, std::uint64_t seed) {
    if (a.size() < 2 || b.size() < 2) {
        return {};
    }
    Random random(seed);
    std::vector<double> boot(static_cast<std::size_t>(resamples));
    std::vector<double> sample_a(a.size()), sample_b(b.size());
    for (double& statistic : boot) {
        for (double& value : sample_a) {
            value = a[random.below(a.size())];
        }
        for (double& value : sample_b) {
            value = b[random.below(b.size())];
        }
        statistic = std::log(median(sample_b) / median(sample_a));
    }
    const double median_a = median({a.begin(), a.end()});
    const double median_b = median({b.begin(), b.end()});
    // Jackknife over both samples, each left-out value in turn.
    std::vector<double> jackknife;
    for (double value : jackknife_medians(a)) {
        jackknife.push_back(std::log(median_b / value));
    }
    for (double value : jackknife_medians(b)) {
        jackknife.push_back(std::log(value / median_a));
    }
    return bca(boot, std::log(median_b / median_a), jackknife, confidence);
}

} // namespace abtool::stats::detail
