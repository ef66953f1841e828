// What abtool-exec (runners/exec_helper.cpp) and abtool's process runner send each other: plain
// structs, each written whole in one write() of less than PIPE_BUF bytes.
#pragma once

#include <cstdint>

namespace abtool::runners {

// Up the exec status pipe: the moment the workload calls exec, or why it could not.
struct ExecMessage {
    std::int64_t exec_ns; // CLOCK_MONOTONIC; -1 in a failure message
    int error;
};

// Up the report pipe once the workload has ended: its own wait status and rusage.
struct HelperReport {
    std::int64_t end_ns = 0; // CLOCK_MONOTONIC, when wait4 returned
    std::int64_t user_us = 0, sys_us = 0;
    std::int64_t max_rss_kb = 0;
    int wait_status = 0;
    int valid = 0; // 1 when written
};

} // namespace abtool::runners
