#include "runners/process.hpp"

#include "runners/counters.hpp"
#include "runners/exec_helper.hpp"

#include "abtool/error.hpp"
#include "abtool/unique_fd.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <tuple>
#include <unistd.h>
#include <utility>

extern char** environ;

namespace abtool::runners {

namespace {

constexpr std::string_view k_token_variable = "ABTOOL_RUN_TOKEN";

std::string read_small_file(const std::string& path) {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return {};
    }
    std::string text;
    std::array<char, 4096> buffer{};
    ssize_t n = 0;
    while ((n = read(fd, buffer.data(), buffer.size())) > 0 && text.size() < (1U << 20)) {
        text.append(buffer.data(), static_cast<std::size_t>(n));
    }
    close(fd);
    return text;
}

// The parent pid and state of `pid` from /proc/<pid>/stat (the command name in parentheses may
// hold spaces and parentheses itself: parse from the last ')').
std::optional<std::pair<pid_t, char>> parent_and_state(pid_t pid) {
    const std::string stat = read_small_file(fmt::format("/proc/{}/stat", pid));
    const auto close_paren = stat.rfind(')');
    if (close_paren == std::string::npos || close_paren + 4 >= stat.size()) {
        return std::nullopt;
    }
    const char state = stat[close_paren + 2];
    return std::pair{static_cast<pid_t>(std::atol(stat.c_str() + close_paren + 4)), state};
}

// Every process whose environment carries `token`: the run's descendants that are still alive
// after it ended (abtool's own children through the subreaper, or anyone's). Each is killed with
// SIGKILL and, when it is abtool's child, reaped. Returns "pid 4242 `sleep 20`" for each.
std::vector<std::string> kill_strays_with(const std::string& token) {
    const std::string entry = std::string(k_token_variable) + "=" + token;
    const pid_t self = getpid();
    std::vector<std::string> killed;
    std::vector<pid_t> victims;
    // Killing a stray reparents its children (to abtool, the subreaper): look again until a pass
    // finds nothing new.
    for (int pass = 0; pass < 8; ++pass) {
        std::size_t found = 0;
        // A child of abtool whose environment reads empty is between fork and exec (or inside
        // execve): it may be a stray whose token cannot be seen yet, so look again shortly.
        bool unreadable_child = false;
        std::error_code ec;
        for (const auto& dir : std::filesystem::directory_iterator("/proc", ec)) {
            const std::string name = dir.path().filename().string();
            if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) {
                continue;
            }
            const pid_t pid = static_cast<pid_t>(std::atol(name.c_str()));
            if (pid == self || std::find(victims.begin(), victims.end(), pid) != victims.end()) {
                continue;
            }
            const std::string environment = read_small_file("/proc/" + name + "/environ");
            if (environment.empty()) {
                const auto stat = parent_and_state(pid);
                unreadable_child =
                    unreadable_child || (stat && stat->first == self && stat->second != 'Z');
                continue;
            }
            const auto at = environment.find(entry);
            if (at == std::string::npos || (at > 0 && environment[at - 1] != '\0') ||
                (at + entry.size() < environment.size() &&
                 environment[at + entry.size()] != '\0')) {
                continue;
            }
            std::string command = read_small_file("/proc/" + name + "/cmdline");
            std::replace(command.begin(), command.end(), '\0', ' ');
            while (!command.empty() && command.back() == ' ') {
                command.pop_back();
            }
            if (command.size() > 80) {
                command = command.substr(0, 77) + "...";
            }
            ::kill(pid, SIGKILL);
            victims.push_back(pid);
            killed.push_back(fmt::format("pid {} `{}`", pid, command));
            ++found;
        }
        if (found == 0 && !unreadable_child) {
            break;
        }
        if (found == 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    }
    // Reap the ones that are (or, their parent killed too, become) abtool's children. They carry
    // a finished run's token, so no other thread waits for them.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
    for (const pid_t pid : victims) {
        while (std::chrono::steady_clock::now() < deadline) {
            const auto stat = parent_and_state(pid);
            if (!stat || stat->first != self) {
                if (stat && stat->first != 1 && stat->second != 'Z') {
                    std::this_thread::sleep_for(std::chrono::milliseconds(1)); // being reparented
                    continue;
                }
                break; // gone, or someone else's to reap
            }
            if (waitpid(pid, nullptr, 0) == pid || errno == ECHILD) {
                break;
            }
        }
    }
    return killed;
}

std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free, "request_stop must be signal-safe");

// The process groups of the children alive now (a run's process, a publish server), 0 for a free
// slot: lock-free atomics, so a signal handler can read them (kill_running_groups).
std::array<std::atomic<pid_t>, 8> g_groups{};
static_assert(std::atomic<pid_t>::is_always_lock_free, "kill_running_groups must be signal-safe");

