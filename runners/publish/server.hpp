// The server side of a publish or stream workload: the ref's own server, started for one run on a
// free loopback port in its own process group, judged ready when it accepts connections (or answers
// 2xx on `ready_path`), and stopped with SIGTERM, a grace period and SIGKILL to the whole group.
// One server per run, so A and B never share one and no run inherits another's warm caches.
#pragma once

#include "abtool/runners.hpp"
#include "runners/group_sampler.hpp"
#include "runners/process.hpp"
#include "runners/publish/soak.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <sched.h>
#include <string>
#include <vector>

namespace abtool::runners::publish {

// A port on 127.0.0.1 that nothing listens on right now (the kernel's pick). Throws
// Error(workload) when none can be had.
std::uint16_t free_loopback_port();

// What a publish or stream workload says of its server.
struct ServerSpec {
    std::vector<std::string> argv; // with {port} and {worktree}
    Env env;
    std::optional<std::string> ready_path;
    std::chrono::milliseconds ready_timeout{std::chrono::seconds(30)};
};
template <typename Workload>
ServerSpec server_spec_of(const Workload& workload) {
    return {workload.server, workload.env, workload.ready_path, workload.ready_timeout};
}

class Server {
public:
    // Starts `spec.argv` ({port} and {worktree} substituted) in the context's worktree, in its
    // own process group. Throws Error(workload) naming the command when it cannot be started.
    Server(const ServerSpec& spec, const RunContext& context);
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;
    ~Server(); // stops the server and removes its output file

    std::uint16_t port() const { return m_port; }
    // The server's process group (its leader's pid), -1 once stopped.
    pid_t process_group() const { return m_child ? m_child->pid() : -1; }

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

// The server of one run, started and ready: a duet's start gate is passed once it is (or never
// will be), so both sides' loads start together. `not_ready` says why it is not ready when it
// is not (exited, timed out, interrupted); the load must then not run.
struct StartedServer {
    std::unique_ptr<Server> server;
    std::optional<std::string> not_ready;
};
StartedServer start_server(const ServerSpec& spec, const RunContext& context);

// How the server ended during the load, if it did. `saw_resets`: the load saw refused or reset
// connections, which usually mean the server died: its exit is given a moment to show, or a
// crash the load outran passes as a run with some refused messages.
std::optional<std::string> ended_under(Server& server, bool saw_resets);

// Pins the calling thread (the load generator runs in it) to `cpus` for its lifetime, and puts
// the thread's former CPUs back after: a duet keeps each side's load off the other side's CPUs.
class ThreadPin {
public:
    explicit ThreadPin(const std::vector<int>& cpus);
    ThreadPin(const ThreadPin&) = delete;
    ThreadPin& operator=(const ThreadPin&) = delete;
    ~ThreadPin();

private:
    cpu_set_t m_saved{};
    bool m_pinned = false;
};

std::int64_t unix_ns_now(); // the system clock, for RunResult::start_unix_ns

// One run of a load against the ref's server, what publish and stream share: the server started
// and ready (and a duet's other side), this thread pinned to the load's CPUs, `load(port)` run,
// the server's death under the load noticed (`saw_resets(outcome)`: it saw refused or reset
// connections), the server stopped, and `judge(outcome, group, died, server, result)` turning
// what the load saw into samples or an error. `soak` (its duration): the server's process group is
// sampled while the load runs (`group`, else empty; publish::soak_sample_period). A server that
// never got ready is the run's error, and an interrupt then is no measurement.
template <typename Load, typename SawResets, typename Judge>
RunResult run_against_server(const ServerSpec& spec, const RunContext& context,
                             std::optional<std::chrono::milliseconds> soak, Load load,
                             SawResets saw_resets, Judge judge) {
    RunResult result;
    result.start_unix_ns = unix_ns_now();
    const auto began = std::chrono::steady_clock::now();
    StartedServer started = start_server(spec, context);
    if (started.not_ready) {
        result.error = *started.not_ready;
        result.interrupted = stop_requested();
    } else {
        const ThreadPin pin(context.load_cpus);
        std::optional<GroupSampler> sampler;
        if (soak) {
            sampler.emplace(started.server->process_group(), soak_sample_period(*soak));
        }
        const auto outcome = load(started.server->port());
        std::vector<GroupSample> group;
        if (sampler) {
            sampler->stop();
            group = sampler->samples();
        }
        const std::optional<std::string> died = ended_under(*started.server, saw_resets(outcome));
        started.server->stop();
        judge(outcome, group, died, *started.server, result);
    }
    result.wall_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - began).count();
    return result;
}

} // namespace abtool::runners::publish
