#include "abtool/error.hpp"
#include "runners/workload_runners.hpp"

namespace abtool::runners {

// Issue 6 (publish workloads) is not built yet: say so instead of producing numbers.
RunResult run_publish(const PublishWorkload& /*workload*/, const RunContext& context) {
    throw Error(ErrorKind::workload,
                "publish workloads are not implemented in this version of abtool (" +
                    context.label + ")",
                "use command or hotpath workloads for now");
}

} // namespace abtool::runners
