// The two ways a load on one Boost.Asio io_context ends early, shared by the publish load
// generator and the stream client: its timeout, and request_stop() (an interrupt from the signal
// handler), polled every 50 ms.
#pragma once

#include "abtool/runners.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <utility>

namespace abtool::runners::publish {

class LoadLimits {
public:
    // `stop_all` runs once either limit is hit while `running()` is true. Both timers are armed
    // here, before the io_context runs.
    LoadLimits(boost::asio::io_context& io, std::chrono::milliseconds timeout,
               std::function<bool()> running, std::function<void()> stop_all)
        : m_deadline(io), m_watch(io), m_running(std::move(running)),
          m_stop_all(std::move(stop_all)) {
        m_deadline.expires_after(timeout);
        m_deadline.async_wait([this](const boost::system::error_code& ec) {
            if (!ec && m_running()) {
                m_stop_all();
            }
        });
        poll();
    }
    LoadLimits(const LoadLimits&) = delete;
    LoadLimits& operator=(const LoadLimits&) = delete;

    // The load has finished: neither timer keeps the io_context running. Both handlers also
    // check running(): a cancel() cannot recall a handler whose timer had already expired, and a
    // watch that re-armed itself then would keep io.run() from ever returning.
    void done() {
        m_deadline.cancel();
        m_watch.cancel();
    }

private:
    void poll() {
        m_watch.expires_after(std::chrono::milliseconds(50));
        m_watch.async_wait([this](const boost::system::error_code& ec) {
            if (ec || !m_running()) {
                return;
            }
            if (stop_requested()) {
                m_stop_all();
                return;
            }
            poll();
        });
    }

    boost::asio::steady_timer m_deadline, m_watch;
    std::function<bool()> m_running;
    std::function<void()> m_stop_all;
};

} // namespace abtool::runners::publish
