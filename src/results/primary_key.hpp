// primary_key: a deterministic hash of a benchmark's normalized identity, so rows of the same
// benchmark group into trends across runs, machines and abtool versions. Refs, times and hosts
// never enter it; neither does the order of keys in abtool.toml.
//
// The algorithm (stable: changing it splits every results.csv history, so a new identity bumps
// "v" instead):
//   1. the identity as a JSON object {"v": 1, "target", "workload", "kind", "parameters", "case",
//      "metric"}, where "parameters" is what the workload's config defines it by (argv, shell,
//      env, format, server, protocol, count, ...; not timeouts), objects with sorted keys;
//   2. serialized compactly (no spaces, keys sorted at every level, UTF-8 unescaped): the
//      canonical JSON; for strings and integers the same bytes as Python's json.dumps(identity,
//      sort_keys=True, separators=(",", ":"), ensure_ascii=False);
//   3. FNV-1a 64-bit (offset basis 0xcbf29ce484222325, prime 0x100000001b3) over those bytes;
//   4. written as "pk_" and 16 lower-case hex digits.
#pragma once

#include "src/core/config.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace abtool {

struct BenchmarkIdentity {
    std::string target_id = "local";
    std::string workload;
    std::string kind;
    nlohmann::json parameters; // what defines the workload (argv, format, protocol, count...)
    std::string case_name;
    std::string metric;
};

std::string primary_key(const BenchmarkIdentity& identity);

// What a configured workload is identified by: its env; argv and shell (command, hotpath); the
// hotpath format; the publish server, protocol, path, payload, mode, count, concurrency and a
// paced rate. Never timeouts or the round design: changing those keeps the history's key.
nlohmann::json identity_parameters(const WorkloadConfig& workload);

} // namespace abtool
