// runners: everything that starts a process. Builds a ref in its worktree, runs a workload once
// on one ref and turns what it did into samples (command: the process's own cost; hotpath: the
// samples the program reports; publish: a load generator against the ref's server), with
// timeouts and whole-process-group cleanup. It computes no verdicts.
#pragma once

#include "abtool/direction.hpp"

#include <array>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace abtool::runners {

// Async-signal-safe: called from abtool's SIGINT/SIGTERM handler. Every running child's process
// group is stopped (SIGTERM, a grace period, SIGKILL) and no new one starts.
bool request_stop() noexcept; // returns whether a stop was already requested
bool stop_requested() noexcept;
void clear_stop_request() noexcept; // for tests and for a session that starts anew
// Async-signal-safe: SIGKILLs the process group of every child running now. For a second
// interrupt, when abtool is about to _exit without waiting for the clean stop: its children lead
// their own groups, so the terminal's signal never reaches them and they would run on.
void kill_running_groups() noexcept;

using Env = std::map<std::string, std::string>;

// Releases the runs of one duet round at one instant: each run's child is forked, pinned and
// made ready, then blocks before exec on a pipe that the last participant to arrive closes, so
// both children exec within microseconds of each other (a publish run waits in-process instead,
// before its load starts). Single use: one gate per launch.
class StartGate {
public:
    explicit StartGate(std::size_t participants);
    StartGate(const StartGate&) = delete;
    StartGate& operator=(const StartGate&) = delete;
    ~StartGate();

    // The end a forked child reads until EOF before it execs (close-on-exec).
    int child_fd() const { return m_read_fd; }
    // The end a forked child must close, so that only the parent holds it.
    int parent_fd() const { return m_write_fd; }
    // This participant is ready (or will never be: a run that fails before its child exists
    // arrives too, so the others are not held forever). Never blocks.
    void arrive();
    // Blocks until every participant has arrived.
    void wait();

private:
    std::mutex m_mutex;
    std::condition_variable m_released;
    std::size_t m_waiting;
    int m_read_fd = -1;
    int m_write_fd = -1;
};

// ---- counters ----------------------------------------------------------------------------

// Deterministic counts of what a run executed (DESIGN.md: `counters = [...]`), recorded as
// metrics of those names and gateable like any other. Wall time moves by tens of percent on a
// shared machine; the instructions a CPU-bound program executes barely move.
enum class Counter { instructions, cycles, branch_misses, cache_misses, page_faults };
inline constexpr std::array<std::pair<std::string_view, Counter>, 5> k_counters{{
    {"instructions", Counter::instructions},
    {"cycles", Counter::cycles},
    {"branch_misses", Counter::branch_misses},
    {"cache_misses", Counter::cache_misses},
    {"page_faults", Counter::page_faults},
}};
std::string_view to_string(Counter counter); // its metric's name, as in k_counters
// The counter a metric name stands for; nullopt: not a counter.
constexpr std::optional<Counter> counter_named(std::string_view metric) {
    for (const auto& [name, counter] : k_counters) {
        if (name == metric) {
            return counter;
        }
    }
    return std::nullopt;
}

// Who counts. perf: perf_event_open on the child, from its exec, inherited by its threads and
// children, read once it has ended: no extra process, no slowdown; needs a hardware PMU for all
// but page_faults (a software event), and perf_event_paranoid's leave (or CAP_PERFMON).
// cachegrind: the child runs under `valgrind --tool=cachegrind --trace-children=yes`, and its
// instructions are the Ir of every process it ran: any machine, instructions only, many times
// slower, so the run's times are not comparable with a native run's (informational only).
// automatic: perf when it can count every requested counter here, else cachegrind.
enum class CounterBackend { automatic, perf, cachegrind };
inline constexpr std::array<std::pair<std::string_view, CounterBackend>, 3> k_counter_backends{{
    {"auto", CounterBackend::automatic},
    {"perf", CounterBackend::perf},
    {"cachegrind", CounterBackend::cachegrind},
}};
std::string_view to_string(CounterBackend backend); // as in k_counter_backends

