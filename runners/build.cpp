#include "abtool/error.hpp"
#include "abtool/runners.hpp"
#include "runners/process.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <optional>
#include <sys/file.h>
#include <unistd.h>
#include <vector>

namespace abtool::runners {

namespace {

// Inherited variables that change what a build produces: the toolchain and its flags. A change
// in any of them (another compiler first on PATH, CFLAGS=-O0) must rebuild.
constexpr const char* k_toolchain_variables[] = {"CC",       "CXX",     "CFLAGS", "CXXFLAGS",
                                                 "CPPFLAGS", "LDFLAGS", "PATH"};

// The value the build process sees: [build] env wins over the inherited environment.
std::optional<std::string> effective(const BuildSpec& spec, const std::string& name) {
    if (const auto it = spec.env.find(name); it != spec.env.end()) {
        return it->second;
    }
    if (const char* value = std::getenv(name.c_str()); value != nullptr) {
        return std::string(value);
    }
    return std::nullopt;
}

// The compiler a name runs ($CC's first word, or cc/c++), found on the build's PATH, as
// "<resolved path> <size> <mtime>": an upgraded compiler package replaces the file, so this
// notices a new compiler without running one. Empty when it is not on PATH.
std::string compiler_identity(const std::string& command, const std::string& path_variable) {
    const std::string name = command.substr(0, command.find(' '));
    if (name.empty()) {
        return {};
    }
    std::vector<std::filesystem::path> candidates;
    if (name.find('/') != std::string::npos) {
        candidates.emplace_back(name);
    } else {
        std::size_t start = 0;
        while (start <= path_variable.size()) {
            const std::size_t end = std::min(path_variable.find(':', start), path_variable.size());
            const std::string dir = path_variable.substr(start, end - start);
            if (!dir.empty()) {
                candidates.push_back(std::filesystem::path(dir) / name);
            }
            start = end + 1;
        }
    }
    for (const std::filesystem::path& candidate : candidates) {
        std::error_code error;
        const std::filesystem::path resolved = std::filesystem::canonical(candidate, error);
        if (error || access(resolved.c_str(), X_OK) != 0) {
            continue;
        }
        const auto size = std::filesystem::file_size(resolved, error);
        const auto mtime = std::filesystem::last_write_time(resolved, error);
        if (error) {
            continue;
        }
        return fmt::format("{} {} {}", resolved.string(), size, mtime.time_since_epoch().count());
    }
    return {};
}

// What the build depended on: the same text in the stamp means the same build.
std::string stamp_text(const BuildSpec& spec, std::string_view content_id) {
    nlohmann::json inherited = nlohmann::json::object();
    for (const char* name : k_toolchain_variables) {
        if (const auto value = effective(spec, name)) {
            inherited[name] = *value;
        }
    }
    const std::string path_variable = effective(spec, "PATH").value_or("/usr/bin:/bin");
    return nlohmann::json{
        {"content_id", content_id},
        {"argv", spec.argv},
        {"shell", spec.shell ? *spec.shell : std::string()},
        {"env", spec.env},
        {"toolchain_env", inherited},
        {"cc", compiler_identity(effective(spec, "CC").value_or("cc"), path_variable)},
        {"cxx", compiler_identity(effective(spec, "CXX").value_or("c++"), path_variable)}}
        .dump();
}

std::string read_text(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The last line of a growing log (read from its last 4 KiB), as last_lines gives it: what a
// progress line shows of a build.
std::string last_line_of(const std::filesystem::path& log) {
    const std::string tail = file_tail(log, 4096);
    return last_lines(tail, 1, tail.size());
}

// Held while a checkout builds, so two abtool processes never build one directory at once; the
// second waits, then finds the first one's stamp.
class BuildLock {
public:
    explicit BuildLock(const std::filesystem::path& file)
        : m_fd(open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
        if (m_fd < 0) {
            throw Error(ErrorKind::io,
                        fmt::format("cannot open {}: {}", file.string(), std::strerror(errno)));
        }
        while (flock(m_fd, LOCK_EX) != 0 && errno == EINTR) {
        }
    }
    BuildLock(const BuildLock&) = delete;
    BuildLock& operator=(const BuildLock&) = delete;
    ~BuildLock() { close(m_fd); }

private:
    int m_fd;
};

} // namespace

BuildOutcome build(const BuildSpec& spec, const std::filesystem::path& worktree,
                   const std::filesystem::path& stamp_dir, std::string_view content_id,
                   const std::filesystem::path& log, std::string_view label, Rebuild rebuild) {
    const std::filesystem::path stamp = stamp_dir / "build.stamp";
    const std::string expected = stamp_text(spec, content_id);
    std::filesystem::create_directories(stamp_dir);
    const BuildLock lock(stamp_dir / "build.lock");
    // A token file here means a build that never ended: its abtool was killed, the lock went with
    // it, and its processes (those that outlived PR_SET_PDEATHSIG: the build's own children) may
    // still be writing to this worktree. Stop them before anything reads or builds here.
    const std::filesystem::path token_file = stamp_dir / "build.token";
    std::vector<std::string> stopped;
    if (std::filesystem::exists(token_file)) {
        std::string token = read_text(token_file);
        token.erase(token.find_last_not_of(" \n") + 1);
        if (!token.empty()) {
            stopped = sweep_strays(token);
        }
        std::filesystem::remove(token_file);
    }
    if (rebuild == Rebuild::no && std::filesystem::exists(stamp) && read_text(stamp) == expected) {
        return {true, 0, {}, stopped};
    }
    // No stamp while building: an interrupted or failed build is never mistaken for a good one.
    std::filesystem::remove(stamp);

    ProcessSpec process;
    process.argv = spec.argv;
    process.shell = spec.shell;
    process.cwd = worktree;
    process.env = spec.env;
    process.timeout = spec.timeout;
    process.output_file = log;
    process.token = new_run_token();
    if (spec.progress) {
        process.progress_every = spec.progress_every;
        process.progress = [&](std::chrono::milliseconds elapsed) {
            spec.progress(static_cast<double>(elapsed.count()) / 1000, last_line_of(log));
        };
    }
    {
        std::ofstream out(token_file, std::ios::binary | std::ios::trunc);
        out << process.token << '\n';
    }
    const ProcessResult result = run_process(process);
    std::filesystem::remove(token_file); // the build is over, whatever it left behind
    const std::string command = display_command(spec.argv, spec.shell);
    if (result.interrupted) {
        throw Error(ErrorKind::interrupted, fmt::format("interrupted while building {}", label));
    }
    if (!result.ok()) {
        std::string what =
            result.timed_out     ? fmt::format("timed out after {} s", spec.timeout.count())
            : result.signal != 0 ? fmt::format("was killed by signal {}", result.signal)
                                 : fmt::format("exited with {}", result.exit_code);
        throw Error(ErrorKind::build,
                    fmt::format("build of {} failed: `{}` {}; log: {}\n{}", label, command, what,
                                log.string(), last_lines(file_tail(log, 4000), 20, 4000)),
                    fmt::format("the whole output is in {}", log.string()));
    }
    std::ofstream out(stamp, std::ios::binary | std::ios::trunc);
    out << expected;
    return {false, result.wall_ms / 1000, log, stopped};
}

} // namespace abtool::runners
