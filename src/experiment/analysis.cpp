#include "src/experiment/analysis.hpp"

#include "src/results/primary_key.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <numeric>
#include <set>
#include <tuple>
#include <variant>

namespace abtool {

namespace {

using Key = std::tuple<std::string, std::string, std::string>; // workload, case, metric

struct Series {
    // round -> rep -> the values that run reported
    std::map<std::size_t, std::map<std::size_t, std::vector<double>>> a, b;
    std::string unit;
    runners::Direction direction = runners::Direction::lower;
    runners::Gate gate = runners::Gate::no;
};

// B's typical value of a metric over the measured rounds.
std::optional<double> b_median(const report::Row& row) {
    if (row.b_values.empty()) {
        return std::nullopt;
    }
    return stats::median(row.b_values);
}

// Every value of `metric` B's measured runs of `workload` reported, paired with A's or not.
std::vector<double> b_all(const std::map<Key, Series>& grouped, const std::string& workload,
                          const std::string& metric) {
    std::vector<double> all;
    const auto it = grouped.find({workload, "", metric});
    if (it != grouped.end()) {
        for (const auto& [round, runs] : it->second.b) {
            for (const auto& [rep, values] : runs) {
                all.insert(all.end(), values.begin(), values.end());
            }
        }
    }
    return all;
}

report::Row* row_of(std::vector<report::Row>& rows, const std::string& workload,
                    const std::string& metric) {
    for (report::Row& row : rows) {
        if (row.workload == workload && row.metric == metric) {
            return &row;
        }
    }
    return nullptr;
}

// error_rate_max: failed units (publish: messages, stream: sessions) over every measured run of
// B. A failed run (the server crashed, nothing answered, the load hit its timeout) reports no
// samples, so it counts as all its units failed: a server that crashes in 19 of 20 runs must not
// pass on the one run that survived. (A stream soak has no session count: a failed run counts as
// many sessions as B's complete runs had on average.)
void check_error_rate(const WorkloadConfig& workload, const std::map<Key, Series>& grouped,
                      int failed_runs_b, std::vector<report::Row>& rows,
                      std::vector<std::string>& warnings) {
    const std::string& name = workload.workload.name;
    report::Row* errors = row_of(rows, name, "errors");
    const auto* publish = std::get_if<runners::PublishWorkload>(&workload.workload.spec);
    const auto* stream = std::get_if<runners::StreamWorkload>(&workload.workload.spec);
    if (errors == nullptr || (publish == nullptr && stream == nullptr)) {
        warnings.push_back(fmt::format(
            "workload '{}': SLO error_rate_max not checked: no errors/success samples", name));
        return;
    }
    const auto sum = [&](const std::string& metric) {
        const std::vector<double> all = b_all(grouped, name, metric);
        return std::accumulate(all.begin(), all.end(), 0.0);
    };
    std::size_t units = publish != nullptr ? publish->messages() : stream->total_sessions();
    if (stream != nullptr && stream->duration) {
        const double runs = static_cast<double>(b_all(grouped, name, "errors").size());
        const double mean = runs > 0 ? (sum("errors") + sum("sessions_ok")) / runs : 1;
        units = static_cast<std::size_t>(std::max(1.0, std::round(mean)));
    }
    const double failed =
        sum("errors") + static_cast<double>(failed_runs_b) * static_cast<double>(units);
    const double total = failed + sum(publish != nullptr ? "success" : "sessions_ok");
    const double rate = total > 0 ? failed / total : 0;
    if (rate > *workload.slo.error_rate_max) {
        errors->verdict = report::Verdict::slo_violated;
        errors->slo = fmt::format("error_rate {:.4g} > {:.4g}", rate, *workload.slo.error_rate_max);
        if (failed_runs_b > 0) {
            *errors->slo += fmt::format(" ({} failed run(s) on B, {} {} each)", failed_runs_b,
                                        units, publish != nullptr ? "messages" : "sessions");
        }
    }
}

// loss_max: the most chunks one run of B lost, whichever run: a loss is never a typical value
// to take the median of (zero tolerance is the default).
void check_loss(const WorkloadConfig& workload, const std::map<Key, Series>& grouped,
                std::vector<report::Row>& rows, std::vector<std::string>& warnings) {
    const std::string& name = workload.workload.name;
    report::Row* lost = row_of(rows, name, "chunks_lost");
    const std::vector<double> all = b_all(grouped, name, "chunks_lost");
    if (lost == nullptr || all.empty()) {
        warnings.push_back(fmt::format(
            "workload '{}': SLO loss_max not checked: no chunks_lost samples on B", name));
        return;
    }
    const double worst = *std::max_element(all.begin(), all.end());
    const double in_all = std::accumulate(all.begin(), all.end(), 0.0);
    if (worst > *workload.slo.loss_max) {
        lost->verdict = report::Verdict::slo_violated;
        lost->slo = fmt::format("chunks_lost {:.4g} > loss_max {:.4g} in a run of B ({:.4g} lost "
                                "over its {} measured run(s))",
                                worst, *workload.slo.loss_max, in_all, all.size());
    }
}

// `grouped` holds every measured sample; `failed_runs_b` counts B's measured runs of this
// workload that failed.
void apply_slo(const WorkloadConfig& workload, const std::map<Key, Series>& grouped,
               int failed_runs_b, std::vector<report::Row>& rows,
               std::vector<std::string>& warnings) {
    const SloConfig& slo = workload.slo;
    if (slo.empty()) {
        return;
    }
    // Limits on B's median over the measured rounds.
    const auto check = [&](const std::string& limit_name, const std::string& metric,
                           std::optional<double> limit, bool is_max) {
        if (!limit) {
            return;
        }
        report::Row* row = row_of(rows, workload.workload.name, metric);
        if (row == nullptr || !b_median(*row)) {
            warnings.push_back(fmt::format("workload '{}': SLO {} not checked: no {} samples on B",
                                           workload.workload.name, limit_name, metric));
            return;
        }
        const double value = *b_median(*row);
        if (is_max ? value > *limit : value < *limit) {
            row->verdict = report::Verdict::slo_violated;
            row->slo =
                fmt::format("{} {:.4g} {} {:.4g}", limit_name, value, is_max ? ">" : "<", *limit);
        }
    };
    check("p99_ms", "latency_p99_ms", slo.p99_ms, true);
    check("p95_ms", "latency_p95_ms", slo.p95_ms, true);
    check("throughput_rps_min", "throughput_rps", slo.throughput_rps_min, false);
    check("first_chunk_p95_ms", "first_chunk_p95_ms", slo.first_chunk_p95_ms, true);
    check("overhead_ms_max", "overhead_ms", slo.overhead_ms_max, true);
    check("jitter_p95_ms", "jitter_p95_ms", slo.jitter_p95_ms, true);
    check("e2e_p95_ms", "e2e_p95_ms", slo.e2e_p95_ms, true);
    check("rss_growth_kb_per_min_max", "rss_growth_kb_per_min", slo.rss_growth_kb_per_min_max,
          true);
    check("latency_p99_drift_pct_max", "latency_p99_drift_pct", slo.latency_p99_drift_pct_max,
          true);
    if (slo.loss_max) {
        check_loss(workload, grouped, rows, warnings);
    }
    if (slo.error_rate_max) {
        check_error_rate(workload, grouped, failed_runs_b, rows, warnings);
    }
}

// Duet: how far apart the two sides' children started, over every measured launch.
void add_launch_skew(const std::vector<SampleRecord>& records, std::size_t rounds_done,
                     report::DesignReport& design) {
    std::map<std::pair<std::size_t, std::size_t>, std::pair<std::int64_t, std::int64_t>> starts;
    for (const SampleRecord& record : records) {
        if (record.pilot || record.round == 0 || record.round > rounds_done ||
            record.workload != design.workload || record.start_unix_ns == 0) {
            continue;
        }
        auto& [a, b] = starts[{record.round, record.rep}];
        (record.side == Side::a ? a : b) = record.start_unix_ns;
    }
    std::vector<double> skew_us;
    for (const auto& [launch, start] : starts) {
        if (start.first != 0 && start.second != 0) {
            skew_us.push_back(static_cast<double>(std::llabs(start.first - start.second)) / 1e3);
        }
    }
    if (!skew_us.empty()) {
        design.launch_skew_median_us = stats::median(skew_us);
        design.launch_skew_max_us = *std::max_element(skew_us.begin(), skew_us.end());
    }
}

// A row's per-round values as measured, before pairing: the finite ones of each side and how
// many were NaN or infinite.
struct SideValues {
    std::vector<double> a, b;
    std::size_t nonfinite_a = 0, nonfinite_b = 0;
    static void count(bool ran, double value, std::vector<double>& finite, std::size_t& nonfinite) {
        if (!ran) {
            return;
        }
        if (std::isfinite(value)) {
            finite.push_back(value);
        } else {
            ++nonfinite;
        }
    }
};

std::string join(const std::set<std::string>& names) {
    std::string joined;
    for (const std::string& name : names) {
        joined += (joined.empty() ? "" : ", ") + name;
    }
    return joined.empty() ? "none" : joined;
}

// The gate never passes on nothing: every gated metric the config names must be in the samples
// with at least one valid pair, and some gated row must have been compared (or the gate failed
// on evidence already: a regression, an SLO violation). What fails goes to
// report.unmeasured, one line each naming the workload, the metric and what was seen.
void check_gated_evidence(const Plan& plan, const Config& config,
                          const std::vector<SampleRecord>& records,
                          const std::map<std::size_t, SideValues>& seen_values,
                          std::vector<report::Row>& rows, report::Report& report) {
    for (const WorkloadConfig& workload : config.workloads) {
        const std::string& name = workload.workload.name;
        if (std::find(plan.workloads.begin(), plan.workloads.end(), name) == plan.workloads.end()) {
            continue;
        }
        std::set<std::string> carried; // every metric the workload's output carried
        for (const SampleRecord& record : records) {
            if (record.workload == name && !record.error) {
                carried.insert(record.metric);
            }
        }
        std::set<std::string> gated_rows;
        for (std::size_t i = 0; i < rows.size(); ++i) {
            report::Row& row = rows[i];
            if (row.workload != name || !row.gated) {
                continue;
            }
            gated_rows.insert(row.metric);
            if (!row.a_values.empty()) {
                continue;
            }
            // No valid pair: say which side has nothing, and show the side that has values.
            const SideValues& seen = seen_values.at(i);
            row.comparison.a = stats::describe(seen.a);
            row.comparison.b = stats::describe(seen.b);
            const auto side_says = [](const char* side, const std::vector<double>& finite,
                                      std::size_t nonfinite) {
                return finite.empty()
                           ? fmt::format("{} has none ({} NaN or infinite)", side, nonfinite)
                           : fmt::format("{} has {}", side, finite.size());
            };
            row.comparison.reason =
                fmt::format("no comparable value: {}, {}", side_says("A", seen.a, seen.nonfinite_a),
                            side_says("B", seen.b, seen.nonfinite_b));
            report.unmeasured.push_back(
                fmt::format("workload '{}'{}: gated metric '{}' has {}", name,
                            row.case_name.empty() ? "" : fmt::format(" case '{}'", row.case_name),
                            row.metric, row.comparison.reason));
        }
        for (const std::string& metric : runners::gated_metrics(workload.workload)) {
            if (gated_rows.count(metric) == 0) {
                report.unmeasured.push_back(fmt::format(
                    "workload '{}': gated metric '{}' is in no sample; the output carried: {}",
                    name, metric, join(carried)));
            }
        }
        if (gated_rows.empty() && runners::gated_metrics(workload.workload).empty()) {
            report.unmeasured.push_back(
                fmt::format("workload '{}': no gated metric in any sample; the output carried: {}",
                            name, join(carried)));
        }
    }
    if (!report.unmeasured.empty()) {
        return;
    }
    // Thin evidence: every gated row has fewer valid pairs than planned (failed runs took the
    // rest). A gate that failed on evidence (a regression, an SLO violation) stands as it is.
    std::vector<std::string> why;
    for (const report::Row& row : rows) {
        if (report::compared(row, report) || report::fails_gate(row, report)) {
            return;
        }
        if (row.gated) {
            why.push_back(
                fmt::format("'{}'{} {}: {} pair(s), failed runs A {} B {}{}", row.workload,
                            row.case_name.empty() ? "" : " " + row.case_name, row.metric,
                            row.comparison.n, row.errors_a, row.errors_b,
                            row.comparison.reason.empty() ? "" : ", " + row.comparison.reason));
        }
    }
    std::string joined;
    for (const std::string& line : why) {
        joined += (joined.empty() ? "" : "; ") + line;
    }
    report.unmeasured.push_back(
        fmt::format("no gated metric was compared over at least {} valid pairs ({})",
                    report.min_pairs, joined.empty() ? "no gated rows" : joined));
}

// Every measured run's outcome, grouped: the samples by workload, case and metric, and the failed
// runs by workload and side. Warm-ups, pilots and a round cut short by an interrupt are left out.
struct Measured {
    std::map<Key, Series> series;
    struct Failures {
        int count = 0;
        std::string last; // the last failure's message, shown in the warnings
    };
    std::map<std::pair<std::string, Side>, Failures> failures;