// What a command or hotpath workload counts, and how.
struct Counting {
    std::vector<Counter> counters;                      // none: nothing is counted
    CounterBackend backend = CounterBackend::automatic; // before any run: perf or cachegrind
    bool include_kernel = false; // perf: also what the kernel does on the child's behalf
    bool active() const { return !counters.empty(); }
};

// perf: why `counter` cannot be counted for a child of this process (no PMU, forbidden by
// perf_event_paranoid), or nullopt when it can. Probes with a disabled counter on this process.
std::optional<std::string> perf_unavailable(Counter counter, bool include_kernel);
// cachegrind: the valgrind it would run (found on PATH), or nullopt.
std::optional<std::filesystem::path> find_valgrind();

struct CounterChoice {
    CounterBackend backend = CounterBackend::perf; // perf or cachegrind, never automatic
    // Why this one, in a line: "no hardware PMU here (...); cachegrind instead".
    std::string reason;
};
// The backend that counts `counting` on this machine: the requested one when it can, else
// automatic's choice. Throws Error(config) naming what is missing (`what`, e.g. "workload
// 'loop' (abtool.toml:12)", leads the message): a counter perf cannot count here, cachegrind
// asked for a counter other than instructions, valgrind not installed (naming the package).
CounterChoice choose_counter_backend(const Counting& counting, std::string_view what);

// ---- processes ---------------------------------------------------------------------------

struct ProcessSpec {
    std::vector<std::string> argv;    // executed directly, never through a shell
    std::optional<std::string> shell; // when set: /bin/sh -c <shell>, argv ignored
    std::filesystem::path cwd;
    // Set on top of abtool's own inherited environment. Refs A and B therefore see the same
    // environment: abtool's, plus the workload's `env` table (applied to both), plus, unless
    // --no-env-padding, ABTOOL_ENV_PADDING of a random length drawn per run from the seed (the
    // same distribution for both sides). Their worktree paths have equal length (DESIGN.md).
    Env env;
    std::chrono::milliseconds timeout{std::chrono::seconds(60)};
    std::vector<int> cpus; // pin the child to these CPUs when not empty
    int nice = 0;          // added niceness for the child
    // When set, stdout and stderr go to this file, interleaved as written, instead of being
    // captured (builds: the log is what a person reads).
    std::optional<std::filesystem::path> output_file;
    // When set (and output_file is not), the child's stdout is this file, written by the child
    // itself: abtool neither copies nor holds it, whatever its size (a workload's output, parsed
    // from the file afterwards). stderr is still captured.
    std::optional<std::filesystem::path> stdout_file;
    // The child's stdin: this file (an upload to an ssh target), else /dev/null.
    std::optional<std::filesystem::path> stdin_file;
    // The child's stderr is abtool's own, written as it comes (a remote run's progress lines),
    // not captured: ProcessResult::err stays empty.
    bool stderr_to_ours = false;
    // Duet: the child waits at this gate, after fork and pinning, until every participant is
    // ready; the wall time starts at its exec, after the release.
    std::shared_ptr<StartGate> start_gate;
    // A workload run: every process it leaves behind (a daemon that called setsid, so the group
    // kill missed it) is found by a token in its environment (ABTOOL_RUN_TOKEN, of fixed length
    // so both sides' environments stay the same size), killed, and listed in
    // ProcessResult::strays. Builds leave theirs (compiler servers are meant to outlive them).
    bool sweep_strays = false;
    // Called about every `progress_every` while the child runs, with the time since its start
    // (a build's progress line); not at all when empty.
    std::function<void(std::chrono::milliseconds elapsed)> progress;
    std::chrono::milliseconds progress_every{1000};
    // ABTOOL_RUN_TOKEN for this process tree when not empty (a build's, so that a later abtool
    // can find what an earlier, killed one left running); sweep_strays makes its own.
    std::string token;
    // perf: count these for the child, from its exec until it and everything it started have
    // ended (inherited by threads and children); the counts are in ProcessResult::counts.
    std::vector<Counter> perf_counters;
    bool perf_include_kernel = false;
};

