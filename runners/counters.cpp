#include "runners/counters.hpp"

#include "abtool/error.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <system_error>
#include <unistd.h>

namespace abtool::runners {

namespace {

template <typename Enum, std::size_t N>
std::string_view name_in(const std::array<std::pair<std::string_view, Enum>, N>& table,
                         Enum value) {
    const auto it = std::find_if(table.begin(), table.end(),
                                 [value](const auto& entry) { return entry.second == value; });
    return it != table.end() ? it->first : std::string_view("?");
}

// The event a Counter is. exclude_hv: a hypervisor's work is not the workload's, and counting it
// needs more privilege than a user-only count.
perf_event_attr attr_for(Counter counter, bool include_kernel) {
    perf_event_attr attr{};
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_HARDWARE;
    switch (counter) {
    case Counter::instructions:
        attr.config = PERF_COUNT_HW_INSTRUCTIONS;
        break;
    case Counter::cycles:
        attr.config = PERF_COUNT_HW_CPU_CYCLES;
        break;
    case Counter::branch_misses:
        attr.config = PERF_COUNT_HW_BRANCH_MISSES;
        break;
    case Counter::cache_misses:
        attr.config = PERF_COUNT_HW_CACHE_MISSES;
        break;
    case Counter::page_faults:
        // A software event: the kernel counts it itself, with or without a PMU.
        attr.type = PERF_TYPE_SOFTWARE;
        attr.config = PERF_COUNT_SW_PAGE_FAULTS;
        break;
    }
    attr.disabled = 1;
    attr.exclude_kernel = include_kernel ? 0 : 1;
    attr.exclude_hv = 1;
    return attr;
}

// perf_event_open on `pid` (0: this process), any CPU, no group; -1 with errno on failure.
int open_counter(perf_event_attr& attr, pid_t pid) {
    return static_cast<int>(syscall(SYS_perf_event_open, &attr, pid, -1, -1, PERF_FLAG_FD_CLOEXEC));
}

// Whether the kernel lists a CPU PMU: "cpu" on x86, "cpu_core"/"cpu_atom" on hybrid Intel parts,
// "armv8_pmuv3_0" and the like on Arm. A virtual machine without a virtual PMU lists none.
bool has_cpu_pmu() {
    std::error_code ec;
    for (const auto& entry :
         std::filesystem::directory_iterator("/sys/bus/event_source/devices", ec)) {
        const std::string name = entry.path().filename().string();
        if (name == "cpu" || name.starts_with("cpu_") || name.starts_with("armv")) {
            return true;
        }
    }
    return false;
}

std::optional<int> perf_event_paranoid() {
    std::ifstream in("/proc/sys/kernel/perf_event_paranoid");
    int level = 0;
    if (in >> level) {
        return level;
    }
    return std::nullopt;
}

// Why perf_event_open refused `counter` with `error`, in a user's terms, on one line.
std::string perf_failure(Counter counter, int error, bool include_kernel) {
    const std::string_view name = to_string(counter);
    if ((error == ENOENT || error == EOPNOTSUPP || error == ENODEV) &&
        counter != Counter::page_faults) {
        return has_cpu_pmu()
                   ? fmt::format("this CPU's PMU does not count {} (perf_event_open({}): {})", name,
                                 name, std::strerror(error))
                   : fmt::format("no hardware PMU here (/sys/bus/event_source/devices has no "
                                 "'cpu'; perf_event_open({}): {})",
                                 name, std::strerror(error));
    }
    if (error == EACCES || error == EPERM) {
        const std::optional<int> paranoid = perf_event_paranoid();
        const int allowed = include_kernel ? 1 : 2;
        if (paranoid && *paranoid <= allowed) {
            // The sysctl allows it, so something else refused: Docker's default seccomp profile
            // blocks perf_event_open with EPERM, whatever the process's privileges.
            return fmt::format("perf_event_open({}) was refused ({}) although "
                               "perf_event_paranoid is {}: a seccomp profile (a container's) "
                               "may block it",
                               name, std::strerror(error), *paranoid);
        }
        return fmt::format("perf_event_paranoid is {} (/proc/sys/kernel/perf_event_paranoid): "
                           "counting needs <= 2 for user-only (include_kernel needs <= 1) or "
                           "CAP_PERFMON",
                           paranoid ? std::to_string(*paranoid) : std::string("unreadable"));
    }
    return fmt::format("perf_event_open({}): {}", name, std::strerror(error));
}

// The first counter of `counting` perf cannot count here, and why; nullopt when it counts all.
std::optional<std::pair<Counter, std::string>> perf_refusal(const Counting& counting) {
    for (const Counter counter : counting.counters) {
        if (auto reason = perf_unavailable(counter, counting.include_kernel)) {
            return std::pair{counter, std::move(*reason)};
        }
    }
    return std::nullopt;
}

// Why cachegrind cannot count `counting` here (it counts instructions, and needs valgrind), or
// nullopt. `requested`: the config named cachegrind, and the message quotes the setting.
std::optional<std::string> cachegrind_refusal(const Counting& counting, bool requested) {
    for (const Counter counter : counting.counters) {
        if (counter != Counter::instructions) {
            return fmt::format("cachegrind counts instructions only, not {}; use counter_backend "
                               "= \"perf\" on a machine with a hardware PMU",
                               to_string(counter));
        }
    }
    if (counting.include_kernel) {
        return std::string("cachegrind counts what the program itself executes, never the "
                           "kernel's work for it: counter_kernel = true needs counter_backend = "
                           "\"perf\"");
    }
    if (!find_valgrind()) {
        return fmt::format("{} needs valgrind, which is not on PATH: apt-get install valgrind",
                           requested ? "counter_backend = \"cachegrind\"" : "cachegrind");
    }
    return std::nullopt;
}

std::string counter_list(const Counting& counting) {
    std::vector<std::string_view> names;
    for (const Counter counter : counting.counters) {
        names.push_back(to_string(counter));
    }
    return fmt::format("{}", fmt::join(names, ", "));
}

} // namespace

std::string_view to_string(Counter counter) {
    return name_in(k_counters, counter);
}

std::string_view to_string(CounterBackend backend) {
    return name_in(k_counter_backends, backend);
}

std::optional<std::string> perf_unavailable(Counter counter, bool include_kernel) {
    perf_event_attr attr = attr_for(counter, include_kernel);
    const UniqueFd probe(open_counter(attr, 0));
    if (probe) {
        return std::nullopt;
    }
    return perf_failure(counter, errno, include_kernel);
}

std::optional<std::filesystem::path> find_valgrind() {
    // execvp's default when PATH is unset.
    const char* variable = std::getenv("PATH");
    const std::string_view path = variable != nullptr ? variable : "/bin:/usr/bin";
    std::size_t from = 0;
    while (from <= path.size()) {
        const std::size_t to = std::min(path.find(':', from), path.size());
        const std::string_view dir = path.substr(from, to - from);
        from = to + 1;
        if (dir.empty()) {
            continue; // the working directory: a workload's valgrind is not the machine's
        }
        const std::filesystem::path candidate = std::filesystem::path(dir) / "valgrind";
        std::error_code ec;
        if (std::filesystem::is_regular_file(candidate, ec) &&
            access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
    }
    return std::nullopt;
}

CounterChoice choose_counter_backend(const Counting& counting, std::string_view what) {
    if (counting.backend == CounterBackend::cachegrind) {
        if (auto refusal = cachegrind_refusal(counting, true)) {
            throw Error(ErrorKind::config, fmt::format("{}: {}", what, *refusal));
        }
        return {CounterBackend::cachegrind, "requested (counter_backend = \"cachegrind\")"};
    }
    const auto perf = perf_refusal(counting);
    if (counting.backend == CounterBackend::perf) {
        if (perf) {
            throw Error(ErrorKind::config,
                        fmt::format("{}: counter_backend = \"perf\" cannot count {} here: {}", what,
                                    to_string(perf->first), perf->second));
        }
        return {CounterBackend::perf, "requested (counter_backend = \"perf\")"};
    }
    if (!perf) {
        return {CounterBackend::perf,
                fmt::format("perf_event_open counts {} here", counter_list(counting))};
    }
    if (auto refusal = cachegrind_refusal(counting, false)) {
        throw Error(ErrorKind::config,
                    fmt::format("{}: nothing here can count {}: perf cannot count {} ({}), and {}",
                                what, counter_list(counting), to_string(perf->first), perf->second,
                                *refusal));
    }
    return {CounterBackend::cachegrind, fmt::format("{}; cachegrind instead", perf->second)};
}

void PerfCounters::attach(pid_t pid, std::span<const Counter> counters, bool include_kernel,
                          std::string_view command) {
    for (const Counter counter : counters) {
        perf_event_attr attr = attr_for(counter, include_kernel);
        // Off until the child's exec, so that nothing abtool's fork did before it counts; then
        // on in every thread and process it starts, each added in when it ends.
        attr.enable_on_exec = 1;
        attr.inherit = 1;
        attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
        UniqueFd fd(open_counter(attr, pid));
        if (!fd) {
            const int error = errno;
            throw Error(ErrorKind::workload,
                        fmt::format("cannot count {} for `{}`: {}", to_string(counter), command,
                                    perf_failure(counter, error, include_kernel)));
        }
        m_counters.emplace_back(counter, std::move(fd));
    }
}

std::vector<std::pair<Counter, double>> PerfCounters::read(std::string& note) const {
    std::vector<std::pair<Counter, double>> counts;
    std::vector<std::string> notes;
    for (const auto& [counter, fd] : m_counters) {
        const std::string_view name = to_string(counter);
        struct {
            std::uint64_t value, enabled_ns, running_ns;
        } data{};
        double count = std::nan("");
        if (::read(fd.get(), &data, sizeof data) != static_cast<ssize_t>(sizeof data)) {
            notes.push_back(fmt::format("{} could not be read: {}", name, std::strerror(errno)));
        } else if (data.running_ns == 0) {
            notes.push_back(fmt::format("{} never ran (the PMU was busy), not counted", name));
        } else if (data.running_ns < data.enabled_ns) {
            // More counters than the PMU has registers: the kernel rotated them, and this one
            // saw part of the run. Scaling assumes the rest of the run was like that part.
            const double share =
                static_cast<double>(data.running_ns) / static_cast<double>(data.enabled_ns);
            count = static_cast<double>(data.value) / share;
            notes.push_back(
                fmt::format("{} ran {:.0f}% of the time (multiplexed), scaled", name, share * 100));
        } else {
            count = static_cast<double>(data.value);
        }
        counts.emplace_back(counter, count);
    }
    note = fmt::format("{}", fmt::join(notes, "; "));
    return counts;
}

} // namespace abtool::runners
