#include "runners/publish/stream_client.hpp"

#include "runners/publish/load_generator.hpp"
#include "runners/publish/load_limits.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <functional>
#include <limits>
#include <memory>
#include <utility>

namespace abtool::runners::publish {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

double ms_between(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double, std::milli>(to - from).count();
}

// What every lane shares. One thread runs the io_context, so plain fields are enough.
struct Shared {
    explicit Shared(const StreamSpec& stream_spec)
        : spec(stream_spec), endpoint(asio::ip::address_v4::loopback(), stream_spec.port) {}

    const StreamSpec& spec;
    asio::io_context io;
    tcp::endpoint endpoint;
    Clock::time_point start;
    Clock::time_point last_chunk;
    std::size_t next_session = 0;
    std::size_t lanes = 0; // sessions that may run at a time, and still will
    bool stopping = false;
    StreamResult result;
    std::function<void()> on_cold_done; // session 0's first chunk is in (or it ended)
    std::function<void()> start_next;   // on a lane whose session ended
    std::vector<std::weak_ptr<class Session>> running;
};

// One session on its own connection. Every handler holds the session (shared_from_this), so a
// handler that a close cancelled still finds it, sees it ended, and does nothing more.
class Session : public std::enable_shared_from_this<Session> {
public:
    Session(Shared& shared, std::size_t index)
        : m_shared(shared), m_deadline(shared.io), m_socket(shared.io), m_index(index) {}

    void start() {
        m_shared.result.sessions.emplace_back();
        m_began = Clock::now();
        session().start_s = std::chrono::duration<double>(m_began - m_shared.start).count();
        m_last = m_began;
        arm(spec().request_timeout);
        m_socket.async_connect(m_shared.endpoint,
                               [this, self = shared_from_this()](const error_code& ec) {
                                   if (m_ended) {
                                       return;
                                   }
                                   if (ec) {
                                       fail(SessionEnd::refused, "connect: " + ec.message());
                                       return;
                                   }
                                   error_code ignored;
                                   m_socket.set_option(tcp::no_delay(true), ignored);
                                   if (spec().protocol == StreamProtocol::websocket) {
                                       ws_handshake();
                                   } else {
                                       http_request();
                                   }
                               });
    }

    void stop() { close(); }

private:
    const StreamSpec& spec() const { return m_shared.spec; }
    SessionResult& session() { return m_shared.result.sessions[m_index]; }

    // The session's deadline: request_timeout to its first chunk, chunk_timeout after each.
    void arm(std::chrono::milliseconds timeout) {
        const std::uint64_t generation = ++m_generation;
        m_deadline.expires_after(timeout);
        m_deadline.async_wait([this, self = shared_from_this(), generation](const error_code& ec) {
            // The generation check drops a wake-up that was queued before the chunk came in.
            if (!ec && generation == m_generation && !m_ended) {
                m_timed_out = true;
                close();
            }
        });
    }

    void close() {
        error_code ignored;
        if (m_ws) {
            beast::get_lowest_layer(*m_ws).close(ignored);
        } else {
            m_socket.close(ignored);
        }
    }

    // ---- http-ndjson and sse ----

    void http_request() {
        const std::string body = render_payload(spec().payload, m_index);
        m_request = fmt::format("POST {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nUser-Agent: abtool\r\n"
                                "Content-Type: application/json\r\nAccept: {}\r\n"
                                "Content-Length: {}\r\nConnection: close\r\n\r\n{}",
                                spec().path, spec().port,
                                spec().protocol == StreamProtocol::sse ? "text/event-stream"
                                                                       : "application/x-ndjson",
                                body.size(), body);
        m_parser.emplace();
        m_parser->eager(true);
        m_parser->body_limit(boost::none); // a long stream is read as it comes, never held whole
        asio::async_write(
            m_socket, asio::buffer(m_request),
            [this, self = shared_from_this()](const error_code& ec, std::size_t written) {
                m_shared.result.bytes_out += written;
                if (m_ended) {
                    return;
                }
                if (ec) {
                    fail(SessionEnd::refused, "sending the request: " + ec.message());
                    return;
                }
                http_read();
            });
    }

