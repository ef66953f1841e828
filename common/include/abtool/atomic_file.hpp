// Writing a whole file so that readers see the old bytes or the new ones, never an empty or torn
// file: a temporary file beside it, every byte written, fsync, rename. A refused write (a full
// disk) removes the temporary file and throws Error(storage) with the reason.
#pragma once

#include "abtool/error.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <string>
#include <string_view>
#include <unistd.h>

namespace abtool {

// Writes all of `text` to `fd`, through short writes and EINTR: 0, or the errno that stopped it.
inline int write_all(int fd, std::string_view text) {
    std::size_t written = 0;
    while (written < text.size()) {
        const ssize_t n = write(fd, text.data() + written, text.size() - written);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return n < 0 ? errno : EIO;
        }
        written += static_cast<std::size_t>(n);
    }
    return 0;
}

inline void write_file_atomically(const std::filesystem::path& file, std::string_view text) {
    const std::filesystem::path temporary =
        file.string() + ".tmp." + std::to_string(static_cast<long>(getpid()));
    const auto fail = [&](const char* what, int error, int fd) {
        if (fd >= 0) {
            close(fd);
        }
        unlink(temporary.c_str());
        throw Error(ErrorKind::storage,
                    "cannot write " + file.string() + ": " + what + ": " + std::strerror(error));
    };
    const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fail("open", errno, -1);
    }
    if (const int error = write_all(fd, text); error != 0) {
        fail("write", error, fd);
    }
    if (fsync(fd) != 0) {
        fail("fsync", errno, fd);
    }
    if (close(fd) != 0) {
        fail("close", errno, -1);
    }
    if (rename(temporary.c_str(), file.c_str()) != 0) {
        fail("rename", errno, -1);
    }
}

} // namespace abtool
