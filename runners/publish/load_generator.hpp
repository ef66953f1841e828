// The publish load generator: sends `count` messages to a server on 127.0.0.1 over `concurrency`
// connections and times each one, on one Boost.Asio io_context (one thread: no locks, and the
// timings are not disturbed by a second thread competing for the workload's cores).
//
// Two modes. burst is closed loop: each connection sends its next message as soon as the reply to
// the last one is in, and latency runs from the send. paced is open loop: message i is due at
// start + i / rate whatever the server does, and its latency runs from that *intended* time, so a
// server that stalls shows the stall in the tail for every message that should have gone out
// meanwhile (no coordinated omission: Gil Tene, "How NOT to measure latency"; wrk2 does the same).
//
// A message with no reply within request_timeout is counted in errors_timeout and its latency,
// the time it waited (request_timeout or more, from its intended time when paced), still goes
// into the latency distribution: a server that freezes for longer than the timeout shows in p99
// and max instead of dropping out of them. Error replies and resets are counted, not timed.
#pragma once

#include "abtool/runners.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace abtool::runners::publish {

struct LoadSpec {
    std::uint16_t port = 0; // on 127.0.0.1
    Protocol protocol = Protocol::http;
    std::string path = "/publish";
    std::string payload; // {seq} is replaced by the message number (0-based)
    PublishMode mode = PublishMode::burst;
    std::size_t count = 0;
    std::size_t concurrency = 1;
    double rate = 0; // paced: messages per second
    std::chrono::milliseconds request_timeout{std::chrono::seconds(5)};
    std::chrono::milliseconds timeout{std::chrono::seconds(300)}; // the whole load
};

struct LoadResult {
    std::vector<double> latency_ms; // per successful or timed-out message, in completion order
    // When each of latency_ms, and each error, was due (paced) or sent (burst), since the load's
    // start: a soak's windows hold the messages due in them, so that a freeze shows in the window
    // it happened in, not in the one where its backlog finally completed.
    std::vector<double> due_s;
    std::vector<double> errors_due_s;
    std::vector<double> send_lag_ms; // paced: how late each message left after its due time
    std::size_t success = 0;
    std::size_t errors_http = 0;    // a reply that is not 2xx (or not a valid reply)
    std::size_t errors_reset = 0;   // refused, reset or closed connections
    std::size_t errors_timeout = 0; // no reply within request_timeout
    std::size_t not_sent = 0;       // the load was stopped (timeout, interrupt) before these
    std::uint64_t bytes_out = 0, bytes_in = 0;
    double duration_s = 0; // first send to last reply
    bool stopped = false;  // timeout or request_stop() ended the load early

    std::size_t errors() const { return errors_http + errors_reset + errors_timeout; }
};

// Replaces every {seq} in `payload_template` by `seq`.
std::string render_payload(const std::string& payload_template, std::size_t seq);

// Runs the whole load; never throws for what the server does (refusals, resets, bad replies and
// timeouts are counted), only for what abtool cannot do itself.
LoadResult generate_load(const LoadSpec& spec);

} // namespace abtool::runners::publish