void register_group(pid_t pgid) {
    for (std::atomic<pid_t>& slot : g_groups) {
        pid_t free = 0;
        if (slot.compare_exchange_strong(free, pgid)) {
            return;
        }
    }
    // More children than slots: a second interrupt would miss this one, the first still stops it.
}

void unregister_group(pid_t pgid) {
    for (std::atomic<pid_t>& slot : g_groups) {
        pid_t expected = pgid;
        if (slot.compare_exchange_strong(expected, 0)) {
            return;
        }
    }
}

// Owns a running child's registered group: release() right after the child is reaped. A slot
// left behind would let a second interrupt SIGKILL a pgid the kernel may already have handed to
// an unrelated process. Leaving the scope unreleased (an exception out of the event loop) means
// the child was never reaped: kill its group and reap it, so neither it nor a slot outlives us.
class GroupRegistration {
public:
    explicit GroupRegistration(pid_t pgid) : m_pgid(pgid) {}
    GroupRegistration(const GroupRegistration&) = delete;
    GroupRegistration& operator=(const GroupRegistration&) = delete;
    ~GroupRegistration() {
        if (m_pgid > 0) {
            ::kill(-m_pgid, SIGKILL);
            waitpid(m_pgid, nullptr, 0);
            release();
        }
    }
    void release() noexcept {
        if (m_pgid > 0) {
            unregister_group(m_pgid);
            m_pgid = 0;
        }
    }

private:
    pid_t m_pgid;
};

constexpr auto k_grace = std::chrono::seconds(2);

// One participant's arrival at a StartGate, made exactly once: by spawn right after its fork,
// or, on any path that never forks (a stop request, a command that cannot start), when the
// ticket goes out of scope, so the other side of a duet is never held forever.
class GateTicket {
public:
    explicit GateTicket(std::shared_ptr<StartGate> gate) : m_gate(std::move(gate)) {}
    GateTicket(const GateTicket&) = delete;
    GateTicket& operator=(const GateTicket&) = delete;
    ~GateTicket() { arrive(); }
    void arrive() {
        if (m_gate) {
            m_gate->arrive();
            m_gate.reset();
        }
    }

private:
    std::shared_ptr<StartGate> m_gate;
};

// Forks and execs `plan` in a new process group with the given stdout/stderr. An exec failure
// travels back through a close-on-exec pipe, so it is an exception here, not a child that
// exits 127 and looks like a failed benchmark.
//
// *exec_time, when given, is when the child called exec, read by the child itself from
// CLOCK_MONOTONIC (steady_clock's clock) and sent up the close-on-exec status pipe. A measurement
// that starts there leaves out fork (slow for a large parent, e.g. one built with
// AddressSanitizer) and everything abtool does before it, and it does not wait for this thread to
// be scheduled: in a duet on a busy machine the thread that released the gate is running while
// the other is still waking, and a start time read in the parent moved one side's clock by a
// millisecond or more (an A/A duet of a 15 ms program was called 10% slower on B).
//
// A plan with a gate: the child waits for the gate's release after it is pinned and before it
// execs; `ticket` arrives right after the fork (spawn never blocks on the gate itself).
//
// A plan with perf_counters, given `counters`: they are opened on the child while it waits (on
// its attach pipe, before the gate), and only then does it go on, so that they count from its
// exec; before the ticket arrives, so that a duet's other side is not released while this one
// is still being attached.

