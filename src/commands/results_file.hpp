// Which results.csv a post-mortem command reads: --results, else the one abtool.toml at the
// repository root names, else results.csv at the root.
#pragma once

#include <filesystem>
#include <optional>

namespace abtool {

struct ResultsLocation {
    std::filesystem::path file;
    std::optional<std::filesystem::path> state_dir; // .abtool when inside a repository
};

ResultsLocation locate_results(const std::optional<std::filesystem::path>& results_flag);

} // namespace abtool
