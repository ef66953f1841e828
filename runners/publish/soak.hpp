// A soak run (DESIGN.md "Soak"): a paced publish or a stream workload run for `duration` instead
// of a count, with the server's process group sampled every second. A leak shows as a steady
// climb of the group's RSS, a slow degradation as the last tenth's p99 against the first's; both
// are summarised per run and kept as ten windows, so the shape is seen, not only the summary.
#pragma once

#include "abtool/runners.hpp"
#include "runners/group_sampler.hpp"

#include <chrono>
#include <vector>

namespace abtool::runners::publish {

struct TimedLatency {
    double at_s = 0; // when its message was due or its session started, since the load's start
    double ms = 0;
};

// What a soak run saw over time.
struct SoakTimeline {
    double duration_s = 0;
    std::vector<TimedLatency> latencies; // publish: each message's; stream: each first chunk's
    std::vector<double> errors_at_s;     // as at_s
    std::vector<GroupSample> group;      // the sampler started with the load
};

inline constexpr std::size_t k_soak_windows = 10;

// How often a soak of `duration` samples the server's group: every second, or more often for a
// soak shorter than 50 s (down to 50 ms), so that each window holds about five samples.
std::chrono::milliseconds soak_sample_period(std::chrono::milliseconds duration);

// rss_start_kb, rss_end_kb (the first and last samples), rss_growth_kb_per_min (Theil-Sen slope
// over every sample: a one-off spike or a collection does not fake a trend), cpu_s (the group's
// CPU time over the run), latency_p99_drift_pct (the last window's p99 against the first's, in
// %; absent when either window has no latency). None is gated: SLOs judge them.
std::vector<Sample> soak_samples(const SoakTimeline& timeline);

// The run cut into k_soak_windows equal windows of its duration.
std::vector<SoakWindow> soak_windows(const SoakTimeline& timeline);

// A soak run's samples and windows, added to `result`.
void add_soak(const SoakTimeline& timeline, RunResult& result);

} // namespace abtool::runners::publish