struct ProcessResult {
    int exit_code = -1; // valid when signal == 0
    int signal = 0;     // the signal that ended the child, 0 when it exited
    bool timed_out = false;
    bool interrupted = false;       // stopped by request_stop()
    double wall_ms = 0;             // monotonic clock, exec to exit
    double user_ms = 0, sys_ms = 0; // the child's rusage (wait4)
    std::int64_t max_rss_kb = 0;
    // The captured stdout and stderr, each cut to its last k_captured_max bytes (what a message
    // shows is their end). With stdout_file, `out` is that file's tail, read only when the
    // process failed.
    std::string out, err;
    std::int64_t start_unix_ns = 0; // when the child exec'd (system clock)
    // sweep_strays: the processes still alive after the child exited, killed ("pid 4242 `sleep
    // 20`"); empty when the run left nothing behind.
    std::vector<std::string> strays;
    // A duet run (start_gate set) does not sweep at once: scanning /proc would take CPU from the
    // other side's run, still being measured. Its token waits here for sweep_strays() once both
    // runs are done.
    std::string pending_sweep;
    // ProcessSpec::perf_counters, in their order, once the child has ended. A counter the kernel
    // multiplexed (it ran for part of the time) is scaled to the whole and named in
    // counts_note.
    std::vector<std::pair<Counter, double>> counts;
    std::string counts_note;

    bool ok() const { return exit_code == 0 && signal == 0 && !timed_out && !interrupted; }
    // "exit code 3", "killed by signal 9", "timed out after 60 s", with the stderr tail.
    std::string describe_failure() const;
};

// The most of a captured stream ProcessResult keeps: 1 MiB.
inline constexpr std::size_t k_captured_max = std::size_t{1} << 20;

// Runs one process to completion; stdout and stderr are read concurrently (no deadlock at any
// size); on timeout or request_stop() the child's whole process group is killed. Throws
// Error(workload) only when the process cannot be started at all (naming argv[0]).
ProcessResult run_process(const ProcessSpec& spec);

// Makes this process the child subreaper (PR_SET_CHILD_SUBREAPER): a workload's orphans, which
// would otherwise go to init and outlive the run, become abtool's children, so that the sweep
// can reap what it kills. Call once at start-up; false where the kernel refuses.
bool become_subreaper();
// The abtool-exec program (runners/exec_helper.cpp) that run_process starts workloads through,
// so that their max_rss_kb is their own, not that of a copy of abtool's memory. Unset (the
// default): processes are exec'd directly. abtool sets it to the one beside its binary.
void set_exec_helper(const std::filesystem::path& path);
const std::string& exec_helper_path();
// Kills (and reaps, where abtool is their parent) every process whose environment carries the
// run token `token`; returns them as "pid 4242 `sleep 20`". run_process calls it itself, except
// for a duet run (ProcessResult::pending_sweep).
std::vector<std::string> sweep_strays(const std::string& token);
// A fresh token for ProcessSpec::token: 16 hex digits, unique to this abtool process and call.
std::string new_run_token();

// ---- builds ------------------------------------------------------------------------------

enum class Rebuild { no, yes };

struct BuildSpec {
    std::vector<std::string> argv;
    std::optional<std::string> shell;
    Env env;
    std::chrono::seconds timeout{std::chrono::minutes(15)};
    // While the build runs, about every `progress_every`: its elapsed time and the last line it
    // wrote to its log (empty before its first line), for a progress line. Not called when empty.
    std::function<void(double elapsed_s, std::string_view last_line)> progress;
    std::chrono::milliseconds progress_every{1000};
};

struct BuildOutcome {
    bool skipped = false; // the stamp matched: nothing ran
    double wall_s = 0;
    std::filesystem::path log; // stdout+stderr of the build (empty when skipped)
    // Processes of an earlier build in this worktree, still running because the abtool that
    // started it was killed (SIGKILL: no chance to stop them), found by the token that build left
    // in `stamp_dir` and stopped before this one ("pid 4242 `make`"): never two builds at once.
    std::vector<std::string> stopped;
};

