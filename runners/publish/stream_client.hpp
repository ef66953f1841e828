// The stream workload's client: opens streaming sessions to a server on 127.0.0.1 and times
// every chunk, on one Boost.Asio io_context (one thread, as the publish load generator: no locks,
// and no second thread competing for the run's cores).
//
// A chunk is timed when the read that completed it returns, on the steady clock, before anything
// parses it: a chunk that arrives late shows late, and chunks that arrive together show together.
// The client adds no pace of its own: its overhead against a server emitting at a known period is
// measured by bench/stream_client_bench.sh.
//
// Sessions run `sessions` at a time. Session 0 runs alone until its first chunk arrives (or it
// ends), so that its first chunk is the server's cold start, measured on an otherwise idle
// server; then the others join. An http-ndjson or sse session ends with its response (sse: or at
// `data: [DONE]`), a websocket session once `expect_chunks` messages are in or the server closes.
#pragma once

#include "abtool/runners.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace abtool::runners::publish {

struct StreamSpec {
    std::uint16_t port = 0; // on 127.0.0.1
    StreamProtocol protocol = StreamProtocol::http_ndjson;
    std::string path = "/stream";
    std::string payload; // {seq} is replaced by the session's number (0-based)
    std::size_t expect_chunks = 1;
    std::size_t sessions = 1;      // at a time
    std::size_t session_count = 1; // in all
    // A soak: sessions are started back to back until this long after the first, whatever
    // session_count says.
    std::optional<std::chrono::milliseconds> duration;
    std::chrono::milliseconds request_timeout{std::chrono::seconds(10)};
    std::chrono::milliseconds chunk_timeout{std::chrono::seconds(5)};
    std::chrono::milliseconds timeout{std::chrono::seconds(300)}; // the whole load
};

// How a session ended.
enum class SessionEnd {
    complete,    // the stream ended as the protocol says
    status,      // the reply was not 2xx, or not a valid HTTP reply / WebSocket handshake
    refused,     // the connection was refused or reset before a reply
    early_close, // the server closed the connection before the stream's end
    timeout,     // request_timeout before the first chunk, or chunk_timeout between two
    stopped      // the load was stopped (its timeout, an interrupt): not the server's doing
};
std::string_view to_string(SessionEnd end);

struct SessionResult {
    double start_s = 0; // since the load's start
    // From the session's start (connect, then the request) to its first chunk.
    std::optional<double> first_chunk_ms;
    double e2e_ms = 0;           // from the session's start to its last chunk (received > 0)
    std::vector<double> gaps_ms; // between consecutive chunks, the first chunk excluded
    std::size_t received = 0;
    std::size_t seq_gaps = 0; // chunks missing between the `seq` fields the chunks carried
    SessionEnd end = SessionEnd::stopped;
    std::string what; // why it did not complete, for messages
    // The chunks this session lost: those it never got, or the gaps in its seq numbers.
    std::size_t lost(std::size_t expected) const;
    bool ok() const { return end == SessionEnd::complete; }
};

struct StreamResult {
    std::vector<SessionResult> sessions;       // in start order: [0] is the cold one
    std::uint64_t bytes_out = 0, bytes_in = 0; // websocket: message payloads
    double duration_s = 0;                     // the first session's start to the last chunk
    bool stopped = false;                      // timeout or request_stop() ended the load early
    std::size_t not_started = 0;               // sessions the stop left out
};

// Runs every session; never throws for what the server does (refusals, bad replies, early
// closes and timeouts are in the sessions' results), only for what abtool cannot do itself.
StreamResult run_streams(const StreamSpec& spec);

// The value of a chunk's "seq" field (a JSON integer), or nullopt. A scan, not a JSON parse:
// it runs for every chunk of a load.
std::optional<long long> seq_of(std::string_view chunk);

} // namespace abtool::runners::publish
