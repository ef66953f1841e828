// A soak run's view of the server: the resident memory and CPU time of its whole process group,
// read from /proc at a fixed period on a thread of its own, so that a leak shows as a trend of
// rss_kb over minutes (stats::theil_sen_slope) and a worker the server forks counts as the server.
//
// The group, not one pid: a server that forks workers (or runs under a shell) leaks in whichever
// process holds the heap. Linux keeps no per-group counters, so each sample scans /proc once and
// sums the processes whose pgrp matches; one that exits mid-scan is left out of that sample.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <sys/types.h>
#include <thread>
#include <vector>

namespace abtool::runners {

struct GroupSample {
    double t_s = 0;          // since the sampler started (steady clock); 0 from sample_group_once
    std::int64_t rss_kb = 0; // resident set, summed over the group's processes
    // user + system time of the group's live processes: a process that has exited and been
    // reaped takes its share with it, so cpu_s can drop when a worker ends.
    double cpu_s = 0;
};

// One reading now. A group with no process reads as zeros.
GroupSample sample_group_once(pid_t pgid);

// Samples process group `pgid` every `every` (at least 1 ms; the first sample at once) until
// stop() or destruction. Nothing escapes the sampling thread: should a scan fail (out of
// memory), sampling ends there and the samples so far stand.
class GroupSampler {
public:
    explicit GroupSampler(pid_t pgid, std::chrono::milliseconds every = std::chrono::seconds(1));
    ~GroupSampler(); // stops and joins
    GroupSampler(const GroupSampler&) = delete;
    GroupSampler& operator=(const GroupSampler&) = delete;

    void stop(); // prompt: wakes the sampling thread; not to be called from two threads at once
    std::vector<GroupSample> samples() const; // a copy of the samples so far

private:
    void run() noexcept;

    pid_t m_pgid;
    std::chrono::milliseconds m_every;
    std::chrono::steady_clock::time_point m_start;
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_stopping = false;
    std::vector<GroupSample> m_samples;
    std::thread m_thread; // last: starts once every other member is ready
};

} // namespace abtool::runners