// Builds in `worktree` unless `stamp_dir` holds a stamp from an earlier successful build of the
// same: content_id, command (argv or shell), [build] env, the toolchain variables the build sees
// (CC, CXX, CFLAGS, CXXFLAGS, CPPFLAGS, LDFLAGS, PATH: [build] env's value, else the inherited
// one) and the compilers $CC and $CXX (or cc and c++) name on that PATH (resolved path, size and
// mtime, so an upgraded compiler rebuilds). Anything else the build reads (other variables, files
// outside the worktree, a library upgrade) is not covered: --rebuild forces a build. Output goes to
// `log`. Throws Error(build) naming `label` (e.g. "ref 'dev' (3f2a1c9)"), the command and the log
// path, with the log's last lines.
BuildOutcome build(const BuildSpec& spec, const std::filesystem::path& worktree,
                   const std::filesystem::path& stamp_dir, std::string_view content_id,
                   const std::filesystem::path& log, std::string_view label, Rebuild rebuild);

// ---- workloads ---------------------------------------------------------------------------

using abtool::Direction;     // which way is better (common/include/abtool/direction.hpp)
enum class Gate { yes, no }; // whether a regression of this metric fails the gate

struct Sample {
    std::string case_name; // "" for command and publish workloads
    std::string metric;    // "wall_ms", "real_time", "latency_p99_ms", ...
    double value = 0;
    std::string unit; // "ms", "ns", "kB", "rps", ...
    Direction direction = Direction::lower;
    Gate gate = Gate::no;
};

struct CommandWorkload {
    std::vector<std::string> argv;
    std::optional<std::string> shell;
    Env env;
    std::chrono::milliseconds timeout{std::chrono::seconds(60)};
    std::vector<std::string> metrics; // gated metrics; empty: wall_ms
    Counting counting;
};
// Samples per run: wall_ms (gated unless `metrics` says otherwise), user_ms, sys_ms, max_rss_kb,
// and each counter (unit "count").

// What a hotpath program prints (or writes to its output file): DESIGN.md's `format` values.
enum class HotpathFormat {
    gbench,
    hyperfine,
    jsonl,
    catch2,
    pytest_benchmark,
    go,
    criterion,
    jmh,
    benchmarkdotnet,
    bmf
};

struct HotpathWorkload {
    std::vector<std::string> argv;
    std::optional<std::string> shell;
    Env env;
    std::chrono::milliseconds timeout{std::chrono::seconds(300)};
    HotpathFormat format = HotpathFormat::gbench;
    std::vector<std::string> metrics; // gated metrics; empty: the format's default (real_time,
                                      // mean, every jsonl metric)
    std::optional<std::string> output_file; // read this file instead of stdout (--benchmark_out)
    // output = "{output}": abtool passes a fresh per-run path as {output} in the command (the
    // argv, or the shell string as one quoted word) and reads the file the program writes there
    // (pytest-benchmark's --benchmark-json={output}). A missing or empty file fails the run.
    bool output_placeholder = false;
    // directions = { metric = "higher" }: the direction of every sample of these metrics, over
    // what the reader decided (a user counter that is a rate, a custom Go or BMF unit).
    std::map<std::string, Direction, std::less<>> directions;
    // The whole program's counts, as samples of case "" (a process cannot be counted per case).
    Counting counting;
    // cases = [...] with {filter} in the command: the cases this run asks for (every listed one,
    // or a shard's share, --shard). The program gets them as {filter}: case_filter(cases).
    std::vector<std::string> cases;
};
// {filter}'s value: an anchored regular expression matching exactly `cases`, ^(a|b)$ with every
// regex metacharacter of a name escaped (Google Benchmark's --benchmark_filter takes it as is).
std::string case_filter(const std::vector<std::string>& cases);
// Samples per run: every repetition the program reports, one Sample each.

enum class Protocol { http, http_keepalive, tcp };
enum class PublishMode { burst, paced };