// A pipe as two owning ends; throws Error(workload) naming the call that failed.
std::pair<UniqueFd, UniqueFd> make_pipe() {
    int fds[2] = {-1, -1};
    if (pipe2(fds, O_CLOEXEC) != 0) {
        throw Error(ErrorKind::workload, fmt::format("pipe: {}", std::strerror(errno)));
    }
    return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// What the child of a fork uses, all of it made before the fork: after it, the child may call
// only async-signal-safe functions (no allocation).
struct ChildArgs {
    std::vector<char*> argv, envp;
    std::vector<std::string> helper_args; // abtool-exec's own arguments, when there is a helper
    std::vector<char*> helper_argv;       // abtool-exec's, then the workload's argv
    cpu_set_t cpus{};
    const char* cwd = nullptr;
    const char* stdin_path = "/dev/null";
    int attach_read = -1, attach_write = -1; // perf: the pipe to wait on for the counters

    ChildArgs(const ExecPlan& plan, int status_write, int attach_read_fd, int attach_write_fd)
        : attach_read(attach_read_fd), attach_write(attach_write_fd) {
        for (const std::string& arg : plan.argv) {
            argv.push_back(const_cast<char*>(arg.c_str()));
        }
        argv.push_back(nullptr);
        for (const std::string& entry : plan.envp) {
            envp.push_back(const_cast<char*>(entry.c_str()));
        }
        envp.push_back(nullptr);
        CPU_ZERO(&cpus);
        for (int cpu : plan.cpus) {
            CPU_SET(cpu, &cpus);
        }
        cwd = plan.cwd.empty() ? nullptr : plan.cwd.c_str();
        if (!plan.stdin_path.empty()) {
            stdin_path = plan.stdin_path.c_str();
        }
        if (!plan.helper.empty()) {
            helper_args = {plan.helper, std::to_string(status_write),
                           std::to_string(plan.report_fd)};
            for (const std::string& arg : helper_args) {
                helper_argv.push_back(const_cast<char*>(arg.c_str()));
            }
            helper_argv.insert(helper_argv.end(), argv.begin(), argv.end()); // ends with nullptr
        }
    }
};

// In a forked child: holds no write end of the pipe itself (closes `write_fd`, its copy of the
// parent's), then blocks until the parent closes its own. Async-signal-safe.
void wait_for_eof(int read_fd, int write_fd) {
    close(write_fd);
    char byte = 0;
    while (read(read_fd, &byte, 1) < 0 && errno == EINTR) {
    }
}

// The child's side of spawn, from fork to exec: its own group, death with its parent, a clean
// signal state, stdin (/dev/null unless ProcessSpec::stdin_file), its outputs, cwd, CPUs and
// niceness, the start gate, then exec (directly or through abtool-exec). Whatever fails goes up the
// status pipe. Only async-signal-safe calls.
[[noreturn]] void exec_child(const ExecPlan& plan, const ChildArgs& args, int out_fd, int err_fd,
                             int status_write, pid_t parent) {
    setpgid(0, 0);
    if (plan.die_with_parent) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) {
            _exit(127); // the parent died before the line above: nobody waits for us
        }
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    const int in_fd = open(args.stdin_path, O_RDONLY);
    if (in_fd >= 0) {
        dup2(in_fd, STDIN_FILENO);
    }
    dup2(out_fd, STDOUT_FILENO);
    dup2(err_fd, STDERR_FILENO);
    int error = 0;
    if (args.cwd != nullptr && chdir(args.cwd) != 0) {
        error = errno;
    }
    if (error == 0 && !plan.cpus.empty() &&
        sched_setaffinity(0, sizeof args.cpus, &args.cpus) != 0) {
        error = errno;
    }
    if (error == 0 && plan.nice != 0) {
        errno = 0;
        if (nice(plan.nice) == -1 && errno != 0) {
            error = errno;
        }
    }
    if (args.attach_read >= 0) {
        // EOF: the parent has opened the counters on us, and they start at the exec below.
        wait_for_eof(args.attach_read, args.attach_write);
    }
    if (plan.gate) {
        // EOF: the last participant's arrival.
        wait_for_eof(plan.gate->child_fd(), plan.gate->parent_fd());
    }
    if (error == 0 && !args.helper_argv.empty()) {
        // abtool-exec sends the workload's own exec time and keeps both pipes from it.
        fcntl(status_write, F_SETFD, 0);
        fcntl(plan.report_fd, F_SETFD, 0);
        execve(args.helper_argv[0], args.helper_argv.data(), args.envp.data());
        error = errno;
        fcntl(status_write, F_SETFD, FD_CLOEXEC);
    } else if (error == 0) {
        timespec now{};
        clock_gettime(CLOCK_MONOTONIC, &now);
        const ExecMessage message{now.tv_sec * 1'000'000'000LL + now.tv_nsec, 0};
        [[maybe_unused]] const auto sent = write(status_write, &message, sizeof message);
        execvpe(args.argv[0], args.argv.data(), args.envp.data());
        error = errno;
    }
    const ExecMessage failure{-1, error};
    [[maybe_unused]] const auto written = write(status_write, &failure, sizeof failure);
    _exit(127);
}

// What came up the status pipe until it closed: each message is one write of less than PIPE_BUF
// bytes, so it arrives whole. The exec's time, then EOF (the exec succeeded) or a failure.
struct ExecStatus {
    std::array<ExecMessage, 2> messages{};
    std::size_t count = 0;

    explicit ExecStatus(const UniqueFd& status_read) {
        for (;;) {
            const ssize_t got =
                count < messages.size()
                    ? read(status_read.get(), &messages.at(count), sizeof(ExecMessage))
                    : 0;
            if (got < 0 && errno == EINTR) {
                continue;
            }
            if (got != static_cast<ssize_t>(sizeof(ExecMessage))) {
                break;
            }
            ++count;
        }
    }
    bool failed() const { return count > 0 && messages.at(count - 1).exec_ns < 0; }
    int error() const { return count > 0 ? messages.at(count - 1).error : 0; }
    // A child that died before it could say (a signal) has no time of its own: now.
    std::chrono::steady_clock::time_point exec_time() const {
        return count > 0 && messages.front().exec_ns >= 0
                   ? std::chrono::steady_clock::time_point(
                         std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                             std::chrono::nanoseconds(messages.front().exec_ns)))
                   : std::chrono::steady_clock::now();
    }
};

