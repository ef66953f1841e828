#include "src/commands/results_file.hpp"

#include "abtool/error.hpp"
#include "abtool/worktrees.hpp"
#include "src/config.hpp"

namespace abtool {

ResultsLocation locate_results(const std::optional<std::filesystem::path>& results_flag) {
    ResultsLocation location;
    std::optional<worktrees::Repository> repo;
    try {
        repo.emplace(worktrees::Repository::open(std::filesystem::current_path()));
        location.runs_dir = repo->root() / ".abtool" / "runs";
    } catch (const Error&) {
        // Outside a repository only --results can say where the history is.
    }
    if (results_flag) {
        location.file = std::filesystem::absolute(*results_flag);
    } else if (repo) {
        const std::filesystem::path config = repo->root() / "abtool.toml";
        location.file = std::filesystem::exists(config) ? load_config(config).results_file
                                                        : repo->root() / "results.csv";
    } else {
        throw Error(ErrorKind::usage, "not inside a git repository: pass --results FILE");
    }
    if (!std::filesystem::exists(location.file)) {
        throw Error(ErrorKind::usage, "no results history at " + location.file.string(),
                    "run a comparison first, or pass --results FILE");
    }
    return location;
}

} // namespace abtool
