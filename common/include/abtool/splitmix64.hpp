// splitmix64 (Steele, Lea and Flood 2014): tiny and fully specified, so a seed gives the same
// numbers on every platform (std::shuffle and the std distributions are implementation-defined).
// One step, shared by the schedule's generator (src/core/plan.hpp) and the bootstrap's
// (stats/numeric.hpp); inline, for the bootstrap's inner loop.
#pragma once

#include <cstdint>

namespace abtool {

inline std::uint64_t splitmix64_next(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

} // namespace abtool
