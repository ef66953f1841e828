// abtool compare: a stored run against a baseline run, matched by primary key. Stored runs have
// no pairs between them, so this is an unpaired comparison (Mann-Whitney U and a bootstrap
// interval of the ratio of medians) of B's per-round values, read from each run's
// samples.jsonl, with Holm's correction across the compared cases (gated and informational
// metrics corrected apart, as a run does).
//
// Which rows gate is what the candidate run recorded: the gate flag of its samples, else the rule
// its plan.json's config implies (the runners' rule: command wall_ms; publish latency_p50_ms and
// throughput_rps; hotpath the configured `metrics`, else real_time for Google Benchmark, wall_ms
// for hyperfine, every metric for JSON lines), else the same rule from the rows' kind alone (a
// hotpath's format is then read off its metrics). A regression in an informational metric (user
// time, RSS, latency_max, bytes) is shown but does not fail compare.
//
// `--baseline latest-pass` is the newest run before the candidate that shares a primary key with
// it and whose gate passed: no gated metric regressed and no SLO was violated.
//
// Where a run's samples.jsonl is gone (`abtool gc`, or a results.csv such as reference/'s that
// travelled without its run directories), only the stored B medians remain. Two medians cannot be
// tested: such a row reports the delta of the medians, verdict inconclusive ("no raw samples:
// cannot test"), which passes the gate unless --strict, where it fails like any inconclusive.
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
#include <cmath>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <variant>