// Opens `plan`'s counters on `pid`, a child waiting on its attach pipe. One that cannot be
// opened is an Error(workload); the child, which never exec'd, is killed and reaped first.
void attach_counters(pid_t pid, const ExecPlan& plan, PerfCounters& counters) {
    try {
        counters.attach(pid, plan.perf_counters, plan.perf_include_kernel,
                        display_command(plan.argv));
    } catch (...) {
        ::kill(-pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        unregister_group(pid);
        throw;
    }
}

pid_t spawn(const ExecPlan& plan, int out_fd, int err_fd,
            std::chrono::steady_clock::time_point* exec_time = nullptr,
            GateTicket* ticket = nullptr, PerfCounters* counters = nullptr) {
    auto [status_read, status_write] = make_pipe();
    UniqueFd attach_read, attach_write;
    if (counters != nullptr && !plan.perf_counters.empty()) {
        std::tie(attach_read, attach_write) = make_pipe();
    }
    const ChildArgs args(plan, status_write.get(), attach_read.get(), attach_write.get());
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid < 0) {
        throw Error(ErrorKind::workload, fmt::format("fork: {}", std::strerror(errno)));
    }
    if (pid == 0) {
        exec_child(plan, args, out_fd, err_fd, status_write.get(), parent);
    }
    setpgid(pid, pid); // also from the parent, so killpg works even before the child runs
    register_group(pid);
    status_write.reset();
    if (attach_write) {
        attach_counters(pid, plan, *counters);
        attach_write.reset(); // the child goes on to its gate and exec
    }
    if (ticket != nullptr) {
        ticket->arrive(); // before the status read: that read returns only after the exec
    }
    const ExecStatus status(status_read);
    if (exec_time != nullptr) {
        *exec_time = status.exec_time();
    }
    if (status.failed()) {
        waitpid(pid, nullptr, 0);
        unregister_group(pid);
        throw Error(ErrorKind::workload,
                    fmt::format("cannot start `{}` in {}: {}", display_command(plan.argv),
                                plan.cwd.empty() ? std::string(".") : plan.cwd.string(),
                                std::strerror(status.error())));
    }
    return pid;
}

// Appends `n` bytes to a captured stream, keeping its last k_captured_max bytes: a workload that
// prints gigabytes on stderr costs abtool a bounded buffer. Cut in amortised steps (at twice the
// limit) so that the copying stays linear.
void keep_tail(std::string& kept, const char* data, std::size_t n) {
    kept.append(data, n);
    if (kept.size() > 2 * k_captured_max) {
        kept.erase(0, kept.size() - k_captured_max);
    }
}

} // namespace

std::string file_tail(const std::filesystem::path& file, std::size_t max_bytes) {
    std::ifstream in(file, std::ios::binary);
    in.seekg(0, std::ios::end);
    const std::streamoff size = in.tellg();
    if (size <= 0) {
        return {};
    }
    const std::streamoff from =
        std::max<std::streamoff>(0, size - static_cast<std::streamoff>(max_bytes));
    in.seekg(from);
    std::string tail(static_cast<std::size_t>(size - from), '\0');
    in.read(tail.data(), static_cast<std::streamsize>(tail.size()));
    tail.resize(static_cast<std::size_t>(in.gcount()));
    return tail;
}

std::string last_lines(const std::string& text, std::size_t max_lines, std::size_t max_chars) {
    std::string result = text.size() > max_chars ? text.substr(text.size() - max_chars) : text;
    while (!result.empty() && (result.back() == '\n' || result.back() == '\r')) {
        result.pop_back();
    }
    std::size_t lines = 0;
    for (std::size_t at = result.size(); at-- > 0;) {
        if (result[at] == '\n' && ++lines == max_lines) {
            return result.substr(at + 1);
        }
    }
    return result;
}

StartGate::StartGate(std::size_t participants) : m_waiting(participants) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        throw Error(ErrorKind::workload, fmt::format("pipe: {}", std::strerror(errno)));
    }
    m_read_fd = fds[0];
    m_write_fd = fds[1];
    if (participants == 0) {
        close(m_write_fd);
        m_write_fd = -1;
    }
}