    int failed_runs(const std::string& workload, Side side) const {
        const auto it = failures.find({workload, side});
        return it == failures.end() ? 0 : it->second.count;
    }
};

Measured group_measured(const std::vector<SampleRecord>& records, std::size_t rounds_done) {
    Measured measured;
    for (const SampleRecord& record : records) {
        if (record.round == 0 || record.round > rounds_done || record.pilot) {
            continue;
        }
        if (record.error) {
            Measured::Failures& failures = measured.failures[{record.workload, record.side}];
            ++failures.count;
            failures.last = *record.error;
            continue;
        }
        Series& series = measured.series[{record.workload, record.case_name, record.metric}];
        (record.side == Side::a ? series.a : series.b)[record.round][record.rep].push_back(
            record.value);
        series.unit = record.unit;
        series.direction = record.direction;
        series.gate = record.gate;
    }
    return measured;
}

// The measured soak runs' windows, one SoakRun per run in (workload, round, side, rep) order.
std::vector<report::SoakRun> soak_runs(const std::vector<SampleRecord>& windows,
                                       std::size_t rounds_done) {
    std::map<std::tuple<std::string, std::size_t, Side, std::size_t>, report::SoakRun> runs;
    for (const SampleRecord& record : windows) {
        if (!record.window || record.round == 0 || record.round > rounds_done || record.pilot) {
            continue;
        }
        report::SoakRun& run = runs[{record.workload, record.round, record.side, record.rep}];
        run.workload = record.workload;
        run.side = record.side == Side::a ? 'A' : 'B';
        run.round = record.round;
        run.rep = record.rep;
        run.windows.push_back(*record.window);
    }
    std::vector<report::SoakRun> soak;
    for (auto& [key, run] : runs) {
        soak.push_back(std::move(run));
    }
    return soak;
}

// What a report says of the run itself, before any row.
report::Report report_of(const Plan& plan, const AnalysisSettings& settings,
                         std::size_t rounds_done) {
    report::Report report;
    report.run_id = plan.run_id;
    report.timestamp = plan.timestamp;
    report.ref_a = plan.a.name;
    report.commit_a = plan.a.commit;
    report.ref_b = plan.b.name;
    report.commit_b = plan.b.commit;
    report.rounds = rounds_done;
    report.seed = plan.seed;
    report.threshold_pct = settings.threshold * 100;
    report.confidence = settings.confidence;
    report.host = plan.host;
    report.target_id = plan.target_id;
    report.abtool_version = plan.abtool_version;
    report.config_text = plan.config_text;
    report.warnings = plan.warnings;
    report.multiplicity = report::multiplicity_name(settings.multiplicity);
    return report;
}

// A row's name, kind, direction, gate and primary key, from its series and its workload's config
// (null for a workload the config no longer has).
report::Row row_of(const Key& key, const Series& series, const WorkloadConfig* config,
                   const Measured& measured, const std::string& target_id) {
    const auto& [workload, case_name, metric] = key;
    report::Row row;
    row.workload = workload;
    row.case_name = case_name;
    row.metric = metric;
    row.unit = series.unit;
    row.direction = series.direction;
    row.gated = series.gate == runners::Gate::yes;
    row.kind = config != nullptr ? std::string(config->kind()) : std::string();
    BenchmarkIdentity identity;
    identity.target_id = target_id;
    identity.workload = workload;
    identity.kind = row.kind;
    identity.parameters =
        config != nullptr ? identity_parameters(*config) : nlohmann::json::object();
    identity.case_name = case_name;
    identity.metric = metric;
    row.primary_key = primary_key(identity);
    row.errors_a = measured.failed_runs(workload, Side::a);
    row.errors_b = measured.failed_runs(workload, Side::b);
    return row;
}

// The position a round's schedule gave B that can shift its delta by itself (stats::PairedInput's
// `balance`): the CPU in a duet of an odd number of runs per side (an even number takes both
// CPUs in turn within the round), else whether B ran second. Unset: nothing to balance.
std::optional<bool> balance_of(const PlannedRound& round, const WorkloadDesign& design) {
    if (design.schedule == Schedule::duet) {
        if (design.repeat % 2 == 0) {
            return std::nullopt;
        }
        return round.swap_cpus;
    }
    return round.order == stats::Order::ab;
}

// A series as pairs, round by round in the plan's order: each side's runs of the round summarised
// to one value, a pair only where both are finite. `seen` counts what each side had.
stats::PairedInput pair_series(const Series& series, const Plan& plan, std::size_t rounds_done,
                               const WorkloadDesign& design, Summary summary,
                               stats::Direction direction, SideValues& seen) {
    const auto value_of = [&](const std::map<std::size_t, std::vector<double>>& runs) {
        std::vector<std::vector<double>> values;
        for (const auto& [rep, run] : runs) {
            values.push_back(run);
        }
        return round_value(values, summary);
    };
    stats::PairedInput input;
    input.direction = direction;
    input.balance_name = design.schedule == Schedule::duet ? "CPU" : "order";
    bool balanced = true;
    for (const PlannedRound& round : plan.schedule) {
        if (round.index > rounds_done) {
            break;
        }
        auto a = series.a.find(round.index);
        auto b = series.b.find(round.index);
        const double a_value = a != series.a.end() ? value_of(a->second) : std::nan("");
        const double b_value = b != series.b.end() ? value_of(b->second) : std::nan("");
        seen.count(a != series.a.end(), a_value, seen.a, seen.nonfinite_a);
        seen.count(b != series.b.end(), b_value, seen.b, seen.nonfinite_b);
        // A failed run on one side, or a value that is NaN or infinite: no pair this round.
        if (!std::isfinite(a_value) || !std::isfinite(b_value)) {
            continue;
        }
        input.a.push_back(a_value);
        input.b.push_back(b_value);
        input.order.push_back(round.order);
        const std::optional<bool> balance = balance_of(round, design);
        balanced = balanced && balance.has_value();
        input.balance.push_back(balance.value_or(false));
    }
    if (!balanced) {
        input.balance.clear();
    }
    return input;
}

// The rows and their paired inputs, in two families: gated and informational metrics are
// corrected for multiplicity separately, so that the many side metrics (user time, RSS, bytes)
// do not dilute the power of the gated ones.
struct RowInputs {
    std::vector<report::Row> rows;
    std::map<std::size_t, SideValues> seen_values; // by row index
    std::array<std::vector<stats::PairedInput>, 2> inputs;
    std::array<std::vector<std::size_t>, 2> row_index;
};

RowInputs make_rows(const Plan& plan, const Config& config, const AnalysisSettings& settings,
                    const Measured& measured, std::size_t rounds_done) {
    RowInputs made;
    for (const auto& [key, series] : measured.series) {
        const std::string& workload = std::get<0>(key);
        report::Row row = row_of(key, series, config.workload(workload), measured, plan.target_id);
        const WorkloadDesign design = plan.design_of(workload);
        const Summary summary = summary_for(settings.summary ? settings.summary : design.summary,
                                            series.unit, series.direction);
        stats::PairedInput input = pair_series(series, plan, rounds_done, design, summary,
                                               row.direction, made.seen_values[made.rows.size()]);
        if (const WorkloadConfig* workload_config = config.workload(workload)) {
            input.threshold = workload_config->threshold;
            if (input.threshold) {
                row.threshold_pct = *input.threshold * 100;
            }
        }
        row.a_values = input.a;
        row.b_values = input.b;
        row.order = input.order;
        const std::size_t family = row.gated ? 0 : 1;
        made.inputs.at(family).push_back(std::move(input));
        made.row_index.at(family).push_back(made.rows.size());
        made.rows.push_back(std::move(row));
    }
    return made;
}

// Compares every row, family by family; returns the interval methods the verdicts used.
std::set<std::string> compare_rows(RowInputs& made, const stats::Options& options) {
    std::set<std::string> methods;
    for (std::size_t family = 0; family < 2; ++family) {
        const std::vector<stats::Comparison> comparisons =
            stats::compare_paired_all(made.inputs.at(family), options);
        for (std::size_t i = 0; i < comparisons.size(); ++i) {
            report::Row& row = made.rows[made.row_index.at(family)[i]];
            row.comparison = comparisons[i];
            row.verdict = report::to_report(comparisons[i].verdict);
            if (comparisons[i].interval != stats::IntervalMethod::none) {
                methods.insert(stats::to_string(comparisons[i].interval));
            }
        }
    }
    return methods;
}

// Runs that fail on B but not on A are a finding, yet DESIGN.md's exit 1 is for regressions and
// SLO violations only: with an error_rate_max they are counted into it (apply_slo); without one
// they lead the warnings, worded so that nobody mistakes the pass for a clean one.
void add_failure_warnings(const Measured& measured, const Plan& plan, const Config& config,
                          std::size_t rounds_done, std::vector<std::string>& warnings) {
    std::vector<std::string> b_failures;
    for (const auto& [key, failures] : measured.failures) {
        const auto& [name, side] = key;
        // Why, on one line and short: the full message (stderr tail) is in samples.jsonl.
        std::string why = failures.last;
        std::replace_if(
            why.begin(), why.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
        if (why.size() > 160) {
            why = why.substr(0, 157) + "...";
        }
        const WorkloadConfig* workload = config.workload(name);
        const bool counted_by_slo = workload != nullptr && workload->slo.error_rate_max.has_value();
        const int failed_a = measured.failed_runs(name, Side::a);
        if (side == Side::b && failures.count > failed_a && !counted_by_slo) {
            b_failures.push_back(fmt::format(
                "B FAILED {} of {} measured run(s) of workload '{}' (A failed {}); a round "
                "without a pair leaves its metrics short of the planned rounds{}: their errors "
                "are in samples.jsonl; the last: {}",
                failures.count, rounds_done * plan.design_of(name).repeat, name, failed_a,
                workload != nullptr &&
                        (workload->kind() == "publish" || workload->kind() == "stream")
                    ? " ([workload.slo] error_rate_max counts the failures themselves)"
                    : "",
                why));
        } else {
            warnings.push_back(fmt::format("workload '{}' failed {} measured run(s) on {}; the "
                                           "last: {}",
                                           name, failures.count, side == Side::a ? "A" : "B", why));
        }
    }
    warnings.insert(warnings.begin(), b_failures.begin(), b_failures.end());
}

// A workload counted under cachegrind: its measured runs' median wall time over that of its native
// runs (Scheduler::run_native_reference); unset without both.
std::optional<double> slowdown_under_cachegrind(const std::vector<SampleRecord>& records,
                                                const std::string& workload,
                                                std::size_t rounds_done) {
    std::vector<double> native;
    std::vector<double> counted;
    for (const SampleRecord& record : records) {
        if (record.error || record.workload != workload || record.metric != "wall_ms") {
            continue;
        }
        if (record.pilot == std::optional<std::string>(k_native_pilot)) {
            native.push_back(record.value);
        } else if (!record.pilot && record.round > 0 && record.round <= rounds_done) {
            counted.push_back(record.value);
        }
    }
    if (native.empty() || counted.empty() || stats::median(native) <= 0) {
        return std::nullopt;
    }
    return stats::median(counted) / stats::median(native);
}

// Each workload's design as it ran: schedule, repeat, summary, who chose it and why, and for a
// duet how far apart the two sides started.
std::vector<report::DesignReport> design_reports(const Plan& plan, const AnalysisSettings& settings,
                                                 const std::vector<SampleRecord>& records,
                                                 std::size_t rounds_done) {
    std::vector<report::DesignReport> designs;
    for (const std::string& name : plan.workloads) {
        const WorkloadDesign design = plan.design_of(name);
        report::DesignReport entry;
        entry.workload = name;
        entry.schedule = to_string(design.schedule);
        entry.repeat = design.repeat;
        entry.summary = settings.summary    ? to_string(*settings.summary)
                        : design.summary    ? to_string(*design.summary)
                        : design.repeat > 1 ? "min for durations, else median"
                                            : "";
        entry.chosen_by = design.chosen_by;
        entry.reason = design.reason;
        entry.counter_backend = design.counter_backend;
        entry.counter_reason = design.counter_reason;
        if (design.counter_backend == runners::to_string(runners::CounterBackend::cachegrind)) {
            entry.counter_slowdown = slowdown_under_cachegrind(records, name, rounds_done);
        }
        entry.evidence = design.evidence;
        if (design.schedule == Schedule::duet) {
            add_launch_skew(records, rounds_done, entry);
        }
        designs.push_back(std::move(entry));
    }
    return designs;
}

} // namespace

Summary summary_for(std::optional<Summary> configured, const std::string& unit,
                    runners::Direction direction) {
    if (configured) {
        return *configured;
    }
    const bool duration =
        unit == "ns" || unit == "us" || unit == "ms" || unit == "s" || unit == "µs";
    return duration && direction == runners::Direction::lower ? Summary::min : Summary::median;
}

double round_value(const std::vector<std::vector<double>>& runs, Summary summary) {
    std::vector<double> per_run;
    per_run.reserve(runs.size());
    for (const std::vector<double>& values : runs) {
        per_run.push_back(stats::median(values));
    }
    if (summary == Summary::min) {
        // NaN compares false: a NaN run must not hide behind a smaller one, nor win.
        if (std::any_of(per_run.begin(), per_run.end(), [](double v) { return std::isnan(v); })) {
            return std::nan("");
        }
        return per_run.empty() ? std::nan("") : *std::min_element(per_run.begin(), per_run.end());
    }
    return stats::median(per_run);
}

std::size_t completed_rounds(const Plan& plan, const std::vector<SampleRecord>& records) {
    std::map<std::size_t, std::set<std::pair<std::string, Side>>> seen;
    for (const SampleRecord& record : records) {
        if (record.round > 0 && !record.pilot) {
            seen[record.round].insert({record.workload, record.side});
        }
    }
    std::size_t done = 0;
    for (const PlannedRound& round : plan.schedule) {
        auto it = seen.find(round.index);
        if (it == seen.end() || it->second.size() < 2 * round.workloads.size()) {
            break;
        }
        done = round.index;
    }
    return done;
}

// The lowest and highest value a side (or both, `side` unset) had over the measured rounds.
std::pair<double, double> range_of(const Series& series, std::optional<Side> side = std::nullopt) {
    double low = INFINITY;
    double high = -INFINITY;
    for (const Side each : {Side::a, Side::b}) {
        if (side && *side != each) {
            continue;
        }
        for (const auto& [round, reps] : each == Side::a ? series.a : series.b) {
            for (const auto& [rep, values] : reps) {
                for (const double value : values) {
                    low = std::min(low, value);
                    high = std::max(high, value);
                }
            }
        }
    }
    return {low, high};
}

// A count is only as good as it is steady: say so when a workload's counts of the same code moved
// between runs by more than k_count_tolerance (one side's runs measure the same code, an A/A), and
// when a Google Benchmark program's iterations moved (it picks them from elapsed time, so its
// whole-process counts follow the machine's speed).
constexpr double k_count_tolerance = 0.001;

void add_counting_warnings(const Config& config, const Measured& measured,
                           std::vector<std::string>& warnings) {
    for (const WorkloadConfig& workload : config.workloads) {
        const runners::Counting* counting = runners::counting_of(workload.workload);
        if (counting == nullptr || !counting->active()) {
            continue;
        }
        const std::string& name = workload.workload.name;
        for (const runners::Counter counter : counting->counters) {
            const auto series = measured.series.find({name, "", std::string(to_string(counter))});
            for (const Side side : {Side::a, Side::b}) {
                if (series == measured.series.end()) {
                    break;
                }
                const auto [low, high] = range_of(series->second, side);
                if (low > 0 && high / low - 1 > k_count_tolerance) {
                    warnings.push_back(fmt::format(
                        "workload '{}': {} moved by {:.2f}% between runs of the same code on {} "
                        "({:.0f} to {:.0f}): the program's work is not deterministic (timing-"
                        "dependent loops or spin-waits, threads racing, its input or environment "
                        "changing), so a small change of the count cannot be told from that",
                        name, to_string(counter), (high / low - 1) * 100,
                        side == Side::a ? "A" : "B", low, high));
                    break;
                }
            }
        }
        const auto iterations = measured.series.find({name, "", "iterations"});
        if (iterations == measured.series.end()) {
            continue;
        }
        if (const auto [low, high] = range_of(iterations->second); low < high) {
            warnings.push_back(fmt::format(
                "workload '{}' counts a Google Benchmark program whose iterations varied between "
                "runs ({:.0f} to {:.0f}): it picks them from elapsed time, so its counts follow "
                "the machine's speed, not the code; fix the iterations (->Iterations(n)) or gate "
                "a per-iteration counter the program reports (--benchmark_perf_counters)",
                name, low, high));
        }
    }
}

AnalysisSettings settings_for(const Plan& plan, const Config& config) {
    AnalysisSettings settings;
    settings.threshold = plan.threshold;
    settings.confidence = plan.confidence;
    settings.multiplicity = config.run.multiplicity;
    if (plan.max_rounds > plan.rounds) {
        settings.looks = stats::planned_looks({plan.rounds, plan.max_rounds});
    }
    return settings;
}

report::Report analyze_records(const Plan& plan, const Config& config,
                               const std::vector<SampleRecord>& records,
                               const AnalysisSettings& settings,
                               const std::vector<SampleRecord>& windows) {
    const std::size_t rounds_done = completed_rounds(plan, records);
    const Measured measured = group_measured(records, rounds_done);
    report::Report report = report_of(plan, settings, rounds_done);
    RowInputs made = make_rows(plan, config, settings, measured, rounds_done);

    stats::Options options;
    options.threshold = settings.threshold;
    options.confidence = settings.confidence;
    options.seed = plan.seed;
    options.looks = settings.looks;
    options.multiplicity = settings.multiplicity;
    report.interval_note =
        report::paired_interval_note(compare_rows(made, options), settings.confidence);
    for (const WorkloadConfig& workload : config.workloads) {
        apply_slo(workload, measured.series, measured.failed_runs(workload.workload.name, Side::b),
                  made.rows, report.warnings);
    }
    // The planned rounds (the plan's, after honest planning), or more when a stricter confidence
    // asks for more: a gated row with fewer valid pairs (failed runs, NaN, a partial run) is not
    // the evidence the gate promised.
    report.min_pairs = std::max(plan.rounds, stats::rounds_for_significance(1, options));
    check_gated_evidence(plan, config, records, made.seen_values, made.rows, report);
    add_failure_warnings(measured, plan, config, rounds_done, report.warnings);
    add_counting_warnings(config, measured, report.warnings);
    report.designs = design_reports(plan, settings, records, rounds_done);
    report.rows = std::move(made.rows);
    report.soak = soak_runs(windows, rounds_done);
    return report;
}

} // namespace abtool
