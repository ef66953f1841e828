#include "runners/publish/load_generator.hpp"

#include "runners/publish/load_limits.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <fmt/format.h>

#include <memory>
#include <optional>
#include <sys/prctl.h>

namespace abtool::runners::publish {

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

double ms_between(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double, std::milli>(to - from).count();
}

// What every connection shares. One thread runs the io_context, so plain fields are enough.
struct Shared {
    explicit Shared(const LoadSpec& load_spec)
        : spec(load_spec), endpoint(asio::ip::address_v4::loopback(), load_spec.port) {}

    const LoadSpec& spec;
    asio::io_context io;
    tcp::endpoint endpoint;
    Clock::time_point start;
    Clock::time_point last_reply;
    std::size_t next_seq = 0;
    std::size_t active = 0; // connections with messages still to send
    bool stopping = false;
    LoadResult result;
    std::function<void()> on_all_done;
};

// One connection: sends a message, waits for its reply, sends the next. For `http` it connects
// anew per message; for `http-keepalive` and `tcp` it keeps the connection and reconnects only
// after an error or when the server closes it.
class Connection {
public:
    explicit Connection(Shared& shared)
        : m_shared(shared), m_socket(shared.io), m_deadline(shared.io), m_pace(shared.io) {}

    void start() { next(); }

    void stop() {
        error_code ignored;
        m_pace.cancel();
        m_deadline.cancel();
        m_socket.close(ignored);
    }

private:
    const LoadSpec& spec() const { return m_shared.spec; }

    void next() {
        if (m_shared.stopping || m_shared.next_seq >= spec().count) {
            finish();
            return;
        }
        m_seq = m_shared.next_seq++;
        if (spec().mode == PublishMode::paced) {
            m_due = m_shared.start +
                    std::chrono::duration_cast<Clock::duration>(
                        std::chrono::duration<double>(static_cast<double>(m_seq) / spec().rate));
            if (m_due > Clock::now()) {
                m_pace.expires_at(m_due);
                m_pace.async_wait([this](const error_code& ec) {
                    if (!ec && !m_shared.stopping) {
                        send();
                    } else {
                        finish();
                    }
                });
                return;
            }
        }
        send();
    }

    void send() {
        const Clock::time_point now = Clock::now();
        if (spec().mode == PublishMode::paced) {
            m_shared.result.send_lag_ms.push_back(ms_between(m_due, now));
        } else {
            m_due = now; // closed loop: latency runs from the send
        }
        m_in_flight = true;
        m_timed_out = false;
        const std::uint64_t generation = ++m_generation;
        m_deadline.expires_after(spec().request_timeout);
        m_deadline.async_wait([this, generation](const error_code& ec) {
            // The generation check drops a wake-up that was already queued when the reply came in.
            if (!ec && generation == m_generation && m_in_flight) {
                m_timed_out = true;
                error_code ignored;
                m_socket.close(ignored);
            }
        });
        if (m_socket.is_open()) {
            write();
        } else {
            connect();
        }
    }

    void connect() {
        m_buffer.clear();
        m_line.clear();
        m_socket.async_connect(m_shared.endpoint, [this](const error_code& ec) {
            if (ec) {
                fail();
                return;
            }
            error_code ignored;
            m_socket.set_option(tcp::no_delay(true), ignored);
            write();
        });
    }

    void write() {
        const std::string body = render_payload(spec().payload, m_seq);
        if (spec().protocol == Protocol::tcp) {
            m_request = body + "\n";
        } else {
            m_request =
                fmt::format("POST {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nUser-Agent: abtool\r\n"
                            "Content-Type: application/json\r\nContent-Length: {}\r\n"
                            "Connection: {}\r\n\r\n{}",
                            spec().path, spec().port, body.size(),
                            spec().protocol == Protocol::http ? "close" : "keep-alive", body);
        }
        asio::async_write(m_socket, asio::buffer(m_request),
                          [this](const error_code& ec, std::size_t written) {
                              m_shared.result.bytes_out += written;
                              if (ec) {
                                  fail();
                                  return;
                              }
                              read();
                          });
    }

    void read() {
        if (spec().protocol == Protocol::tcp) {
            asio::async_read_until(m_socket, asio::dynamic_buffer(m_line), '\n',
                                   [this](const error_code& ec, std::size_t line_size) {
                                       if (ec) {
                                           fail();
                                           return;
                                       }
                                       m_shared.result.bytes_in += line_size;
                                       m_line.erase(0, line_size);
                                       done(true);
                                   });
            return;
        }
        m_parser.emplace();
        m_parser->body_limit(64 * 1024 * 1024);
        http::async_read(m_socket, m_buffer, *m_parser,
                         [this](const error_code& ec, std::size_t read_size) {
                             m_shared.result.bytes_in += read_size;
                             if (ec) {
                                 fail();
                                 return;
                             }
                             const auto& response = m_parser->get();
                             if (spec().protocol == Protocol::http || !response.keep_alive()) {
                                 error_code ignored;
                                 m_socket.close(ignored);
                             }
                             const unsigned status = response.result_int();
                             done(status >= 200 && status < 300);
                         });
    }

