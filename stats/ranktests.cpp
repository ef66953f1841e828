#include "stats/ranktests.hpp"

#include "stats/numeric.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace abtool::stats::detail {

namespace {

// counts[k] = number of subsets of {1..n} whose sum is k: the null distribution of T+.
std::vector<double> signed_rank_counts(std::size_t n) {
    const std::size_t max_sum = n * (n + 1) / 2;
    std::vector<double> counts(max_sum + 1, 0.0);
    counts[0] = 1;
    for (std::size_t rank = 1; rank <= n; ++rank) {
        for (std::size_t sum = max_sum; sum >= rank; --sum) {
            counts[sum] += counts[sum - rank];
        }
    }
    return counts;
}

bool has_ties(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return std::adjacent_find(values.begin(), values.end()) != values.end();
}

} // namespace

std::vector<double> average_ranks(std::span<const double> values) {
    std::vector<std::size_t> order(values.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(),
              [&](std::size_t i, std::size_t j) { return values[i] < values[j]; });
    std::vector<double> ranks(values.size());
    for (std::size_t i = 0; i < order.size();) {
        std::size_t j = i;
        while (j + 1 < order.size() && values[order[j + 1]] == values[order[i]]) {
            ++j;
        }
        const double rank = 0.5 * static_cast<double>(i + j) + 1;
        for (std::size_t k = i; k <= j; ++k) {
            ranks[order[k]] = rank;
        }
        i = j + 1;
    }
    return ranks;
}

SignedRank wilcoxon_signed_rank(std::span<const double> differences) {
    std::vector<double> nonzero;
    for (double d : differences) {
        if (d != 0) {
            nonzero.push_back(d);
        }
    }
    const bool zeros = nonzero.size() != differences.size();
    SignedRank result;
    const std::size_t n = nonzero.size();
    if (n == 0) {
        return result;
    }
    std::vector<double> magnitudes;
    for (double d : nonzero) {
        magnitudes.push_back(std::abs(d));
    }
    const std::vector<double> ranks = average_ranks(magnitudes);
    double r_minus = 0;
    for (std::size_t i = 0; i < n; ++i) {
        (nonzero[i] > 0 ? result.r_plus : r_minus) += ranks[i];
    }
    const bool ties = has_ties(magnitudes);
    if (n <= 50 && !zeros && !ties) {
        const std::vector<double> counts = signed_rank_counts(n);
        const auto r_plus = static_cast<std::size_t>(result.r_plus);
        result.exact = true;
        if (r_plus == (counts.size() - 1) / 2) {
            result.p_value = 1;
            return result;
        }
        const double total = std::ldexp(1.0, static_cast<int>(n));
        double less = 0, greater = 0;
        for (std::size_t k = 0; k < counts.size(); ++k) {
            (k <= r_plus ? less : greater) += counts[k];
        }
        greater += counts[r_plus]; // P(T+ >= r_plus) includes r_plus itself
        result.p_value = std::min(1.0, 2 * std::min(less, greater) / total);
        return result;
    }
    const double count = static_cast<double>(n);
    const double t = std::min(result.r_plus, r_minus);
    const double mean = count * (count + 1) * 0.25;
    double variance = count * (count + 1) * (2 * count + 1);
    std::vector<double> sorted = ranks;
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t i = 0; i < sorted.size();) {
        std::size_t j = i;
        while (j + 1 < sorted.size() && sorted[j + 1] == sorted[i]) {
            ++j;
        }
        const double tied = static_cast<double>(j - i + 1);
        if (tied > 1) {
            variance -= 0.5 * tied * (tied * tied - 1);
        }
        i = j + 1;
    }
    const double se = std::sqrt(variance / 24);
    const double z = se > 0 ? (t - mean) / se : 0;
    result.p_value = std::min(1.0, 2 * (1 - normal_cdf(std::abs(z))));
    return result;
}

