// samples.jsonl, a run's raw record (every raw sample and every failed run, appended and flushed
// as it is taken), and the JSON files beside it. Where they live: run_dir.hpp.
#pragma once

#include "abtool/runners.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace abtool {

enum class Side { a, b };
std::string to_string(Side side); // "a" | "b"

// RunKey::pilot of a workload's native runs when cachegrind counts it (its slowdown's reference).
inline constexpr const char* k_native_pilot = "native";

// Which run of an experiment a record came from.
struct RunKey {
    std::size_t round = 0; // 0 for warm-up runs; a pilot's own round number for pilot runs
    Side side = Side::a;
    std::string workload;
    std::size_t rep = 0; // with repeat = k: this run's index (0..k-1) on its side in the round
    // Set on the pilot's runs (the candidate design they measured, e.g. "duet"): recorded, never
    // part of a verdict.
    std::optional<std::string> pilot;
    std::vector<int> cpus; // where the run was pinned (duet, --cpus); empty when not pinned
    // The workload's counters' backend ("perf" | "cachegrind"), recorded on each counter's
    // sample; empty when it counts nothing.
    std::string counter_backend;
};

// One line of samples.jsonl: a sample, or (error set) a failed run.
struct SampleRecord {
    std::size_t round = 0; // 0 for warm-up runs
    Side side = Side::a;
    std::string workload;
    std::size_t rep = 0;
    std::optional<std::string> pilot;
    std::vector<int> cpus;
    double run_ms = 0; // the whole run's wall time, harness included (0 in older files)
    std::string case_name;
    std::string metric;
    double value = 0;
    std::string unit;
    runners::Direction direction = runners::Direction::lower;
    runners::Gate gate = runners::Gate::no;
    std::int64_t start_unix_ns = 0;
    std::optional<std::string> error;
    std::string counter_backend; // a counter's sample: what counted it (RunKey)
    // A soak run's window (1-based `window_index` of runners::SoakWindow), not a sample: its line
    // in samples.jsonl has "window" instead of case/metric/value. read_samples and the scheduler
    // keep these apart (SamplesFile::windows, Scheduler::windows), so that nothing that groups
    // samples by metric ever sees one; the report draws them (report::SoakRun).
    std::optional<runners::SoakWindow> window;
    std::size_t window_index = 0;
};

// The records of one run: a line per sample, one more when the run failed, and a soak run's
// windows.
std::vector<SampleRecord> records_of(const RunKey& key, const runners::RunResult& result);

// The records as samples.jsonl lines, each ending in a newline.
std::string sample_lines(const std::vector<SampleRecord>& records);

class SamplesWriter {
public:
    explicit SamplesWriter(const std::filesystem::path& file);
    SamplesWriter(const SamplesWriter&) = delete;
    SamplesWriter& operator=(const SamplesWriter&) = delete;
    ~SamplesWriter();

    // Appends one run's records as whole lines and flushes them to the kernel, so an interrupt
    // loses at most the run in progress.
    void append(const std::vector<SampleRecord>& records);

private:
    std::FILE* m_file = nullptr;
    std::filesystem::path m_path;
};

struct SamplesFile {
    std::vector<SampleRecord> records; // samples and failed runs
    std::vector<SampleRecord> windows; // soak runs' windows (SampleRecord::window set)
    std::vector<std::string> warnings; // a torn last line after an interrupt
};
SamplesFile read_samples(const std::filesystem::path& file);

void write_json_file(const std::filesystem::path& file, const nlohmann::json& json);
nlohmann::json read_json_file(const std::filesystem::path& file);

} // namespace abtool
