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

// A comparison in the range's direction (a rise of a lower-is-better metric, a drop of a
// higher-is-better one, positive): its log ratio and how far its interval reaches below and above
// it. Intervals are not symmetric: a stutter that slows some runs stretches one side only.
struct Oriented {
    double value = 0, below = 0, above = 0;
};

Oriented oriented(const PairOutcome& outcome, double sign) {
    const double value = sign * log_ratio(outcome.delta_pct);
    double low = sign * log_ratio(outcome.ci_low_pct), high = sign * log_ratio(outcome.ci_high_pct);
    if (low > high) {
        std::swap(low, high);
    }
    return {value, std::max(0.0, value - low), std::max(0.0, high - value)};
}

// The share of the range's delta the commit holds, from its two comparisons: x = ln(commit / low)
// and y = ln(high / commit), share = x / (x + y) = 1/2 + (x - y) / (2 (x + y)), so the side of the
// middle the commit lies on is the sign of x - y. Its interval is the MOVER interval of a
// difference of two independent estimates (Zou and Donner 2008), from each comparison's own
// interval: the upper end x - y + sqrt(above_x^2 + below_y^2), the lower x - y - sqrt(below_x^2
// + above_y^2). Both comparisons count and their noise averages; with symmetric intervals it is
// (x - y) +- sqrt(hx^2 + hy^2), and a skewed one counts by the side that matters (a commit is
// placed as good by x's upper end and y's lower end). Undefined when x + y is not in the range's
// direction (the probe then says nothing of the range).
void set_share(Probe& probe, double range_delta) {
    if (!probe.from_low.ran || !probe.to_high.ran) {
        return;
    }
    const double sign = range_delta < 0 ? -1.0 : 1.0;
    const Oriented x = oriented(probe.from_low, sign);
    const Oriented y = oriented(probe.to_high, sign);
    const double total = x.value + y.value;
    const double upper = std::hypot(x.above, y.below), lower = std::hypot(x.below, y.above);
    if (!(total > 0) || !std::isfinite(upper) || !std::isfinite(lower)) {
        return;
    }
    const double difference = x.value - y.value;
    probe.share = x.value / total;
    probe.share_low = 0.5 + (difference - lower) / (2 * total);
    probe.share_high = 0.5 + (difference + upper) / (2 * total);
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

// A comparison's interval width, in logs.
double width(const PairOutcome& outcome) {
    return std::abs(log_ratio(outcome.ci_high_pct) - log_ratio(outcome.ci_low_pct));
}

// Both comparisons for their planned rounds. When that leaves the commit unsure, adaptive rounds
// for the comparisons that were inconclusive (one that reached a verdict keeps it, and the
// machine time goes to the other), or, when both reached one, for the one with the wider
// interval. A failed build or workload is not retried.
Probe run_probe(std::size_t index, std::size_t low, std::size_t high, double range_delta,
                Context& context) {
    Probe probe;
    probe.index = index;
    probe.low = low;
    probe.high = high;
    probe.threshold = probe_threshold(range_delta);
    const std::vector<std::string>& commits = context.commits;
    const auto compare = [&](std::size_t a, std::size_t b, Rounds rounds) {
        return context.prober.compare(commits[a], commits[b], probe.threshold, rounds);
    };
    probe.from_low = compare(low, index, Rounds::planned);
    probe.to_high = probe.from_low.ran ? compare(index, high, Rounds::planned) : PairOutcome{};
    set_share(probe, range_delta);
    probe.verdict = classify(probe);
    if (probe.verdict != ProbeVerdict::unsure) {
        return probe;
    }
    using stats::Verdict;
    bool again_low = probe.from_low.verdict == Verdict::inconclusive;
    bool again_high = probe.to_high.verdict == Verdict::inconclusive;
    if (!again_low && !again_high) { // both decided, the share still open: the wider is why
        (width(probe.from_low) >= width(probe.to_high) ? again_low : again_high) = true;
    }
    if (again_low) {
        probe.from_low = compare(low, index, Rounds::adaptive);
    }
    if (again_high && probe.from_low.ran) {
        probe.to_high = compare(index, high, Rounds::adaptive);
    }
    probe.share = probe.share_low = probe.share_high = k_undefined;
    set_share(probe, range_delta);
    probe.verdict = classify(probe);
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
