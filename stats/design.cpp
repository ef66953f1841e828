// Planning a run: the rounds a verdict needs to be reachable at all, and which round design a
// pilot's figures favour (stats.hpp states the rules; the reasons are here).
#include "abtool/stats.hpp"

#include "stats/numeric.hpp"
#include "stats/verdict.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

namespace abtool::stats {

double smallest_p_value(std::size_t n) {
    // Exact signed-rank test, two-sided: every d_k on one side is the most extreme outcome, one
    // of 2^n equally likely sign patterns under the null, doubled for the two sides.
    return std::min(1.0, std::ldexp(2.0, -static_cast<int>(std::min<std::size_t>(n, 1000))));
}

std::size_t rounds_for_significance(std::size_t gated, const Options& options) {
    const double alpha = detail::alpha_per_look(options);
    // Holm multiplies the smallest p by m; Benjamini-Hochberg does too when only one of the m
    // metrics changed (rank 1 of m: p * m / 1), the case a gate must be able to see.
    const double factor = options.multiplicity == Multiplicity::none
                              ? 1.0
                              : static_cast<double>(std::max<std::size_t>(gated, 1));
    std::size_t n = 6; // below 6 the exact 95% Wilcoxon interval does not exist
    while (factor * smallest_p_value(n) >= alpha && n < 1000) {
        ++n;
    }
    return n + n % 2; // whole A/B/B/A blocks
}

namespace {

struct Figures {
    std::vector<double> sigma, estimate, se;
    std::string too_few; // why the design cannot be judged, when it cannot
};

Figures figures_of(const DesignPilot& design) {
    Figures figures;
    for (std::size_t i = 0; i < design.log_ratios.size(); ++i) {
        std::vector<double> finite;
        for (double d : design.log_ratios[i]) {
            if (std::isfinite(d)) {
                finite.push_back(d);
            }
        }
        if (finite.size() < 3) {
            if (figures.too_few.empty()) {
                figures.too_few = fmt::format("series {} has {} usable pilot round(s), needs 3",
                                              i + 1, finite.size());
            }
            figures.sigma.push_back(0);
            figures.estimate.push_back(0);
            figures.se.push_back(0);
            continue;
        }
        // 1.4826 MAD estimates sigma for normal noise and ignores the stutters that make the
        // standard deviation useless here.
        const double sigma = 1.4826 * detail::mad(finite);
        figures.sigma.push_back(sigma);
        figures.estimate.push_back(detail::median(finite));
        // The median's standard error under normal noise: sqrt(pi/2) sigma / sqrt(n).
        figures.se.push_back(std::sqrt(std::numbers::pi / 2) * sigma /
                             std::sqrt(static_cast<double>(finite.size())));
    }
    return figures;
}

// Why a concurrent design (duet) may not stand in for the reference though it is narrower: it
// widens a series, or its estimate is further from the reference's than their combined
// uncertainty (one side's memory traffic slowing the other changes the quantity measured).
// Empty when it may.
std::string concurrent_objection(const Figures& own, const Figures& reference) {
    // 95% agreement over all the series together (Bonferroni): at 1.96 per series an unbiased
    // duet of ten series would be turned away 40% of the time.
    const double z = detail::normal_quantile(
        1 - 0.05 / (2 * static_cast<double>(std::max<std::size_t>(own.sigma.size(), 1))));
    for (std::size_t i = 0; i < own.sigma.size(); ++i) {
        if (own.sigma[i] > reference.sigma[i]) {
            return fmt::format("widens series {}: spread {:.2f}% vs {:.2f}%", i + 1,
                               own.sigma[i] * 100, reference.sigma[i] * 100);
        }
        if (const double limit = z * std::hypot(own.se[i], reference.se[i]);
            std::abs(own.estimate[i] - reference.estimate[i]) > limit) {
            return fmt::format("biased on series {}: estimate {:+.2f}% vs {:+.2f}%, further apart "
                               "than their combined uncertainty ({:.2f} points)",
                               i + 1, std::expm1(own.estimate[i]) * 100,
                               std::expm1(reference.estimate[i]) * 100, limit * 100);
        }
    }
    return {};
}

// A design against the reference's figures: why it is not eligible, or its score (the widest
// series' variance times its machine time per round: lower needs less machine time for the same
// interval width).
void assess(const DesignPilot& design, const Figures& own, const Figures& reference,
            DesignAssessment& assessment) {
    if (design.log_ratios.size() != reference.sigma.size()) {
        assessment.why_not = "its pilot saw other metrics than the reference's";
        return;
    }
    if (!own.too_few.empty()) {
        assessment.why_not = own.too_few;
        return;
    }
    if (design.concurrent) {
        assessment.why_not = concurrent_objection(own, reference);
        if (!assessment.why_not.empty()) {
            return;
        }
    }
    double worst = 0;
    for (double sigma : own.sigma) {
        worst = std::max(worst, sigma * sigma);
    }
    assessment.score = worst * design.seconds_per_round;
    assessment.eligible = true;
}

// Without the reference's figures nothing can be weighed against it: every design says why it
// was not judged, and the reference runs for want of information, not on merit. False when the
// reference can be judged.
bool leave_unjudged(std::span<const DesignPilot> designs, const std::vector<Figures>& figures,
                    DesignChoice& choice) {
    std::string unjudged;
    if (designs.front().log_ratios.empty()) {
        unjudged = "no gated series in the pilot";
        choice.reason =
            fmt::format("no gated series in the pilot to choose on: {}", designs.front().name);
    } else if (!figures.front().too_few.empty()) {
        unjudged =
            fmt::format("nothing to compare with: {} cannot be judged", designs.front().name);
        choice.reason = fmt::format("not enough pilot information ({}): {}",
                                    figures.front().too_few, designs.front().name);
    }
    if (unjudged.empty()) {
        return false;
    }
    choice.fallback = true;
    for (std::size_t d = 0; d < designs.size(); ++d) {
        choice.assessments[d].why_not =
            d == 0 && !figures.front().too_few.empty() ? figures.front().too_few : unjudged;
    }
    return true;
}

} // namespace

DesignChoice choose_design(std::span<const DesignPilot> designs) {
    DesignChoice choice;
    std::vector<Figures> figures;
    for (const DesignPilot& design : designs) {
        figures.push_back(figures_of(design));
        DesignAssessment assessment;
        assessment.sigma_d = figures.back().sigma;
        assessment.estimate = figures.back().estimate;
        choice.assessments.push_back(std::move(assessment));
    }
    if (designs.empty()) {
        choice.fallback = true;
        choice.reason = "no candidate design: alternate rounds";
        return choice;
    }
    if (leave_unjudged(designs, figures, choice)) {
        return choice;
    }
    for (std::size_t d = 0; d < designs.size(); ++d) {
        assess(designs[d], figures[d], figures.front(), choice.assessments[d]);
    }
    std::size_t best = 0;
    for (std::size_t d = 1; d < designs.size(); ++d) {
        if (choice.assessments[d].eligible &&
            choice.assessments[d].score < choice.assessments[best].score) {
            best = d;
        }
    }
    choice.chosen = best;
    const double best_sigma = *std::max_element(choice.assessments[best].sigma_d.begin(),
                                                choice.assessments[best].sigma_d.end());
    const double reference_score = choice.assessments.front().score;
    const double chosen_score = choice.assessments[best].score;
    if (best == 0) {
        choice.reason =
            fmt::format("{}: spread {:.2f}%, {:.3g} s/round; no other design needs less "
                        "machine time for the same interval width",
                        designs[0].name, best_sigma * 100, designs[0].seconds_per_round);
    } else {
        choice.reason = fmt::format(
            "{}: spread {:.2f}%, {:.3g} s/round: {} less machine time than {} for the same "
            "interval width",
            designs[best].name, best_sigma * 100, designs[best].seconds_per_round,
            chosen_score > 0 ? fmt::format("{:.3g}x", reference_score / chosen_score)
                             : std::string("far"),
            designs[0].name);
    }
    return choice;
}

} // namespace abtool::stats
