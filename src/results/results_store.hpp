// results.csv: the append-only history of every run's verdicts, one row per workload/case/metric
// with DESIGN.md's header. Appends are all-or-nothing under a lock and fsynced; the file is never
// rewritten; a torn last line left by an older crash is reported and skipped.
//
// Reading is tolerant of a torn row but never repairs one: a record that does not have exactly
// the header's 30 fields, a run id first and numbers where numbers belong is reported with the
// line it starts on, and parsing restarts at the next physical line that begins a well-formed
// row (so a row cut inside a quoted field cannot swallow the good rows appended after it). An
// append that fails part-way (a full disk) truncates the file back to its size before that
// append, under the lock, so it removes only its own partial bytes.
#pragma once

#include "src/report/report.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace abtool {

// results.csv's header line (without its newline), in DESIGN.md's order:
// run_id,timestamp,primary_key,target_id,workload,kind,case,metric,unit,direction,ref_a,commit_a,
// ref_b,commit_b,rounds,seed,a_median,b_median,delta_pct,ci_low_pct,ci_high_pct,p_value,cv_a_pct,
// cv_b_pct,threshold_pct,verdict,errors_a,errors_b,host,abtool_version
const std::string& results_header();

struct ResultRow {
    std::string run_id, timestamp, primary_key, target_id, workload, kind, case_name, metric, unit;
    std::string direction; // "lower" | "higher"
    std::string ref_a, commit_a, ref_b, commit_b;
    std::size_t rounds = 0;
    std::uint64_t seed = 0;
    double a_median = 0, b_median = 0, delta_pct = 0, ci_low_pct = 0, ci_high_pct = 0;
    double p_value = 1, cv_a_pct = 0, cv_b_pct = 0, threshold_pct = 0;
    std::string verdict;
    int errors_a = 0, errors_b = 0;
    std::string host, abtool_version;
};

std::vector<ResultRow> rows_from_report(const report::Report& report);

class ResultsStore {
public:
    explicit ResultsStore(std::filesystem::path file);

    const std::filesystem::path& file() const { return m_file; }

    // Before the first run: the file is absent or has exactly the header, and its directory is
    // writable. Throws Error(config) for an unknown header, Error(io) otherwise, naming the file.
    void check_appendable() const;

    // Appends all rows or none (lock, one write, fsync; on a failed write or fsync the file is
    // truncated back to its size before this append and Error(io) thrown); writes the header to a
    // new file.
    void append(const std::vector<ResultRow>& rows) const;

    struct ReadResult {
        std::vector<ResultRow> rows;
        std::vector<std::string> warnings; // "results.csv:812: torn or malformed row skipped"
    };
    ReadResult read() const;

private:
    std::filesystem::path m_file;
};

} // namespace abtool
