// The server side of a publish workload: the ref's own server, started for one run on a free
// loopback port in its own process group, judged ready when it accepts connections (or answers
// 2xx on `ready_path`), and stopped with SIGTERM, a grace period and SIGKILL to the whole group.
// One server per run, so A and B never share one and no run inherits another's warm caches.
#pragma once

#include "abtool/runners.hpp"
#include "runners/process.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace abtool::runners::publish {

// A port on 127.0.0.1 that nothing listens on right now (the kernel's pick). Throws
// Error(workload) when none can be had.
std::uint16_t free_loopback_port();

class Server {
public:
    // Starts `workload.server` ({port} and {worktree} substituted) in the context's worktree.
    // Throws Error(workload) naming the command when it cannot be started at all.
    Server(const PublishWorkload& workload, const RunContext& context);
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;
    ~Server(); // stops the server and removes its output file

    std::uint16_t port() const { return m_port; }

    // Waits until the server is ready. Nullopt when it is; otherwise why not (it exited, or
    // `timeout` passed), with its output's last lines.
    std::optional<std::string> wait_ready(const std::optional<std::string>& ready_path,
                                          std::chrono::milliseconds timeout);
    // Nullopt while the server runs; otherwise how it ended, with its output's last lines.
    std::optional<std::string> ended();
    void stop();
    std::string output_tail() const; // the server's stdout and stderr, last lines

private:
    std::uint16_t m_port = 0;
    std::filesystem::path m_output;
    std::optional<ChildProcess> m_child;
};

} // namespace abtool::runners::publish