    void http_read() {
        m_socket.async_read_some(asio::buffer(m_read), [this, self = shared_from_this()](
                                                           const error_code& ec, std::size_t size) {
            const Clock::time_point arrived = Clock::now(); // before anything is parsed
            m_shared.result.bytes_in += size;
            if (m_ended) {
                return;
            }
            if (ec && ec != asio::error::eof) {
                fail(m_parser->is_header_done() ? SessionEnd::early_close : SessionEnd::refused,
                     ec.message());
                return;
            }
            m_pending.append(m_read.data(), size);
            if (!http_feed(arrived) || m_ended) {
                return;
            }
            if (ec == asio::error::eof) {
                http_eof(arrived);
                return;
            }
            if (m_parser->is_done()) {
                text(arrived, true);
                complete();
                return;
            }
            http_read();
        });
    }

    // Parses what has arrived; false when the session ended (a bad reply).
    bool http_feed(Clock::time_point arrived) {
        while (!m_pending.empty() && !m_parser->is_done()) {
            error_code ec;
            const std::size_t used =
                m_parser->put(asio::buffer(m_pending.data(), m_pending.size()), ec);
            m_pending.erase(0, used);
            if (ec && ec != http::error::need_more) {
                fail(SessionEnd::status, "a reply that is not valid HTTP: " + ec.message());
                return false;
            }
            if (m_parser->is_header_done() && !m_status_checked) {
                m_status_checked = true;
                const unsigned status = m_parser->get().result_int();
                if (status < 200 || status >= 300) {
                    fail(SessionEnd::status, fmt::format("HTTP status {}", status));
                    return false;
                }
            }
            text(arrived, false);
            if (m_ended || ec == http::error::need_more) {
                return true; // need_more: an element is incomplete, the parser wants it again
            }
        }
        return true;
    }

    void http_eof(Clock::time_point arrived) {
        if (!m_parser->is_header_done()) {
            fail(SessionEnd::status, "the server closed the connection without a reply");
            return;
        }
        error_code ec;
        m_parser->put_eof(ec); // a body that runs to the close ends here; any other is cut short
        if (ec) {
            fail(SessionEnd::early_close, "the server closed the connection mid-stream");
            return;
        }
        text(arrived, true);
        complete();
    }

    // Takes the body parsed so far, line by line. `at_end`: the body is complete, and a last line
    // without its newline is a chunk too.
    void text(Clock::time_point arrived, bool at_end) {
        std::string& body = m_parser->get().body();
        m_text += body;
        body.clear();
        std::size_t from = 0;
        for (std::size_t eol = m_text.find('\n'); eol != std::string::npos && !m_ended;
             eol = m_text.find('\n', from)) {
            std::string_view line(m_text.data() + from, eol - from);
            from = eol + 1;
            if (!line.empty() && line.back() == '\r') {
                line.remove_suffix(1);
            }
            this->line(line, arrived);
        }
        m_text.erase(0, from);
        if (at_end && !m_text.empty() && !m_ended) {
            line(m_text, arrived);
            m_text.clear();
            line("", arrived); // an sse event the close ended
        }
    }

    void line(std::string_view line, Clock::time_point arrived) {
        if (spec().protocol == StreamProtocol::http_ndjson) {
            if (!line.empty()) {
                chunk(line, arrived);
            }
            return;
        }
        // Server-Sent Events: `data:` lines make an event, a blank line dispatches it.
        if (line.empty()) {
            if (m_event == "[DONE]") {
                complete();
            } else if (!m_event.empty()) {
                chunk(m_event, arrived);
            }
            m_event.clear();
        } else if (line.rfind("data:", 0) == 0) {
            line.remove_prefix(5);
            if (!line.empty() && line.front() == ' ') {
                line.remove_prefix(1);
            }
            if (!m_event.empty()) {
                m_event += '\n';
            }
            m_event += line;
        }
    }

    // ---- websocket ----

