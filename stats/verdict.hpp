// DESIGN.md's verdict rules, given an estimate, its interval and an adjusted p-value, and the
// multiple-comparison corrections (Holm, Benjamini-Hochberg) that feed them.
#pragma once

#include "abtool/stats.hpp"

#include <span>
#include <vector>

namespace abtool::stats::detail {

// The per-comparison false-alarm level after spending it over `looks` interim analyses
// (Bonferroni over looks: simple, and conservative for any stopping rule).
double alpha_per_look(const Options& options);

// Whether every round gave the same log-ratio (a deterministic metric: bytes, counts): equal
// within 1e-12 rather than bit for bit, because B / A of two counts rounds to the nearest double
// and a fixed +0.5% gives ratios a few ulps (1e-16) apart from round to round, while one
// instruction in 1e9 is 1e-9. False when empty.
bool no_variation(std::span<const double> log_ratios);

// Sets comparison.verdict and comparison.reason from delta/interval/p_adjusted.
void decide(Comparison& comparison, Direction direction, const Options& options);

std::vector<double> adjust_p_values(const std::vector<double>& p_values, Multiplicity method);

} // namespace abtool::stats::detail