StartGate::~StartGate() {
    for (int fd : {m_read_fd, m_write_fd}) {
        if (fd >= 0) {
            close(fd);
        }
    }
}

void StartGate::arrive() {
    std::lock_guard lock(m_mutex);
    if (m_waiting == 0) {
        return;
    }
    if (--m_waiting == 0) {
        close(m_write_fd); // every waiting child reads EOF now
        m_write_fd = -1;
        m_released.notify_all();
    }
}

void StartGate::wait() {
    std::unique_lock lock(m_mutex);
    m_released.wait(lock, [&] { return m_waiting == 0; });
}

bool request_stop() noexcept {
    return g_stop.exchange(true);
}
bool stop_requested() noexcept {
    return g_stop.load();
}
void clear_stop_request() noexcept {
    g_stop.store(false);
}

void kill_running_groups() noexcept {
    for (const std::atomic<pid_t>& slot : g_groups) {
        const pid_t pgid = slot.load();
        if (pgid > 0) {
            ::kill(-pgid, SIGKILL);
        }
    }
}

ExecPlan make_exec_plan(const ProcessSpec& spec) {
    ExecPlan plan;
    if (spec.shell) {
        plan.argv = {"/bin/sh", "-c", *spec.shell};
    } else {
        plan.argv = spec.argv;
    }
    if (plan.argv.empty() || plan.argv.front().empty()) {
        throw Error(ErrorKind::workload, "empty command: nothing to run");
    }
    Env env;
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
        const std::string text = *entry;
        const auto equals = text.find('=');
        if (equals != std::string::npos) {
            env[text.substr(0, equals)] = text.substr(equals + 1);
        }
    }
    for (const auto& [key, value] : spec.env) {
        env[key] = value;
    }
    if (spec.sweep_strays || !spec.token.empty()) {
        plan.token = spec.token.empty() ? new_run_token() : spec.token;
        env[std::string(k_token_variable)] = plan.token;
    }
    for (const auto& [key, value] : env) {
        plan.envp.push_back(key + "=" + value);
    }
    plan.cwd = spec.cwd;
    if (spec.stdin_file) {
        plan.stdin_path = spec.stdin_file->string();
    }
    plan.cpus = spec.cpus;
    plan.nice = spec.nice;
    plan.gate = spec.start_gate;
    plan.perf_counters = spec.perf_counters;
    plan.perf_include_kernel = spec.perf_include_kernel;
    return plan;
}

