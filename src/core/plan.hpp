// The experiment plan: refs, commits, config, seed and the whole schedule of rounds, written to
// plan.json before the first run so that a run can be audited and re-analysed from its files.
// Rounds come in balanced blocks (one AB round, one BA round) drawn from a named, seeded
// generator: same seed and workloads, same schedule, on any platform.
#pragma once

#include "abtool/stats.hpp"
#include "src/core/config.hpp"
#include "src/core/options.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace abtool {

// splitmix64 (Steele, Lea and Flood 2014): tiny, fully specified, so a seed replays the same
// schedule everywhere (std::shuffle and the std distributions are implementation-defined).
class SeededGenerator {
public:
    explicit SeededGenerator(std::uint64_t seed) : m_state(seed) {}
    std::uint64_t next();
    // Uniform in [0, bound), by rejection (no modulo bias).
    std::uint64_t below(std::uint64_t bound);

private:
    std::uint64_t m_state;
};

struct PlannedRound {
    std::size_t index = 0;                 // 1-based round number
    stats::Order order = stats::Order::ab; // which ref runs first, for every workload
    std::vector<std::string> workloads;    // the order workloads run in this round
    // Duet: B takes the first CPU set and A the second (else A the first). Balanced like the
    // order: one round of each in every block, which first drawn from its own seeded stream, so
    // neither side keeps the better CPU.
    bool swap_cpus = false;
};

// Rounds come in whole blocks (DESIGN.md "Rounds"): an odd count is rounded up to the next even
// one, since half a block would leave one order with an extra round and bias the paired deltas
// by any order effect.
std::size_t whole_blocks(std::size_t rounds);

// whole_blocks(rounds) rounds (a prefix of any longer schedule with the same seed, so adaptive
// runs extend it): block b holds rounds 2b+1 and 2b+2, one AB and one BA, the first drawn at
// random.
std::vector<PlannedRound>
make_schedule(std::size_t rounds, const std::vector<std::string>& workloads, std::uint64_t seed);
// The schedule of `suite`'s make_schedule with every round keeping `workloads` only (a shard's):
// the same orders, CPU swaps and relative workload order as the whole run's.
std::vector<PlannedRound> make_schedule(std::size_t rounds, const std::vector<std::string>& suite,
                                        const std::vector<std::string>& workloads,
                                        std::uint64_t seed);

// How one workload's rounds run (DESIGN.md "Rounds"), resolved: never auto once the pilot has
// chosen (plan.json is rewritten with the choice before round 1).
struct WorkloadDesign {
    std::string workload;
    Schedule schedule = Schedule::alternate;
    std::size_t repeat = 1;
    std::optional<Summary> summary;    // unset: min for durations, median for other metrics
    std::string chosen_by = "default"; // default | config | flag | pilot | fallback
    std::string reason;
    std::vector<std::string> evidence; // the pilot's figures, one line per candidate
    // Duet: the two CPU sets the sides take in turn. A publish workload has four: server and
    // load generator of the first side, then of the second.
    std::vector<std::vector<int>> duet_cpus;
    // A command or hotpath workload's `counters`: the backend that counts them ("perf" or
    // "cachegrind") and why (WorkloadConfig::counter_reason); empty when it counts nothing.
    std::string counter_backend;
    std::string counter_reason;
};

struct PlannedRef {
    std::string name;
    std::string commit;
    std::string content_id;
    std::string kind;     // commit | snapshot
    std::string worktree; // absolute path
};

// "ref 'dev' (3f2a1c9)", or "ref 'CURRENT' (snapshot 1b2c3d4 on 3f2a1c9)": a ref in messages.
std::string describe(const PlannedRef& ref);

