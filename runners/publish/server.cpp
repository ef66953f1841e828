#include "runners/publish/server.hpp"

#include "runners/workload_runners.hpp"

#include "abtool/error.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace abtool::runners::publish {

namespace {

class Socket {
public:
    Socket() : m_fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {}
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    ~Socket() {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
    }
    int fd() const { return m_fd; }

private:
    int m_fd;
};

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
}

bool accepts_connections(std::uint16_t port) {
    Socket socket;
    const sockaddr_in address = loopback(port);
    return socket.fd() >= 0 &&
           ::connect(socket.fd(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
}

// GET `path`: true on a 2xx status line. Loopback connects and answers at once or not at all;
// the 1 s poll only guards against a server that accepts and never answers.
bool answers_2xx(std::uint16_t port, const std::string& path) {
    Socket socket;
    const sockaddr_in address = loopback(port);
    if (socket.fd() < 0 ||
        ::connect(socket.fd(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        return false;
    }
    const std::string request = fmt::format(
        "GET {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n", path, port);
    if (::send(socket.fd(), request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
        return false;
    }
    std::string status;
    char buffer[256];
    while (status.find('\n') == std::string::npos && status.size() < 1024) {
        pollfd readable{socket.fd(), POLLIN, 0};
        if (::poll(&readable, 1, 1000) != 1) {
            return false;
        }
        const ssize_t got = ::recv(socket.fd(), buffer, sizeof buffer, 0);
        if (got <= 0) {
            break;
        }
        status.append(buffer, static_cast<std::size_t>(got));
    }
    // "HTTP/1.1 200 OK"
    const auto space = status.find(' ');
    return status.rfind("HTTP/", 0) == 0 && space != std::string::npos &&
           status.size() > space + 1 && status[space + 1] == '2';
}

std::string substitute(std::string arg, std::string_view name, const std::string& value) {
    for (std::size_t at = arg.find(name); at != std::string::npos; at = arg.find(name, at)) {
        arg.replace(at, name.size(), value);
        at += value.size();
    }
    return arg;
}

std::filesystem::path make_output_file() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "abtool-server-XXXXXX.log").string();
    const int fd = ::mkstemps(pattern.data(), 4);
    if (fd < 0) {
        throw Error(ErrorKind::io, fmt::format("cannot create the server's output file {}: {}",
                                               pattern, std::strerror(errno)));
    }
    ::close(fd);
    return pattern;
}

std::string describe_status(int status) {
    return status >= 128
               ? fmt::format("was killed by signal {} ({})", status - 128, strsignal(status - 128))
               : fmt::format("exited with code {}", status);
}

} // namespace

std::uint16_t free_loopback_port() {
    Socket socket;
    sockaddr_in address = loopback(0);
    socklen_t size = sizeof address;
    if (socket.fd() < 0 ||
        ::bind(socket.fd(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(socket.fd(), reinterpret_cast<sockaddr*>(&address), &size) != 0) {
        throw Error(ErrorKind::workload, fmt::format("no free port on 127.0.0.1 for the server: {}",
                                                     std::strerror(errno)));
    }
    // The socket closes here and the server binds the port a moment later, so another process
    // could take it in between; a server that then fails to bind exits, and wait_ready reports
    // that instead of measuring someone else's server.
    return ntohs(address.sin_port);
}

Server::Server(const ServerSpec& server, const RunContext& context)
    : m_port(free_loopback_port()), m_output(make_output_file()) {
    ProcessSpec spec = spec_in_context(server.env, context);
    for (const std::string& arg : server.argv) {
        spec.argv.push_back(substitute(substitute(arg, "{port}", std::to_string(m_port)),
                                       "{worktree}", context.worktree.string()));
    }
    try {
        m_child.emplace(ChildProcess::start(spec, m_output));
    } catch (...) {
        std::error_code ignored;
        std::filesystem::remove(m_output, ignored);
        throw;
    }
}

Server::~Server() {
    stop();
    std::error_code ignored;
    std::filesystem::remove(m_output, ignored);
}

std::optional<std::string> Server::wait_ready(const std::optional<std::string>& ready_path,
                                              std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        if (auto how = ended()) {
            return "the server " + *how;
        }
        if (stop_requested()) {
            return std::string("interrupted while waiting for the server");
        }
        if (ready_path ? answers_2xx(m_port, *ready_path) : accepts_connections(m_port)) {
            // Still ours? A server that died right after someone else bound the port would
            // otherwise be measured as that someone.
            if (auto how = ended()) {
                return "the server " + *how;
            }
            return std::nullopt;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            const std::string output = output_tail();
            return fmt::format(
                "the server was not ready after {:.3g} s ({} on 127.0.0.1:{}){}",
                std::chrono::duration<double>(timeout).count(),
                ready_path ? fmt::format("no 2xx answer to GET {}", *ready_path)
                           : std::string("no connection accepted"),
                m_port, output.empty() ? "; it printed nothing" : "; its output:\n" + output);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

std::optional<std::string> Server::ended() {
    if (!m_child) {
        return std::string("was stopped");
    }
    const std::optional<int> status = m_child->exit_status();
    if (!status) {
        return std::nullopt;
    }
    const std::string output = output_tail();
    return describe_status(*status) +
           (output.empty() ? "; it printed nothing" : "; its output:\n" + output);
}

void Server::stop() {
    if (m_child) {
        m_child->stop();
        m_child.reset();
    }
}

std::string Server::output_tail() const {
    return last_lines(file_tail(m_output, 3000), 15, 3000);
}

StartedServer start_server(const ServerSpec& spec, const RunContext& context) {
    StartedServer started;
    try {
        started.server = std::make_unique<Server>(spec, context);
    } catch (...) {
        if (context.start_gate) {
            context.start_gate->arrive(); // never hold the other side of a duet
        }
        throw;
    }
    started.not_ready = started.server->wait_ready(spec.ready_path, spec.ready_timeout);
    if (context.start_gate) {
        // Duet: both sides' loads start together, once both servers are up (or one never is).
        context.start_gate->arrive();
        context.start_gate->wait();
    }
    return started;
}

std::optional<std::string> ended_under(Server& server, bool saw_resets) {
    constexpr auto k_exit_settle = std::chrono::milliseconds(500);
    std::optional<std::string> died = server.ended();
    const auto settle = std::chrono::steady_clock::now() + k_exit_settle;
    while (!died && saw_resets && std::chrono::steady_clock::now() < settle) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        died = server.ended();
    }
    return died;
}

ThreadPin::ThreadPin(const std::vector<int>& cpus) {
    if (cpus.empty() || pthread_getaffinity_np(pthread_self(), sizeof m_saved, &m_saved) != 0) {
        return;
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int cpu : cpus) {
        CPU_SET(cpu, &set);
    }
    m_pinned = pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

ThreadPin::~ThreadPin() {
    if (m_pinned) {
        pthread_setaffinity_np(pthread_self(), sizeof m_saved, &m_saved);
    }
}

std::int64_t unix_ns_now() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

} // namespace abtool::runners::publish
