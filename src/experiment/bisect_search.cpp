#include "src/experiment/bisect_search.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>

namespace abtool::bisect {

namespace {

double log_ratio(double pct) {
    return std::log1p(pct / 100);
}

// The share of the range's delta the commit holds: x = ln(commit / low), y = ln(high / commit),
// share = x / (x + y), oriented so that the range's delta is positive. The interval is the least
// and most the share can be with x and y anywhere in their intervals (undefined where x + y can
// reach 0 or less: the probe then says nothing of the range).
void set_share(Probe& probe, double range_delta) {
    if (!probe.from_low.ran || !probe.to_high.ran) {
        return;
    }
    const double sign = range_delta < 0 ? -1.0 : 1.0;
    const auto share = [](double x, double y) {
        return x + y > 0 ? x / (x + y) : k_undefined;
    };
    const double x = sign * log_ratio(probe.from_low.delta_pct);
    const double y = sign * log_ratio(probe.to_high.delta_pct);
    probe.share = share(x, y);
    double low = 1e300, high = -1e300;
    for (const double xi :
         {log_ratio(probe.from_low.ci_low_pct), log_ratio(probe.from_low.ci_high_pct)}) {
        for (const double yi :
             {log_ratio(probe.to_high.ci_low_pct), log_ratio(probe.to_high.ci_high_pct)}) {
            const double corner = share(sign * xi, sign * yi);
            if (std::isnan(corner)) {
                return;
            }
            low = std::min(low, corner);
            high = std::max(high, corner);
        }
    }
    probe.share_low = low;
    probe.share_high = high;
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

void search_range(std::size_t low, std::size_t high, double range_delta, Context& context) {
    std::set<std::size_t> left_out; // skipped or unsure
    while (high - low > 1) {
        const std::optional<std::size_t> index = middle(low, high, left_out);
        if (!index) {
            break;
        }
        context.search.low = low;
        context.search.high = high;
        Probe probe;
        probe.index = *index;
        probe.low = low;
        probe.high = high;
        probe.threshold = probe_threshold(range_delta);
        const std::vector<std::string>& commits = context.commits;
        probe.from_low = context.prober.compare(commits[low], commits[*index], probe.threshold);
        probe.to_high = probe.from_low.ran ? context.prober.compare(commits[*index], commits[high],
                                                                    probe.threshold)
                                           : PairOutcome{};
        probe.verdict = classify(probe.from_low, probe.to_high);
        set_share(probe, range_delta);
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
        step.own =
            context.prober.compare(context.commits[low], context.commits[high], context.threshold);
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

ProbeVerdict classify(const PairOutcome& from_low, const PairOutcome& to_high) {
    if (!from_low.ran || !to_high.ran) {
        return ProbeVerdict::skipped;
    }
    using stats::Verdict;
    const Verdict low = from_low.verdict, high = to_high.verdict;
    if (low == Verdict::unchanged && high == Verdict::regressed) {
        return ProbeVerdict::good;
    }
    if (low == Verdict::regressed && high == Verdict::unchanged) {
        return ProbeVerdict::bad;
    }
    if (low == Verdict::regressed && high == Verdict::regressed) {
        return ProbeVerdict::between;
    }
    return ProbeVerdict::unsure;
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
