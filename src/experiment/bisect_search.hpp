// The search of `abtool bisect` (issue 14): which first-parent commit between a good and a bad
// one made a case slower, under noise. Each probe of a commit runs two paired comparisons, from
// the range's known good end ("low") to the commit and from the commit to its known bad end
// ("high"), both judged at a third of the range's delta D. From them, the commit's share of D
// (0: like low, 1: like high) with an interval that both comparisons narrow (the MOVER interval
// of their difference, which takes each comparison's interval by the side that matters). The
// commit is "between" (part of D on each side: both halves are searched) when both comparisons
// are `regressed`; otherwise "good" when the share's whole interval is below 1/2, "bad" when it
// is above 1/2. A probe runs its comparisons for their planned rounds first, and only when that
// leaves the commit unsure runs the inconclusive ones (the wider, if neither was) adaptively;
// still unsure, it is left out. An unsure commit, like one whose build or workload failed, is
// left out as `git bisect skip` leaves it.
//
// It starts no process itself: every comparison goes through an injected Prober, so the search
// (two steps, skips, unsure commits) is unit-tested in milliseconds with a fake one.
#pragma once

#include "abtool/stats.hpp"

#include <cstddef>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace abtool::bisect {

// How long a comparison may run: its planned rounds, or adaptive (more rounds while inconclusive,
// up to the maximum).
enum class Rounds { planned, adaptive };

// One paired comparison: A = `a`, B = `b`, of the bisected workload, case and metric.
struct PairOutcome {
    std::string a, b;
    double threshold = 0; // a fraction: what its verdict was judged at
    Rounds rounds_kind = Rounds::adaptive;
    bool ran = false; // false: a build or the workload failed, `failure` says which
    std::string failure;
    stats::Verdict verdict = stats::Verdict::inconclusive;
    double delta_pct = 0, ci_low_pct = 0, ci_high_pct = 0;
    std::size_t rounds = 0;
    std::string run_dir;
};

class Prober {
public:
    virtual ~Prober() = default;
    // Commit `a` against commit `b`, every verdict judged at `threshold` (a fraction). A build or
    // workload failure is an outcome (ran = false), not an exception; an interrupt throws.
    virtual PairOutcome compare(const std::string& a, const std::string& b, double threshold,
                                Rounds rounds) = 0;
};

enum class ProbeVerdict { good, bad, between, unsure, skipped };
std::string_view to_string(ProbeVerdict verdict);

constexpr double k_undefined = std::numeric_limits<double>::quiet_NaN();

struct Probe {
    std::size_t index = 0;          // into the commit list
    std::size_t low = 0, high = 0;  // the range's known ends when it ran
    double threshold = 0;           // a third of the range's delta, as a fraction
    PairOutcome from_low, to_high;  // low -> commit, commit -> high
    double share = k_undefined;     // of the range's delta, 0 = like low, 1 = like high
    double share_low = k_undefined; // the share's interval (set_share in bisect_search.cpp)
    double share_high = k_undefined;
    ProbeVerdict verdict = ProbeVerdict::unsure;
};

// A step change: in (low, high]. When high is low + 1 it is one commit, the culprit, and `own`
// compares it with its parent at the user's threshold; otherwise every commit left inside was
// skipped or unsure and the step is known only to lie in that range.
struct Step {
    std::size_t low = 0, high = 0;
    double range_delta = 0; // ln(high / low) of the range it was found in, as probes saw it
    bool exact() const { return high == low + 1; }
    PairOutcome own; // ran = false when not exact
};

struct Search {
    std::vector<Probe> probes;
    std::vector<Step> steps;       // in commit order
    std::size_t low = 0, high = 0; // the range being searched (where an interrupt left it)
};

// The verdict of a probe from its two comparisons and its share (the rule above).
ProbeVerdict classify(const Probe& probe);

// commits[0] is good, commits.back() bad; `delta` = ln(bad / good) from the confirming run;
// `threshold` (a fraction) judges each culprit against its parent. Results go to `search` as they
// come, so that an interrupt (an exception from the prober) leaves what was done in it.
void run_search(const std::vector<std::string>& commits, double delta, double threshold,
                Prober& prober, Search& search);

// The step with the largest own delta (a range-only step counts by its range's delta).
const Step* largest_step(const Search& search);

} // namespace abtool::bisect
