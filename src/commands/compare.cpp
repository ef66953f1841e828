// abtool compare: a stored run against a baseline run, matched by primary key. Stored runs have
// no pairs between them, so this is an unpaired comparison (Mann-Whitney and a bootstrap
// interval of the ratio of medians) of B's per-round values, read from each run's
// samples.jsonl. Where a run directory is gone, only the stored medians remain: the row is then
// inconclusive and says why, rather than inventing an interval.
#include "src/commands.hpp"

#include "abtool/error.hpp"
#include "src/commands/conclude.hpp"
#include "src/commands/results_file.hpp"
#include "src/config.hpp"
#include "src/host.hpp"
#include "src/results_store.hpp"
#include "src/run_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace abtool {

namespace {

using SeriesKey = std::tuple<std::string, std::string, std::string>; // workload, case, metric

// B's value per round (a run's median) for every workload/case/metric of a stored run.
std::optional<std::map<SeriesKey, std::vector<double>>> b_series(const ResultsLocation& location,
                                                                 const std::string& run_id) {
    if (!location.runs_dir) {
        return std::nullopt;
    }
    const std::filesystem::path file = *location.runs_dir / run_id / "samples.jsonl";
    if (!std::filesystem::exists(file)) {
        return std::nullopt;
    }
    std::map<SeriesKey, std::map<std::size_t, std::vector<double>>> per_round;
    for (const SampleRecord& record : read_samples(file).records) {
        if (record.round > 0 && !record.error && record.side == Side::b) {
            per_round[{record.workload, record.case_name, record.metric}][record.round].push_back(
                record.value);
        }
    }
    std::map<SeriesKey, std::vector<double>> series;
    for (auto& [key, rounds] : per_round) {
        for (auto& [round, values] : rounds) {
            std::sort(values.begin(), values.end());
            const std::size_t n = values.size();
            series[key].push_back(n % 2 == 1 ? values[n / 2]
                                             : 0.5 * (values[n / 2 - 1] + values[n / 2]));
        }
    }
    return series;
}

std::vector<std::string> run_ids_in_order(const std::vector<ResultRow>& rows) {
    std::vector<std::string> ids;
    for (const ResultRow& row : rows) {
        if (ids.empty() || ids.back() != row.run_id) {
            if (std::find(ids.begin(), ids.end(), row.run_id) == ids.end()) {
                ids.push_back(row.run_id);
            }
        }
    }
    return ids;
}

} // namespace