    void ws_handshake() {
        m_ws.emplace(std::move(m_socket));
        m_ws->async_handshake(
            fmt::format("127.0.0.1:{}", spec().port), spec().path,
            [this, self = shared_from_this()](const error_code& ec) {
                if (m_ended) {
                    return;
                }
                if (ec) {
                    fail(SessionEnd::status, "WebSocket handshake: " + ec.message());
                    return;
                }
                m_request = render_payload(spec().payload, m_index);
                m_ws->text(true);
                m_ws->async_write(asio::buffer(m_request),
                                  [this, self](const error_code& error, std::size_t written) {
                                      m_shared.result.bytes_out += written;
                                      if (m_ended) {
                                          return;
                                      }
                                      if (error) {
                                          fail(SessionEnd::early_close, error.message());
                                          return;
                                      }
                                      ws_read();
                                  });
            });
    }

    void ws_read() {
        m_ws->async_read(
            m_buffer, [this, self = shared_from_this()](const error_code& ec, std::size_t size) {
                const Clock::time_point arrived = Clock::now();
                if (m_ended) {
                    return;
                }
                if (ec == websocket::error::closed) {
                    complete(); // the server closed the stream
                    return;
                }
                if (ec) {
                    fail(SessionEnd::early_close, "the WebSocket ended: " + ec.message());
                    return;
                }
                m_shared.result.bytes_in += size;
                const std::string message = beast::buffers_to_string(m_buffer.data());
                m_buffer.consume(m_buffer.size());
                chunk(message, arrived);
                if (m_ended) {
                    return;
                }
                if (session().received >= spec().expect_chunks) {
                    complete();
                    return;
                }
                ws_read();
            });
    }

    // ---- every protocol ----

    void chunk(std::string_view text, Clock::time_point arrived) {
        SessionResult& result = session();
        ++result.received;
        if (result.received == 1) {
            result.first_chunk_ms = ms_between(m_began, arrived);
        } else {
            result.gaps_ms.push_back(ms_between(m_last, arrived));
        }
        m_last = arrived;
        if (const std::optional<long long> seq = seq_of(text)) {
            if (m_last_seq && *seq > *m_last_seq + 1) {
                result.seq_gaps += static_cast<std::size_t>(*seq - *m_last_seq - 1);
            }
            if (!m_last_seq || *seq > *m_last_seq) {
                m_last_seq = seq;
            }
        }
        arm(spec().chunk_timeout);
        if (m_index == 0) {
            cold_done(); // the cold start is measured: the other lanes start
        }
    }

    // Once: moved out first, as the call may start sessions that end at once and come back here.
    void cold_done() {
        if (std::function<void()> release = std::exchange(m_shared.on_cold_done, nullptr)) {
            release();
        }
    }

    void complete() { end(SessionEnd::complete, {}); }

    void fail(SessionEnd how, std::string what) {
        if (m_timed_out) {
            end(SessionEnd::timeout,
                session().received == 0
                    ? fmt::format("no chunk within request_timeout ({} ms)",
                                  spec().request_timeout.count())
                    : fmt::format("no chunk for chunk_timeout ({} ms) after chunk {}",
                                  spec().chunk_timeout.count(), session().received));
        } else if (m_shared.stopping) {
            end(SessionEnd::stopped, "the load was stopped");
        } else {
            end(how, std::move(what));
        }
    }

    void end(SessionEnd how, std::string what) {
        if (m_ended) {
            return;
        }
        m_ended = true;
        ++m_generation;
        m_deadline.cancel();
        SessionResult& result = session();
        result.end = how;
        result.what = std::move(what);
        if (result.received > 0) {
            result.e2e_ms = ms_between(m_began, m_last);
            m_shared.last_chunk = std::max(m_shared.last_chunk, m_last);
        }
        close();
        if (m_index == 0) {
            cold_done(); // a cold session that never got a chunk holds no one
        }
        m_shared.start_next();
    }

