#include "src/results/primary_key.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <type_traits>
#include <variant>

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

nlohmann::json identity_parameters(const WorkloadConfig& workload) {
    nlohmann::json params = nlohmann::json::object();
    std::visit(
        [&](const auto& spec) {
            using Spec = std::decay_t<decltype(spec)>;
            if (!spec.env.empty()) {
                params["env"] = spec.env;
            }
            if constexpr (std::is_same_v<Spec, runners::PublishWorkload>) {
                params["server"] = spec.server;
                params["protocol"] = std::string(to_string(spec.protocol));
                params["path"] = spec.path;
                params["payload"] = spec.payload;
                params["mode"] = std::string(to_string(spec.mode));
                params["count"] = spec.count;
                params["concurrency"] = spec.concurrency;
                if (spec.mode == runners::PublishMode::paced) {
                    params["rate"] = spec.rate;
                }
                if (spec.duration) {
                    params["duration_ms"] = spec.duration->count();
                }
            } else if constexpr (std::is_same_v<Spec, runners::StreamWorkload>) {
                params["server"] = spec.server;
                params["protocol"] = std::string(to_string(spec.protocol));
                params["path"] = spec.path;
                params["payload"] = spec.payload;
                params["expect_chunks"] = spec.expect_chunks;
                params["sessions"] = spec.sessions;
                params["session_count"] = spec.total_sessions();
                if (spec.period_ms) {
                    params["period_ms"] = *spec.period_ms; // overhead_ms is measured against it
                }
                if (spec.duration) {
                    params["duration_ms"] = spec.duration->count();
                }
            } else {
                params["command"] = spec.argv;
                if (spec.shell) {
                    params["shell"] = *spec.shell;
                }
                if constexpr (std::is_same_v<Spec, runners::HotpathWorkload>) {
                    params["format"] = std::string(to_string(spec.format));
                    // A direction turned around changes what "regressed" means.
                    for (const auto& [metric, direction] : spec.directions) {
                        params["directions"][metric] = std::string(to_string(direction));
                    }
                }
                // Counts by perf and by cachegrind differ (the helper process, the kernel's
                // share): two runs compare only when one backend counted both.
                if (spec.counting.active()) {
                    std::vector<std::string> counters;
                    for (const runners::Counter counter : spec.counting.counters) {
                        counters.emplace_back(runners::to_string(counter));
                    }
                    params["counters"] = counters;
                    params["counter_backend"] =
                        std::string(runners::to_string(spec.counting.backend));
                    if (spec.counting.include_kernel) {
                        params["counter_kernel"] = true;
                    }
                }
            }
        },
        workload.workload.spec);
    return params;
}

} // namespace abtool
