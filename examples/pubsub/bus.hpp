// pubsub: a tiny message bus. Publishers hand a Message to the Bus, which delivers it to every
// subscriber of its topic; a Transport carries messages from one side to the other. Three
// transports, each a real way messages travel: an in-process queue, a ring buffer in shared
// memory, and a loopback TCP connection.
#pragma once

#include <arpa/inet.h>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdexcept>
#include <string>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace pubsub {

struct Message {
    std::string topic;
    std::string payload;
};

class Bus {
public:
    using Subscriber = std::function<void(const Message&)>;

    void subscribe(const std::string& topic, Subscriber subscriber) {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_subscribers[topic].push_back(std::move(subscriber));
    }

    // Delivers `message` to every subscriber of its topic; returns how many got it.
    std::size_t publish(const Message& message) {
        std::lock_guard<std::mutex> lock(m_mutex);
        const auto it = m_subscribers.find(message.topic);
        if (it == m_subscribers.end()) {
            return 0;
        }
        for (const Subscriber& subscriber : it->second) {
            subscriber(message);
        }
        return it->second.size();
    }

private:
    std::mutex m_mutex;
    std::map<std::string, std::vector<Subscriber>> m_subscribers;
};

class Transport {
public:
    virtual ~Transport() = default;
    virtual void send(const Message& message) = 0;
    // The next message, as the receiving side sees it; false when there is none.
    virtual bool receive(Message& message) = 0;
};

// Same process: a queue of messages.
class InprocQueue : public Transport {
public:
    void send(const Message& message) override { m_queue.push_back(message); }
    bool receive(Message& message) override {
        if (m_queue.empty()) {
            return false;
        }
        message = std::move(m_queue.front());
        m_queue.pop_front();
        return true;
    }

private:
    std::deque<Message> m_queue;
};

// A byte ring in a shared mapping (a forked subscriber would see the same memory); records are
// [topic size][payload size][topic][payload], 4-byte sizes.
class ShmRing : public Transport {
public:
    explicit ShmRing(std::size_t capacity = 1 << 20) : m_capacity(capacity) {
        void* memory =
            mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (memory == MAP_FAILED) {
            throw std::runtime_error("mmap failed");
        }
        m_ring = static_cast<char*>(memory);
    }
    ~ShmRing() override { munmap(m_ring, m_capacity); }
    ShmRing(const ShmRing&) = delete;
    ShmRing& operator=(const ShmRing&) = delete;

    void send(const Message& message) override {
        const std::uint32_t sizes[2] = {static_cast<std::uint32_t>(message.topic.size()),
                                        static_cast<std::uint32_t>(message.payload.size())};
        if (m_head - m_tail + sizeof sizes + sizes[0] + sizes[1] > m_capacity) {
            throw std::runtime_error("ring full");
        }
        put(sizes, sizeof sizes);
        put(message.topic.data(), sizes[0]);
        put(message.payload.data(), sizes[1]);
    }
    bool receive(Message& message) override {
        if (m_tail == m_head) {
            return false;
        }
        std::uint32_t sizes[2];
        take(sizes, sizeof sizes);
        message.topic.resize(sizes[0]);
        message.payload.resize(sizes[1]);
        take(message.topic.data(), sizes[0]);
        take(message.payload.data(), sizes[1]);
        return true;
    }

private:
    void put(const void* data, std::size_t size) {
        for (std::size_t done = 0; done < size;) {
            const std::size_t at = (m_head + done) % m_capacity;
            const std::size_t chunk = std::min(size - done, m_capacity - at);
            std::memcpy(m_ring + at, static_cast<const char*>(data) + done, chunk);
            done += chunk;
        }
        m_head += size;
    }
    void take(void* data, std::size_t size) {
        for (std::size_t done = 0; done < size;) {
            const std::size_t at = (m_tail + done) % m_capacity;
            const std::size_t chunk = std::min(size - done, m_capacity - at);
            std::memcpy(static_cast<char*>(data) + done, m_ring + at, chunk);
            done += chunk;
        }
        m_tail += size;
    }

    std::size_t m_capacity;
    char* m_ring = nullptr;
    std::size_t m_head = 0, m_tail = 0;
};

// A TCP connection to ourselves on 127.0.0.1: messages cross the kernel's loopback. Frames as in
// ShmRing.
class TcpLoopback : public Transport {
public:
    TcpLoopback() {
        const int listener = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t size = sizeof address;
        if (listener < 0 || bind(listener, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
            listen(listener, 1) != 0 ||
            getsockname(listener, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
            throw std::runtime_error("cannot listen on 127.0.0.1");
        }
        m_send = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(m_send, reinterpret_cast<sockaddr*>(&address), size) != 0) {
            throw std::runtime_error("cannot connect to 127.0.0.1");
        }
        m_receive = accept(listener, nullptr, nullptr);
        close(listener);
        const int yes = 1;
        setsockopt(m_send, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    }
    ~TcpLoopback() override {
        close(m_send);
        close(m_receive);
    }
    TcpLoopback(const TcpLoopback&) = delete;
    TcpLoopback& operator=(const TcpLoopback&) = delete;

    void send(const Message& message) override {
        const std::uint32_t sizes[2] = {static_cast<std::uint32_t>(message.topic.size()),
                                        static_cast<std::uint32_t>(message.payload.size())};
        std::string frame(reinterpret_cast<const char*>(sizes), sizeof sizes);
        frame += message.topic;
        frame += message.payload;
        for (std::size_t sent = 0; sent < frame.size();) {
            const ssize_t n = ::send(m_send, frame.data() + sent, frame.size() - sent, 0);
            if (n <= 0) {
                throw std::runtime_error("send failed");
            }
            sent += static_cast<std::size_t>(n);
        }
    }
    bool receive(Message& message) override {
        std::uint32_t sizes[2];
        if (!read_exactly(sizes, sizeof sizes)) {
            return false;
        }
        message.topic.resize(sizes[0]);
        message.payload.resize(sizes[1]);
        return read_exactly(message.topic.data(), sizes[0]) &&
               read_exactly(message.payload.data(), sizes[1]);
    }

private:
    bool read_exactly(void* data, std::size_t size) {
        for (std::size_t got = 0; got < size;) {
            const ssize_t n = recv(m_receive, static_cast<char*>(data) + got, size - got, 0);
            if (n <= 0) {
                return false;
            }
            got += static_cast<std::size_t>(n);
        }
        return true;
    }

    int m_send = -1, m_receive = -1;
};

} // namespace pubsub
