// A real streaming server for the stream runner's tests, on 127.0.0.1, one thread per connection.
//   stream_server_fixture --port N [--protocol ndjson|sse|websocket] [--period-ms P]
//                         [--extra-ms-per-chunk E] [--drop-seq K --drop-session S]
//                         [--cold-first-ms C] [--leak-kb-per-chunk L] [--close-after K]
//                         [--stall-after K] [--never-listen]
// A session is one request holding "max_tokens": N (a POST's JSON body, or the one text frame a
// WebSocket client sends after the upgrade), answered with N chunks {"seq": i, "token": "t<i>"}:
// ndjson and sse send each as its own HTTP chunk (sse ends with "data: [DONE]"), websocket as one
// text frame each and then a close frame. Chunk i leaves at start + first_delay + i * (P + E) on an
// absolute schedule, so the server's pace is exact and whatever a client measures beyond it is the
// client's own. GET /health answers 200. Faults: --drop-seq skips chunk K of the S-th session
// (0-based, stream sessions only), --cold-first-ms delays session 0's chunks by C ms,
// --leak-kb-per-chunk leaks L kB per chunk sent (RSS growth), --close-after cuts every session
// after K chunks, --stall-after stops every session after K chunks with the connection kept open,
// --never-listen prints and sleeps without listening.
#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace {

enum class Protocol { ndjson, sse, websocket };

struct Options {
    int port = 0;
    Protocol protocol = Protocol::ndjson;
    double period_ms = 20;
    double extra_ms_per_chunk = 0;
    long drop_seq = -1;
    long drop_session = -1;
    double cold_first_ms = 0;
    long leak_kb_per_chunk = 0;
    long close_after = -1;
    long stall_after = -1;
    bool never_listen = false;
};

Options g_options;
std::atomic<long> g_sessions{0};
// The last leaked block: stored where the compiler must assume it is read, so that neither the
// allocation nor the memset that touches its pages can be elided.
char* volatile g_leaked = nullptr;

using Clock = std::chrono::steady_clock;

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

bool receive_more(int fd, std::string& buffer) {
    char chunk[4096];
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) {
        return false;
    }
    buffer.append(chunk, static_cast<std::size_t>(n));
    return true;
}

std::string lower(std::string text) {
    for (char& c : text) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return text;
}

// The value of header `name` (lower case) in a request head, trimmed; "" when absent.
std::string header(const std::string& head, const std::string& name) {
    const auto at = lower(head).find("\r\n" + name + ":");
    if (at == std::string::npos) {
        return "";
    }
    const auto begin = head.find_first_not_of(" \t", at + name.size() + 3);
    const auto end = std::min(head.find("\r\n", at + 2), head.size());
    if (begin == std::string::npos || begin >= end) {
        return "";
    }
    return head.substr(begin, head.find_last_not_of(" \t", end - 1) + 1 - begin);
}

// The integer after "max_tokens", read leniently (any characters may sit between); 10 if absent.
long max_tokens(const std::string& body) {
    const auto at = body.find("max_tokens");
    const auto digit = at == std::string::npos ? at : body.find_first_of("0123456789", at);
    return digit == std::string::npos ? 10 : std::strtol(body.c_str() + digit, nullptr, 10);
}

// SHA-1 (FIPS 180-4), only for the WebSocket handshake's Sec-WebSocket-Accept.
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
        for (std::size_t i = 0; i < 16; ++i) {
            w[i] = 0;
            for (std::size_t j = 0; j < 4; ++j) {
                w[i] = (w[i] << 8) | static_cast<std::uint8_t>(data[block + 4 * i + j]);
            }
        }
        for (std::size_t i = 16; i < 80; ++i) {
            w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        }
        std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
        for (std::size_t i = 0; i < 80; ++i) {
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

// An unmasked server frame (RFC 6455 section 5.2) with FIN set.
std::string ws_frame(std::uint8_t opcode, const std::string& payload) {
    std::string frame(1, static_cast<char>(0x80 | opcode));
    const std::uint64_t size = payload.size();
    if (size < 126) {
        frame += static_cast<char>(size);
    } else if (size < 65536) {
        frame += static_cast<char>(126);
        frame += static_cast<char>(size >> 8);
        frame += static_cast<char>(size & 0xff);
    } else {
        frame += static_cast<char>(127);
        for (int i = 7; i >= 0; --i) {
            frame += static_cast<char>((size >> (8 * i)) & 0xff);
        }
    }
    return frame + payload;
}

// Takes one whole client frame (7-, 16- or 64-bit length, masked or not) off the front of
// `buffer`; false while the buffer does not hold one yet.
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

std::string http_chunk(const std::string& data) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    return size + data + "\r\n";
}

