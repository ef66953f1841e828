// Runs a shell command line for test set-up (git, compilers, the abtool binary) and returns its
// exit status and combined output. Tests only: abtool itself never goes through a shell.
#pragma once

#include <array>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <sys/wait.h>

namespace abtool::testing {

struct ShellResult {
    int status = -1; // exit code, or 128 + signal
    std::string output;
};

inline ShellResult shell(const std::string& command) {
    ShellResult result;
    FILE* pipe = popen((command + " 2>&1").c_str(), "r");
    if (pipe == nullptr) {
        throw std::runtime_error("popen failed: " + command);
    }
    std::array<char, 4096> buffer{};
    while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) {
        result.output += buffer.data();
    }
    const int raw = pclose(pipe);
    result.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
    return result;
}

// Like shell(), but a failure throws with the command and its output.
inline std::string must(const std::string& command) {
    ShellResult result = shell(command);
    if (result.status != 0) {
        throw std::runtime_error("command failed (" + std::to_string(result.status) +
                                 "): " + command + "\n" + result.output);
    }
    return result.output;
}

// Single-quotes `text` for a POSIX shell.
inline std::string quote(const std::string& text) {
    std::string quoted = "'";
    for (char c : text) {
        quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return quoted + "'";
}

} // namespace abtool::testing
