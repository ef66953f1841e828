// flock(2) locks on files under .abtool/locks/: shared while a worktree is in use, exclusive
// while it is provisioned or removed. The kernel drops them when a process dies, so a crashed
// abtool never leaves a stale lock behind.
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

private:
    int m_fd = -1;
    std::filesystem::path m_file;
};

} // namespace abtool::worktrees
