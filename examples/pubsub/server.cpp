// The publish server: HTTP/1.1 on 127.0.0.1, one thread per connection, keep-alive.
//   POST /publish   body = the message; published on topic "events"; 200 {"delivered": N}
//   GET  /health    200 once the bus is ready (abtool's ready_path)
//   GET  /stats     200 {"messages": N, "bytes": N}
// Usage: pubsub_server --port N
#include "bus.hpp"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace {

pubsub::Bus g_bus;
std::atomic<std::uint64_t> g_messages{0}, g_bytes{0};

bool send_all(int fd, const std::string& data) {
    for (std::size_t sent = 0; sent < data.size();) {
        const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) {
            return false;
        }
        sent += static_cast<std::size_t>(n);
    }
    return true;
}

std::string reply(int status, const std::string& body, bool keep_alive) {
    const char* reason = status == 200 ? "OK" : status == 404 ? "Not Found" : "Bad Request";
    return "HTTP/1.1 " + std::to_string(status) + " " + reason +
           "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           (keep_alive ? "\r\nConnection: keep-alive" : "\r\nConnection: close") + "\r\n\r\n" +
           body;
}

std::string handle(const std::string& method, const std::string& target, const std::string& body,
                   bool keep_alive) {
    if (method == "POST" && target == "/publish") {
        const std::size_t delivered = g_bus.publish({"events", body});
        return reply(200, "{\"delivered\": " + std::to_string(delivered) + "}", keep_alive);
    }
    if (method == "GET" && target == "/health") {
        return reply(200, "{\"ok\": true}", keep_alive);
    }
    if (method == "GET" && target == "/stats") {
        return reply(200,
                     "{\"messages\": " + std::to_string(g_messages.load()) +
                         ", \"bytes\": " + std::to_string(g_bytes.load()) + "}",
                     keep_alive);
    }
    return reply(404, "{\"error\": \"no such endpoint\"}", keep_alive);
}

void serve(int fd) {
    std::string buffer;
    char chunk[8192];
    while (true) {
        const std::size_t head_end = buffer.find("\r\n\r\n");
        if (head_end == std::string::npos) {
            const ssize_t n = recv(fd, chunk, sizeof chunk, 0);
            if (n <= 0) {
                return;
            }
            buffer.append(chunk, static_cast<std::size_t>(n));
            continue;
        }
        const std::string head = buffer.substr(0, head_end);
        const std::size_t method_end = head.find(' ');
        const std::size_t target_end = head.find(' ', method_end + 1);
        if (method_end == std::string::npos || target_end == std::string::npos) {
            send_all(fd, reply(400, "{\"error\": \"bad request line\"}", false));
            return;
        }
        std::size_t length = 0;
        if (const std::size_t at = head.find("Content-Length: "); at != std::string::npos) {
            length = std::strtoul(head.c_str() + at + 16, nullptr, 10);
        }
        while (buffer.size() < head_end + 4 + length) {
            const ssize_t n = recv(fd, chunk, sizeof chunk, 0);
            if (n <= 0) {
                return;
            }
            buffer.append(chunk, static_cast<std::size_t>(n));
        }
        const std::string body = buffer.substr(head_end + 4, length);
        buffer.erase(0, head_end + 4 + length);
        const bool keep_alive = head.find("Connection: close") == std::string::npos;
        if (!send_all(fd, handle(head.substr(0, method_end),
                                 head.substr(method_end + 1, target_end - method_end - 1), body,
                                 keep_alive)) ||
            !keep_alive) {
            return;
        }
    }
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 3 || std::string(argv[1]) != "--port") {
        std::fprintf(stderr, "usage: pubsub_server --port N\n");
        return 2;
    }
    std::signal(SIGPIPE, SIG_IGN);
    g_bus.subscribe("events", [](const pubsub::Message& message) {
        ++g_messages;
        g_bytes += message.payload.size();
    });

    const int listener = socket(AF_INET, SOCK_STREAM, 0);
    const int yes = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(std::atoi(argv[2])));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        listen(listener, 128) != 0) {
        std::perror("pubsub_server: cannot listen");
        return 1;
    }
    std::printf("pubsub_server: listening on 127.0.0.1:%s\n", argv[2]);
    std::fflush(stdout);
    while (true) {
        const int fd = accept(listener, nullptr, nullptr);
        if (fd < 0) {
            continue;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
        std::thread([fd] {
            serve(fd);
            close(fd);
        }).detach();
    }
}
