#include "src/report/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace abtool::report {

std::string to_string(Verdict verdict) {
    // The statistics' words, and the one verdict they have no word for.
    if (verdict == Verdict::slo_violated) {
        return "slo-violated";
    }
    for (const stats::Verdict word :
         {stats::Verdict::regressed, stats::Verdict::improved, stats::Verdict::unchanged}) {
        if (to_report(word) == verdict) {
            return stats::to_string(word);
        }
    }
    return stats::to_string(stats::Verdict::inconclusive);
}

bool fails_gate(Verdict verdict, bool gated, bool strict) {
    if (verdict == Verdict::slo_violated) {
        return true;
    }
    return gated && (verdict == Verdict::regressed || (strict && verdict == Verdict::inconclusive));
}

bool fails_gate(const Row& row, const Report& report) {
    return fails_gate(row.verdict, row.gated, report.strict);
}

std::optional<Verdict> verdict_from_string(std::string_view text) {
    for (const Verdict verdict : {Verdict::regressed, Verdict::improved, Verdict::unchanged,
                                  Verdict::inconclusive, Verdict::slo_violated}) {
        if (to_string(verdict) == text) {
            return verdict;
        }
    }
    return std::nullopt;
}

bool informational_regression(const Row& row) {
    return !row.gated && row.verdict == Verdict::regressed;
}

bool compared(const Row& row, const Report& report) {
    return row.gated && row.comparison.interval != stats::IntervalMethod::none &&
           row.comparison.n >= report.min_pairs;
}

GateSummary summarize(const Report& report) {
    GateSummary gate;
    gate.unmeasured = static_cast<int>(report.unmeasured.size());
    for (const Row& row : report.rows) {
        gate.failed = gate.failed || fails_gate(row, report);
        gate.compared += compared(row, report);
        if (!row.gated && row.verdict != Verdict::slo_violated) {
            // Side metrics (user time, RSS, bytes, rates) are reported but never gate: counting
            // them beside the gated ones would make "11 regressed" of a gate that 3 rows failed.
            gate.informational_regressed += informational_regression(row);
            continue;
        }
        switch (row.verdict) {
        case Verdict::regressed:
            ++gate.regressed;
            break;
        case Verdict::improved:
            ++gate.improved;
            break;
        case Verdict::unchanged:
            ++gate.unchanged;
            break;
        case Verdict::slo_violated:
            ++gate.slo_violated;
            break;
        case Verdict::inconclusive:
            ++gate.inconclusive;
            break;
        }
    }
    // The gate never passes on nothing: every gated metric measured, and at least one compared.
    gate.nothing_compared = report.paired && gate.compared == 0;
    gate.failed = gate.failed || gate.unmeasured > 0 || gate.nothing_compared;
    return gate;
}

std::string gate_outcome(const GateSummary& gate) {
    if (gate.regressed > 0) {
        return "regression";
    }
    if (gate.slo_violated > 0) {
        return "SLO violated";
    }
    if (gate.unmeasured > 0) {
        return "failed: " + std::to_string(gate.unmeasured) + " gated metric(s) not measured";
    }
    if (gate.nothing_compared) {
        return "failed: no gated metric compared";
    }
    if (gate.failed) {
        return "failed: " + std::to_string(gate.inconclusive) + " inconclusive under --strict";
    }
    return "passed";
}

std::vector<const Row*> worst_first(const Report& report) {
    const auto rank = [](const Row& row) {
        switch (row.verdict) {
        case Verdict::regressed:
            return row.gated ? 0 : 2;
        case Verdict::slo_violated:
            return 1;
        case Verdict::inconclusive:
            return 3;
        case Verdict::unchanged:
            return 4;
        case Verdict::improved:
            break;
        }
        return 5;
    };
    std::vector<const Row*> rows;
    for (const Row& row : report.rows) {
        rows.push_back(&row);
    }
    std::stable_sort(rows.begin(), rows.end(), [&](const Row* a, const Row* b) {
        if (rank(*a) != rank(*b)) {
            return rank(*a) < rank(*b);
        }
        if (a->gated != b->gated) {
            return a->gated;
        }
        // Within a verdict, the largest change for the worse first.
        const auto worse = [](const Row& row) {
            return row.direction == stats::Direction::lower ? row.comparison.delta_pct
                                                            : -row.comparison.delta_pct;
        };
        return worse(*a) > worse(*b);
    });
    return rows;
}

Verdict to_report(stats::Verdict verdict) {
    switch (verdict) {
    case stats::Verdict::regressed:
        return Verdict::regressed;
    case stats::Verdict::improved:
        return Verdict::improved;
    case stats::Verdict::unchanged:
        return Verdict::unchanged;
    case stats::Verdict::inconclusive:
        break;
    }
    return Verdict::inconclusive;
}

std::string describe(const DesignReport& design) {
    if (design.repeat <= 1) {
        return design.schedule;
    }
    // Appended piecewise: GCC 12 at -O3 flags string + string with a false -Wrestrict (PR
    // 105329).
    std::string text = design.schedule;
    text += " x";
    text += std::to_string(design.repeat);
    if (!design.summary.empty()) {
        text += " (";
        text += design.summary;
        text += ")";
    }
    return text;
}

std::string interval_note_line(const Report& report) {
    if (report.interval_note.empty()) {
        return "";
    }
    if (!report.paired) {
        return report.interval_note;
    }
    // A crossover row's p is its Mann-Whitney test (stats::compare_paired).
    const bool crossover = report.interval_note.find("crossover") != std::string::npos;
    return report.interval_note + "; p: Wilcoxon signed-rank" +
           (crossover ? " (Mann-Whitney where crossover)" : "") + ", " + report.multiplicity +
           "-adjusted";
}

std::string paired_interval_note(const std::set<std::string>& methods, double confidence) {
    if (methods.empty()) {
        return "";
    }
    std::string joined;
    for (const std::string& method : methods) {
        joined += (joined.empty() ? "" : ", ") + method;
    }
    return fmt::format("{:.0f}% intervals: {} (Wilcoxon signed-rank interval, exact or its normal "
                       "approximation with ties, zero differences or n > 50: in abtool's "
                       "calibration it holds nominal coverage at every n from 6 to 200, where the "
                       "BCa bootstrap under-covers at small n)",
                       confidence * 100, joined);
}

std::string unpaired_interval_note(bool any_tested, double confidence) {
    return any_tested ? fmt::format("unpaired: {:.0f}% bootstrap intervals of the ratio of B "
                                    "medians; p: Mann-Whitney U, Holm-adjusted across the "
                                    "compared cases (gated and informational metrics apart)",
                                    confidence * 100)
                      : "unpaired, no raw samples: delta of stored medians only, not tested";
}

std::string multiplicity_name(stats::Multiplicity multiplicity) {
    switch (multiplicity) {
    case stats::Multiplicity::benjamini_hochberg:
        return "Benjamini-Hochberg";
    case stats::Multiplicity::none:
        return "not";
    case stats::Multiplicity::holm:
        break;
    }
    return "Holm";
}

} // namespace abtool::report