void stop_group(pid_t pid, std::chrono::milliseconds grace, int* status) {
    int raw = 0;
    ::kill(-pid, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    pid_t reaped = 0;
    while ((reaped = waitpid(pid, &raw, WNOHANG)) == 0 &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ::kill(-pid, SIGKILL); // whatever is left of the group, leader included
    if (reaped == 0) {
        waitpid(pid, &raw, 0);
    }
    unregister_group(pid);
    if (status != nullptr) {
        *status = raw;
    }
}

std::string ProcessResult::describe_failure() const {
    std::string what;
    if (interrupted) {
        what = "interrupted";
    } else if (timed_out) {
        what = "timed out (its process group was killed)";
    } else if (signal != 0) {
        what = fmt::format("killed by signal {} ({})", signal, strsignal(signal));
    } else {
        what = fmt::format("exit code {}", exit_code);
    }
    const std::string last = last_lines(err.empty() ? out : err, 10, 2000);
    return last.empty() ? what : what + "; last output:\n" + last;
}

namespace {

// How long run_process keeps reading a child's pipes after it exited: a stray that inherited them
// (and escaped the group kill) must not hold the run open.
constexpr auto k_drain_after_exit = std::chrono::milliseconds(500);
// How often the wait looks at stop requests and progress (and, without a pidfd, reaps).
constexpr auto k_poll_with_pidfd = std::chrono::milliseconds(20);
constexpr auto k_poll_without_pidfd = std::chrono::milliseconds(1);
// One read from a pipe; and how much of a stdout file a failed run's message may draw on.
constexpr std::size_t k_read_chunk = 64 * 1024;
constexpr std::size_t k_failure_tail = 64 * 1024;

UniqueFd open_for_writing(const std::filesystem::path& file, ErrorKind kind) {
    UniqueFd fd(open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd) {
        throw Error(kind, fmt::format("cannot write {}: {}", file.string(), std::strerror(errno)));
    }
    return fd;
}

// Where a run_process child's stdout and stderr go: one file for both (output_file), stdout to a
// file and stderr to a pipe (stdout_file), or two pipes. The child's ends are closed once it has
// them; the parent's read ends go to the wait.
struct ChildOutputs {
    UniqueFd child_out, child_err; // the child's fds 1 and 2 (child_out for both when no err)
    UniqueFd out_read, err_read;   // the parent's ends of the pipes, when there are pipes

    static ChildOutputs for_spec(const ProcessSpec& spec) {
        ChildOutputs outputs;
        if (spec.output_file) {
            outputs.child_out = open_for_writing(*spec.output_file, ErrorKind::io);
            return outputs; // fd 2 too
        }
        if (spec.stdout_file) {
            outputs.child_out = open_for_writing(*spec.stdout_file, ErrorKind::storage);
        } else {
            std::tie(outputs.out_read, outputs.child_out) = make_pipe();
        }
        if (spec.stderr_to_ours) {
            outputs.child_err = UniqueFd(fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3));
            if (!outputs.child_err) {
                throw Error(ErrorKind::workload, fmt::format("dup: {}", std::strerror(errno)));
            }
        } else {
            std::tie(outputs.err_read, outputs.child_err) = make_pipe();
        }
        return outputs;
    }
};

// How a child ended, as wait4 (or abtool-exec's report) gives it.
struct Ended {
    int status = 0;
    rusage usage{};
    std::chrono::steady_clock::time_point end;
};

// The wait for one running child, on Boost.Asio: its stdout and stderr read as they come (each
// cut to its tail, ProcessResult::out/err), its exit seen through a pidfd the moment it happens
// (or a poll where there is none), its deadline, stop requests and progress calls. run() returns
// once the child has been reaped and its pipes are drained.
class ChildWait {
public:
    ChildWait(pid_t pid, const ProcessSpec& spec, std::chrono::steady_clock::time_point start,
              ProcessResult& result, GroupRegistration& registration)
        : m_pid(pid), m_spec(spec), m_start(start), m_result(result),
          m_registration(registration), m_out{boost::asio::posix::stream_descriptor(m_io), {}},
          m_err{boost::asio::posix::stream_descriptor(m_io), {}}, m_exit(m_io), m_deadline(m_io),
          m_poll(m_io), m_grace(m_io), m_drain(m_io) {}

    Ended run(UniqueFd out_read, UniqueFd err_read) {
        start_reading(m_out, std::move(out_read), m_result.out);
        start_reading(m_err, std::move(err_read), m_result.err);
        // A pidfd becomes readable the moment the child ends: the wall time stops there, not at
        // the next poll.
        m_pidfd = static_cast<int>(syscall(SYS_pidfd_open, m_pid, 0));
        if (m_pidfd >= 0) {
            m_exit.assign(m_pidfd);
            m_exit.async_wait(boost::asio::posix::descriptor_base::wait_read,
                              [this](const boost::system::error_code& ec) {
                                  if (!ec) {
                                      try_reap(0);
                                  }
                              });
        }
        m_deadline.expires_after(m_spec.timeout);
        m_deadline.async_wait([this](const boost::system::error_code& ec) {
            if (!ec && !m_exited) {
                m_result.timed_out = true;
                kill_group();
            }
        });
        m_last_progress = std::chrono::steady_clock::now();
        watch();
        m_io.run();
        for (std::string* kept : {&m_result.out, &m_result.err}) {
            if (kept->size() > k_captured_max) {
                kept->erase(0, kept->size() - k_captured_max);
            }
        }
        if (!m_exited) {
            // Unreachable in practice (the pidfd or the poll reaps); never leave a zombie behind.
            wait4(m_pid, &m_ended.status, 0, &m_ended.usage);
            m_ended.end = std::chrono::steady_clock::now();
        }
        return m_ended;
    }

private:
    struct Stream {
        boost::asio::posix::stream_descriptor pipe;
        std::array<char, k_read_chunk> buffer;
        bool open = false;
    };

    void start_reading(Stream& stream, UniqueFd fd, std::string& kept) {
        if (!fd) {
            return;
        }
        stream.pipe.assign(fd.release());
        stream.open = true;
        read(stream, kept);
    }

    void read(Stream& stream, std::string& kept) {
        stream.pipe.async_read_some(
            boost::asio::buffer(stream.buffer),
            [this, &stream, &kept](const boost::system::error_code& ec, std::size_t n) {
                if (ec) {
                    stream.open = false;
                    finish_if_done();
                    return;
                }
                keep_tail(kept, stream.buffer.data(), n);
                read(stream, kept);
            });
    }

    void finish_if_done() {
        if (m_exited && !m_out.open && !m_err.open) {
            m_deadline.cancel();
            m_poll.cancel();
            m_grace.cancel();
            m_drain.cancel();
        }
    }

    void on_exit() {
        m_exited = true;
        m_ended.end = std::chrono::steady_clock::now();
        // Strays left in the group would keep our pipes open and load the machine during the
        // next run: end them now. The group is then no longer ours to kill: a second interrupt
        // must not reach its pgid while the pipes drain, when it may be reused.
        ::kill(-m_pid, SIGKILL);
        m_registration.release();
        m_drain.expires_after(k_drain_after_exit);
        m_drain.async_wait([this](const boost::system::error_code& ec) {
            if (!ec) {
                boost::system::error_code ignored;
                m_out.pipe.close(ignored);
                m_err.pipe.close(ignored);
            }
        });
        finish_if_done();
    }

    void try_reap(int options) {
        if (wait4(m_pid, &m_ended.status, options, &m_ended.usage) == m_pid) {
            on_exit();
        }
    }

    void kill_group() {
        ::kill(-m_pid, SIGTERM);
        m_grace.expires_after(k_grace);
        m_grace.async_wait([this](const boost::system::error_code& ec) {
            if (!ec && !m_exited) {
                ::kill(-m_pid, SIGKILL);
            }
        });
    }

    // Every poll interval: reap (without a pidfd), act on a stop request, report progress.
    void watch() {
        m_poll.expires_after(m_pidfd >= 0 ? k_poll_with_pidfd : k_poll_without_pidfd);
        m_poll.async_wait([this](const boost::system::error_code& ec) {
            if (ec || m_exited) {
                return;
            }
            if (m_pidfd < 0) {
                try_reap(WNOHANG);
            }
            if (!m_exited && stop_requested() && !m_result.interrupted) {
                m_result.interrupted = true;
                kill_group();
            }
            const auto now = std::chrono::steady_clock::now();
            if (!m_exited && m_spec.progress && now - m_last_progress >= m_spec.progress_every) {
                m_last_progress = now;
                m_spec.progress(
                    std::chrono::duration_cast<std::chrono::milliseconds>(now - m_start));
            }
            if (!m_exited) {
                watch();
            }
        });
    }

    pid_t m_pid;
    const ProcessSpec& m_spec;
    std::chrono::steady_clock::time_point m_start, m_last_progress;
    ProcessResult& m_result;
    GroupRegistration& m_registration;
    boost::asio::io_context m_io;
    Stream m_out, m_err;
    int m_pidfd = -1; // owned by m_exit once assigned
    boost::asio::posix::stream_descriptor m_exit;
    boost::asio::steady_timer m_deadline, m_poll, m_grace, m_drain;
    bool m_exited = false;
    Ended m_ended;
};

// abtool-exec's report of the workload itself replaces what wait4 said of the helper; absent when
// the helper was killed (a timeout's SIGTERM reached the group), and then the helper's status
// stands.
void apply_helper_report(const UniqueFd& report_read, Ended& ended) {
    HelperReport report{};
    ssize_t got = 0;
    while ((got = read(report_read.get(), &report, sizeof report)) < 0 && errno == EINTR) {
    }
    if (got != static_cast<ssize_t>(sizeof report) || report.valid != 1) {
        return;
    }
    ended.status = report.wait_status;
    ended.usage = rusage{};
    ended.usage.ru_utime.tv_sec = report.user_us / 1'000'000;
    ended.usage.ru_utime.tv_usec = report.user_us % 1'000'000;
    ended.usage.ru_stime.tv_sec = report.sys_us / 1'000'000;
    ended.usage.ru_stime.tv_usec = report.sys_us % 1'000'000;
    ended.usage.ru_maxrss = report.max_rss_kb;
    ended.end = std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::nanoseconds(report.end_ns)));
}

