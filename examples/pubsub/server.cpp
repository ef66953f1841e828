// The publish server: HTTP/1.1 on 127.0.0.1, one thread per connection, keep-alive.
//   POST /publish        body = the message; published on topic "events"; 200 {"delivered": N}
//   GET  /health         200 once the bus is ready (abtool's ready_path)
//   GET  /stats          200 {"messages": N, "bytes": N}
//   POST /v1/stream      body {"max_tokens": N}; N chunks {"seq": i, "token": "t<i>"} as NDJSON,
//                        one HTTP chunk each, one every --period-ms (the first too); then the
//                        connection closes
//   GET  /v1/stream/ws   the same over a WebSocket: after the upgrade the client sends one text
//                        frame {"max_tokens": N}; N text frames, then a close frame (1000)
// Usage: pubsub_server --port N [--period-ms P (default 10)]
#include "bus.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <poll.h>
#include <thread>

namespace {

pubsub::Bus g_bus;
std::atomic<std::uint64_t> g_messages{0}, g_bytes{0};
std::chrono::microseconds g_period{10'000}; // between two chunks of a stream (--period-ms)

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

// Streaming: POST /v1/stream (NDJSON over chunked HTTP) and GET /v1/stream/ws (WebSocket), as
// a token-streaming API would. Each stream gets its own connection, closed when it ends.

std::string lower(std::string text) {
    for (char& c : text) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return text;
}

// The value of header `name` (lower case) in a request head, trimmed; "" when absent. Header
// names are case-insensitive (RFC 9110), and WebSocket clients differ in how they spell them.
std::string header(const std::string& head, const std::string& name) {
    const std::size_t at = lower(head).find("\r\n" + name + ":");
    if (at == std::string::npos) {
        return "";
    }
    const std::size_t begin = head.find_first_not_of(" \t", at + name.size() + 3);
    const std::size_t end = std::min(head.find("\r\n", at + 2), head.size());
    if (begin == std::string::npos || begin >= end) {
        return "";
    }
    return head.substr(begin, head.find_last_not_of(" \t", end - 1) + 1 - begin);
}

// The integer after "max_tokens" in a JSON body, read leniently; 10 when there is none.
long max_tokens(const std::string& body) {
    const std::size_t at = body.find("max_tokens");
    const std::size_t digit = at == std::string::npos ? at : body.find_first_of("0123456789", at);
    return digit == std::string::npos ? 10 : std::strtol(body.c_str() + digit, nullptr, 10);
}

std::string chunk_json(long seq) {
    return "{\"seq\": " + std::to_string(seq) + ", \"token\": \"t" + std::to_string(seq) + "\"}";
}

// Sends `count` chunks, each wrapped by `frame`, chunk i at start + (i + 1) * period (each token,
// the first included, takes a period to make): an absolute schedule (sleep_until, not
// sleep_for), so the time each send takes never adds up into drift.
template <typename Frame>
bool send_chunks(int fd, long count, std::chrono::steady_clock::time_point start, Frame frame) {
    const std::chrono::microseconds period = g_period;
    auto due = start + period;
    for (long seq = 0; seq < count; ++seq) {
        std::this_thread::sleep_until(due);
        if (!send_all(fd, frame(chunk_json(seq)))) {
            return false;
        }
        const auto pace = period;
        due += pace;
    }
    return true;
}

// One HTTP/1.1 chunk: its size in hex, the data, CRLFs around (RFC 9112 section 7.1).
std::string http_chunk(const std::string& data) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    return size + data + "\r\n";
}

void stream_ndjson(int fd, const std::string& body) {
    const auto start = std::chrono::steady_clock::now();
    if (send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: "
                     "chunked\r\nConnection: close\r\n\r\n") &&
        send_chunks(fd, max_tokens(body), start,
                    [](const std::string& json) { return http_chunk(json + "\n"); })) {
        send_all(fd, "0\r\n\r\n");
    }
}

