// The one error type abtool throws: a kind that maps to DESIGN.md's exit codes, a user-facing
// message that names the culprit (file, line, flag, ref, log path) and an optional hint.
// Thrown where the culprit is known, caught once in abtool::run (ccache's Error/Fatal model).
// Expected outcomes (a regression, a failed sample) are values, never this exception.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace abtool {

enum class ErrorKind {
    usage,      // bad flag, unknown ref, unusable path: exit 2
    config,     // abtool.toml invalid: exit 2
    git,        // libgit2 failed while checking out or snapshotting: exit 3
    build,      // a ref failed to build: exit 3
    workload,   // a workload failed to run: exit 3
    io,         // a file abtool must write cannot be written: exit 2
    storage,    // the machine refused a write under way (disk full, quota, EIO): exit 3
    interrupted // SIGINT/SIGTERM: exit 130
};

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, std::string message, std::string hint = {})
        : std::runtime_error(std::move(message)), m_kind(kind), m_hint(std::move(hint)) {}

    ErrorKind kind() const noexcept { return m_kind; }
    const std::string& hint() const noexcept { return m_hint; }

private:
    ErrorKind m_kind;
    std::string m_hint;
};

// DESIGN.md "Exit codes".
inline int exit_code_for(ErrorKind kind) noexcept {
    switch (kind) {
    case ErrorKind::usage:
    case ErrorKind::config:
    case ErrorKind::io:
        return 2;
    case ErrorKind::git:
    case ErrorKind::build:
    case ErrorKind::workload:
    case ErrorKind::storage:
        return 3;
    case ErrorKind::interrupted:
        return 130;
    }
    return 2;
}

} // namespace abtool
