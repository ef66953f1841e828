#include "src/host.hpp"

#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <random>
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

std::vector<std::string> hygiene_warnings() {
    std::vector<std::string> warnings;
    std::ifstream governor("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
    std::string name;
    if (governor >> name && name != "performance") {
        warnings.push_back(fmt::format(
            "CPU frequency governor is '{}', not 'performance': frequency changes add noise",
            name));
    }
    std::ifstream loadavg("/proc/loadavg");
    double load = 0;
    const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
    if (loadavg >> load && load > 0.5 * cpus) {
        warnings.push_back(fmt::format(
            "load average {:.2f} on {} CPUs: other work on this machine adds noise", load, cpus));
    }
    return warnings;
}

} // namespace abtool
