// One function per workload kind, each running the workload once on one ref; run_workload
// (workload.cpp) dispatches to them.
#pragma once

#include "abtool/runners.hpp"

namespace abtool::runners {

RunResult run_command(const CommandWorkload& workload, const RunContext& context);
RunResult run_hotpath(const HotpathWorkload& workload, const RunContext& context);
RunResult run_publish(const PublishWorkload& workload, const RunContext& context);

// How a command or hotpath workload runs on one ref: its argv or shell in the ref's worktree,
// its own env with the context's (identical for A and B) on top, the context's CPUs and nice.
template <typename ProcessWorkload>
ProcessSpec process_spec_for(const ProcessWorkload& workload, const RunContext& context) {
    ProcessSpec spec;
    spec.argv = workload.argv;
    spec.shell = workload.shell;
    spec.cwd = context.worktree;
    spec.env = workload.env;
    for (const auto& [key, value] : context.env) {
        spec.env[key] = value;
    }
    spec.timeout = workload.timeout;
    spec.cpus = context.cpus;
    spec.nice = context.nice;
    return spec;
}

} // namespace abtool::runners