double milliseconds(const timeval& time) {
    return static_cast<double>(time.tv_sec) * 1e3 + static_cast<double>(time.tv_usec) / 1e3;
}

// A steady_clock moment (a child's exec) on the system clock: a duet's launch skew compares two.
std::int64_t unix_ns_of(std::chrono::steady_clock::time_point moment) {
    const auto since = std::chrono::steady_clock::now() - moment;
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               (std::chrono::system_clock::now() - since).time_since_epoch())
        .count();
}

} // namespace

ProcessResult run_process(const ProcessSpec& spec) {
    GateTicket ticket(spec.start_gate);
    ProcessResult result;
    ExecPlan plan = make_exec_plan(spec);
    plan.die_with_parent = true; // this thread waits for the child until it ends
    if (stop_requested()) {
        result.interrupted = true;
        return result;
    }
    ChildOutputs outputs = ChildOutputs::for_spec(spec);
    // Through abtool-exec when there is one: the workload's own peak RSS, not abtool's copy's.
    // Not in a duet (a start gate): the helper's start and fork would fall between the gate's
    // release and the workload's exec, and put the two sides 2.3 ms apart (0.1 ms directly; the
    // interval of a 180 ms program doubled). A duet's max_rss_kb then includes abtool's copy, on
    // both sides alike.
    UniqueFd report_read, report_write;
    if (!exec_helper_path().empty() && !spec.start_gate) {
        std::tie(report_read, report_write) = make_pipe();
        plan.helper = exec_helper_path();
        plan.report_fd = report_write.get();
    }

    // Counted through abtool-exec, the counters are the helper's, inherited by its child, the
    // workload: what the helper does itself (a small static program's start-up, one fork, one
    // wait) is counted too, a constant on both sides of a comparison.
    PerfCounters counters;
    std::chrono::steady_clock::time_point start;
    const pid_t pid = spawn(plan, outputs.child_out.get(),
                            outputs.child_err ? outputs.child_err.get() : outputs.child_out.get(),
                            &start, &ticket, &counters);
    report_write.reset();
    result.start_unix_ns = unix_ns_of(start);
    GroupRegistration registration(pid);
    outputs.child_out.reset();
    outputs.child_err.reset();

    Ended ended = ChildWait(pid, spec, start, result, registration)
                      .run(std::move(outputs.out_read), std::move(outputs.err_read));
    registration.release();
    if (report_read) {
        apply_helper_report(report_read, ended);
    }
    // The child is reaped, so its threads and the children it waited for have ended and added
    // theirs in. A process it left running (killed with its group, or by the sweep below) adds
    // its part when it ends: maybe after this read.
    result.counts = counters.read(result.counts_note);
    if (!plan.token.empty() && spec.start_gate) {
        result.pending_sweep = plan.token;
    } else if (!plan.token.empty()) {
        result.strays = kill_strays_with(plan.token);
    }

    result.wall_ms = std::chrono::duration<double, std::milli>(ended.end - start).count();
    result.user_ms = milliseconds(ended.usage.ru_utime);
    result.sys_ms = milliseconds(ended.usage.ru_stime);
    result.max_rss_kb = ended.usage.ru_maxrss;
    if (WIFEXITED(ended.status)) {
        result.exit_code = WEXITSTATUS(ended.status);
    } else if (WIFSIGNALED(ended.status)) {
        result.signal = WTERMSIG(ended.status);
    }
    if (spec.stdout_file && !spec.output_file && !result.ok()) {
        result.out = file_tail(*spec.stdout_file, k_failure_tail);
    }
    return result;
}

