// Seeded bootstrap intervals: BCa (Efron 1987) of a one-sample median and of a two-sample ratio
// of medians, falling back to the percentile interval when BCa is undefined (every resample
// equal to the estimate, or a degenerate jackknife).
#pragma once

#include <cstdint>
#include <span>

namespace abtool::stats::detail {

struct BootstrapInterval {
    double low = 0, high = 0;
    bool bca = false; // false: the percentile fallback was used
};

// The median of the sample holding sorted[i] counts[i] times (counts not all zero): what the
// bootstrap computes for each resample, in O(n) rather than by sorting the resample.
double median_of_counts(std::span<const double> sorted, std::span<const std::uint32_t> counts);

BootstrapInterval bootstrap_median(std::span<const double> values, double confidence, int resamples,
                                   std::uint64_t seed);
// The interval of ln(median(b) / median(a)) from independent resamples of each side.
BootstrapInterval bootstrap_log_ratio_of_medians(std::span<const double> a,
                                                 std::span<const double> b, double confidence,
                                                 int resamples, std::uint64_t seed);

} // namespace abtool::stats::detail
