#include "worktrees/lock.hpp"

#include "abtool/error.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace abtool::worktrees {

FileLock::FileLock(const std::filesystem::path& file) : m_file(file) {
    std::filesystem::create_directories(file.parent_path());
    m_fd = open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (m_fd < 0) {
        throw Error(ErrorKind::io, fmt::format("cannot open lock file {}: {}", file.string(),
                                               std::strerror(errno)));
    }
}

FileLock::FileLock(FileLock&& other) noexcept : m_fd(other.m_fd), m_file(std::move(other.m_file)) {
    other.m_fd = -1;
}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
    if (this != &other) {
        if (m_fd >= 0) {
            close(m_fd);
        }
        m_fd = other.m_fd;
        m_file = std::move(other.m_file);
        other.m_fd = -1;
    }
    return *this;
}

FileLock::~FileLock() {
    if (m_fd >= 0) {
        close(m_fd);
    }
}

bool FileLock::lock(LockMode mode, Wait wait) {
    const int operation =
        (mode == LockMode::shared ? LOCK_SH : LOCK_EX) | (wait == Wait::no ? LOCK_NB : 0);
    while (flock(m_fd, operation) != 0) {
        if (errno == EINTR) {
            continue;
        }
        if (errno == EWOULDBLOCK) {
            return false;
        }
        throw Error(ErrorKind::io,
                    fmt::format("cannot lock {}: {}", m_file.string(), std::strerror(errno)));
    }
    return true;
}

void FileLock::unlock() {
    flock(m_fd, LOCK_UN);
}

bool FileLock::still_linked() const {
    struct stat open_file {};
    struct stat at_path {};
    return fstat(m_fd, &open_file) == 0 && stat(m_file.c_str(), &at_path) == 0 &&
           open_file.st_ino == at_path.st_ino && open_file.st_dev == at_path.st_dev;
}

} // namespace abtool::worktrees