std::string framed_chunk(long seq) {
    const std::string json =
        "{\"seq\": " + std::to_string(seq) + ", \"token\": \"t" + std::to_string(seq) + "\"}";
    switch (g_options.protocol) {
    case Protocol::ndjson:
        return http_chunk(json + "\n");
    case Protocol::sse:
        return http_chunk("data: " + json + "\n\n");
    case Protocol::websocket:
        break;
    }
    return ws_frame(0x1, json);
}

void leak_for_one_chunk() {
    if (g_options.leak_kb_per_chunk > 0) {
        const auto size = static_cast<std::size_t>(g_options.leak_kb_per_chunk) * 1024;
        char* block = new char[size];
        std::memset(block, 0x5a, size);
        g_leaked = block; // never freed: the steady leak the RSS sampler should see
    }
}

// Sends the session's `count` chunks on their absolute schedule from `start`. False when the
// stream must end without its terminator: the client left, --close-after cut the connection
// (shutdown, the caller closes) or --stall-after's hour is over.
bool send_chunks(int fd, long session, long count, Clock::time_point start) {
    const double first_delay_ms = session == 0 ? g_options.cold_first_ms : 0.0;
    const double pace_ms = g_options.period_ms + g_options.extra_ms_per_chunk;
    long sent = 0;
    for (long seq = 0; seq <= count; ++seq) {
        if (g_options.close_after >= 0 && sent == g_options.close_after) {
            ::shutdown(fd, SHUT_RDWR);
            return false;
        }
        if (g_options.stall_after >= 0 && sent == g_options.stall_after) {
            std::this_thread::sleep_for(std::chrono::hours(1));
            return false;
        }
        if (seq == count) {
            break;
        }
        if (session == g_options.drop_session && seq == g_options.drop_seq) {
            continue;
        }
        const std::chrono::duration<double, std::milli> due(first_delay_ms +
                                                            static_cast<double>(seq) * pace_ms);
        std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(due));
        if (!send_all(fd, framed_chunk(seq))) {
            return false;
        }
        leak_for_one_chunk();
        ++sent;
    }
    return true;
}

void serve_http_stream(int fd, const std::string& body, Clock::time_point start) {
    const long session = g_sessions++;
    const bool sse = g_options.protocol == Protocol::sse;
    if (!send_all(fd, std::string("HTTP/1.1 200 OK\r\nContent-Type: ") +
                          (sse ? "text/event-stream" : "application/x-ndjson") +
                          "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n") ||
        !send_chunks(fd, session, max_tokens(body), start)) {
        return;
    }
    if (sse && !send_all(fd, http_chunk("data: [DONE]\n\n"))) {
        return;
    }
    send_all(fd, "0\r\n\r\n");
}

// After the server's close frame: waits up to 1 s for the client's, as RFC 6455 section 7.1.1
// asks, so that the client reads a clean close rather than a reset.
void await_ws_close(int fd, std::string& buffer) {
    const auto deadline = Clock::now() + std::chrono::seconds(1);
    int opcode = 0;
    std::string payload;
    while (true) {
        while (take_ws_frame(buffer, opcode, payload)) {
            if (opcode == 0x8) {
                return;
            }
        }
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        pollfd readable{fd, POLLIN, 0};
        if (left.count() <= 0 || ::poll(&readable, 1, static_cast<int>(left.count())) <= 0 ||
            !receive_more(fd, buffer)) {
            return;
        }
    }
}

