// One publish run: the ref's server started on a free loopback port, the load sent to it, the
// server stopped, and the load's timings summarised into DESIGN.md's mandatory metrics.
#include "abtool/stats.hpp"
#include "runners/publish/load_generator.hpp"
#include "runners/publish/server.hpp"
#include "runners/publish/soak.hpp"
#include "runners/workload_runners.hpp"

#include <fmt/format.h>

#include <optional>

namespace abtool::runners {

namespace {

std::vector<Sample> samples_of(const PublishWorkload& workload, const publish::LoadResult& load) {
    std::vector<Sample> samples;
    const auto add = [&](std::string metric, double value, std::string unit, Direction direction) {
        const Gate gate = gate_of(workload, metric);
        samples.push_back({"", std::move(metric), value, std::move(unit), direction, gate});
    };
    // Latency over the messages that got a good reply or timed out (a timed-out one counts the
    // time it waited: load_generator.hpp); with none there is no latency to report (a zero would
    // read as "infinitely fast"), and the errors say why.
    if (!load.latency_ms.empty()) {
        const stats::Descriptives latency = stats::describe(load.latency_ms);
        add("latency_p50_ms", latency.p50, "ms", Direction::lower);
        add("latency_min_ms", latency.min, "ms", Direction::lower);
        add("latency_p95_ms", latency.p95, "ms", Direction::lower);
        add("latency_p99_ms", latency.p99, "ms", Direction::lower);
        add("latency_max_ms", latency.max, "ms", Direction::lower);
        add("latency_mean_ms", latency.mean, "ms", Direction::lower);
        add("latency_stddev_ms", latency.stddev, "ms", Direction::lower);
    }
    if (load.duration_s > 0) {
        add("throughput_rps", static_cast<double>(load.success) / load.duration_s, "rps",
            Direction::higher);
    }
    add("bytes_out", static_cast<double>(load.bytes_out), "B", Direction::lower);
    add("bytes_in", static_cast<double>(load.bytes_in), "B", Direction::lower);
    add("success", static_cast<double>(load.success), "msgs", Direction::higher);
    add("errors", static_cast<double>(load.errors()), "msgs", Direction::lower);
    add("errors_http", static_cast<double>(load.errors_http), "msgs", Direction::lower);
    add("errors_reset", static_cast<double>(load.errors_reset), "msgs", Direction::lower);
    add("errors_timeout", static_cast<double>(load.errors_timeout), "msgs", Direction::lower);
    if (workload.mode == PublishMode::paced && !load.send_lag_ms.empty()) {
        // How late messages left after their due time: near zero when the generator and the
        // connections keep up with `rate`; large when they could not, which the latencies
        // (measured from the due time) already include.
        add("send_lag_p99_ms", stats::describe(load.send_lag_ms).p99, "ms", Direction::lower);
    }
    return samples;
}

publish::LoadSpec load_spec_of(const PublishWorkload& workload, std::uint16_t port) {
    publish::LoadSpec spec;
    spec.port = port;
    spec.protocol = workload.protocol;
    spec.path = workload.path;
    spec.payload = workload.payload;
    spec.mode = workload.mode;
    spec.count = workload.messages(); // a soak: `rate` a second for its duration (paced only)
    spec.concurrency = workload.concurrency;
    spec.rate = workload.rate;
    spec.request_timeout = workload.request_timeout;
    spec.timeout = workload.timeout;
    return spec;
}

// The run's samples, or why it has none. A failed run reports no samples, as a failed command
// run does: numbers from a server that died half way, a cut-off load or a server that refused
// everything would only blur the medians. The error is counted per side (errors_a/errors_b) and
// kept in samples.jsonl.
void judge_load(const PublishWorkload& workload, const publish::LoadResult& load,
                const std::optional<std::string>& died, const publish::Server& server,
                RunResult& result) {
    if (died) {
        result.error = fmt::format("the server {} during the run ({} of {} messages answered)",
                                   *died, load.success, workload.messages());
    } else if (load.stopped && stop_requested()) {
        // Only a load the stop actually cut short is interrupted: one that had finished when the
        // request came (e.g. while the server was being stopped) is a measurement and is kept.
        result.error = "interrupted";
        result.interrupted = true;
    } else if (load.stopped) {
        result.error =
            fmt::format("the load did not finish within the workload's timeout of {:.3g} s "
                        "({} of {} messages sent)",
                        std::chrono::duration<double>(workload.timeout).count(),
                        workload.messages() - load.not_sent, workload.messages());
    } else if (load.success == 0) {
        result.error = fmt::format(
            "no message got a 2xx reply: {} error replies, {} refused or reset, {} timed out; "
            "server output:\n{}",
            load.errors_http, load.errors_reset, load.errors_timeout, server.output_tail());
    } else {
        result.samples = samples_of(workload, load);
    }
}

} // namespace

Gate gate_of(const PublishWorkload& /*workload*/, std::string_view metric) {
    return metric == "latency_p50_ms" || metric == "throughput_rps" ? Gate::yes : Gate::no;
}

RunResult run_publish(const PublishWorkload& workload, const RunContext& context) {
    return publish::run_against_server(
        publish::server_spec_of(workload), context, workload.duration,
        [&](std::uint16_t port) { return publish::generate_load(load_spec_of(workload, port)); },
        [](const publish::LoadResult& load) { return load.errors_reset > 0; },
        [&](const publish::LoadResult& load, const std::vector<GroupSample>& group,
            const std::optional<std::string>& died, const publish::Server& server,
            RunResult& result) {
            judge_load(workload, load, died, server, result);
            if (workload.duration && !result.error) {
                publish::SoakTimeline timeline;
                timeline.duration_s = std::chrono::duration<double>(*workload.duration).count();
                for (std::size_t i = 0; i < load.latency_ms.size(); ++i) {
                    timeline.latencies.push_back({load.due_s[i], load.latency_ms[i]});
                }
                timeline.errors_at_s = load.errors_due_s;
                timeline.group = group;
                publish::add_soak(timeline, result);
            }
        });
}

} // namespace abtool::runners