struct Plan {
    std::string run_id;
    std::string timestamp; // ISO 8601 UTC
    std::string abtool_version;
    std::string host;
    std::string target_id = "local"; // --target: results.csv's target_id, in every primary key
    std::string mode = "compare";    // compare | calibrate
    PlannedRef a, b;
    std::string config_file;
    std::string config_text;
    std::vector<std::string> workloads;
    std::size_t rounds = 0;     // planned (minimum) rounds
    std::size_t max_rounds = 0; // == rounds unless adaptive
    // What the config or the flags asked for, before whole_blocks() (equal unless it was odd).
    std::size_t rounds_requested = 0;
    std::size_t max_rounds_requested = 0;
    std::size_t warmup = 0;
    std::uint64_t seed = 0;
    std::string generator = "splitmix64";
    double threshold = 0.02;
    double confidence = 0.95;
    std::vector<int> cpus;
    int nice = 0;
    bool env_padding = true;
    std::vector<std::string> warnings;    // measurement hygiene seen before the first run
    std::vector<PlannedRound> schedule;   // max_rounds rounds
    std::vector<WorkloadDesign> designs;  // one per workload (older plans: none, all alternate)
    std::size_t pilot_rounds = 0;         // per candidate design, for auto workloads
    std::vector<std::string> notes;       // planning decisions said on stderr (rounds raised, ...)
    std::optional<Shard> shard;           // --shard: which units of the suite this run measured
    std::vector<std::string> merged_from; // abtool merge: the shards' run ids, in shard order

    // The design of `workload`: plain alternate rounds when the plan has none for it.
    WorkloadDesign design_of(const std::string& workload) const;
};

// ---- making a plan -------------------------------------------------------------------------

// A lower bound on a config's gated metrics before anything ran: a command gates wall_ms, a
// publish workload p50 latency and throughput, a hotpath at least one metric per listed name (per
// listed case, with {filter}).
std::size_t expected_gated(const Config& config);

// --shard "K/N": {K, N}, Error(usage) naming the flag unless 1 <= K <= N.
std::pair<std::size_t, std::size_t> parse_shard(std::string_view text);
// Keeps shard `index` of `count`'s units of `config` (config.hpp's Shard rule) and records them
// in config.shard; Error(usage) when the shard would get none.
void select_shard(Config& config, std::size_t index, std::size_t count);

// The plan of a run (or calibration) from its config and flags: ids, host, rounds in whole blocks
// (odd counts rounded up, said on stderr), the seeded schedule, and each workload's design as
// --schedule, its [[workload]] table, [run] or the default say (auto stays auto until the
// pilot; duet and auto get their CPU sets from `allowed_cpus`). Refs are the caller's. Throws
// Error(usage) for an explicit duet the CPUs cannot hold, and under --strict for rounds that
// cannot reach significance (raised otherwise: plan_reachable_rounds).
Plan make_plan(const RunOptions& options, const Config& config,
               const std::vector<int>& allowed_cpus);

// Honest planning: rounds too few for any verdict to reach significance with `gated` gated
// metrics under the config's multiplicity correction are raised to the smallest count that can
// (said on stderr and kept in plan.notes; `basis` says where `gated` came from), or refused
// with Error(usage) under --strict.
void plan_reachable_rounds(Plan& plan, const Config& config, std::size_t gated, Strict strict,
                           const char* basis);

// The counters' backends the run's plan records, onto `config` parsed from its config_text (the
// text says "auto"; the plan says what counted): analyze and compare key and label its rows as
// the run did.
void apply_counting(const Plan& plan, Config& config);

// The config a run measured with: the plan's config text, read as `file` (relative paths are
// anchored there), with the plan's counters' backends (apply_counting) and the plan's workloads
// only (--workload, --shard): SLOs and rows of the others would judge workloads that never ran.
Config config_of(const Plan& plan, const std::filesystem::path& file);

nlohmann::json to_json(const Plan& plan);
// Throws Error(usage) naming `source` when a field is missing or malformed.
Plan plan_from_json(const nlohmann::json& json, const std::string& source);

} // namespace abtool
