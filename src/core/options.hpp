// Plain option structs that cli.cpp fills from the command line (the only file that sees CLI11);
// every command takes one of these (hyperfine's cli.rs / options.rs split).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace abtool {

enum class Strict { no, yes };
enum class RebuildRefs { no, yes };

// Outputs every run-like command can write.
struct OutputOptions {
    std::optional<std::filesystem::path> json;
    std::optional<std::filesystem::path> markdown;
    std::optional<std::filesystem::path> html;
    std::vector<std::string> exports; // "FORMAT" or "FORMAT=PATH" (report::export_format_names())
};

// What a run asks of the machine and the schedule, shared by run and calibrate so that an A/A
// calibration is measured exactly like the comparison it calibrates.
struct MeasurementOptions {
    std::optional<std::string> schedule; // alternate | duet | auto: every workload's design
    std::optional<std::int64_t> seed;    // read signed: "-1" is refused by its limit
    std::vector<int> cpus;
    int nice = 0;
    bool env_padding = true;                      // random environment padding per run
    std::optional<std::string> target;            // --target ID (default: local)
    std::optional<std::filesystem::path> targets; // --targets FILE (default: beside abtool.toml)
};

struct RunOptions {
    std::string ref_a;
    std::string ref_b;
    std::filesystem::path config;       // empty: abtool.toml at the repository root
    std::vector<std::string> workloads; // empty: all
    // Counts are read signed, so that "-1" is refused by its limit (config.hpp) instead of
    // wrapping to 2^64 - 1.
    std::optional<std::int64_t> rounds;
    std::optional<std::int64_t> max_rounds;
    std::optional<std::string> threshold; // "2%" or "0.02"
    std::optional<std::filesystem::path> results;
    std::optional<std::string> shard; // "K/N": a 1/N of the units, no results.csv append
    MeasurementOptions measurement;
    OutputOptions outputs;
    Strict strict = Strict::no;
    RebuildRefs rebuild = RebuildRefs::no;
    bool calibrate = false; // set by `abtool calibrate`: A/A on two checkouts
    // Set by `abtool bisect` for its probes: `threshold` over the workloads' own thresholds too,
    // since a probe's verdicts are judged against a share of the bisected delta.
    bool threshold_everywhere = false;
    // Set by `abtool bisect`: when neither --max-rounds nor [run] max_rounds says, the run is
    // adaptive up to this many times its rounds (0: not adaptive).
    std::size_t default_max_rounds_factor = 0;
    // False: the planned rounds only, whatever --max-rounds or [run] max_rounds say (bisect's
    // first look at a probe).
    bool adaptive = true;
    std::filesystem::path cwd; // where abtool was started (empty: current dir)
    // Set on an ssh target by the abtool that started the run there (remote.hpp): the target's
    // id for the plan, the caller's run id, plan and samples streamed on stdout, nothing
    // appended or gated here.
    std::optional<std::string> as_target;
    std::optional<std::string> run_id;
    std::pair<std::string, std::string> as_target_names; // the caller's names of A and B
};

struct AnalyzeOptions {
    std::filesystem::path run_dir;
    std::optional<std::string> threshold;
    std::optional<double> confidence;
    std::optional<std::string> summary; // min | median: re-summarise the runs' repeats
    OutputOptions outputs;
    Strict strict = Strict::no;
};

struct MergeOptions {
    std::vector<std::filesystem::path> run_dirs; // every shard's run directory
    std::optional<std::filesystem::path> results;
    OutputOptions outputs;
    Strict strict = Strict::no;
};

struct CompareOptions {
    std::string baseline = "latest-pass"; // RUN_ID | REF | latest-pass
    std::string candidate = "latest";     // RUN_ID | latest
    std::optional<std::filesystem::path> results;
    std::optional<std::string> threshold;
    OutputOptions outputs;
    Strict strict = Strict::no;
};

struct HistoryOptions {
    std::optional<std::string> key;
    std::optional<std::string> workload;
    std::optional<std::string> case_name;
    std::optional<std::string> metric;
    std::optional<std::filesystem::path> results;
    std::int64_t limit = 30; // at least 1 (signed: "-1" is refused, not read as 2^64 - 1)
};

struct CalibrateOptions {
    std::string ref = "HEAD";
    std::optional<std::int64_t> rounds;
    std::vector<std::string> workloads;
    std::filesystem::path config;
    MeasurementOptions measurement; // as for run: measured exactly like a comparison
};

struct BisectOptions {
    std::string good;
    std::string bad;
    std::optional<std::string> workload;
    std::optional<std::string> case_name;
    std::optional<std::string> metric;
    std::filesystem::path config;
    std::optional<std::int64_t> rounds;
    std::optional<std::int64_t> max_rounds;
    std::optional<std::string> threshold; // of the confirming run and of the culprit's own delta
    MeasurementOptions measurement;
    std::optional<std::filesystem::path> json;
    std::optional<std::filesystem::path> markdown;
    bool record = false; // append every comparison's rows to results.csv
    bool resume = false; // reuse the comparisons already in the bisect log
    RebuildRefs rebuild = RebuildRefs::no;
};

struct DemoOptions {
    std::optional<std::filesystem::path> dir; // scratch directory (default: a new temp dir)
    bool keep = true;
};

struct GcCommandOptions {
    std::string older_than = "14d";
    bool dry_run = false;
};

} // namespace abtool