    Shared& m_shared;
    asio::steady_timer m_deadline;
    tcp::socket m_socket; // moved into m_ws for a WebSocket
    std::optional<websocket::stream<tcp::socket>> m_ws;
    std::optional<http::response_parser<http::string_body>> m_parser;
    std::array<char, 16384> m_read{};
    beast::flat_buffer m_buffer;
    std::string m_request;
    std::string m_pending; // bytes the HTTP parser has not taken yet
    std::string m_text;    // body text not yet split into lines
    std::string m_event;   // sse: the data of the event being read
    std::size_t m_index = 0;
    Clock::time_point m_began, m_last;
    std::optional<long long> m_last_seq;
    std::uint64_t m_generation = 0;
    bool m_status_checked = false;
    bool m_timed_out = false;
    bool m_ended = false;
};

} // namespace

std::string_view to_string(SessionEnd end) {
    switch (end) {
    case SessionEnd::complete:
        return "complete";
    case SessionEnd::status:
        return "bad reply";
    case SessionEnd::refused:
        return "refused";
    case SessionEnd::early_close:
        return "closed early";
    case SessionEnd::timeout:
        return "timed out";
    case SessionEnd::stopped:
        return "stopped";
    }
    return "?";
}

std::size_t SessionResult::lost(std::size_t expected) const {
    return std::max(expected > received ? expected - received : 0, seq_gaps);
}

std::optional<long long> seq_of(std::string_view chunk) {
    const std::size_t key = chunk.find("\"seq\"");
    if (key == std::string_view::npos) {
        return std::nullopt;
    }
    std::size_t at = key + 5;
    while (at < chunk.size() && (chunk[at] == ' ' || chunk[at] == '\t' || chunk[at] == ':')) {
        ++at;
    }
    if (at >= chunk.size() || (std::isdigit(static_cast<unsigned char>(chunk[at])) == 0)) {
        return std::nullopt;
    }
    long long value = 0;
    for (; at < chunk.size() && std::isdigit(static_cast<unsigned char>(chunk[at])) != 0; ++at) {
        if (value > (std::numeric_limits<long long>::max() - 9) / 10) {
            return std::nullopt;
        }
        value = value * 10 + (chunk[at] - '0');
    }
    return value;
}

StreamResult run_streams(const StreamSpec& spec) {
    Shared shared(spec);
    if (!spec.duration) {
        shared.result.sessions.reserve(spec.session_count);
    }
    LoadLimits limits(
        shared.io, spec.timeout, [&] { return shared.lanes > 0; },
        [&] {
            shared.stopping = true;
            shared.result.stopped = true;
            for (const std::weak_ptr<Session>& running : shared.running) {
                if (const std::shared_ptr<Session> session = running.lock()) {
                    session->stop();
                }
            }
        });
    const auto more = [&] {
        return spec.duration ? Clock::now() - shared.start < *spec.duration
                             : shared.next_session < spec.session_count;
    };
    shared.start_next = [&] {
        if (shared.stopping || !more()) {
            if (--shared.lanes == 0) {
                limits.done();
            }
            return;
        }
        auto session = std::make_shared<Session>(shared, shared.next_session++);
        std::erase_if(shared.running, [](const std::weak_ptr<Session>& s) { return s.expired(); });
        shared.running.push_back(session);
        session->start();
    };
    // The other lanes start once the cold session has its first chunk (or has ended).
    const std::size_t lanes = std::max<std::size_t>(
        1, spec.duration ? spec.sessions : std::min(spec.sessions, spec.session_count));
    shared.on_cold_done = [&] {
        for (std::size_t i = 1; i < lanes; ++i) {
            shared.start_next();
        }
    };
    shared.lanes = lanes;
    shared.start = Clock::now();
    shared.last_chunk = shared.start;
    shared.start_next();
    shared.io.run();

    StreamResult result = std::move(shared.result);
    result.duration_s = std::chrono::duration<double>(shared.last_chunk - shared.start).count();
    if (!spec.duration) {
        result.not_started =
            spec.session_count - std::min(spec.session_count, result.sessions.size());
    }
    return result;
}

} // namespace abtool::runners::publish
