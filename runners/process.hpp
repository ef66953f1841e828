// Starting children inside runners/: each child leads its own process group so that a timeout
// or an interrupt stops it and everything it forked. run_process (runners.hpp) runs one to
// completion; ChildProcess keeps a long-running one (a publish workload's server) alive until
// stopped.
//
// Why fork/exec and not boost::process::child: abtool needs the rusage of exactly this child
// (wait4), and Boost.Process v1 reaps children itself (and through SIGCHLD handling), which races
// with wait4. The pipes, timers and the exit notification (a pidfd) run on Boost.Asio.
#pragma once

#include "abtool/runners.hpp"

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace abtool::runners {

// A fully prepared exec: argv and envp built before fork, so the child allocates nothing.
struct ExecPlan {
    std::vector<std::string> argv;
    std::vector<std::string> envp;
    std::filesystem::path cwd;
    std::string stdin_path; // empty: /dev/null
    std::vector<int> cpus;
    int nice = 0;
    std::shared_ptr<StartGate> gate; // duet: wait here between fork and exec
    std::string token;               // ABTOOL_RUN_TOKEN's value, or empty
    // The child gets SIGKILL when the thread that forked it ends (PR_SET_PDEATHSIG): for a
    // process that thread waits for (run_process), so that a SIGKILLed abtool takes it along.
    bool die_with_parent = false;
    // When not empty, the child execs abtool-exec (this path), which runs argv in a child of its
    // own and writes a HelperReport to report_fd (runners/exec_helper.hpp) once it has ended.
    std::string helper;
    int report_fd = -1;
    // perf (ProcessSpec::perf_counters): the child waits on an attach pipe after its fork until
    // run_process has opened these counters on it, so that they count from its exec.
    std::vector<Counter> perf_counters;
    bool perf_include_kernel = false;
};
ExecPlan make_exec_plan(const ProcessSpec& spec);

// The last `max_bytes` bytes of `file` (all of it when shorter; empty when unreadable), without
// reading the rest: what a message or a progress line shows of a log that may be huge.
std::string file_tail(const std::filesystem::path& file, std::size_t max_bytes);

// The last `max_lines` lines of `text`, at most `max_chars` characters, trailing newlines dropped:
// what an error message shows of a child's output.
std::string last_lines(const std::string& text, std::size_t max_lines, std::size_t max_chars);

// Sends `signal` to the group, waits up to `grace` for the leader to exit, then SIGKILLs the
// group. Returns once the leader is reaped (its status in *status when given).
void stop_group(pid_t pid, std::chrono::milliseconds grace, int* status = nullptr);

class ChildProcess {
public:
    // Starts `spec` with stdout and stderr appended to `output_log`. Throws Error(workload) when
    // it cannot be started.
    static ChildProcess start(const ProcessSpec& spec, const std::filesystem::path& output_log);

    ChildProcess(ChildProcess&& other) noexcept;
    ChildProcess& operator=(ChildProcess&&) = delete;
    ChildProcess(const ChildProcess&) = delete;
    ~ChildProcess(); // stops it (SIGTERM, 2 s grace, SIGKILL)

    pid_t pid() const { return m_pid; }
    // Nullopt while running; the exit code (or 128 + signal) once it has ended.
    std::optional<int> exit_status();
    void stop(std::chrono::milliseconds grace = std::chrono::seconds(2));

private:
    explicit ChildProcess(pid_t pid) : m_pid(pid) {}
    pid_t m_pid = -1;
    std::optional<int> m_status;
};

} // namespace abtool::runners
