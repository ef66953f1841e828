// abtool.toml, parsed and validated into one Config (DESIGN.md "Config"). Every problem is an
// Error(config) naming the file, line and key; unknown keys are errors, so a typo is never
// silently ignored.
#pragma once

#include "abtool/runners.hpp"
#include "abtool/stats.hpp"
#include "src/core/options.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace abtool {

struct BuildConfig {
    std::vector<std::string> argv;
    std::optional<std::string> shell;
    runners::Env env;
    std::chrono::seconds timeout{std::chrono::minutes(15)};
    bool present() const { return !argv.empty() || shell.has_value(); }
};

// Absolute limits on B (publish and stream workloads), checked besides the A/B comparison.
struct SloConfig {
    // publish
    std::optional<double> p99_ms;
    std::optional<double> p95_ms;
    std::optional<double> throughput_rps_min;
    // stream
    std::optional<double> first_chunk_p95_ms;
    std::optional<double> overhead_ms_max;
    std::optional<double> jitter_p95_ms;
    std::optional<double> e2e_p95_ms;
    // The most chunks any one run of B may lose; a stream workload's default is 0.
    std::optional<double> loss_max;
    // both: failed messages (publish) or sessions (stream) over all of B's measured runs
    std::optional<double> error_rate_max;
    // soak runs (`duration`)
    std::optional<double> rss_growth_kb_per_min_max;
    std::optional<double> latency_p99_drift_pct_max;
    bool empty() const {
        return !p99_ms && !p95_ms && !throughput_rps_min && !first_chunk_p95_ms &&
               !overhead_ms_max && !jitter_p95_ms && !e2e_p95_ms && !loss_max && !error_rate_max &&
               !rss_growth_kb_per_min_max && !latency_p99_drift_pct_max;
    }
};

// How a workload's rounds run (DESIGN.md "Rounds"). Unset fields fall back to [run]'s, then to
// the defaults: schedule auto, repeat 1 (auto also tries 3), summary by metric (min for
// durations, where interference only adds time; median for everything else).
enum class Schedule { alternate, duet, automatic };
enum class Summary { min, median };
std::string to_string(Schedule schedule); // "alternate" | "duet" | "auto"
// The config's words for the runners' choices: format = "gbench", protocol, mode.
std::string_view to_string(runners::HotpathFormat format);
std::string_view to_string(runners::Protocol protocol);
std::string_view to_string(runners::PublishMode mode);
std::string_view to_string(runners::StreamProtocol protocol);
std::string to_string(Summary summary); // "min" | "median"
std::optional<Schedule> parse_schedule(std::string_view text);
std::optional<Summary> parse_summary(std::string_view text);

// A count's bounds, shared by its abtool.toml key and the flag that overrides it: one rule and
// one wording, "'rounds' must be between 2 and 100000, not -1".
struct CountLimit {
    std::string_view key; // in [run]; its flag is --<key> with '-' for '_'
    std::int64_t min;
    std::int64_t max;
};
inline constexpr CountLimit k_rounds_limit{"rounds", 2, 100000};
inline constexpr CountLimit k_max_rounds_limit{"max_rounds", 2, 100000};
inline constexpr CountLimit k_seed_limit{"seed", 0, std::numeric_limits<std::int64_t>::max()};
// The message for a value outside `limit`, naming `name` (a key with its context, or a flag);
// `value` as the user wrote it (a flag's "18446744073709551615" is not an int64).
std::string out_of_limit(const CountLimit& limit, std::string_view name, std::string_view value);
// A flag's text as a count within `limit`, else the reason it is not, without the flag's name
// (for CLI11, which prefixes it): the same wording as the key's.
std::optional<std::string> flag_count_error(const CountLimit& limit, std::string_view text);

struct DesignConfig {
    std::optional<Schedule> schedule;
    std::optional<std::size_t> repeat;
    std::optional<Summary> summary;
};

