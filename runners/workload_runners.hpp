// One function per workload kind, each running the workload once on one ref; run_workload
// (workload.cpp) dispatches to them.
#pragma once

#include "abtool/runners.hpp"

namespace abtool::runners {

RunResult run_command(const CommandWorkload& workload, const RunContext& context);
RunResult run_hotpath(const HotpathWorkload& workload, const RunContext& context);
RunResult run_publish(const PublishWorkload& workload, const RunContext& context);

// The workload's own env with the context's (identical for A and B) on top.
Env merged_env(const Env& workload_env, const RunContext& context);

} // namespace abtool::runners
