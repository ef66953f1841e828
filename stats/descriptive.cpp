#include "abtool/stats.hpp"
#include "stats/numeric.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <limits>

namespace abtool::stats {

namespace detail {

double median(std::vector<double> values) {
    if (values.empty()) {
        return std::numeric_limits<double>::quiet_NaN();
    }
    const std::size_t n = values.size();
    auto middle = values.begin() + static_cast<std::ptrdiff_t>(n / 2);
    std::nth_element(values.begin(), middle, values.end());
    if (n % 2 == 1) {
        return *middle;
    }
    const double upper = *middle;
    const double lower = *std::max_element(values.begin(), middle);
    return 0.5 * (lower + upper);
}

double quantile_sorted(const std::vector<double>& sorted, double q) {
    if (sorted.empty()) {
        return std::numeric_limits<double>::quiet_NaN();
    }
    const double position = q * static_cast<double>(sorted.size() - 1);
    const auto below = static_cast<std::size_t>(std::floor(position));
    const std::size_t above = std::min(below + 1, sorted.size() - 1);
    const double fraction = position - static_cast<double>(below);
    return sorted[below] + fraction * (sorted[above] - sorted[below]);
}

double mean(std::span<const double> values) {
    if (values.empty()) {
        return std::numeric_limits<double>::quiet_NaN();
    }
    const Eigen::Map<const Eigen::VectorXd> vector(values.data(),
                                                   static_cast<Eigen::Index>(values.size()));
    return vector.mean();
}

double stddev(std::span<const double> values) {
    if (values.size() < 2) {
        return 0;
    }
    const Eigen::Map<const Eigen::VectorXd> vector(values.data(),
                                                   static_cast<Eigen::Index>(values.size()));
    const double centre = vector.mean();
    return std::sqrt((vector.array() - centre).square().sum() /
                     static_cast<double>(values.size() - 1));
}

double mad(std::span<const double> values) {
    const double centre = median({values.begin(), values.end()});
    std::vector<double> deviations;
    deviations.reserve(values.size());
    for (double value : values) {
        deviations.push_back(std::abs(value - centre));
    }
    return median(std::move(deviations));
}

double normal_cdf(double x) {
    return 0.5 * std::erfc(-x / std::sqrt(2.0));
}

double normal_quantile(double p) {
    if (p <= 0) {
        return -std::numeric_limits<double>::infinity();
    }
    if (p >= 1) {
        return std::numeric_limits<double>::infinity();
    }
    static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                   -2.759285104469687e+02, 1.383577518672690e+02,
                                   -3.066479806614716e+01, 2.506628277459239e+00};
    static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                   -1.556989798598866e+02, 6.680131188771972e+01,
                                   -1.328068155288572e+01};
    static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                   -2.400758277161838e+00, -2.549732539343734e+00,
                                   4.374664141464968e+00,  2.938163982698783e+00};
    static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                   2.445134137142996e+00, 3.754408661907416e+00};
    constexpr double low = 0.02425;
    double x = 0;
    if (p < low) {
        const double q = std::sqrt(-2 * std::log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p <= 1 - low) {
        const double q = p - 0.5;
        const double r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    } else {
        const double q = std::sqrt(-2 * std::log(1 - p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    // One Newton step on the exact CDF takes the error to machine precision.
    const double e = normal_cdf(x) - p;
    const double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
    return x - u / (1 + x * u / 2);
}

} // namespace detail

double median(std::span<const double> values) {
    return detail::median(std::vector<double>(values.begin(), values.end()));
}

Descriptives describe(std::span<const double> values) {
    Descriptives result;
    result.n = values.size();
    // NaN breaks the strict weak ordering std::sort and nth_element rely on (undefined
    // behaviour, not just a wrong number): such a series gets its count and nothing made up.
    if (values.empty() ||
        std::any_of(values.begin(), values.end(), [](double v) { return std::isnan(v); })) {
        return result;
    }
    std::vector<double> sorted(values.begin(), values.end());
    std::sort(sorted.begin(), sorted.end());
    result.min = sorted.front();
    result.max = sorted.back();
    result.mean = detail::mean(values);
    result.median = detail::quantile_sorted(sorted, 0.5);
    result.stddev = detail::stddev(values);
    result.cv_pct = result.mean != 0 ? 100 * result.stddev / std::abs(result.mean) : 0;
    result.mad = detail::mad(values);
    result.p50 = result.median;
    result.p95 = detail::quantile_sorted(sorted, 0.95);
    result.p99 = detail::quantile_sorted(sorted, 0.99);
    // Outliers by the modified z-score (Iglewicz and Hoaglin 1993): |0.6745 (x - median) / MAD|
    // > 3.5. Robust to the outliers themselves, unlike mean +- k sd. Flagged, never dropped.
    // When more than half the values are equal MAD is 0 (quantised timings, counters); the same
    // authors then scale by the mean absolute deviation from the median: 0.7979 is its ratio
    // to sigma for normal data, so (x - median) / (1.2533 MeanAD) is the same z-score.
    double scale = result.mad / 0.6745;
    if (scale == 0) {
        double total = 0;
        for (double value : values) {
            total += std::abs(value - result.median);
        }
        scale = 1.2533 * total / static_cast<double>(values.size());
    }
    if (scale > 0) {
        for (std::size_t i = 0; i < values.size(); ++i) {
            if (std::abs((values[i] - result.median) / scale) > 3.5) {
                result.outliers.push_back(i);
            }
        }
    }
    return result;
}

} // namespace abtool::stats
