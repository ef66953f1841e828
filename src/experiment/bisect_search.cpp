#include "src/experiment/bisect_search.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <utility>

namespace abtool::bisect {

namespace {

double log_ratio(double pct) {
    return std::log1p(pct / 100);
}

// The share of the range's delta the commit holds, from its two comparisons: x = ln(commit / low)
// and y = ln(high / commit), share = x / (x + y) = 1/2 + p / (x + y) with p = (x - y) / 2, which
// says on which side of the middle the commit lies. The two comparisons are separate runs, so p's
// interval is p ± sqrt(hx² + hy²) / 2 from their intervals' half-widths (in logs): both
// comparisons count, and their noise averages. Undefined when x + y is not in the range's
// direction (the probe then says nothing of the range).
void set_share(Probe& probe, double range_delta) {
    if (!probe.from_low.ran || !probe.to_high.ran) {
        return;
    }
    const double sign = range_delta < 0 ? -1.0 : 1.0;
    const auto oriented = [sign](const PairOutcome& outcome) {
        const double low = log_ratio(outcome.ci_low_pct), high = log_ratio(outcome.ci_high_pct);
        return std::pair{sign * log_ratio(outcome.delta_pct), std::abs(high - low) / 2};
    };
    const auto [x, hx] = oriented(probe.from_low);
    const auto [y, hy] = oriented(probe.to_high);
    const double total = x + y;
    if (!(total > 0) || !std::isfinite(hx) || !std::isfinite(hy)) {
        return;
    }
    const double p = (x - y) / 2;
    const double h = std::sqrt(hx * hx + hy * hy) / 2;
    probe.share = x / total;
    probe.share_low = 0.5 + (p - h) / total;
    probe.share_high = 0.5 + (p + h) / total;
}

// The commit left in (low, high) closest to the middle (the lower one on a tie), if any.
std::optional<std::size_t> middle(std::size_t low, std::size_t high,
                                  const std::set<std::size_t>& left_out) {
    std::optional<std::size_t> best;
    const double centre = (static_cast<double>(low) + static_cast<double>(high)) / 2;
    for (std::size_t index = low + 1; index < high; ++index) {
        if (left_out.count(index) != 0) {
            continue;
        }
        if (!best || std::abs(static_cast<double>(index) - centre) <
                         std::abs(static_cast<double>(*best) - centre)) {
            best = index;
        }
    }
    return best;
}

// A third of the range's delta as a threshold (a fraction of A's value): the change a third of
// the way along in the range's own direction (a drop for a metric whose values fell), below the
// 100% thresholds stop at.
double probe_threshold(double range_delta) {
    return std::min(std::abs(std::expm1(range_delta / 3)), 0.99);
}

struct Context {
    const std::vector<std::string>& commits;
    double threshold;
    Prober& prober;
    Search& search;
};

// Both comparisons for their planned rounds; when that leaves the commit unsure, both again
// with adaptive rounds (a failed build or workload is not retried).
Probe run_probe(std::size_t index, std::size_t low, std::size_t high, double range_delta,
                Context& context) {
    Probe probe;
    probe.index = index;
    probe.low = low;
    probe.high = high;
    probe.threshold = probe_threshold(range_delta);
    const std::vector<std::string>& commits = context.commits;
    for (const Rounds rounds : {Rounds::planned, Rounds::adaptive}) {
        probe.share = probe.share_low = probe.share_high = k_undefined;
        probe.from_low =
            context.prober.compare(commits[low], commits[index], probe.threshold, rounds);
        probe.to_high = probe.from_low.ran ? context.prober.compare(commits[index], commits[high],
                                                                    probe.threshold, rounds)
                                           : PairOutcome{};
        set_share(probe, range_delta);
        probe.verdict = classify(probe);
        if (probe.verdict != ProbeVerdict::unsure) {
            break;
        }
    }
    return probe;
}

void search_range(std::size_t low, std::size_t high, double range_delta, Context& context) {
    std::set<std::size_t> left_out; // skipped or unsure
    while (high - low > 1) {
        const std::optional<std::size_t> index = middle(low, high, left_out);
        if (!index) {
            break;
        }
        context.search.low = low;
        context.search.high = high;
        Probe probe = run_probe(*index, low, high, range_delta, context);
        context.search.probes.push_back(probe);
        switch (probe.verdict) {
        case ProbeVerdict::good:
            low = *index;
            break;
        case ProbeVerdict::bad:
            high = *index;
            break;
        case ProbeVerdict::between:
            search_range(low, *index, log_ratio(probe.from_low.delta_pct), context);
            search_range(*index, high, log_ratio(probe.to_high.delta_pct), context);
            return;
        case ProbeVerdict::unsure:
        case ProbeVerdict::skipped:
            left_out.insert(*index);
            break;
        }
    }
    Step step;
    step.low = low;
    step.high = high;
    step.range_delta = range_delta;
    if (step.exact()) {
        step.own = context.prober.compare(context.commits[low], context.commits[high],
                                          context.threshold, Rounds::adaptive);
    }
    context.search.steps.push_back(step);
}

} // namespace

std::string_view to_string(ProbeVerdict verdict) {
    switch (verdict) {
    case ProbeVerdict::good:
        return "good";
    case ProbeVerdict::bad:
        return "bad";
    case ProbeVerdict::between:
        return "between";
    case ProbeVerdict::unsure:
        return "unsure";
    case ProbeVerdict::skipped:
        return "skipped";
    }
    return "unsure";
}

ProbeVerdict classify(const Probe& probe) {
    const PairOutcome& from_low = probe.from_low;
    const PairOutcome& to_high = probe.to_high;
    if (!from_low.ran || !to_high.ran) {
        return ProbeVerdict::skipped;
    }
    using stats::Verdict;
    if (from_low.verdict == Verdict::regressed && to_high.verdict == Verdict::regressed) {
        return ProbeVerdict::between;
    }
    if (probe.share_high < 0.5) {
        return ProbeVerdict::good;
    }
    if (probe.share_low > 0.5) {
        return ProbeVerdict::bad;
    }
    return ProbeVerdict::unsure; // also an undefined share: NaN compares false
}

void run_search(const std::vector<std::string>& commits, double delta, double threshold,
                Prober& prober, Search& search) {
    if (commits.size() < 2) {
        return;
    }
    Context context{commits, threshold, prober, search};
    search_range(0, commits.size() - 1, delta, context);
    std::sort(search.steps.begin(), search.steps.end(),
              [](const Step& x, const Step& y) { return x.low < y.low; });
}

const Step* largest_step(const Search& search) {
    const Step* best = nullptr;
    double best_size = -1;
    for (const Step& step : search.steps) {
        const double size =
            step.own.ran ? std::abs(log_ratio(step.own.delta_pct)) : std::abs(step.range_delta);
        if (size > best_size) {
            best = &step;
            best_size = size;
        }
    }
    return best;
}

} // namespace abtool::bisect
