// The targets registry (DESIGN.md "Commands", --target): where a comparison's workloads run, in
// reference/targets.json's format ("abtool-targets-1"). A target's id is the `target_id` of
// results.csv and part of every primary key, so the histories of two machines never mix.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace abtool {

struct Target {
    std::string id = "local";
    std::string kind = "local"; // local | ssh
    std::string description;
    // kind = "ssh": the host abtool would run on, reached with ssh and git.
    std::string host;
    std::string user;
    int port = 22;
    std::string identity_file;
    std::string workdir;
    std::string abtool = "abtool"; // abtool's path on the host
    std::string known_hosts;       // ssh's UserKnownHostsFile (default: ssh's own)
};

// Every target of `file`. Error(usage) naming the file, and the entry (its position and id) for
// a malformed one: not JSON, no "targets" array, an entry without a string id or with a repeated
// one, a kind that is not local or ssh ('local' must be local), an ssh entry without host or
// workdir, a port out of range.
std::vector<Target> load_targets(const std::filesystem::path& file);

// The target a run uses: `id` (--target; default "local") in `registry` (--targets), else in
// targets.json beside `config_file` when there is one. "local" (this machine) needs no registry;
// a registry may describe it (kind local) or add other local ids, such as one per machine class
// whose histories must stay apart. Error(usage) for an id no registry has (listing the ids).
Target choose_target(const std::optional<std::string>& id,
                     const std::optional<std::filesystem::path>& registry,
                     const std::filesystem::path& config_file);

} // namespace abtool