namespace abtool {

namespace {

using SeriesKey = std::tuple<std::string, std::string, std::string>; // workload, case, metric

SeriesKey key_of(const ResultRow& row) {
    return {row.workload, row.case_name, row.metric};
}

// What a stored run left behind besides its results.csv rows.
struct StoredRun {
    std::string id;
    std::vector<const ResultRow*> rows;
    bool has_samples = false;
    std::map<SeriesKey, std::vector<double>> b_series; // B's value per round (a run's median)
    std::map<SeriesKey, bool> gate_recorded;           // the samples' own gate flags
    std::optional<Config> config;                      // plan.json's config
};

void load_samples(StoredRun& run, const std::filesystem::path& file) {
    std::map<SeriesKey, std::map<std::size_t, std::vector<double>>> per_round;
    for (const SampleRecord& record : read_samples(file).records) {
        if (record.error) {
            continue;
        }
        const SeriesKey key{record.workload, record.case_name, record.metric};
        run.gate_recorded[key] = record.gate == runners::Gate::yes;
        if (record.round > 0 && record.side == Side::b) {
            per_round[key][record.round].push_back(record.value);
        }
    }
    for (auto& [key, rounds] : per_round) {
        for (auto& [round, values] : rounds) {
            run.b_series[key].push_back(stats::median(values));
        }
    }
    run.has_samples = true;
}

StoredRun load_run(const ResultsLocation& location, const std::vector<ResultRow>& all,
                   const std::string& id, std::vector<std::string>& warnings) {
    StoredRun run;
    run.id = id;
    for (const ResultRow& row : all) {
        if (row.run_id == id) {
            run.rows.push_back(&row);
        }
    }
    if (!location.runs_dir) {
        return run;
    }
    const std::filesystem::path dir = *location.runs_dir / id;
    if (std::filesystem::exists(dir / "samples.jsonl")) {
        load_samples(run, dir / "samples.jsonl");
    }
    if (std::filesystem::exists(dir / "plan.json")) {
        try {
            const std::string source = (dir / "plan.json").string();
            const Plan plan = plan_from_json(read_json_file(dir / "plan.json"), source);
            run.config = parse_config(plan.config_text, plan.config_file);
        } catch (const Error& error) {
            warnings.push_back(fmt::format("run {}: plan.json unreadable ({}): gated metrics "
                                           "taken from the default rule",
                                           id, error.what()));
        }
    }
    return run;
}

// Whether a row's metric gates: the samples' own flags, else the runners' rule (gate_of) for the
// workload its plan.json's config describes, else for a workload of the row's kind (a hotpath's
// format read off its metrics: Google Benchmark reports real_time, hyperfine wall_ms, otherwise
// JSON lines).
bool gated(const StoredRun& run, const ResultRow& row) {
    if (auto it = run.gate_recorded.find(key_of(row)); it != run.gate_recorded.end()) {
        return it->second;
    }
    const WorkloadConfig* configured = run.config ? run.config->workload(row.workload) : nullptr;
    if (configured != nullptr) {
        return runners::gate_of(configured->workload, row.metric) == runners::Gate::yes;
    }
    runners::Workload stand_in{row.workload, runners::CommandWorkload{}};
    if (row.kind == "publish") {
        stand_in.spec = runners::PublishWorkload{};
    } else if (row.kind != "command") {
        const auto has = [&](const char* metric) {
            return std::any_of(run.rows.begin(), run.rows.end(), [&](const ResultRow* other) {
                return other->workload == row.workload && other->metric == metric;
            });
        };
        runners::HotpathWorkload hotpath;
        hotpath.format = has("real_time") ? runners::HotpathFormat::gbench
                         : has("wall_ms") ? runners::HotpathFormat::hyperfine
                                          : runners::HotpathFormat::jsonl;
        stand_in.spec = std::move(hotpath);
    }
    return runners::gate_of(stand_in, row.metric) == runners::Gate::yes;
}

// The gate of a stored run, by the rule a run applies (report::fails_gate), without --strict.
bool gate_passed(const StoredRun& run) {
    return std::none_of(run.rows.begin(), run.rows.end(), [&](const ResultRow* row) {
        const std::optional<report::Verdict> verdict = report::verdict_from_string(row->verdict);
        return verdict && report::fails_gate(*verdict, gated(run, *row), false);
    });
}

bool shares_a_key(const StoredRun& run, const StoredRun& other) {
    std::set<std::string> keys;
    for (const ResultRow* row : other.rows) {
        keys.insert(row->primary_key);
    }
    return std::any_of(run.rows.begin(), run.rows.end(),
                       [&](const ResultRow* row) { return keys.count(row->primary_key) > 0; });
}

std::vector<std::string> run_ids_in_order(const std::vector<ResultRow>& rows) {
    std::vector<std::string> ids;
    for (const ResultRow& row : rows) {
        if (std::find(ids.begin(), ids.end(), row.run_id) == ids.end()) {
            ids.push_back(row.run_id);
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
    std::vector<std::string> warnings = read.warnings;

    const std::string candidate_id = options.candidate == "latest" ? ids.back() : options.candidate;
    const auto candidate_at = std::find(ids.begin(), ids.end(), candidate_id);
    if (candidate_at == ids.end()) {
        throw Error(ErrorKind::usage, fmt::format("--candidate {}: no such run in {}", candidate_id,
                                                  location.file.string()));
    }
    const StoredRun candidate = load_run(location, read.rows, candidate_id, warnings);

    std::optional<StoredRun> baseline;
    if (std::find(ids.begin(), ids.end(), options.baseline) != ids.end()) {
        baseline = load_run(location, read.rows, options.baseline, warnings);
    } else {
        // latest-pass: the newest earlier run, sharing a key with the candidate, whose gate
        // passed; otherwise a ref name or commit prefix: the newest earlier run whose B was it.
        for (auto it = std::make_reverse_iterator(candidate_at); it != ids.rend(); ++it) {
            std::vector<std::string> run_warnings;
            StoredRun run = load_run(location, read.rows, *it, run_warnings);
            const bool matches =
                options.baseline == "latest-pass"
                    ? shares_a_key(run, candidate) && gate_passed(run)
                    : std::any_of(run.rows.begin(), run.rows.end(), [&](const ResultRow* r) {
                          return r->ref_b == options.baseline ||
                                 r->commit_b.rfind(options.baseline, 0) == 0;
                      });
            if (matches) {
                warnings.insert(warnings.end(), run_warnings.begin(), run_warnings.end());
                baseline = std::move(run);
                break;
            }
        }
    }
    if (!baseline) {
        throw Error(ErrorKind::usage,
                    fmt::format("--baseline {}: no earlier run in {} matches", options.baseline,
                                location.file.string()),
                    "give a run id, a ref or commit that was a B, or latest-pass (the newest "
                    "earlier run whose gate passed)");
    }

    double threshold = candidate.rows.front()->threshold_pct / 100;
    if (options.threshold) {
        threshold = threshold_from_flag(*options.threshold);
    }
    stats::Options stats_options;
    stats_options.threshold = threshold;
    stats_options.multiplicity = stats::Multiplicity::holm;

    std::map<std::string, const ResultRow*> base_rows;
    for (const ResultRow* row : baseline->rows) {
        base_rows[row->primary_key] = row;
    }

    report::Report report;
    report.run_id = "compare-" + new_run_id();
    report.timestamp = utc_timestamp();
    report.paired = false;
    const ResultRow& first = *candidate.rows.front();
    const ResultRow& base_first = *baseline->rows.front();
    report.ref_a = fmt::format("{} (run {})", base_first.ref_b, baseline->id);
    report.commit_a = base_first.commit_b;
    report.ref_b = fmt::format("{} (run {})", first.ref_b, candidate.id);
    report.commit_b = first.commit_b;
    report.threshold_pct = threshold * 100;
    report.confidence = stats_options.confidence;
    report.host = host_name();
    report.abtool_version = ABTOOL_VERSION;

    for (const StoredRun* run : std::initializer_list<const StoredRun*>{&*baseline, &candidate}) {
        if (!run->has_samples) {
            warnings.push_back(fmt::format(
                "run {} has no samples.jsonl{}: only its stored medians are available, so its "
                "rows are compared by the delta of medians and are inconclusive (no raw samples: "
                "cannot test)",
                run->id, location.runs_dir ? "" : " (not inside the repository that ran it)"));
        }
    }
    warnings.push_back("unpaired comparison of two stored runs: drift between them is not "
                       "cancelled as in a paired run");

    // Rows with raw samples on both sides, per group (0 gated, 1 informational): each group is
    // compared as one family, multiplicity-corrected within it, as a run's analysis does.
    std::vector<stats::UnpairedInput> inputs[2];
    std::vector<std::size_t> row_of[2];
    for (const ResultRow* row : candidate.rows) {
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
        out.gated = gated(candidate, *row);
        const SeriesKey key = key_of(*row);
        const auto base_series = baseline->b_series.find(key);
        const auto cand_series = candidate.b_series.find(key);
        if (base_series != baseline->b_series.end() && cand_series != candidate.b_series.end()) {
            out.a_values = base_series->second;
            out.b_values = cand_series->second;
            const int group = out.gated ? 0 : 1;
            inputs[group].push_back({out.a_values, out.b_values, out.direction});
            row_of[group].push_back(report.rows.size());
        } else {
            stats::Comparison& c = out.comparison;
            c.a = stats::describe(std::vector<double>{base->second->b_median});
            c.b = stats::describe(std::vector<double>{row->b_median});
            c.delta_pct = (row->b_median / base->second->b_median - 1) * 100;
            c.hl_delta_pct = c.delta_pct;
            c.p_value = c.p_adjusted = std::nan("");
            c.verdict = stats::Verdict::inconclusive;
            c.reason = "no raw samples: cannot test";
            c.warnings.push_back(
                std::isfinite(c.delta_pct)
                    ? fmt::format("no raw samples: cannot test; stored medians {:.4g} -> {:.4g} "
                                  "{} ({:+.2f}%)",
                                  base->second->b_median, row->b_median, row->unit, c.delta_pct)
                    : std::string("no raw samples: cannot test; a stored median is missing"));
        }
        report.rows.push_back(std::move(out));
    }
    if (report.rows.empty()) {
        throw Error(ErrorKind::usage,
                    fmt::format("runs {} and {} share no primary key", baseline->id, candidate.id));
    }
    bool any_tested = false;
    for (int group = 0; group < 2; ++group) {
        const std::vector<stats::Comparison> comparisons =
            stats::compare_unpaired_all(inputs[group], stats_options);
        for (std::size_t i = 0; i < comparisons.size(); ++i) {
            report.rows[row_of[group][i]].comparison = comparisons[i];
            any_tested = any_tested || comparisons[i].interval != stats::IntervalMethod::none;
        }
    }
    for (report::Row& row : report.rows) {
        row.verdict = report::to_report(row.comparison.verdict);
    }
    report.interval_note =
        any_tested ? fmt::format("unpaired: {:.0f}% bootstrap intervals of the ratio of B "
                                 "medians; p: Mann-Whitney U, Holm-adjusted across the compared "
                                 "cases (gated and informational metrics apart)",
                                 stats_options.confidence * 100)
                   : "unpaired, no raw samples: delta of stored medians only, not tested";
    report.warnings = std::move(warnings);
    report.rounds = report.rows.front().b_values.size();
    std::fprintf(stdout, "compare (unpaired): baseline run %s vs candidate run %s\n",
                 baseline->id.c_str(), candidate.id.c_str());
    return conclude(report, options.outputs, options.strict, {});
}

} // namespace abtool
