#include "runners/workload_runners.hpp"

#include <type_traits>

namespace abtool::runners {

std::string_view kind_name(const Workload& workload) {
    return std::visit(
        [](const auto& spec) -> std::string_view {
            using Spec = std::decay_t<decltype(spec)>;
            if constexpr (std::is_same_v<Spec, CommandWorkload>) {
                return "command";
            } else if constexpr (std::is_same_v<Spec, HotpathWorkload>) {
                return "hotpath";
            } else {
                return "publish";
            }
        },
        workload.spec);
}

RunResult run_workload(const Workload& workload, const RunContext& context) {
    return std::visit(
        [&](const auto& spec) {
            using Spec = std::decay_t<decltype(spec)>;
            if constexpr (std::is_same_v<Spec, CommandWorkload>) {
                return run_command(spec, context);
            } else if constexpr (std::is_same_v<Spec, HotpathWorkload>) {
                return run_hotpath(spec, workload.name, context);
            } else {
                RunResult result = run_publish(spec, context);
                // The publish runner reports no interrupt of its own: a run without samples
                // around a stop request counts as cut short (a finished one has its samples).
                result.interrupted = result.samples.empty() && stop_requested();
                return result;
            }
        },
        workload.spec);
}

} // namespace abtool::runners
