// A run's directory, .abtool/runs/<run_id>/: plan.json, samples.jsonl, build logs, each run's
// kept stdout and summary.json. `abtool analyze` recomputes everything from plan.json and
// samples.jsonl alone.
#pragma once

#include "src/core/plan.hpp"
#include "src/report/report.hpp"
#include "src/results/run_store.hpp"

#include <filesystem>
#include <string>
#include <utility>

namespace abtool {

// One run's directory: the only place that names the files in it.
class RunDir {
public:
    RunDir() = default;
    explicit RunDir(std::filesystem::path path) : m_path(std::move(path)) {}
    // runs/<run_id> under a repository's state directory (.abtool): as is, or created.
    static RunDir in(const std::filesystem::path& state_dir, const std::string& run_id) {
        return RunDir(state_dir / "runs" / run_id);
    }
    static RunDir create(const std::filesystem::path& state_dir, const std::string& run_id);

    const std::filesystem::path& path() const { return m_path; }
    std::filesystem::path plan_file() const { return m_path / "plan.json"; }
    std::filesystem::path samples_file() const { return m_path / "samples.jsonl"; }
    std::filesystem::path summary_file() const { return m_path / "summary.json"; }
    std::filesystem::path calibration_file() const { return m_path / "calibration.json"; }
    std::filesystem::path build_log(Side side) const;
    // output/<workload>/<run>.stdout, each name made one safe file name: a run's kept stdout.
    std::filesystem::path stdout_file(const std::string& workload, const std::string& run) const;

    bool has_plan() const;
    void write_plan(const Plan& plan) const;
    Plan read_plan() const; // Error(usage) naming the file when it is not a plan

    // summary.json, in one shape: the report's rows and warnings, and whether the run completed
    // (an interrupted or failed run: its completed rounds, no rows).
    void write_summary(const report::Report& report, bool complete) const;

private:
    std::filesystem::path m_path;
};

} // namespace abtool
