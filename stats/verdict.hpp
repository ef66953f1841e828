// DESIGN.md's verdict rules, given an estimate, its interval and an adjusted p-value, and the
// multiple-comparison corrections (Holm, Benjamini-Hochberg) that feed them.
#pragma once

#include "abtool/stats.hpp"

#include <vector>

namespace abtool::stats::detail {

// The per-comparison false-alarm level after spending it over `looks` interim analyses
// (Bonferroni over looks: simple, and conservative for any stopping rule).
double alpha_per_look(const Options& options);

// Sets comparison.verdict and comparison.reason from delta/interval/p_adjusted.
void decide(Comparison& comparison, Direction direction, const Options& options);

std::vector<double> adjust_p_values(const std::vector<double>& p_values, Multiplicity method);

} // namespace abtool::stats::detail
