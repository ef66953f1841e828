// Numeric building blocks shared inside stats/: order statistics, the normal distribution and
// the seeded generator the bootstrap draws from. Internal to the library.
#pragma once

#include "abtool/splitmix64.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace abtool::stats::detail {

double median(std::vector<double> values);
// Linear interpolation between order statistics (Hyndman-Fan type 7, NumPy's default).
double quantile_sorted(const std::vector<double>& sorted, double q);
double mean(std::span<const double> values);
double stddev(std::span<const double> values); // sample (n - 1)
double mad(std::span<const double> values);    // median absolute deviation, unscaled

double normal_cdf(double x);
double normal_quantile(double p); // Acklam's rational approximation, |error| < 1.2e-9

// splitmix64: fully specified, so a seed gives the same resamples on every platform. Defined
// here so the bootstrap's inner loop (millions of draws per case) inlines them.
class Random {
public:
    explicit Random(std::uint64_t seed) : m_state(seed) {}

    std::uint64_t next() { return splitmix64_next(m_state); }

    // Uniform in [0, bound): Lemire's multiply-shift with rejection ("Fast random integer
    // generation in an interval", 2019): unbiased, and a division only in the rare rejection
    // branch.
    std::size_t below(std::size_t bound) {
        __extension__ typedef unsigned __int128 Uint128; // GCC and Clang: 64x64->128 product
        Uint128 product = static_cast<Uint128>(next()) * bound;
        auto low = static_cast<std::uint64_t>(product);
        if (low < bound) {
            const std::uint64_t threshold = (0 - static_cast<std::uint64_t>(bound)) % bound;
            while (low < threshold) {
                product = static_cast<Uint128>(next()) * bound;
                low = static_cast<std::uint64_t>(product);
            }
        }
        return static_cast<std::size_t>(product >> 64);
    }

    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; } // [0, 1)

private:
    std::uint64_t m_state;
};

} // namespace abtool::stats::detail