// SHA-1 (FIPS 180-4), only for the WebSocket handshake's Sec-WebSocket-Accept (RFC 6455 4.2.2).
// Pad to 56 bytes mod 64, append the bit length big-endian, then 80 rounds per 64-byte block.
std::array<std::uint8_t, 20> sha1(std::string data) {
    const std::uint64_t bits = static_cast<std::uint64_t>(data.size()) * 8;
    data += static_cast<char>(0x80);
    while (data.size() % 64 != 56) {
        data += '\0';
    }
    for (int i = 7; i >= 0; --i) {
        data += static_cast<char>((bits >> (8 * i)) & 0xff);
    }
    const auto rotl = [](std::uint32_t x, int n) {
        return (x << n) | (x >> (32 - n));
    };
    std::uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    for (std::size_t block = 0; block < data.size(); block += 64) {
        std::uint32_t w[80];
        for (std::size_t i = 0; i < 16; ++i) { // the block's 16 words, big-endian
            w[i] = 0;
            for (std::size_t j = 0; j < 4; ++j) {
                w[i] = (w[i] << 8) | static_cast<std::uint8_t>(data[block + 4 * i + j]);
            }
        }
        for (std::size_t i = 16; i < 80; ++i) { // expanded to 80 (the message schedule)
            w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        }
        std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
        for (std::size_t i = 0; i < 80; ++i) { // four rounds of 20 steps, each its f and k
            const std::uint32_t f = i < 20   ? (b & c) | (~b & d)
                                    : i < 40 ? b ^ c ^ d
                                    : i < 60 ? (b & c) | (b & d) | (c & d)
                                             : b ^ c ^ d;
            const std::uint32_t k = i < 20   ? 0x5A827999
                                    : i < 40 ? 0x6ED9EBA1
                                    : i < 60 ? 0x8F1BBCDC
                                             : 0xCA62C1D6;
            const std::uint32_t t = rotl(a, 5) + f + e + k + w[i];
            e = d;
            d = c;
            c = rotl(b, 30);
            b = a;
            a = t;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
    }
    std::array<std::uint8_t, 20> digest{};
    for (std::size_t i = 0; i < 20; ++i) {
        digest[i] = static_cast<std::uint8_t>(h[i / 4] >> (24 - 8 * (i % 4)));
    }
    return digest;
}

// Base64 (RFC 4648): three bytes become four characters, '=' pads the last group.
std::string base64(const std::uint8_t* data, std::size_t size) {
    static const char k_alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (std::size_t i = 0; i < size; i += 3) {
        const std::uint32_t n = static_cast<std::uint32_t>(data[i]) << 16 |
                                (i + 1 < size ? static_cast<std::uint32_t>(data[i + 1]) << 8 : 0) |
                                (i + 2 < size ? data[i + 2] : 0);
        out += k_alphabet[(n >> 18) & 63];
        out += k_alphabet[(n >> 12) & 63];
        out += i + 1 < size ? k_alphabet[(n >> 6) & 63] : '=';
        out += i + 2 < size ? k_alphabet[n & 63] : '=';
    }
    return out;
}

// A server frame (RFC 6455 section 5.2): FIN and the opcode, the length in 7, 16 or 64 bits,
// no mask (only clients mask), the payload.
std::string ws_frame(std::uint8_t opcode, const std::string& payload) {
    std::string frame(1, static_cast<char>(0x80 | opcode));
    const std::uint64_t size = payload.size();
    const int length_bytes = size < 126 ? 0 : size < 65536 ? 2 : 8;
    frame += static_cast<char>(length_bytes == 0 ? size : length_bytes == 2 ? 126 : 127);
    for (int i = length_bytes - 1; i >= 0; --i) {
        frame += static_cast<char>((size >> (8 * i)) & 0xff);
    }
    return frame + payload;
}

// Takes one whole client frame (7-, 16- or 64-bit length, masked or not) off the front of
// `buffer` and unmasks it; false while the buffer does not hold one yet.
bool take_ws_frame(std::string& buffer, int& opcode, std::string& payload) {
    const auto byte = [&](std::size_t i) {
        return static_cast<std::uint8_t>(buffer[i]);
    };
    if (buffer.size() < 2) {
        return false;
    }
    const bool masked = (byte(1) & 0x80) != 0;
    std::uint64_t length = byte(1) & 0x7f;
    std::size_t at = 2;
    if (length >= 126) {
        const std::size_t bytes = length == 126 ? 2 : 8;
        if (buffer.size() < 2 + bytes) {
            return false;
        }
        length = 0;
        for (std::size_t i = 0; i < bytes; ++i) {
            length = (length << 8) | byte(2 + i);
        }
        at += bytes;
    }
    const std::size_t key_at = at;
    at += masked ? 4 : 0;
    if (buffer.size() < at || buffer.size() - at < length) {
        return false;
    }
    opcode = byte(0) & 0x0f;
    payload = buffer.substr(at, static_cast<std::size_t>(length));
    for (std::size_t i = 0; masked && i < payload.size(); ++i) {
        payload[i] = static_cast<char>(payload[i] ^ buffer[key_at + i % 4]);
    }
    buffer.erase(0, at + static_cast<std::size_t>(length));
    return true;
}

// Reads until `buffer` holds a whole frame or `deadline` passes; false on timeout, EOF or error.
bool read_ws_frame(int fd, std::string& buffer, int& opcode, std::string& payload,
                   std::chrono::steady_clock::time_point deadline) {
    char chunk[8192];
    while (!take_ws_frame(buffer, opcode, payload)) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd readable{fd, POLLIN, 0};
        if (left.count() <= 0 || poll(&readable, 1, static_cast<int>(left.count())) <= 0) {
            return false;
        }
        const ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) {
            return false;
        }
        buffer.append(chunk, static_cast<std::size_t>(n));
    }
    return true;
}