std::string new_run_token() {
    // Fixed width (16 hex digits): the environment's size must not differ between runs. The
    // time's low bits tell two abtool processes of one pid apart (a token file outlives its pid).
    static std::atomic<std::uint32_t> next_run{0};
    const auto now =
        static_cast<std::uint32_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    return fmt::format("{:08x}{:08x}", static_cast<std::uint32_t>(getpid()) ^ (now << 16),
                       next_run++ ^ (now >> 16));
}

std::vector<std::string> sweep_strays(const std::string& token) {
    return kill_strays_with(token);
}

namespace {
std::string& exec_helper() {
    static std::string path;
    return path;
}
} // namespace

void set_exec_helper(const std::filesystem::path& path) {
    exec_helper() = path.string();
}

const std::string& exec_helper_path() {
    return exec_helper();
}

bool become_subreaper() {
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0;
}

ChildProcess ChildProcess::start(const ProcessSpec& spec, const std::filesystem::path& output_log) {
    const ExecPlan plan = make_exec_plan(spec);
    const UniqueFd fd(open(output_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (!fd) {
        throw Error(ErrorKind::io,
                    fmt::format("cannot write {}: {}", output_log.string(), std::strerror(errno)));
    }
    return ChildProcess(spawn(plan, fd.get(), fd.get()));
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : m_pid(other.m_pid), m_status(other.m_status) {
    other.m_pid = -1;
}

ChildProcess::~ChildProcess() {
    stop();
}

std::optional<int> ChildProcess::exit_status() {
    if (m_status || m_pid < 0) {
        return m_status;
    }
    int raw = 0;
    if (waitpid(m_pid, &raw, WNOHANG) == m_pid) {
        m_status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
        ::kill(-m_pid, SIGKILL); // strays of an ended server
        unregister_group(m_pid);
    }
    return m_status;
}

void ChildProcess::stop(std::chrono::milliseconds grace) {
    if (m_pid < 0) {
        return;
    }
    if (!exit_status()) {
        int raw = 0;
        stop_group(m_pid, grace, &raw);
        m_status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
    }
    m_pid = -1;
}

} // namespace abtool::runners
