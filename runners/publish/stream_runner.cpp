// One stream run: the ref's server started on a free loopback port as for publish, the streaming
// sessions run against it, the server stopped, and the chunks' timings summarised into the
// stream metrics (DESIGN.md; their names are fixed, scripts and dashboards read them).
#include "abtool/stats.hpp"
#include "runners/publish/server.hpp"
#include "runners/publish/soak.hpp"
#include "runners/publish/stream_client.hpp"
#include "runners/workload_runners.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>

namespace abtool::runners {

namespace {

publish::StreamSpec stream_spec_of(const StreamWorkload& workload, std::uint16_t port) {
    publish::StreamSpec spec;
    spec.port = port;
    spec.protocol = workload.protocol;
    spec.path = workload.path;
    spec.payload = workload.payload;
    spec.expect_chunks = workload.expect_chunks;
    spec.sessions = workload.sessions;
    spec.session_count = workload.total_sessions();
    spec.request_timeout = workload.request_timeout;
    spec.chunk_timeout = workload.chunk_timeout;
    spec.timeout = workload.timeout;
    spec.duration = workload.duration;
    return spec;
}

// The timings of a run's sessions, pooled.
struct Pooled {
    std::vector<double> first_chunk_warm, gaps, e2e;
    std::optional<double> cold;
    std::size_t received = 0, lost = 0, errors = 0, ok = 0;
};

Pooled pool(const StreamWorkload& workload, const publish::StreamResult& streams) {
    Pooled pooled;
    for (std::size_t i = 0; i < streams.sessions.size(); ++i) {
        const publish::SessionResult& session = streams.sessions[i];
        if (session.first_chunk_ms) {
            if (i == 0) {
                pooled.cold = session.first_chunk_ms;
            } else {
                pooled.first_chunk_warm.push_back(*session.first_chunk_ms);
            }
            pooled.e2e.push_back(session.e2e_ms);
        }
        pooled.gaps.insert(pooled.gaps.end(), session.gaps_ms.begin(), session.gaps_ms.end());
        pooled.received += session.received;
        pooled.lost += session.lost(workload.expect_chunks);
        session.ok() ? ++pooled.ok : ++pooled.errors;
    }
    // A run of one session has no warm one: its first chunk stands for both.
    if (pooled.first_chunk_warm.empty() && pooled.cold) {
        pooled.first_chunk_warm.push_back(*pooled.cold);
    }
    return pooled;
}

// p95 of how far each gap strays from the pace: the period when the workload gives one, else the
// run's median gap.
double jitter_p95(const std::vector<double>& gaps, std::optional<double> period_ms) {
    const double pace = period_ms ? *period_ms : stats::median(gaps);
    std::vector<double> deviations;
    deviations.reserve(gaps.size());
    for (const double gap : gaps) {
        deviations.push_back(std::abs(gap - pace));
    }
    return stats::describe(deviations).p95;
}

std::vector<Sample> samples_of(const StreamWorkload& workload,
                               const publish::StreamResult& streams) {
    const Pooled pooled = pool(workload, streams);
    std::vector<Sample> samples;
    const auto add = [&](std::string metric, double value, std::string unit, Direction direction) {
        const Gate gate = gate_of(workload, metric);
        samples.push_back({"", std::move(metric), value, std::move(unit), direction, gate});
    };
    if (!pooled.first_chunk_warm.empty()) {
        const stats::Descriptives first = stats::describe(pooled.first_chunk_warm);
        add("first_chunk_p50_ms", first.p50, "ms", Direction::lower);
        add("first_chunk_p95_ms", first.p95, "ms", Direction::lower);
        add("first_chunk_p99_ms", first.p99, "ms", Direction::lower);
    }
    if (pooled.cold) {
        add("cold_first_chunk_ms", *pooled.cold, "ms", Direction::lower);
    }
    if (!pooled.gaps.empty()) {
        const stats::Descriptives gaps = stats::describe(pooled.gaps);
        add("interval_mean_ms", gaps.mean, "ms", Direction::lower);
        add("interval_p50_ms", gaps.p50, "ms", Direction::lower);
        add("interval_p95_ms", gaps.p95, "ms", Direction::lower);
        add("interval_p99_ms", gaps.p99, "ms", Direction::lower);
        add("jitter_p95_ms", jitter_p95(pooled.gaps, workload.period_ms), "ms", Direction::lower);
        if (workload.period_ms) {
            add("overhead_ms", gaps.mean - *workload.period_ms, "ms", Direction::lower);
        }
    }
    if (!pooled.e2e.empty()) {
        const stats::Descriptives e2e = stats::describe(pooled.e2e);
        add("e2e_p50_ms", e2e.p50, "ms", Direction::lower);
        add("e2e_p95_ms", e2e.p95, "ms", Direction::lower);
    }
    add("chunks_received", static_cast<double>(pooled.received), "chunks", Direction::higher);
    add("chunks_lost", static_cast<double>(pooled.lost), "chunks", Direction::lower);
    if (streams.duration_s > 0) {
        add("throughput_chunks_per_s", static_cast<double>(pooled.received) / streams.duration_s,
            "chunks/s", Direction::higher);
    }
    add("bytes_out", static_cast<double>(streams.bytes_out), "B", Direction::lower);
    add("bytes_in", static_cast<double>(streams.bytes_in), "B", Direction::lower);
    add("errors", static_cast<double>(pooled.errors), "sessions", Direction::lower);
    add("sessions_ok", static_cast<double>(pooled.ok), "sessions", Direction::higher);
    return samples;
}

// The first session that did not complete, for a message: "session 3: timed out (no chunk ...)".
std::string first_failure(const publish::StreamResult& streams) {
    for (std::size_t i = 0; i < streams.sessions.size(); ++i) {
        const publish::SessionResult& session = streams.sessions[i];
        if (!session.ok()) {
            return fmt::format("session {}: {} ({})", i, to_string(session.end), session.what);
        }
    }
    return "none";
}

// The run's samples, or why it has none: as for publish, a run whose server died, whose load was
// cut short or that got no chunk at all reports no samples (their numbers would only blur the
// medians); a run where some sessions failed reports them in `errors` and `chunks_lost`.
void judge_streams(const StreamWorkload& workload, const publish::StreamResult& streams,
                   const std::optional<std::string>& died, const publish::Server& server,
                   RunResult& result) {
    // A soak has no session count to be short of.
    const std::string started =
        workload.duration ? fmt::format("{} sessions started", streams.sessions.size())
                          : fmt::format("{} of {} sessions started", streams.sessions.size(),
                                        workload.total_sessions());
    const bool any_chunk =
        std::any_of(streams.sessions.begin(), streams.sessions.end(),
                    [](const publish::SessionResult& session) { return session.received > 0; });
    if (died) {
        result.error = fmt::format("the server {} during the run ({})", *died, started);
    } else if (streams.stopped && stop_requested()) {
        result.error = "interrupted";
        result.interrupted = true;
    } else if (streams.stopped) {
        result.error =
            fmt::format("the sessions did not finish within the workload's timeout of "
                        "{:.3g} s ({})",
                        std::chrono::duration<double>(workload.timeout).count(), started);
    } else if (!any_chunk) {
        result.error = fmt::format("no session got a chunk; the first failure: {}; server "
                                   "output:\n{}",
                                   first_failure(streams), server.output_tail());
    } else {
        result.samples = samples_of(workload, streams);
    }
}

} // namespace

Gate gate_of(const StreamWorkload& /*workload*/, std::string_view metric) {
    return metric == "first_chunk_p50_ms" || metric == "interval_mean_ms" ? Gate::yes : Gate::no;
}

// A soak's timeline: each session's first chunk and each failed session when the session
// started, as publish's messages when they were due.
publish::SoakTimeline timeline_of(const StreamWorkload& workload,
                                  const publish::StreamResult& streams,
                                  const std::vector<GroupSample>& group) {
    publish::SoakTimeline timeline;
    timeline.duration_s = std::chrono::duration<double>(*workload.duration).count();
    for (const publish::SessionResult& session : streams.sessions) {
        if (session.first_chunk_ms) {
            timeline.latencies.push_back({session.start_s, *session.first_chunk_ms});
        }
        if (!session.ok()) {
            timeline.errors_at_s.push_back(session.start_s);
        }
    }
    timeline.group = group;
    return timeline;
}

RunResult run_stream(const StreamWorkload& workload, const RunContext& context) {
    return publish::run_against_server(
        publish::server_spec_of(workload), context, workload.duration,
        [&](std::uint16_t port) { return publish::run_streams(stream_spec_of(workload, port)); },
        [](const publish::StreamResult& streams) {
            return std::any_of(streams.sessions.begin(), streams.sessions.end(),
                               [](const publish::SessionResult& session) {
                                   return session.end == publish::SessionEnd::refused ||
                                          session.end == publish::SessionEnd::early_close;
                               });
        },
        [&](const publish::StreamResult& streams, const std::vector<GroupSample>& group,
            const std::optional<std::string>& died, const publish::Server& server,
            RunResult& result) {
            judge_streams(workload, streams, died, server, result);
            if (workload.duration && !result.error) {
                publish::add_soak(timeline_of(workload, streams, group), result);
            }
        });
}

} // namespace abtool::runners
