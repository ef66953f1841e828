// One function per workload kind, each running the workload once on one ref; run_workload
// (workload.cpp) dispatches to them.
#pragma once

#include "abtool/runners.hpp"

#include <functional>

namespace abtool::runners {

RunResult run_command(const CommandWorkload& workload, const RunContext& context);
// `name` is the workload's, for messages.
RunResult run_hotpath(const HotpathWorkload& workload, std::string_view name,
                      const RunContext& context);
RunResult run_publish(const PublishWorkload& workload, const RunContext& context);
RunResult run_stream(const StreamWorkload& workload, const RunContext& context);

// What every process of a run takes from its ref, whatever the workload kind: the ref's worktree
// as cwd, the workload's env with the context's (identical for A and B) on top, the context's
// CPUs and nice.
inline ProcessSpec spec_in_context(const Env& workload_env, const RunContext& context) {
    ProcessSpec spec;
    spec.cwd = context.worktree;
    spec.env = workload_env;
    for (const auto& [key, value] : context.env) {
        spec.env[key] = value;
    }
    spec.cpus = context.cpus;
    spec.nice = context.nice;
    return spec;
}

// The metric a hotpath format gates when the workload names none; nullopt: every metric the
// program reports (JSON lines, Bencher Metric Format).
std::optional<std::string> default_gated_metric(HotpathFormat format);

// Where one command or hotpath run's stdout goes (RunContext::stdout_file, or a temporary file
// when the context names none), and what becomes of it when the run is done: a temporary file is
// removed, a kept one trimmed (removed when empty, cut to k_kept_output_max with a note).
class RunOutput {
public:
    explicit RunOutput(const RunContext& context);
    ~RunOutput();
    RunOutput(const RunOutput&) = delete;
    RunOutput& operator=(const RunOutput&) = delete;

    const std::filesystem::path& path() const { return m_path; }
    bool temporary() const { return m_temporary; } // not kept: no run directory

private:
    std::filesystem::path m_path;
    bool m_temporary = false;
};

// How a command or hotpath workload runs on one ref: its argv or shell, its timeout, and its
// stdout into `output`.
template <typename ProcessWorkload>
ProcessSpec process_spec_for(const ProcessWorkload& workload, const RunContext& context,
                             const RunOutput& output) {
    ProcessSpec spec = spec_in_context(workload.env, context);
    spec.stdout_file = output.path();
    spec.argv = workload.argv;
    spec.shell = workload.shell;
    spec.timeout = workload.timeout;
    spec.start_gate = context.start_gate;
    spec.sweep_strays = true;
    return spec;
}

// What a command or hotpath run counts (Counting), around its process: prepare() sets up the
// process spec (perf: its counters; cachegrind: the command under valgrind, its files beside the
// kept stdout, or in a temporary directory removed afterwards), collect() appends the counts as
// samples of case "" (unit "count", lower is better), or sets the run's error when a count is
// missing.
class CountedRun {
public:
    CountedRun(const Counting& counting, const RunOutput& output);
    ~CountedRun();
    CountedRun(const CountedRun&) = delete;
    CountedRun& operator=(const CountedRun&) = delete;

    void prepare(ProcessSpec& spec) const;
    void collect(const ProcessResult& process, RunResult& result,
                 const std::function<Gate(std::string_view)>& gate) const;

private:
    const Counting& m_counting;
    std::filesystem::path m_cachegrind_dir;
    bool m_temporary = false;
};

// A command or hotpath run's result as far as its process tells it: when it started, its wall
// time, its strays, and its failure (error set) when it did not exit 0.
RunResult result_of(const ProcessResult& process);

} // namespace abtool::runners
