// The log of one `abtool bisect` (.abtool/bisect/<good>..<bad>.json, also what --json writes):
// the endpoints, the bisected workload/case/metric and its delta, the commits walked, every
// paired comparison run (with its run directory) and the search's probes and steps. It is
// rewritten after every comparison, so an interrupt leaves it current and --resume reuses the
// comparisons in it.
#pragma once

#include "abtool/worktrees.hpp"
#include "src/core/options.hpp"
#include "src/experiment/bisect_search.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace abtool {

struct BisectSelection {
    std::string workload, case_name, metric, unit;
};
// "workload 'w' case 'c' metric 'm'" (without the case when it has none).
std::string describe(const BisectSelection& selection);

struct BisectRef {
    std::string ref, commit;
};
// "v1 (3f2a1c9d0e1f)".
std::string describe(const BisectRef& ref);

// "+4.98% [+4.91%, +5.06%] regressed at ±1.64%, 20 rounds", or why it did not run.
std::string describe(const bisect::PairOutcome& outcome);

struct BisectLog {
    std::filesystem::path file;
    std::string state = "running"; // running | interrupted | done | no-regression
    BisectRef good, bad;
    BisectSelection selection;
    double threshold = 0; // the user's, as a fraction: the confirmation's and each culprit's own
    bisect::PairOutcome confirmation;
    std::vector<worktrees::CommitInfo> commits; // good first, bad last
    std::vector<bisect::PairOutcome> comparisons;
    bisect::Search search;
    bool resumed = false; // read back by --resume: the confirmation is not run again

    std::vector<std::string> commit_ids() const;
    // A comparison already run: the same commits at the same threshold.
    const bisect::PairOutcome* find(const std::string& a, const std::string& b,
                                    double threshold) const;
    nlohmann::json to_json() const;
    void write() const;
};

// The endpoints resolved and the commits between them listed; with options.resume, the log of
// the same endpoints read back. Throws Error(usage) naming the ref or the log.
BisectLog open_log(worktrees::Repository& repo, const BisectOptions& options);

// Exit 2: --case/--metric named nothing the confirming run measured (the message lists what it
// did).
[[noreturn]] void throw_no_row(const std::vector<BisectSelection>& measured,
                               const BisectOptions& options);

// What the terminal shows: the bisected delta and the rule, then the probes, the steps and the
// culprit. And the --json and --markdown files.
void print_header(const BisectLog& log);
void print_result(const BisectLog& log);
void write_bisect_outputs(const BisectLog& log, const BisectOptions& options);

} // namespace abtool
