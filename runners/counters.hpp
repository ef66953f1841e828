// perf's side of run_process (runners/process.cpp): counters opened on a forked child while it
// waits before its exec, enabled by that exec, inherited by its threads and children, and read
// once all of them have ended. The probe and the choice of backend are declared in runners.hpp;
// this header is what process.cpp needs besides.
#pragma once

#include "abtool/runners.hpp"
#include "abtool/unique_fd.hpp"

#include <span>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace abtool::runners {

// One perf counter per requested Counter on one process tree, closed with this holder.
class PerfCounters {
public:
    // Opens `counters` on `pid`, which must not have exec'd yet (they start at its exec). Throws
    // Error(workload) naming the counter that cannot be opened, `command` and why; the counters
    // opened before it are closed with this holder.
    void attach(pid_t pid, std::span<const Counter> counters, bool include_kernel,
                std::string_view command);
    // The counts, in the order attached, once the process and everything it started have ended.
    // A counter the kernel multiplexed is scaled to the whole and named in `note`; one that never
    // ran is NaN and named there too. `note` is empty when every count is exact.
    std::vector<std::pair<Counter, double>> read(std::string& note) const;

private:
    std::vector<std::pair<Counter, UniqueFd>> m_counters;
};

} // namespace abtool::runners
