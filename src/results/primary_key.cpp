#include "src/results/primary_key.hpp"

#include <fmt/format.h>

#include <cstdint>

namespace abtool {

// FNV-1a, 64 bits, over the canonical JSON of the identity. nlohmann::json objects keep their
// keys sorted, so the dump is canonical: key order in abtool.toml cannot change a key. The
// format is versioned by the "v" field so a future change of identity cannot collide silently.
std::string primary_key(const BenchmarkIdentity& identity) {
    const nlohmann::json canonical{{"v", 1},
                                   {"target", identity.target_id},
                                   {"workload", identity.workload},
                                   {"kind", identity.kind},
                                   {"parameters", identity.parameters},
                                   {"case", identity.case_name},
                                   {"metric", identity.metric}};
    const std::string text = canonical.dump();
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    for (unsigned char c : text) {
        hash ^= c;
        hash *= 0x100000001b3ULL;
    }
    return fmt::format("pk_{:016x}", hash);
}

} // namespace abtool
