// A commit or snapshot id as people read it, the same in every message and report: its first 7
// hex digits, as `git log --oneline` shows them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace abtool {

inline constexpr std::size_t k_short_commit_length = 7;

inline std::string short_commit(std::string_view id) {
    return std::string(id.substr(0, k_short_commit_length));
}

} // namespace abtool
