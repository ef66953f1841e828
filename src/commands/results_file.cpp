#include "src/commands/results_file.hpp"

#include "abtool/error.hpp"
#include "abtool/worktrees.hpp"
#include "src/core/config.hpp"

#include <fmt/format.h>

namespace abtool {

ResultsLocation locate_results(const std::optional<std::filesystem::path>& results_flag) {
    ResultsLocation location;
    std::optional<worktrees::Repository> repo;
    std::optional<Error> no_repo; // why there is none: outside one, or one libgit2 cannot open
    try {
        repo.emplace(worktrees::Repository::open(std::filesystem::current_path()));
        // Not Repository::state_dir(): reading the history creates nothing.
        location.state_dir = repo->root() / ".abtool";
    } catch (const Error& error) {
        // Without a repository only --results can say where the history is.
        no_repo = error;
    }
    if (results_flag) {
        location.file = std::filesystem::absolute(*results_flag);
    } else if (repo) {
        const std::filesystem::path config = repo->root() / "abtool.toml";
        location.file = std::filesystem::exists(config) ? load_config(config).results_file
                                                        : repo->root() / "results.csv";
    } else {
        // The repository's own reason (not a repository, owned by another user, an extension
        // libgit2 cannot read), not a guess.
        throw Error(ErrorKind::usage,
                    fmt::format("no results.csv to read: {}", no_repo ? no_repo->what() : "?"),
                    no_repo && !no_repo->hint().empty()
                        ? "pass --results FILE, or: " + no_repo->hint()
                        : std::string("pass --results FILE"));
    }
    if (!std::filesystem::exists(location.file)) {
        throw Error(ErrorKind::usage, "no results history at " + location.file.string(),
                    "run a comparison first, or pass --results FILE");
    }
    return location;
}

} // namespace abtool