void serve_websocket(int fd, const std::string& head, std::string& buffer) {
    const auto digest =
        sha1(header(head, "sec-websocket-key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    if (!send_all(fd, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: "
                      "Upgrade\r\nSec-WebSocket-Accept: " +
                          base64(digest.data(), digest.size()) + "\r\n\r\n")) {
        return;
    }
    int opcode = 0;
    std::string request;
    while (opcode != 0x1) { // the one text frame holding the request; a close frame ends it
        while (!take_ws_frame(buffer, opcode, request)) {
            if (!receive_more(fd, buffer)) {
                return;
            }
        }
        if (opcode == 0x8) {
            return;
        }
    }
    const auto start = Clock::now();
    const long session = g_sessions++;
    if (!send_chunks(fd, session, max_tokens(request), start) ||
        !send_all(fd, ws_frame(0x8, std::string{'\x03', '\xe8'}))) { // status 1000
        return;
    }
    await_ws_close(fd, buffer);
}

void answer(int fd, const char* status, const std::string& body) {
    send_all(fd, std::string("HTTP/1.1 ") + status +
                     "\r\nContent-Type: application/json\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
}

// One connection, one request: GET /health, a WebSocket upgrade or a streaming POST. A request
// for another protocol than --protocol's is refused, so a client speaking the wrong one fails.
void serve(int fd) {
    std::string buffer;
    std::size_t head_end = 0;
    while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
        if (!receive_more(fd, buffer)) {
            return;
        }
    }
    const std::string head = buffer.substr(0, head_end);
    buffer.erase(0, head_end + 4);
    const bool upgrade = lower(header(head, "upgrade")) == "websocket";
    const bool websocket = g_options.protocol == Protocol::websocket;
    if (head.rfind("GET /health ", 0) == 0) {
        answer(fd, "200 OK", "{\"ok\":true}");
    } else if (upgrade && websocket && head.rfind("GET ", 0) == 0) {
        serve_websocket(fd, head, buffer);
    } else if (!upgrade && !websocket && head.rfind("POST ", 0) == 0) {
        const std::size_t length =
            std::strtoul(header(head, "content-length").c_str(), nullptr, 10);
        while (buffer.size() < length) {
            if (!receive_more(fd, buffer)) {
                return;
            }
        }
        serve_http_stream(fd, buffer.substr(0, length), Clock::now());
    } else {
        answer(fd, "400 Bad Request", "{\"error\":\"not a request for this protocol\"}");
    }
}

int parse_options(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const auto value = [&] {
            return i + 1 < argc ? std::atof(argv[++i]) : 0.0;
        };
        const auto count = [&] {
            return static_cast<long>(value());
        };
        if (arg == "--port") {
            g_options.port = static_cast<int>(count());
        } else if (arg == "--protocol" && i + 1 < argc) {
            const std::string name = argv[++i];
            g_options.protocol = name == "sse"         ? Protocol::sse
                                 : name == "websocket" ? Protocol::websocket
                                                       : Protocol::ndjson;
        } else if (arg == "--period-ms") {
            g_options.period_ms = value();
        } else if (arg == "--extra-ms-per-chunk") {
            g_options.extra_ms_per_chunk = value();
        } else if (arg == "--drop-seq") {
            g_options.drop_seq = count();
        } else if (arg == "--drop-session") {
            g_options.drop_session = count();
        } else if (arg == "--cold-first-ms") {
            g_options.cold_first_ms = value();
        } else if (arg == "--leak-kb-per-chunk") {
            g_options.leak_kb_per_chunk = count();
        } else if (arg == "--close-after") {
            g_options.close_after = count();
        } else if (arg == "--stall-after") {
            g_options.stall_after = count();
        } else if (arg == "--never-listen") {
            g_options.never_listen = true;
        } else {
            std::fprintf(stderr, "fixture: unknown argument %s\n", arg.c_str());
            return 2;
        }
    }
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    if (const int status = parse_options(argc, argv); status != 0) {
        return status;
    }
    std::signal(SIGPIPE, SIG_IGN);
    if (g_options.never_listen) {
        std::printf("fixture: not listening on port %d\n", g_options.port);
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
            serve(fd);
            ::close(fd);
        }).detach();
    }
}
