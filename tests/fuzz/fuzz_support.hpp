// What every fuzz target shares: the rule that a reader may fail only in the way it documents
// (abtool::Error, or a returned parse error), and a scratch file for readers that take a path.
// Anything else that escapes a reader, such as a nlohmann_json exception, std::out_of_range or
// std::bad_alloc, would reach abtool::run as an `internal error`: the target aborts so that
// libFuzzer reports it with the input (issue 18).
#pragma once

#include "abtool/error.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <unistd.h>

namespace abtool::fuzz {

inline std::string_view text_of(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

[[noreturn]] inline void escaped(const char* what) {
    std::fprintf(stderr, "fuzz: an undocumented exception escaped the reader: %s\n", what);
    std::abort();
}

// Runs `read`; abtool::Error is the readers' documented failure, everything else is a bug.
template <typename Read>
void expect_documented_failures_only(Read&& read) {
    try {
        read();
    } catch (const abtool::Error&) {
    } catch (const std::exception& error) {
        escaped(error.what());
    } catch (...) {
        escaped("not a std::exception");
    }
}

// One file under /tmp per process, rewritten with each input: the readers that take a path read
// it as they would a real file, at the cost of one small write per input.
class ScratchFile {
public:
    explicit ScratchFile(const char* name) {
        std::string pattern = (std::filesystem::temp_directory_path() /
                               (std::string("abtool-fuzz-") + name + "-XXXXXX"))
                                  .string();
        const int fd = mkstemp(pattern.data());
        if (fd < 0) {
            std::perror("fuzz: mkstemp");
            std::abort();
        }
        close(fd);
        m_path = pattern;
    }
    ScratchFile(const ScratchFile&) = delete;
    ScratchFile& operator=(const ScratchFile&) = delete;
    ~ScratchFile() {
        std::error_code ignored;
        std::filesystem::remove(m_path, ignored);
    }

    const std::filesystem::path& write(std::string_view text) const {
        std::FILE* file = std::fopen(m_path.c_str(), "wb");
        if (file == nullptr || std::fwrite(text.data(), 1, text.size(), file) != text.size() ||
            std::fclose(file) != 0) {
            std::perror("fuzz: cannot write the scratch file");
            std::abort();
        }
        return m_path;
    }

private:
    std::filesystem::path m_path;
};

} // namespace abtool::fuzz