// The upgrade, the client's one text frame {"max_tokens": N}, N text frames, a close frame (1000),
// then up to 1 s for the client's close frame (RFC 6455 section 7.1.1) before closing the socket.
void stream_websocket(int fd, const std::string& head, std::string& buffer) {
    const std::string key = header(head, "sec-websocket-key");
    if (lower(header(head, "upgrade")) != "websocket" || key.empty()) {
        send_all(fd, reply(400, "{\"error\": \"expected a WebSocket upgrade\"}", false));
        return;
    }
    const auto digest = sha1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    int opcode = 0;
    std::string request;
    const auto forever = std::chrono::steady_clock::time_point::max();
    if (!send_all(fd, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: "
                      "Upgrade\r\nSec-WebSocket-Accept: " +
                          base64(digest.data(), digest.size()) + "\r\n\r\n")) {
        return;
    }
    do { // skip control frames (a ping, say) until the request's text frame
        if (!read_ws_frame(fd, buffer, opcode, request, forever) || opcode == 0x8) {
            return;
        }
    } while (opcode != 0x1);
    if (send_chunks(fd, max_tokens(request), std::chrono::steady_clock::now(),
                    [](const std::string& json) { return ws_frame(0x1, json); }) &&
        send_all(fd, ws_frame(0x8, std::string{'\x03', '\xe8'}))) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        while (read_ws_frame(fd, buffer, opcode, request, deadline) && opcode != 0x8) {
        }
    }
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
        const std::string method = head.substr(0, method_end);
        const std::string target = head.substr(method_end + 1, target_end - method_end - 1);
        if (method == "POST" && target == "/v1/stream") {
            stream_ndjson(fd, body);
            return; // a stream ends its connection
        }
        if (method == "GET" && target == "/v1/stream/ws") {
            stream_websocket(fd, head, buffer);
            return;
        }
        const bool keep_alive = head.find("Connection: close") == std::string::npos;
        if (!send_all(fd, handle(method, target, body, keep_alive)) || !keep_alive) {
            return;
        }
    }
}

} // namespace

int main(int argc, char** argv) {
    std::string port;
    bool usage_error = argc % 2 == 0; // a flag without its value
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--port") {
            port = argv[i + 1];
        } else if (flag == "--period-ms") {
            g_period = std::chrono::duration_cast<std::chrono::microseconds>(
                std::chrono::duration<double, std::milli>(std::atof(argv[i + 1])));
        } else {
            usage_error = true;
        }
    }
    if (usage_error || port.empty()) {
        std::fprintf(stderr, "usage: pubsub_server --port N [--period-ms P]\n");
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
    address.sin_port = htons(static_cast<std::uint16_t>(std::atoi(port.c_str())));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        listen(listener, 128) != 0) {
        std::perror("pubsub_server: cannot listen");
        return 1;
    }
    std::printf("pubsub_server: listening on 127.0.0.1:%s\n", port.c_str());
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
