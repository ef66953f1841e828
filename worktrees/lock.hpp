// flock(2) locks on files under .abtool/locks/: shared while a worktree is in use, exclusive
// while it is provisioned or removed. The kernel drops them when a process dies, so a crashed
// abtool never leaves a stale lock behind.
// Converting a lock (shared to exclusive or back) is not atomic with flock(2): another process
// can take the lock in between, so a caller re-checks what it relies on after each conversion.
#pragma once

#include <filesystem>

namespace abtool::worktrees {

enum class LockMode { shared, exclusive };
enum class Wait { no, yes };

class FileLock {
public:
    FileLock() = default;
    // Opens (creating) `file`; does not lock yet.
    explicit FileLock(const std::filesystem::path& file);
    FileLock(FileLock&& other) noexcept;
    FileLock& operator=(FileLock&& other) noexcept;
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;
    ~FileLock();

    // Takes or converts the lock; with Wait::no returns false instead of blocking.
    bool lock(LockMode mode, Wait wait);
    void unlock();

    // Whether the open file is still the one at the path. gc deletes a checkout's lock file
    // while it holds it exclusively; a process that opened the file before that and waited
    // then holds a lock on a file nobody else will ever open, so it must reopen and lock again.
    bool still_linked() const;

private:
    int m_fd = -1;
    std::filesystem::path m_file;
};

} // namespace abtool::worktrees