struct PublishWorkload {
    std::vector<std::string> server; // argv with {port}
    Env env;
    Protocol protocol = Protocol::http;
    std::string path = "/publish";
    std::string payload = R"({"seq": {seq}})";
    PublishMode mode = PublishMode::burst;
    std::size_t count = 2000;
    std::size_t concurrency = 4;
    double rate = 0; // paced: messages per second
    // A soak (paced only): messages at `rate` for this long instead of `count`, the server's
    // process group sampled every second (runners/publish/soak.hpp).
    std::optional<std::chrono::milliseconds> duration;
    std::optional<std::string> ready_path; // GET until 2xx; else ready when the port accepts
    std::chrono::milliseconds ready_timeout{std::chrono::seconds(30)};
    std::chrono::milliseconds request_timeout{std::chrono::seconds(5)};
    std::chrono::milliseconds timeout{std::chrono::seconds(300)};
    // The messages a run sends: `count`, or a soak's rate x duration.
    std::size_t messages() const {
        if (!duration) {
            return count;
        }
        const double seconds = std::chrono::duration<double>(*duration).count();
        return static_cast<std::size_t>(std::ceil(rate * seconds));
    }
};
// Samples per run: latency_{min,p50,p95,p99,max,mean,stddev}_ms (p50 gated), throughput_rps
// (gated, higher), bytes_out, bytes_in, success, errors.

// A streaming endpoint (DESIGN.md `kind = "stream"`): per run, the ref's server is started as for
// publish, and `total_sessions()` streaming requests are made to it, `sessions` at a time. The
// first session runs alone until its first chunk (the cold start); then the others join. Each
// chunk is timed when its bytes arrive, on the steady clock.
enum class StreamProtocol {
    http_ndjson, // POST payload to path; a chunked response, one JSON object per line
    sse,      // POST payload to path; Server-Sent Events, each `data:` event a chunk, [DONE] ends
    websocket // GET path upgraded; payload sent as one text message, each message received a chunk
};

struct StreamWorkload {
    std::vector<std::string> server; // argv with {port}
    Env env;
    StreamProtocol protocol = StreamProtocol::http_ndjson;
    std::string path = "/stream";
    std::string payload = R"({"max_tokens": 100})"; // {seq} is replaced by the session's number
    std::size_t expect_chunks = 0;                  // per session
    std::optional<double> period_ms;                // the pace the server is meant to keep
    std::size_t sessions = 1;                       // at a time
    std::size_t session_count = 0;                  // per run; 0: `sessions`
    // A soak: sessions started back to back for this long instead of `session_count`, the
    // server's process group sampled every second (runners/publish/soak.hpp).
    std::optional<std::chrono::milliseconds> duration;
    std::optional<std::string> ready_path; // GET until 2xx; else ready when the port accepts
    std::chrono::milliseconds ready_timeout{std::chrono::seconds(30)};
    // From a session's start (connect, request) to its first chunk.
    std::chrono::milliseconds request_timeout{std::chrono::seconds(10)};
    // The longest wait for a session's next chunk.
    std::chrono::milliseconds chunk_timeout{std::chrono::seconds(5)};
    std::chrono::milliseconds timeout{std::chrono::seconds(300)}; // the whole run
    std::size_t total_sessions() const { return session_count > 0 ? session_count : sessions; }
};
// Samples per run: first_chunk_{p50,p95,p99}_ms (warm sessions: all but the first; p50 gated),
// cold_first_chunk_ms, interval_{mean,p50,p95,p99}_ms (mean gated), jitter_p95_ms, overhead_ms
// (with period_ms), e2e_{p50,p95}_ms, chunks_received, chunks_lost, throughput_chunks_per_s,
// bytes_in, bytes_out, errors, sessions_ok. The names are fixed: scripts read them.

struct Workload {
    std::string name;
    std::variant<CommandWorkload, HotpathWorkload, PublishWorkload, StreamWorkload> spec;
};
// "command" | "hotpath" | "publish" | "stream"
std::string_view kind_name(const Workload& workload);
// A command as messages show it: the argv joined by spaces, or the shell string, cut after about
// 200 characters with a count of what was left out (an argv too long for exec is megabytes).
std::string display_command(const std::vector<std::string>& argv,
                            const std::optional<std::string>& shell = std::nullopt);
std::string display_command(const Workload& workload); // a publish workload: its server
// `text` as one POSIX shell word: 'single-quoted', each ' as '\''. A placeholder's value goes
// into a `shell = "..."` string this way, so that a path holding $(...) or ; stays a path.
std::string shell_quote(std::string_view text);

