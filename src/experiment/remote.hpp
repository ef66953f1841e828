// A comparison run on an ssh target (DESIGN.md --target; README "Running on an ssh target"):
// the contents of the two refs that the target lacks go to a repository in its workdir as a git
// bundle, the target's own abtool runs the same plan there (`abtool run --as-target ID`), its
// progress comes back on stderr and its plan and samples on stdout, into this repository's run
// directory as they are taken, and the verdicts and the results.csv rows are made here, with the
// target's id. No daemon: the target is a plain machine with git, tar and abtool, reached with
// ssh, host keys checked.
#pragma once

#include "src/core/options.hpp"
#include "src/core/targets.hpp"
#include "src/experiment/session.hpp"

#include <optional>
#include <string>
#include <vector>

namespace abtool {

// The ssh target --target names (in --targets, or targets.json beside the run's abtool.toml);
// nullopt for this machine.
std::optional<Target> ssh_target(const RunOptions& options);

// The whole run on `target`, up to the report, as run_experiment gives it: the plan's refs as this
// repository names them (CURRENT a snapshot of this working tree), its target_id the target's.
// Error(usage) when ssh cannot log in (a host key not in known_hosts or not matching it, a
// refused key) or the target's abtool is missing or of another version; Error(workload) when the
// connection is lost mid-run (exit 3: the samples taken so far are in the local run directory,
// and the target's abtool stops at its next write); the target's own failure as its exit code's
// kind.
Experiment run_on_target(const RunOptions& options, const Target& target);

// The ssh command line that runs `steps` on the target, one after the other while they succeed
// (" && "): each word one POSIX shell word, since sshd hands the command to the remote user's
// shell; a step {"cat", ">", FILE} writes ssh's stdin to FILE. BatchMode (no prompt), host keys
// checked (StrictHostKeyChecking=yes), keepalives so that a dead link ends the run in 15 s.
std::vector<std::string> ssh_argv(const Target& target,
                                  const std::vector<std::vector<std::string>>& steps);

// The workdir as the remote shell reaches it: "~/x" and "x" relative to the login directory.
std::string remote_path(const Target& target, const std::string& relative);

// `abtool run --as-target`: a stream line on stdout for the caller at the other end of ssh
// ("plan <plan.json>", "sample <samples.jsonl line>", "run <run directory>"). A write that
// fails (the connection is gone) asks the run to stop, as an interrupt would.
void stream_to_caller(const std::string& kind, const std::string& lines);

} // namespace abtool
