#include "runners/workload_runners.hpp"

#include <algorithm>

namespace abtool::runners {

Gate gate_of(const CommandWorkload& workload, std::string_view metric) {
    if (workload.metrics.empty()) {
        return metric == "wall_ms" ? Gate::yes : Gate::no;
    }
    return std::find(workload.metrics.begin(), workload.metrics.end(), metric) !=
                   workload.metrics.end()
               ? Gate::yes
               : Gate::no;
}

RunResult run_command(const CommandWorkload& workload, const RunContext& context) {
    const RunOutput output(context);
    const CountedRun counted(workload.counting, output);
    ProcessSpec spec = process_spec_for(workload, context, output);
    counted.prepare(spec);
    const ProcessResult process = run_process(spec);

    RunResult result = result_of(process);
    if (result.error) {
        return result;
    }
    result.samples = {
        {"", "wall_ms", process.wall_ms, "ms", Direction::lower, gate_of(workload, "wall_ms")},
        {"", "user_ms", process.user_ms, "ms", Direction::lower, gate_of(workload, "user_ms")},
        {"", "sys_ms", process.sys_ms, "ms", Direction::lower, gate_of(workload, "sys_ms")},
        {"", "max_rss_kb", static_cast<double>(process.max_rss_kb), "kB", Direction::lower,
         gate_of(workload, "max_rss_kb")},
    };
    counted.collect(process, result,
                    [&](std::string_view metric) { return gate_of(workload, metric); });
    return result;
}

} // namespace abtool::runners