// The gate rule: whether a regression of `metric` fails the gate. The runners stamp it on every
// Sample; `abtool compare` applies it to stored runs whose samples did not record it. command:
// wall_ms; publish: latency_p50_ms and throughput_rps; stream: first_chunk_p50_ms and
// interval_mean_ms; hotpath: the workload's `metrics`, else the format's default (Google
// Benchmark real_time, hyperfine wall_ms, every JSON lines metric).
Gate gate_of(const CommandWorkload& workload, std::string_view metric);
Gate gate_of(const HotpathWorkload& workload, std::string_view metric);
Gate gate_of(const PublishWorkload& workload, std::string_view metric);
Gate gate_of(const StreamWorkload& workload, std::string_view metric);
Gate gate_of(const Workload& workload, std::string_view metric); // by its kind
// The gated metrics every run of `workload` must report, by name: command wall_ms, publish
// latency_p50_ms and throughput_rps, stream first_chunk_p50_ms and interval_mean_ms (when a
// session has two chunks or more), hotpath its `metrics` or its format's default. Empty for JSON
// lines without `metrics`, where every metric the program reports gates (then at least one must).
std::vector<std::string> gated_metrics(const Workload& workload);
// What a command or hotpath workload counts; null for a publish or stream workload.
const Counting* counting_of(const Workload& workload);
Counting* counting_of(Workload& workload);

struct RunContext {
    std::filesystem::path worktree; // cwd of the run; {worktree} in argv
    Env env;                        // applied identically to A and B
    std::vector<int> cpus;          // the run's processes (a publish or stream run: its server)
    // A publish or stream run's load generator thread, when not empty (duet: disjoint from `cpus`
    // and from the other side's CPUs).
    std::vector<int> load_cpus;
    int nice = 0;
    std::string label; // for messages: "ref 'dev' (3f2a1c9)"
    // Duet: shared by the two runs of one round, which start together (StartGate).
    std::shared_ptr<StartGate> start_gate;
    // A command or hotpath run's stdout goes to this file (the run directory's output/...), the
    // hotpath reader parses it from there, and it is kept for post-mortems: removed when empty,
    // cut to its first k_kept_output_max bytes with a closing note when longer. Empty: a
    // temporary file, removed after the run.
    std::filesystem::path stdout_file;
};

// How much of a run's stdout the run directory keeps: 4 MiB (the whole of it was parsed).
inline constexpr std::uintmax_t k_kept_output_max = std::uintmax_t{4} << 20;

// A tenth of a soak run: what the run looked like over time.
struct SoakWindow {
    double start_s = 0, end_s = 0; // since the load's start
    // Of the messages due in it (publish) or the first chunks of the sessions started in it
    // (stream), so that a freeze shows where it happened; none when there was none.
    std::optional<double> latency_p50_ms, latency_p99_ms;
    std::optional<std::int64_t> rss_kb; // the server group's largest RSS sampled in it
    std::size_t errors = 0;             // of the messages or sessions, as the latencies
};

struct RunResult {
    std::vector<Sample> samples;
    std::vector<SoakWindow> windows;  // a soak run's, in time order; empty otherwise
    std::optional<std::string> error; // the run failed: why (exit code, stderr tail, parse error
                                      // with its byte offset); samples may be partial or empty
    std::int64_t start_unix_ns = 0;
    double wall_ms = 0; // the whole run, harness included
    // Cut short by request_stop(): neither a measurement nor an error of the workload. A run that
    // finished before the request is not interrupted, even when the request came just after.
    bool interrupted = false;
    std::vector<std::string> strays; // processes the run left behind, killed (ProcessResult)
    std::string pending_sweep;       // a duet run's token, for sweep_strays() (ProcessResult)
};

// Runs `workload` once on one ref. A failed run is a value (RunResult::error), not an exception;
// Error(workload) is thrown only when nothing can be started (missing executable, no free port).
RunResult run_workload(const Workload& workload, const RunContext& context);

} // namespace abtool::runners
