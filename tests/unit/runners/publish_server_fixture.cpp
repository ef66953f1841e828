// A real server for the publish runner's tests, on 127.0.0.1, one thread per connection.
//   publish_server_fixture --port N [--protocol http|tcp] [--delay-us N] [--fail-every K]
//                          [--crash-after N] [--freeze-at K --freeze-ms N] [--never-listen]
// http: answers each POST with 200 and {"ok":true} (500 for every K-th request with
// --fail-every K, every one with K = 1), keeping the connection unless asked to close. tcp: one
// reply line per request line. --delay-us adds work per message (the "slow server"),
// --crash-after aborts on the N-th request, --freeze-at stalls every connection once for
// --freeze-ms starting at the K-th request, --never-listen prints and sleeps without listening.
#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace {

struct Options {
    int port = 0;
    bool tcp = false;
    long delay_us = 0;
    long fail_every = 0;
    long crash_after = 0;
    long freeze_at = 0;
    long freeze_ms = 0;
    bool never_listen = false;
};

Options g_options;
std::atomic<long> g_requests{0};
std::atomic<long long> g_frozen_until_ns{0};

long long now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Called once per request; returns the status to answer with.
int on_request() {
    const long number = ++g_requests;
    if (g_options.crash_after > 0 && number >= g_options.crash_after) {
        // Exactly the crash_after-th request crashes the server: with concurrent connections a
        // later one could otherwise reach abort() first and name itself.
        if (number == g_options.crash_after) {
            std::fprintf(stderr, "fixture: crashing on request %ld\n", number);
            std::abort();
        }
        std::this_thread::sleep_for(std::chrono::hours(1)); // the crash is on its way
    }
    if (g_options.freeze_at > 0 && number == g_options.freeze_at) {
        g_frozen_until_ns = now_ns() + g_options.freeze_ms * 1'000'000LL;
    }
    const long long frozen_until = g_frozen_until_ns.load();
    if (frozen_until > now_ns()) {
        std::this_thread::sleep_for(std::chrono::nanoseconds(frozen_until - now_ns()));
    }
    if (g_options.delay_us > 0) {
        // Busy work rather than sleep: a slower code path, as a real regression would be.
        const auto until =
            std::chrono::steady_clock::now() + std::chrono::microseconds(g_options.delay_us);
        while (std::chrono::steady_clock::now() < until) {
        }
    }
    return g_options.fail_every > 0 && number % g_options.fail_every == 0 ? 500 : 200;
}

bool send_all(int fd, const std::string& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
        const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) {
            return false;
        }
        sent += static_cast<std::size_t>(n);
    }
    return true;
}

void serve_tcp(int fd) {
    std::string buffer;
    char chunk[4096];
    while (true) {
        const auto newline = buffer.find('\n');
        if (newline != std::string::npos) {
            buffer.erase(0, newline + 1);
            const int status = on_request();
            if (!send_all(fd, status == 200 ? "ok\n" : "error\n")) {
                return;
            }
            continue;
        }
        const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) {
            return;
        }
        buffer.append(chunk, static_cast<std::size_t>(n));
    }
}

void serve_http(int fd) {
    std::string buffer;
    char chunk[4096];
    while (true) {
        const auto head_end = buffer.find("\r\n\r\n");
        if (head_end == std::string::npos) {
            const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
            if (n <= 0) {
                return;
            }
            buffer.append(chunk, static_cast<std::size_t>(n));
            continue;
        }
        const std::string head = buffer.substr(0, head_end);
        std::size_t length = 0;
        if (const auto at = head.find("Content-Length: "); at != std::string::npos) {
            length = std::strtoul(head.c_str() + at + 16, nullptr, 10);
        }
        while (buffer.size() < head_end + 4 + length) {
            const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
            if (n <= 0) {
                return;
            }
            buffer.append(chunk, static_cast<std::size_t>(n));
        }
        buffer.erase(0, head_end + 4 + length);
        const bool close_after = head.find("Connection: close") != std::string::npos;
        const int status = on_request();
        const std::string body = status == 200 ? "{\"ok\":true}" : "{\"ok\":false}";
        const std::string response =
            std::string("HTTP/1.1 ") + (status == 200 ? "200 OK" : "500 Internal Server Error") +
            "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
            (close_after ? "\r\nConnection: close" : "\r\nConnection: keep-alive") + "\r\n\r\n" +
            body;
        if (!send_all(fd, response) || close_after) {
            return;
        }
    }
}

} // namespace

int main(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const auto value = [&] {
            return i + 1 < argc ? std::atol(argv[++i]) : 0L;
        };
        if (arg == "--port") {
            g_options.port = static_cast<int>(value());
        } else if (arg == "--protocol") {
            g_options.tcp = i + 1 < argc && std::string(argv[++i]) == "tcp";
        } else if (arg == "--delay-us") {
            g_options.delay_us = value();
        } else if (arg == "--fail-every") {
            g_options.fail_every = value();
        } else if (arg == "--crash-after") {
            g_options.crash_after = value();
        } else if (arg == "--freeze-at") {
            g_options.freeze_at = value();
        } else if (arg == "--freeze-ms") {
            g_options.freeze_ms = value();
        } else if (arg == "--never-listen") {
            g_options.never_listen = true;
        } else {
            std::fprintf(stderr, "fixture: unknown argument %s\n", arg.c_str());
            return 2;
        }
    }
    std::signal(SIGPIPE, SIG_IGN);
    if (g_options.never_listen) {
        std::printf("fixture: warming up forever on port %d\n", g_options.port);
        std::fflush(stdout);
        while (true) {
            pause();
        }
    }
    const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    const int yes = 1;
    ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(g_options.port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener, 128) != 0) {
        std::fprintf(stderr, "fixture: cannot listen on 127.0.0.1:%d: %s\n", g_options.port,
                     std::strerror(errno));
        return 1;
    }
    std::printf("fixture: listening on 127.0.0.1:%d\n", g_options.port);
    std::fflush(stdout);
    while (true) {
        const int fd = ::accept(listener, nullptr, nullptr);
        if (fd < 0) {
            continue;
        }
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
        std::thread([fd] {
            if (g_options.tcp) {
                serve_tcp(fd);
            } else {
                serve_http(fd);
            }
            ::close(fd);
        }).detach();
    }
}
