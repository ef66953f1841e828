// primary_key: a deterministic hash of a benchmark's normalized identity, so rows of the same
// benchmark group into trends across runs, machines and abtool versions. Refs, times and hosts
// never enter it; neither does the order of keys in abtool.toml.
#pragma once

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

} // namespace abtool
