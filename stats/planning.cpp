#include "abtool/stats.hpp"

#include "stats/numeric.hpp"
#include "stats/verdict.hpp"

#include <algorithm>
#include <cmath>

namespace abtool::stats {

NoiseFloor noise_floor(std::span<const double> log_ratios, const Options& options, double power) {
    NoiseFloor floor;
    floor.n = log_ratios.size();
    if (floor.n < 3 || std::any_of(log_ratios.begin(), log_ratios.end(),
                                   [](double d) { return !std::isfinite(d); })) {
        return floor;
    }
    // Robust spread of d (1.4826 MAD estimates sigma for normal noise).
    floor.sigma_d = 1.4826 * detail::mad(log_ratios);
    if (floor.sigma_d == 0) {
        // No spread in the A/A rounds: no noise to plan against, and no honest round count.
        return floor;
    }
    floor.estimable = true;
    // The verdict tests with Wilcoxon signed-rank and estimates by Hodges-Lehmann: asymptotic
    // relative efficiency 3/pi against the t-test under normal noise, so its standard error is
    // sqrt(pi/3) sigma / sqrt(n) (the median's would be sqrt(pi/2)).
    const double se_factor = std::sqrt(M_PI / 3) * floor.sigma_d;
    const double z_alpha = detail::normal_quantile(1 - (1 - options.confidence) / 2);
    const double z_power = detail::normal_quantile(power);
    const double n = static_cast<double>(floor.n);
    floor.noise_pct = (std::exp(z_alpha * se_factor / std::sqrt(n)) - 1) * 100;
    floor.detectable_pct = (std::exp((z_alpha + z_power) * se_factor / std::sqrt(n)) - 1) * 100;
    // n = (z_a + z_b)^2 sigma^2 / delta^2, plus two rounds for the small-sample loss of the
    // rank test, rounded up to whole A/B/B/A blocks.
    const double delta = std::log1p(options.threshold);
    // At least 6: below that the exact Wilcoxon interval does not exist at 95%.
    const double needed = std::pow((z_alpha + z_power) * se_factor / delta, 2) + 2;
    auto rounds = static_cast<std::size_t>(std::ceil(std::max(needed, 6.0)));
    floor.rounds_needed = rounds + rounds % 2;
    return floor;
}

int planned_looks(const AdaptivePolicy& policy) {
    if (policy.max_rounds <= policy.min_rounds) {
        return 1;
    }
    return 1 + static_cast<int>((policy.max_rounds - policy.min_rounds + 1) / 2);
}

bool should_stop(std::span<const Comparison> current, std::size_t rounds_done,
                 const AdaptivePolicy& policy) {
    if (rounds_done >= policy.max_rounds) {
        return true;
    }
    if (rounds_done < policy.min_rounds) {
        return false;
    }
    return std::none_of(current.begin(), current.end(),
                        [](const Comparison& c) { return c.verdict == Verdict::inconclusive; });
}

} // namespace abtool::stats
