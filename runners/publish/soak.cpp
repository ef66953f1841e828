#include "runners/publish/soak.hpp"

#include "abtool/stats.hpp"

#include <algorithm>

namespace abtool::runners::publish {

std::chrono::milliseconds soak_sample_period(std::chrono::milliseconds duration) {
    const std::chrono::milliseconds fifth = duration / static_cast<int>(5 * k_soak_windows);
    return std::clamp(fifth, std::chrono::milliseconds(50),
                      std::chrono::milliseconds(std::chrono::seconds(1)));
}

std::vector<SoakWindow> soak_windows(const SoakTimeline& timeline) {
    std::vector<SoakWindow> windows(k_soak_windows);
    const double width = timeline.duration_s / static_cast<double>(k_soak_windows);
    const auto index_of = [&](double at_s) {
        const double slot = width > 0 ? at_s / width : 0;
        return std::min(k_soak_windows - 1, static_cast<std::size_t>(std::max(0.0, slot)));
    };
    std::vector<std::vector<double>> latencies(k_soak_windows);
    for (const TimedLatency& latency : timeline.latencies) {
        latencies[index_of(latency.at_s)].push_back(latency.ms);
    }
    for (const double at_s : timeline.errors_at_s) {
        ++windows[index_of(at_s)].errors;
    }
    for (const GroupSample& sample : timeline.group) {
        SoakWindow& window = windows[index_of(sample.t_s)];
        window.rss_kb = std::max(window.rss_kb.value_or(0), sample.rss_kb);
    }
    for (std::size_t i = 0; i < k_soak_windows; ++i) {
        windows[i].start_s = width * static_cast<double>(i);
        windows[i].end_s = width * static_cast<double>(i + 1);
        if (!latencies[i].empty()) {
            const stats::Descriptives described = stats::describe(latencies[i]);
            windows[i].latency_p50_ms = described.p50;
            windows[i].latency_p99_ms = described.p99;
        }
    }
    return windows;
}

std::vector<Sample> soak_samples(const SoakTimeline& timeline) {
    std::vector<Sample> samples;
    const auto add = [&](std::string metric, double value, std::string unit) {
        samples.push_back(
            {"", std::move(metric), value, std::move(unit), Direction::lower, Gate::no});
    };
    if (!timeline.group.empty()) {
        add("rss_start_kb", static_cast<double>(timeline.group.front().rss_kb), "kB");
        add("rss_end_kb", static_cast<double>(timeline.group.back().rss_kb), "kB");
        add("cpu_s", std::max(0.0, timeline.group.back().cpu_s - timeline.group.front().cpu_s),
            "s");
    }
    std::vector<double> minutes, rss;
    for (const GroupSample& sample : timeline.group) {
        minutes.push_back(sample.t_s / 60.0);
        rss.push_back(static_cast<double>(sample.rss_kb));
    }
    const bool distinct = minutes.size() >= 2 && minutes.front() != minutes.back();
    if (distinct) {
        add("rss_growth_kb_per_min", stats::theil_sen_slope(minutes, rss), "kB/min");
    }
    const std::vector<SoakWindow> windows = soak_windows(timeline);
    if (windows.front().latency_p99_ms && windows.back().latency_p99_ms &&
        *windows.front().latency_p99_ms > 0) {
        add("latency_p99_drift_pct",
            100.0 * (*windows.back().latency_p99_ms / *windows.front().latency_p99_ms - 1.0), "%");
    }
    return samples;
}

void add_soak(const SoakTimeline& timeline, RunResult& result) {
    const std::vector<Sample> soak = soak_samples(timeline);
    result.samples.insert(result.samples.end(), soak.begin(), soak.end());
    result.windows = soak_windows(timeline);
}

} // namespace abtool::runners::publish