int run_compare(const CompareOptions& options) {
    const ResultsLocation location = locate_results(options.results);
    const ResultsStore::ReadResult read = ResultsStore(location.file).read();
    const std::vector<std::string> ids = run_ids_in_order(read.rows);
    if (ids.empty()) {
        throw Error(ErrorKind::usage, fmt::format("{} holds no runs", location.file.string()));
    }
    const auto rows_of = [&](const std::string& id) {
        std::vector<const ResultRow*> rows;
        for (const ResultRow& row : read.rows) {
            if (row.run_id == id) {
                rows.push_back(&row);
            }
        }
        return rows;
    };

    const std::string candidate = options.candidate == "latest" ? ids.back() : options.candidate;
    const auto candidate_at = std::find(ids.begin(), ids.end(), candidate);
    if (candidate_at == ids.end()) {
        throw Error(ErrorKind::usage, fmt::format("--candidate {}: no such run in {}", candidate,
                                                  location.file.string()));
    }
    std::optional<std::string> baseline;
    if (std::find(ids.begin(), ids.end(), options.baseline) != ids.end()) {
        baseline = options.baseline;
    } else {
        // latest-pass: the newest earlier run with nothing regressed; otherwise a ref name or
        // commit prefix: the newest earlier run whose B was that ref.
        for (auto it = std::make_reverse_iterator(candidate_at); it != ids.rend(); ++it) {
            const std::vector<const ResultRow*> rows = rows_of(*it);
            const bool matches =
                options.baseline == "latest-pass"
                    ? std::none_of(rows.begin(), rows.end(),
                                   [](const ResultRow* r) {
                                       return r->verdict == "regressed" ||
                                              r->verdict == "slo-violated";
                                   })
                    : std::any_of(rows.begin(), rows.end(), [&](const ResultRow* r) {
                          return r->ref_b == options.baseline ||
                                 r->commit_b.rfind(options.baseline, 0) == 0;
                      });
            if (matches) {
                baseline = *it;
                break;
            }
        }
    }
    if (!baseline) {
        throw Error(ErrorKind::usage,
                    fmt::format("--baseline {}: no earlier run in {} matches", options.baseline,
                                location.file.string()),
                    "give a run id, a ref or commit that was a B, or latest-pass");
    }

    double threshold = rows_of(candidate).front()->threshold_pct / 100;
    if (options.threshold) {
        threshold = threshold_from_flag(*options.threshold);
    }
    stats::Options stats_options;
    stats_options.threshold = threshold;

    const auto base_series = b_series(location, *baseline);
    const auto cand_series = b_series(location, candidate);
    std::map<std::string, const ResultRow*> base_rows;
    for (const ResultRow* row : rows_of(*baseline)) {
        base_rows[row->primary_key] = row;
    }

    report::Report report;
    report.run_id = "compare-" + new_run_id();
    report.timestamp = utc_timestamp();
    report.paired = false;
    const ResultRow& first = *rows_of(candidate).front();
    const ResultRow& base_first = *base_rows.begin()->second;
    report.ref_a = fmt::format("{} (run {})", base_first.ref_b, *baseline);
    report.commit_a = base_first.commit_b;
    report.ref_b = fmt::format("{} (run {})", first.ref_b, candidate);
    report.commit_b = first.commit_b;
    report.threshold_pct = threshold * 100;
    report.host = host_name();
    report.abtool_version = ABTOOL_VERSION;
    report.interval_note = "unpaired: bootstrap interval of the ratio of B medians; p: "
                           "Mann-Whitney U";
    report.warnings = read.warnings;
    report.warnings.push_back("unpaired comparison of two stored runs: drift between them is "
                              "not cancelled as in a paired run");
    for (const ResultRow* row : rows_of(candidate)) {
        auto base = base_rows.find(row->primary_key);
        if (base == base_rows.end()) {
            continue;
        }
        report::Row out;
        out.primary_key = row->primary_key;
        out.workload = row->workload;
        out.kind = row->kind;
        out.case_name = row->case_name;
        out.metric = row->metric;
        out.unit = row->unit;
        out.direction =
            row->direction == "higher" ? stats::Direction::higher : stats::Direction::lower;
        out.gated = true;
        const SeriesKey key{row->workload, row->case_name, row->metric};
        if (base_series && cand_series && base_series->count(key) && cand_series->count(key)) {
            out.a_values = base_series->at(key);
            out.b_values = cand_series->at(key);
            out.comparison =
                stats::compare_unpaired(out.a_values, out.b_values, out.direction, stats_options);
        } else {
            out.comparison.a = stats::describe(std::vector<double>{base->second->b_median});
            out.comparison.b = stats::describe(std::vector<double>{row->b_median});
            out.comparison.reason = "raw samples of a run are gone (.abtool/runs): only medians "
                                    "remain, too little for an interval";
        }
        out.verdict =
            out.comparison.verdict == stats::Verdict::regressed   ? report::Verdict::regressed
            : out.comparison.verdict == stats::Verdict::improved  ? report::Verdict::improved
            : out.comparison.verdict == stats::Verdict::unchanged ? report::Verdict::unchanged
                                                                  : report::Verdict::inconclusive;
        report.rows.push_back(std::move(out));
    }
    if (report.rows.empty()) {
        throw Error(ErrorKind::usage,
                    fmt::format("runs {} and {} share no primary key", *baseline, candidate));
    }
    report.rounds = report.rows.front().b_values.size();
    std::fprintf(stdout, "compare (unpaired): baseline run %s vs candidate run %s\n",
                 baseline->c_str(), candidate.c_str());
    return conclude(report, options.outputs, options.strict, {});
}

} // namespace abtool
