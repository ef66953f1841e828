#include "runners/workload_runners.hpp"

namespace abtool::runners {

Env merged_env(const Env& workload_env, const RunContext& context) {
    Env env = workload_env;
    for (const auto& [key, value] : context.env) {
        env[key] = value;
    }
    return env;
}

RunResult run_command(const CommandWorkload& workload, const RunContext& context) {
    ProcessSpec spec;
    spec.argv = workload.argv;
    spec.shell = workload.shell;
    spec.cwd = context.worktree;
    spec.env = merged_env(workload.env, context);
    spec.timeout = workload.timeout;
    spec.cpus = context.cpus;
    spec.nice = context.nice;
    const ProcessResult process = run_process(spec);

    RunResult result;
    result.start_unix_ns = process.start_unix_ns;
    result.wall_ms = process.wall_ms;
    if (!process.ok()) {
        result.error = process.describe_failure();
        return result;
    }
    result.samples = {
        {"", "wall_ms", process.wall_ms, "ms", Direction::lower, Gate::yes},
        {"", "user_ms", process.user_ms, "ms", Direction::lower, Gate::no},
        {"", "sys_ms", process.sys_ms, "ms", Direction::lower, Gate::no},
        {"", "max_rss_kb", static_cast<double>(process.max_rss_kb), "kB", Direction::lower,
         Gate::no},
    };
    return result;
}

} // namespace abtool::runners