struct WorkloadConfig {
    runners::Workload workload;
    // "command" | "hotpath" | "publish" | "stream": results.csv's and the reports' word for its
    // kind.
    std::string_view kind() const { return runners::kind_name(workload); }
    SloConfig slo;
    DesignConfig design;
    // The smallest change that counts for this workload's cases, over [run]'s and --threshold
    // (which set the run's): instructions gate a far smaller change than wall time.
    std::optional<double> threshold;
    int line = 0; // where the [[workload]] table starts
    // Why its counters' backend is what it is: set at the start of a run, when the backend is
    // resolved on this machine (runners::choose_counter_backend); empty before.
    std::string counter_reason;
    // "workload 'loop' (abtool.toml:12)": how messages name it.
    std::string describe(const std::filesystem::path& file) const;
};

struct RunConfig {
    std::size_t rounds = 20;
    std::size_t warmup = 1;
    std::uint64_t seed = 1;
    double threshold = 0.02; // fraction
    double confidence = 0.95;
    std::optional<std::size_t> max_rounds;
    // Across the cases of one run: Holm controls the chance of any false regression (the gate's
    // question); Benjamini-Hochberg ("bh") the expected share of false ones, for large suites.
    stats::Multiplicity multiplicity = stats::Multiplicity::holm;
    DesignConfig design;          // the workloads' default
    std::size_t pilot_rounds = 6; // per candidate design, when a workload's schedule is auto
};

// A unit of a sharded run: a workload, or some cases of a hotpath workload whose command takes
// {filter} (each case is a unit; a shard's cases of one workload run together).
struct ShardUnit {
    std::string workload;
    std::vector<std::string> cases; // empty: the whole workload
};

// --shard K/N: a deterministic 1/N of the run's units. The units are the workloads in config
// order, a {filter} hotpath's cases one unit each (unless it counts: counters measure the whole
// program, so it stays one unit); unit i goes to shard i mod N + 1. The seed and plan are the
// whole run's otherwise: the schedule is the whole suite's, each round keeping this shard's
// workloads, so that the shards merged (abtool merge) equal one run of them all.
struct Shard {
    std::size_t index = 0; // 1-based
    std::size_t count = 0;
    std::vector<std::string> suite; // every workload of the whole run, in config order
    std::vector<ShardUnit> units;   // this shard's, in config order
    // Workloads whose cases are spread over several shards: their design must not depend on a
    // pilot that each shard would run for itself.
    std::vector<std::string> split;
    // The other shards' gated metrics, counted from the config (a lower bound): the merged run
    // corrects over all of them, so each shard plans its rounds for the whole suite.
    std::size_t other_gated = 0;
};

struct Config {
    std::filesystem::path file;
    std::string text;
    BuildConfig build;
    RunConfig run;
    std::filesystem::path results_file; // absolute
    std::vector<WorkloadConfig> workloads;
    std::optional<Shard> shard; // --shard: `workloads` hold this shard's units only

    // The workload named `name`; null when there is none (a run analysed with a config that no
    // longer has it).
    const WorkloadConfig* workload(std::string_view name) const;
};

// Reads and validates `file`; Error(config) on any problem, Error(usage) when it is missing.
Config load_config(const std::filesystem::path& file);
// The same on text already read; `source` names it in messages and anchors relative paths.
Config parse_config(std::string_view text, const std::filesystem::path& source);

// "2%", "0.5 %" or "0.02" (a fraction); nullopt for anything else or outside (0, 1).
std::optional<double> parse_threshold(std::string_view text);
// The same for a command-line flag: Error(usage) naming --threshold when malformed.
double threshold_from_flag(std::string_view text);
// "500ms", "60s", "15m", "2h", "14d"; nullopt when malformed.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// The run's flags over its config: --rounds, --max-rounds, --seed, --threshold, --results and
// --workload (each selected workload must exist: Error(usage) naming the file and listing them).
// --shard is plan.hpp's select_shard.
void apply_run_flags(const RunOptions& options, Config& config);

} // namespace abtool
