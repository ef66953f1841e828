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
#include "src/commands/commands.hpp"

#include "abtool/error.hpp"
#include "src/commands/conclude.hpp"
#include "src/commands/results_file.hpp"
#include "src/core/config.hpp"
#include "src/core/host.hpp"
#include "src/results/results_store.hpp"
#include "src/results/run_dir.hpp"
#include "src/results/run_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
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
    if (!location.state_dir) {
        return run;
    }
    const RunDir dir = RunDir::in(*location.state_dir, id);
    if (std::filesystem::exists(dir.samples_file())) {
        load_samples(run, dir.samples_file());
    }
    if (std::filesystem::exists(dir.plan_file())) {
        try {
            const Plan plan = dir.read_plan();
            run.config = parse_config(plan.config_text, plan.config_file);
            apply_counting(plan, *run.config);
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
    } else if (row.kind == "stream") {
        stand_in.spec = runners::StreamWorkload{};
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

// The run --baseline names: a run id; latest-pass, the newest run before the candidate that
// shares a key with it and whose gate passed; or a ref name or commit prefix, the newest earlier
// run whose B was it. Its load warnings join `warnings` only when it is the one chosen.
std::optional<StoredRun> find_baseline(const ResultsLocation& location,
                                       const std::vector<ResultRow>& rows,
                                       const std::vector<std::string>& ids,
                                       const StoredRun& candidate, const std::string& wanted,
                                       std::vector<std::string>& warnings) {
    if (std::find(ids.begin(), ids.end(), wanted) != ids.end()) {
        return load_run(location, rows, wanted, warnings);
    }
    const auto candidate_at = std::find(ids.begin(), ids.end(), candidate.id);
    for (auto it = std::make_reverse_iterator(candidate_at); it != ids.rend(); ++it) {
        std::vector<std::string> run_warnings;
        StoredRun run = load_run(location, rows, *it, run_warnings);
        const bool matches =
            wanted == "latest-pass"
                ? shares_a_key(run, candidate) && gate_passed(run)
                : std::any_of(run.rows.begin(), run.rows.end(), [&](const ResultRow* r) {
                      return r->ref_b == wanted || r->commit_b.rfind(wanted, 0) == 0;
                  });
        if (matches) {
            warnings.insert(warnings.end(), run_warnings.begin(), run_warnings.end());
            return run;
        }
    }
    return std::nullopt;
}

// The report's header: the baseline's B as A, the candidate's B as B.
report::Report compare_report(const StoredRun& baseline, const StoredRun& candidate,
                              const stats::Options& options) {
    report::Report report;
    report.run_id = "compare-" + new_run_id();
    report.timestamp = utc_timestamp();
    report.paired = false;
    const ResultRow& first = *candidate.rows.front();
    const ResultRow& base_first = *baseline.rows.front();
    report.ref_a = fmt::format("{} (run {})", base_first.ref_b, baseline.id);
    report.commit_a = base_first.commit_b;
    report.ref_b = fmt::format("{} (run {})", first.ref_b, candidate.id);
    report.commit_b = first.commit_b;
    report.threshold_pct = options.threshold * 100;
    report.confidence = options.confidence;
    report.host = host_name();
    report.target_id = first.target_id; // rows pair by primary key, which holds the target
    report.abtool_version = ABTOOL_VERSION;
    return report;
}

// A row whose raw samples are gone on a side: the delta of the stored medians, not tested.
stats::Comparison untested(const ResultRow& base, const ResultRow& row) {
    stats::Comparison c;
    c.a = stats::describe(std::vector<double>{base.b_median});
    c.b = stats::describe(std::vector<double>{row.b_median});
    c.delta_pct = (row.b_median / base.b_median - 1) * 100;
    c.hl_delta_pct = c.delta_pct;
    c.p_value = c.p_adjusted = std::nan("");
    c.verdict = stats::Verdict::inconclusive;
    c.reason = "no raw samples: cannot test";
    c.warnings.push_back(
        std::isfinite(c.delta_pct)
            ? fmt::format("no raw samples: cannot test; stored medians {:.4g} -> {:.4g} {} "
                          "({:+.2f}%)",
                          base.b_median, row.b_median, row.unit, c.delta_pct)
            : std::string("no raw samples: cannot test; a stored median is missing"));
    return c;
}

// One row per primary key the two runs share, compared unpaired; rows with raw samples on both
// sides are tested per family (gated, informational), multiplicity-corrected within it as a
// run's analysis does, each at the threshold its run judged it by (a workload's own, or the
// run's) unless `one_threshold` (--threshold). Returns whether any row was tested.
bool add_compared_rows(const StoredRun& baseline, const StoredRun& candidate,
                       const stats::Options& options, bool one_threshold, report::Report& report) {
    std::map<std::string, const ResultRow*> base_rows;
    for (const ResultRow* row : baseline.rows) {
        base_rows[row->primary_key] = row;
    }
    std::array<std::vector<stats::UnpairedInput>, 2> inputs;
    std::array<std::vector<std::size_t>, 2> row_index;
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
        // (A stored row's direction was checked when results.csv was read.)
        out.direction = direction_from_string(row->direction).value_or(Direction::lower);
        out.gated = gated(candidate, *row);
        const auto base_series = baseline.b_series.find(key_of(*row));
        const auto cand_series = candidate.b_series.find(key_of(*row));
        if (base_series != baseline.b_series.end() && cand_series != candidate.b_series.end()) {
            out.a_values = base_series->second;
            out.b_values = cand_series->second;
            const std::size_t family = out.gated ? 0 : 1;
            stats::UnpairedInput input{out.a_values, out.b_values, out.direction, std::nullopt};
            if (!one_threshold) {
                input.threshold = row->threshold_pct / 100;
                out.threshold_pct = row->threshold_pct;
            }
            inputs.at(family).push_back(std::move(input));
            row_index.at(family).push_back(report.rows.size());
        } else {
            out.comparison = untested(*base->second, *row);
        }
        report.rows.push_back(std::move(out));
    }
    bool any_tested = false;
    for (std::size_t family = 0; family < 2; ++family) {
        const std::vector<stats::Comparison> comparisons =
            stats::compare_unpaired_all(inputs.at(family), options);
        for (std::size_t i = 0; i < comparisons.size(); ++i) {
            report.rows[row_index.at(family)[i]].comparison = comparisons[i];
            any_tested = any_tested || comparisons[i].interval != stats::IntervalMethod::none;
        }
    }
    for (report::Row& row : report.rows) {
        row.verdict = report::to_report(row.comparison.verdict);
    }
    return any_tested;
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
    if (std::find(ids.begin(), ids.end(), candidate_id) == ids.end()) {
        throw Error(ErrorKind::usage, fmt::format("--candidate {}: no such run in {}", candidate_id,
                                                  location.file.string()));
    }
    const StoredRun candidate = load_run(location, read.rows, candidate_id, warnings);
    const std::optional<StoredRun> baseline =
        find_baseline(location, read.rows, ids, candidate, options.baseline, warnings);
    if (!baseline) {
        throw Error(ErrorKind::usage,
                    fmt::format("--baseline {}: no earlier run in {} matches", options.baseline,
                                location.file.string()),
                    "give a run id, a ref or commit that was a B, or latest-pass (the newest "
                    "earlier run whose gate passed)");
    }

    stats::Options stats_options;
    stats_options.threshold = options.threshold ? threshold_from_flag(*options.threshold)
                                                : candidate.rows.front()->threshold_pct / 100;
    stats_options.multiplicity = stats::Multiplicity::holm;
    report::Report report = compare_report(*baseline, candidate, stats_options);
    for (const StoredRun* run : std::initializer_list<const StoredRun*>{&*baseline, &candidate}) {
        if (!run->has_samples) {
            warnings.push_back(fmt::format(
                "run {} has no samples.jsonl{}: only its stored medians are available, so its "
                "rows are compared by the delta of medians and are inconclusive (no raw samples: "
                "cannot test)",
                run->id, location.state_dir ? "" : " (not inside the repository that ran it)"));
        }
    }
    warnings.push_back("unpaired comparison of two stored runs: drift between them is not "
                       "cancelled as in a paired run");
    const bool any_tested = add_compared_rows(*baseline, candidate, stats_options,
                                              options.threshold.has_value(), report);
    if (report.rows.empty()) {
        throw Error(ErrorKind::usage,
                    fmt::format("runs {} and {} share no primary key", baseline->id, candidate.id));
    }
    report.interval_note = report::unpaired_interval_note(any_tested, stats_options.confidence);
    report.warnings = std::move(warnings);
    report.rounds = report.rows.front().b_values.size();
    std::fprintf(stdout, "compare (unpaired): baseline run %s vs candidate run %s\n",
                 baseline->id.c_str(), candidate.id.c_str());
    return conclude(report, options.outputs, options.strict, RunDir());
}

} // namespace abtool
