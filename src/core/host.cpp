#include "src/core/host.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <ctime>
#include <fstream>
#include <map>
#include <random>
#include <sched.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace abtool {

namespace {

std::string format_utc(const char* pattern) {
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buffer[64];
    std::strftime(buffer, sizeof buffer, pattern, &tm);
    return buffer;
}

} // namespace

std::string host_name() {
    char buffer[256] = {};
    if (gethostname(buffer, sizeof buffer - 1) != 0) {
        return "unknown";
    }
    return buffer;
}

std::string utc_timestamp() {
    return format_utc("%Y-%m-%dT%H:%M:%SZ");
}

std::string new_run_id() {
    // The random suffix keeps two runs started in the same second apart; it is not a seed.
    std::random_device device;
    return fmt::format("{}-{:06x}", format_utc("%Y%m%dT%H%M%SZ"), device() & 0xffffffu);
}

std::vector<int> allowed_cpus() {
    std::vector<int> cpus;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) {
        return cpus;
    }
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (CPU_ISSET(cpu, &set)) {
            cpus.push_back(cpu);
        }
    }
    return cpus;
}

bool niceness_allowed(int increment) {
    if (increment >= 0) {
        return true;
    }
    // The rules (CAP_SYS_NICE, RLIMIT_NICE, a container's limits) are the kernel's: ask it, in a
    // child so that abtool's own niceness stays as it is.
    const pid_t pid = fork();
    if (pid < 0) {
        return false;
    }
    if (pid == 0) {
        errno = 0;
        const int result = nice(increment);
        _exit(result == -1 && errno != 0 ? 1 : 0);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::vector<std::string> hygiene_warnings(const std::vector<int>& cpus) {
    std::vector<std::string> warnings;
    // The governors of the CPUs the workloads run on, grouped by governor.
    std::map<std::string, std::vector<int>> by_governor;
    for (int cpu : cpus.empty() ? allowed_cpus() : cpus) {
        std::ifstream governor(
            fmt::format("/sys/devices/system/cpu/cpu{}/cpufreq/scaling_governor", cpu));
        std::string name;
        if (governor >> name && name != "performance") {
            by_governor[name].push_back(cpu);
        }
    }
    for (const auto& [name, on] : by_governor) {
        warnings.push_back(fmt::format("CPU frequency governor is '{}' on CPU {}, not "
                                       "'performance': frequency changes add noise",
                                       name, fmt::join(on, ",")));
    }
    std::ifstream loadavg("/proc/loadavg");
    double load = 0;
    const unsigned cpus_online = std::max(1u, std::thread::hardware_concurrency());
    if (loadavg >> load && load > 0.5 * cpus_online) {
        warnings.push_back(
            fmt::format("load average {:.2f} on {} CPUs: other work on this machine adds noise",
                        load, cpus_online));
    }
    return warnings;
}

} // namespace abtool