    void done(bool ok) {
        const Clock::time_point now = Clock::now();
        m_in_flight = false;
        m_deadline.cancel();
        if (ok) {
            m_shared.result.latency_ms.push_back(ms_between(m_due, now));
            m_shared.result.due_s.push_back(ms_between(m_shared.start, m_due) / 1000);
            ++m_shared.result.success;
        } else {
            ++m_shared.result.errors_http;
            m_shared.result.errors_due_s.push_back(ms_between(m_shared.start, m_due) / 1000);
        }
        m_shared.last_reply = now;
        next();
    }

    void fail() {
        const bool timed_out = m_timed_out;
        m_in_flight = false;
        m_deadline.cancel();
        error_code ignored;
        m_socket.close(ignored);
        if (m_shared.stopping && !timed_out) {
            // Cut off by the end of the load, not by the server: neither a reply nor an error.
            finish();
            return;
        }
        const Clock::time_point now = Clock::now();
        if (timed_out) {
            // Counted as an error and timed too: its latency is the time it waited, at least
            // request_timeout (from its due time when paced). Left out, a server frozen for
            // longer than request_timeout would vanish from the tail it should dominate.
            ++m_shared.result.errors_timeout;
            m_shared.result.latency_ms.push_back(ms_between(m_due, now));
            m_shared.result.due_s.push_back(ms_between(m_shared.start, m_due) / 1000);
        } else {
            ++m_shared.result.errors_reset;
        }
        m_shared.result.errors_due_s.push_back(ms_between(m_shared.start, m_due) / 1000);
        m_shared.last_reply = Clock::now();
        next();
    }

    void finish() {
        if (m_finished) {
            return;
        }
        m_finished = true;
        error_code ignored;
        m_socket.close(ignored);
        m_deadline.cancel();
        if (--m_shared.active == 0 && m_shared.on_all_done) {
            m_shared.on_all_done();
        }
    }

    Shared& m_shared;
    tcp::socket m_socket;
    asio::steady_timer m_deadline; // the reply to the message in flight is due by then
    asio::steady_timer m_pace;     // paced: waits for the next message's due time
    boost::beast::flat_buffer m_buffer;
    std::optional<http::response_parser<http::string_body>> m_parser;
    std::string m_line;
    std::string m_request;
    std::size_t m_seq = 0;
    Clock::time_point m_due;
    std::uint64_t m_generation = 0;
    bool m_in_flight = false;
    bool m_timed_out = false;
    bool m_finished = false;
};

} // namespace

std::string render_payload(const std::string& payload_template, std::size_t seq) {
    static constexpr std::string_view k_placeholder = "{seq}";
    std::string out;
    out.reserve(payload_template.size() + 16);
    std::size_t from = 0;
    for (std::size_t at = payload_template.find(k_placeholder); at != std::string::npos;
         at = payload_template.find(k_placeholder, from)) {
        out.append(payload_template, from, at - from);
        out += std::to_string(seq);
        from = at + k_placeholder.size();
    }
    out.append(payload_template, from, std::string::npos);
    return out;
}

LoadResult generate_load(const LoadSpec& spec) {
    Shared shared(spec);
    shared.result.latency_ms.reserve(spec.count);
    shared.result.due_s.reserve(spec.count);
    if (spec.mode == PublishMode::paced) {
        shared.result.send_lag_ms.reserve(spec.count);
    }
    const std::size_t connections =
        std::max<std::size_t>(1, std::min(spec.concurrency, spec.count));
    std::vector<std::unique_ptr<Connection>> pool;
    for (std::size_t i = 0; i < connections; ++i) {
        pool.push_back(std::make_unique<Connection>(shared));
    }

    LoadLimits limits(
        shared.io, spec.timeout, [&] { return shared.active > 0; },
        [&] {
            shared.stopping = true;
            shared.result.stopped = true;
            for (auto& connection : pool) {
                connection->stop();
            }
        });
    shared.on_all_done = [&] {
        limits.done();
    };

    // Paced sends wake on timers: the kernel's default 50 us timer slack would add up to that
    // much to every send time, so this thread asks for none while the load runs.
    const int slack_ns = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

    shared.active = pool.size();
    shared.start = Clock::now();
    shared.last_reply = shared.start;
    for (auto& connection : pool) {
        connection->start();
    }
    shared.io.run();
    if (slack_ns > 0) {
        prctl(PR_SET_TIMERSLACK, static_cast<unsigned long>(slack_ns), 0, 0, 0);
    }

    LoadResult result = std::move(shared.result);
    result.duration_s = std::chrono::duration<double>(shared.last_reply - shared.start).count();
    result.not_sent = spec.count - std::min(spec.count, result.success + result.errors());
    return result;
}

} // namespace abtool::runners::publish
