// What abtool records about the machine and the moment of a run: host name, run ids, UTC
// timestamps, the measurement-hygiene warnings (CPU governor, load) written into the plan, and
// what --cpus and --nice may ask of this machine.
#pragma once

#include <string>
#include <vector>

namespace abtool {

std::string host_name();
std::string utc_timestamp(); // 2026-11-24T02:29:13Z
std::string new_run_id();    // 20261124T022913Z-3f9a1c (time + random suffix)
// Governor not `performance` on a CPU the workloads run on (`cpus`, or every CPU abtool may use
// when empty), high load average.
std::vector<std::string> hygiene_warnings(const std::vector<int>& cpus);

std::vector<int> allowed_cpus(); // sched_getaffinity of abtool itself, ascending
// Whether a child may run at `increment` more niceness: raising it always can, lowering it (< 0)
// needs CAP_SYS_NICE or RLIMIT_NICE room. Tried for real in a short-lived fork.
bool niceness_allowed(int increment);

} // namespace abtool