namespace {

std::vector<double> walsh_averages(std::span<const double> d) {
    std::vector<double> averages;
    averages.reserve(d.size() * (d.size() + 1) / 2);
    for (std::size_t i = 0; i < d.size(); ++i) {
        for (std::size_t j = i; j < d.size(); ++j) {
            averages.push_back(0.5 * (d[i] + d[j]));
        }
    }
    return averages;
}

} // namespace

double hodges_lehmann(std::span<const double> differences) {
    return median(walsh_averages(differences));
}

Interval wilcoxon_interval(std::span<const double> differences, double confidence) {
    std::vector<double> averages = walsh_averages(differences);
    std::sort(averages.begin(), averages.end());
    const std::size_t n = differences.size();
    const std::size_t total = averages.size();
    Interval interval;
    if (total == 0) {
        return interval;
    }
    const double alpha = 1 - confidence;
    // c: the largest rank count with P(T+ <= c) <= alpha/2; the interval is the (c+1)-th
    // smallest to the (c+1)-th largest Walsh average.
    long c = -1;
    if (n <= 50) {
        const std::vector<double> counts = signed_rank_counts(n);
        const double all = std::ldexp(1.0, static_cast<int>(n));
        double cumulative = 0;
        for (std::size_t k = 0; k < counts.size(); ++k) {
            cumulative += counts[k];
            if (cumulative / all > alpha / 2) {
                break;
            }
            c = static_cast<long>(k);
        }
        interval.exact = true;
    } else {
        const double count = static_cast<double>(n);
        const double z = normal_quantile(1 - alpha / 2);
        c = static_cast<long>(std::floor(
            count * (count + 1) / 4 - z * std::sqrt(count * (count + 1) * (2 * count + 1) / 24)));
    }
    if (c < 0) {
        // Too few pairs for this confidence: the widest interval there is.
        interval.low = averages.front();
        interval.high = averages.back();
        return interval;
    }
    const auto index = std::min(static_cast<std::size_t>(c), total - 1);
    interval.low = averages[index];
    interval.high = averages[total - 1 - index];
    return interval;
}

double mann_whitney_p(std::span<const double> a, std::span<const double> b) {
    const double n1 = static_cast<double>(a.size());
    const double n2 = static_cast<double>(b.size());
    if (a.empty() || b.empty()) {
        return 1;
    }
    std::vector<double> all(a.begin(), a.end());
    all.insert(all.end(), b.begin(), b.end());
    const std::vector<double> ranks = average_ranks(all);
    double r1 = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        r1 += ranks[i];
    }
    const double u1 = r1 - n1 * (n1 + 1) / 2;
    const double u = std::max(u1, n1 * n2 - u1);
    const double n = n1 + n2;
    std::vector<double> sorted = ranks;
    std::sort(sorted.begin(), sorted.end());
    double tie_term = 0;
    for (std::size_t i = 0; i < sorted.size();) {
        std::size_t j = i;
        while (j + 1 < sorted.size() && sorted[j + 1] == sorted[i]) {
            ++j;
        }
        const double t = static_cast<double>(j - i + 1);
        tie_term += t * t * t - t;
        i = j + 1;
    }
    const double sigma = std::sqrt(n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))));
    if (sigma == 0) {
        return 1;
    }
    const double z = (u - n1 * n2 / 2 - 0.5) / sigma;
    return std::min(1.0, 2 * (1 - normal_cdf(z)));
}

double spearman_rho(std::span<const double> x, std::span<const double> y) {
    const std::vector<double> rx = average_ranks(x);
    const std::vector<double> ry = average_ranks(y);
    const double mx = mean(rx), my = mean(ry);
    double sxy = 0, sxx = 0, syy = 0;
    for (std::size_t i = 0; i < rx.size(); ++i) {
        sxy += (rx[i] - mx) * (ry[i] - my);
        sxx += (rx[i] - mx) * (rx[i] - mx);
        syy += (ry[i] - my) * (ry[i] - my);
    }
    return sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : 0;
}

} // namespace abtool::stats::detail
