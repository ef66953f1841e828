#include "runners/group_sampler.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <fcntl.h>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unistd.h>

namespace abtool::runners {

namespace {

// /proc/<pid>/<leaf>, or empty when the process is gone. Both files read here are one short
// line (a command name is at most 64 bytes).
std::string read_proc_file(std::string_view pid, std::string_view leaf) {
    std::string path = "/proc/";
    path.append(pid).append("/").append(leaf);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return {};
    }
    std::array<char, 4096> buffer{};
    std::size_t size = 0;
    ssize_t n = 0;
    while (size < buffer.size() &&
           (n = ::read(fd, buffer.data() + size, buffer.size() - size)) > 0) {
        size += static_cast<std::size_t>(n);
    }
    ::close(fd);
    return n < 0 ? std::string() : std::string(buffer.data(), size);
}

// The integer in the `index`th (from 0) space-separated field of `text`.
std::optional<std::int64_t> field_at(std::string_view text, std::size_t index) {
    constexpr std::string_view k_blanks = " \n";
    std::size_t at = text.find_first_not_of(k_blanks);
    for (std::size_t i = 0; i < index && at != std::string_view::npos; ++i) {
        at = text.find_first_not_of(k_blanks, text.find_first_of(k_blanks, at));
    }
    if (at == std::string_view::npos) {
        return std::nullopt;
    }
    const std::size_t end = std::min(text.find_first_of(k_blanks, at), text.size());
    std::int64_t value = 0;
    const auto [ptr, ec] = std::from_chars(text.data() + at, text.data() + end, value);
    if (ec != std::errc() || ptr != text.data() + end) {
        return std::nullopt;
    }
    return value;
}

struct ProcessReading {
    std::int64_t resident_pages = 0;
    std::int64_t cpu_ticks = 0; // utime + stime
};

// `pid`'s reading when it is in group `pgid`. /proc/<pid>/stat gives the group and the CPU time:
// "pid (comm) state ppid pgrp ...", where comm may hold spaces and ')' itself, so the fields are
// counted from the last ')' (proc(5) numbers: 5 pgrp, 14 utime, 15 stime; after the ')', field
// 3 is at index 0). The resident set comes from /proc/<pid>/statm: since Linux 6.2 an mm's rss
// counters are per-CPU, stat's field 24 reads their approximate value (off by up to
// max(32, 2 ncpus) x ncpus pages: 32 MiB a process on 64 CPUs, enough to drown a slow leak) while
// statm, like VmRSS, sums them exactly on recent kernels (6.18: stat 3370 pages, statm 3398).
std::optional<ProcessReading> read_process(std::string_view pid, pid_t pgid) {
    const std::string stat = read_proc_file(pid, "stat");
    const auto paren = stat.rfind(')');
    if (paren == std::string::npos) {
        return std::nullopt;
    }
    const std::string_view fields = std::string_view(stat).substr(paren + 1);
    const auto pgrp = field_at(fields, 5 - 3);
    if (!pgrp || *pgrp != pgid) {
        return std::nullopt;
    }
    const auto utime = field_at(fields, 14 - 3);
    const auto stime = field_at(fields, 15 - 3);
    const auto resident = field_at(read_proc_file(pid, "statm"), 1);
    if (!utime || !stime || !resident) {
        return std::nullopt; // gone between the two reads
    }
    return ProcessReading{*resident, *utime + *stime};
}

} // namespace

GroupSample sample_group_once(pid_t pgid) {
    static const long page_kb = ::sysconf(_SC_PAGESIZE) / 1024;
    static const long ticks_per_s = ::sysconf(_SC_CLK_TCK);
    GroupSample sample;
    std::int64_t ticks = 0;
    std::error_code ec;
    for (std::filesystem::directory_iterator it("/proc", ec), end; !ec && it != end;
         it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) {
            continue;
        }
        if (const auto reading = read_process(name, pgid)) {
            sample.rss_kb += reading->resident_pages * page_kb;
            ticks += reading->cpu_ticks;
        }
    }
    sample.cpu_s = static_cast<double>(ticks) / static_cast<double>(ticks_per_s);
    return sample;
}

GroupSampler::GroupSampler(pid_t pgid, std::chrono::milliseconds every)
    : m_pgid(pgid), m_every(std::max(every, std::chrono::milliseconds(1))),
      m_start(std::chrono::steady_clock::now()), m_thread([this] { run(); }) {}

GroupSampler::~GroupSampler() {
    stop();
}

void GroupSampler::stop() {
    {
        const std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable()) {
        m_thread.join();
    }
}

std::vector<GroupSample> GroupSampler::samples() const {
    const std::lock_guard lock(m_mutex);
    return m_samples;
}

void GroupSampler::run() noexcept {
    using Clock = std::chrono::steady_clock;
    try {
        // Due times on a fixed grid from the start (wait_until, not sleeps of `every`): a slow
        // scan does not make the series drift. A tick missed altogether is skipped, not caught up.
        auto due = m_start;
        std::unique_lock lock(m_mutex);
        while (!m_stopping) {
            lock.unlock();
            const auto taken = Clock::now();
            GroupSample sample = sample_group_once(m_pgid);
            sample.t_s = std::chrono::duration<double>(taken - m_start).count();
            lock.lock();
            m_samples.push_back(sample);
            due += m_every;
            const auto now = Clock::now();
            if (due <= now) {
                due += m_every * ((now - due) / m_every + 1);
            }
            m_wake.wait_until(lock, due, [this] { return m_stopping; });
        }
    } catch (...) {
        // Out of memory or the like: the samples so far stand, and stop() still joins.
    }
}

} // namespace abtool::runners
