// What abtool records about the machine and the moment of a run: host name, run ids, UTC
// timestamps, and the measurement-hygiene warnings (CPU governor, load) written into the plan.
#pragma once

#include <string>
#include <vector>

namespace abtool {

std::string host_name();
std::string utc_timestamp();                 // 2026-11-24T02:29:13Z
std::string new_run_id();                    // 20261124T022913Z-3f9a1c (time + random suffix)
std::vector<std::string> hygiene_warnings(); // governor not `performance`, high load average

} // namespace abtool
