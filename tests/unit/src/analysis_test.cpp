// analyze_records on synthetic records: the run's [run] settings reach the statistics (the
// multiplicity correction: Holm by default, Benjamini-Hochberg when the config asks for "bh"),
// pairing by round, failed runs, thin evidence and the SLO limits on B.
#include "src/core/config.hpp"
#include "src/experiment/analysis.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace abtool {
namespace {

// Four gated cases of one jsonl workload over 12 rounds; case k's B is slower by k percent with
// a little seeded jitter, so the raw p-values differ and the two corrections disagree.
report::Report analysed(const std::string& run_section) {
    const std::string text = run_section + "\n[[workload]]\nname=\"h\"\nkind=\"hotpath\"\n"
                                           "command=[\"./b\"]\nformat=\"jsonl\"\n";
    const Config config = parse_config(text, "/repo/abtool.toml");
    Plan plan;
    plan.run_id = "run";
    plan.seed = 3;
    plan.config_text = text;
    const std::size_t rounds = 12;
    plan.schedule = make_schedule(rounds, {"h"}, plan.seed);
    std::vector<SampleRecord> records;
    std::uint64_t state = 12345;
    const auto jitter = [&state] { // a small LCG: deterministic, no library involved
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        return static_cast<double>(state >> 40) / static_cast<double>(1ULL << 24) - 0.5;
    };
    for (std::size_t round = 1; round <= rounds; ++round) {
        for (int k = 0; k < 4; ++k) {
            for (Side side : {Side::a, Side::b}) {
                SampleRecord record;
                record.round = round;
                record.side = side;
                record.workload = "h";
                record.case_name = "case" + std::to_string(k);
                record.metric = "us";
                record.unit = "us";
                record.value = 100 * (1 + 0.03 * jitter()) * (side == Side::b ? 1 + 0.01 * k : 1);
                record.gate = runners::Gate::yes;
                records.push_back(record);
            }
        }
    }
    AnalysisSettings settings;
    settings.multiplicity = config.run.multiplicity;
    return analyze_records(plan, config, records, settings, {});
}

// A plan of `rounds` alternate rounds of `workloads` under the config `text`.
Plan plan_of(const std::string& text, std::size_t rounds,
             const std::vector<std::string>& workloads) {
    Plan plan;
    plan.run_id = "run";
    plan.seed = 5;
    plan.config_text = text;
    plan.workloads = workloads;
    plan.rounds = rounds;
    plan.max_rounds = rounds;
    plan.schedule = make_schedule(rounds, workloads, plan.seed);
    return plan;
}

SampleRecord sample(std::size_t round, Side side, const std::string& workload,
                    const std::string& metric, double value, const std::string& unit = "ms") {
    SampleRecord record;
    record.round = round;
    record.side = side;
    record.workload = workload;
    record.metric = metric;
    record.value = value;
    record.unit = unit;
    record.gate = runners::Gate::yes;
    return record;
}

// A run that reported an error instead of samples.
SampleRecord failure(std::size_t round, Side side, const std::string& workload,
                     const std::string& error) {
    SampleRecord record;
    record.round = round;
    record.side = side;
    record.workload = workload;
    record.error = error;
    return record;
}

const std::string k_jsonl_workload =
    "[[workload]]\nname=\"h\"\nkind=\"hotpath\"\ncommand=[\"./b\"]\nformat=\"jsonl\"\n";

const report::Row& only_row(const report::Report& report, const std::string& metric) {
    const auto it = std::find_if(report.rows.begin(), report.rows.end(),
                                 [&](const report::Row& row) { return row.metric == metric; });
    if (it == report.rows.end()) {
        throw std::runtime_error("no row " + metric);
    }
    return *it;
}

std::vector<double> adjusted(const report::Report& report) {
    std::vector<std::pair<std::string, double>> by_case;
    for (const report::Row& row : report.rows) {
        by_case.emplace_back(row.case_name, row.comparison.p_adjusted);
    }
    std::sort(by_case.begin(), by_case.end());
    std::vector<double> p;
    for (const auto& entry : by_case) {
        p.push_back(entry.second);
    }
    return p;
}

TEST(Analysis, Multiplicity_HolmByDefault_BenjaminiHochbergWhenConfigured) {
    const report::Report holm = analysed("");
    const report::Report bh = analysed("[run]\nmultiplicity = \"bh\"\n");
    ASSERT_EQ(holm.rows.size(), 4u);
    ASSERT_EQ(bh.rows.size(), 4u);
    EXPECT_EQ(holm.multiplicity, "Holm");
    EXPECT_EQ(bh.multiplicity, "Benjamini-Hochberg");
    // Same data, same raw p-values; BH never adjusts more than Holm, and here less for some case.
    const std::vector<double> p_holm = adjusted(holm);
    const std::vector<double> p_bh = adjusted(bh);
    bool some_smaller = false;
    for (std::size_t i = 0; i < p_holm.size(); ++i) {
        EXPECT_LE(p_bh[i], p_holm[i] + 1e-12) << "case" << i;
        some_smaller = some_smaller || p_bh[i] < p_holm[i] - 1e-9;
    }
    EXPECT_TRUE(some_smaller) << "the two corrections gave the same p-values: is the setting used?";
}

TEST(Analysis, Multiplicity_UnknownValue_IsAConfigError) {
    try {
        analysed("[run]\nmultiplicity = \"bonferroni\"\n");
        ADD_FAILURE() << "no error";
    } catch (const std::exception& error) {
        EXPECT_NE(std::string(error.what()).find(":2: [run] 'multiplicity'"), std::string::npos)
            << error.what();
    }
}

TEST(Analysis, RoundValue_MinOfTheRunsMedians_OrTheirMedian) {
    // Three runs of one side in one round; each reported repetitions, summarised by its median.
    const std::vector<std::vector<double>> runs{{10, 12, 11}, {30, 31, 29}, {9.5, 50, 9}};
    EXPECT_DOUBLE_EQ(round_value(runs, Summary::min), 9.5);
    EXPECT_DOUBLE_EQ(round_value(runs, Summary::median), 11);
    EXPECT_TRUE(std::isnan(round_value({{1}, {std::nan("")}}, Summary::min)))
        << "a NaN run must not be hidden by a smaller one";
}

TEST(Analysis, SummaryFor_MinForDurationsMedianOtherwise_ConfiguredWins) {
    EXPECT_EQ(summary_for(std::nullopt, "ms", runners::Direction::lower), Summary::min);
    EXPECT_EQ(summary_for(std::nullopt, "ns", runners::Direction::lower), Summary::min);
    EXPECT_EQ(summary_for(std::nullopt, "kB", runners::Direction::lower), Summary::median);
    EXPECT_EQ(summary_for(std::nullopt, "rps", runners::Direction::higher), Summary::median);
    EXPECT_EQ(summary_for(Summary::median, "ms", runners::Direction::lower), Summary::median);
}

TEST(Analysis, Repeats_EachSideRoundIsSummarised_PilotRecordsNeverCount) {
    const std::string text = "[[workload]]\nname=\"h\"\nkind=\"hotpath\"\ncommand=[\"./b\"]\n"
                             "format=\"jsonl\"\nrepeat=2\n";
    const Config config = parse_config(text, "/repo/abtool.toml");
    Plan plan;
    plan.seed = 1;
    plan.workloads = {"h"};
    plan.schedule = make_schedule(6, {"h"}, plan.seed);
    WorkloadDesign design;
    design.workload = "h";
    design.repeat = 2;
    plan.designs = {design};
    std::vector<SampleRecord> records;
    const auto add = [&](std::size_t round, Side side, std::size_t rep, double value,
                         std::optional<std::string> pilot = std::nullopt) {
        SampleRecord record;
        record.round = round;
        record.side = side;
        record.workload = "h";
        record.rep = rep;
        record.pilot = std::move(pilot);
        record.case_name = "c";
        record.metric = "t";
        record.unit = "ms";
        record.value = value;
        record.gate = runners::Gate::yes;
        records.push_back(record);
    };
    for (std::size_t round = 1; round <= 6; ++round) {
        // The second run of each side is slowed by a stutter; min keeps the clean one.
        add(round, Side::a, 0, 100);
        add(round, Side::a, 1, 100 + 40.0 * static_cast<double>(round % 3));
        add(round, Side::b, 0, 110 + 40.0 * static_cast<double>(round % 2));
        add(round, Side::b, 1, 110);
        add(round, Side::b, 0, 500, std::string("duet")); // a pilot's: never counted
    }
    AnalysisSettings settings;
    const report::Report report = analyze_records(plan, config, records, settings, {});
    ASSERT_EQ(report.rows.size(), 1u);
    EXPECT_EQ(report.rounds, 6u);
    EXPECT_EQ(report.rows[0].a_values, std::vector<double>(6, 100));
    EXPECT_EQ(report.rows[0].b_values, std::vector<double>(6, 110));
    settings.summary = Summary::median;
    const report::Report median = analyze_records(plan, config, records, settings, {});
    EXPECT_NE(median.rows[0].b_values, std::vector<double>(6, 110)) << "--summary median differs";
    ASSERT_EQ(report.designs.size(), 1u);
    EXPECT_EQ(report.designs[0].repeat, 2u);
}

// A and B pair by round, whatever order the records come in; a round whose B run failed has no
// pair (A's value of that round is left out too) and counts as B's failed run, which leads the
// warnings. 7 pairs of a clear +10% are below the 8 planned, but a regression stands as evidence.
TEST(Analysis, Pairing_ByRound_AFailedRunLeavesItsRoundUnpairedAndLeadsTheWarnings) {
    const Config config = parse_config(k_jsonl_workload, "/repo/abtool.toml");
    const Plan plan = plan_of(k_jsonl_workload, 8, {"h"});
    std::vector<SampleRecord> records;
    for (std::size_t round = 1; round <= 8; ++round) {
        const double a = 100 + static_cast<double>(round);
        records.push_back(sample(round, Side::a, "h", "t", a));
        records.push_back(round == 3 ? failure(round, Side::b, "h", "exit status 1\nstderr: boom")
                                     : sample(round, Side::b, "h", "t", a * 1.1));
    }
    std::reverse(records.begin(), records.end());
    const report::Report report = analyze_records(plan, config, records, AnalysisSettings{}, {});
    EXPECT_EQ(report.rounds, 8u) << "a failed run still completes its round";
    const report::Row& row = only_row(report, "t");
    EXPECT_EQ(row.comparison.n, 7u);
    ASSERT_EQ(row.a_values.size(), 7u);
    ASSERT_EQ(row.b_values.size(), 7u);
    EXPECT_EQ(std::count(row.a_values.begin(), row.a_values.end(), 103.0), 0)
        << "round 3 has no B: its A value is not paired";
    for (std::size_t i = 0; i < row.a_values.size(); ++i) {
        EXPECT_DOUBLE_EQ(row.b_values[i] / row.a_values[i], 1.1) << "pair " << i;
    }
    EXPECT_NEAR(row.comparison.delta_pct, 10, 1e-9);
    EXPECT_EQ(row.errors_a, 0);
    EXPECT_EQ(row.errors_b, 1);
    EXPECT_EQ(row.verdict, report::Verdict::regressed);
    EXPECT_TRUE(report.unmeasured.empty()) << report.unmeasured.front();
    ASSERT_FALSE(report.warnings.empty());
    EXPECT_EQ(report.warnings.front().rfind("B FAILED 1 of 8 measured run(s) of workload 'h' "
                                            "(A failed 0)",
                                            0),
              0u)
        << report.warnings.front();
    EXPECT_NE(report.warnings.front().find("the last: exit status 1 stderr: boom"),
              std::string::npos)
        << "the reason on one line: " << report.warnings.front();
}

// Failures on both sides alike are a plain warning per side, not B's finding; and an unchanged
// metric over fewer valid pairs than planned is not the evidence the gate promised (unmeasured:
// exit 3), where a regression on the same pairs would stand.
TEST(Analysis, FailedRunsOnBothSides_ThinEvidenceForAnUnchangedMetricIsUnmeasured) {
    const Config config = parse_config(k_jsonl_workload, "/repo/abtool.toml");
    const Plan plan = plan_of(k_jsonl_workload, 8, {"h"});
    std::vector<SampleRecord> records;
    for (std::size_t round = 1; round <= 8; ++round) {
        const double value = 100 + static_cast<double>(round % 3);
        records.push_back(round == 2 ? failure(round, Side::a, "h", "a broke")
                                     : sample(round, Side::a, "h", "t", value));
        records.push_back(round == 5 ? failure(round, Side::b, "h", "b broke")
                                     : sample(round, Side::b, "h", "t", value));
    }
    const report::Report report = analyze_records(plan, config, records, AnalysisSettings{}, {});
    const report::Row& row = only_row(report, "t");
    EXPECT_EQ(row.comparison.n, 6u);
    EXPECT_EQ(row.verdict, report::Verdict::unchanged);
    EXPECT_EQ(row.errors_a, 1);
    EXPECT_EQ(row.errors_b, 1);
    EXPECT_NE(std::find(report.warnings.begin(), report.warnings.end(),
                        "workload 'h' failed 1 measured run(s) on A; the last: a broke"),
              report.warnings.end());
    EXPECT_NE(std::find(report.warnings.begin(), report.warnings.end(),
                        "workload 'h' failed 1 measured run(s) on B; the last: b broke"),
              report.warnings.end());
    for (const std::string& warning : report.warnings) {
        EXPECT_EQ(warning.find("B FAILED"), std::string::npos) << warning;
    }
    ASSERT_EQ(report.unmeasured.size(), 1u);
    EXPECT_EQ(report.unmeasured.front().rfind("no gated metric was compared over at least 8 "
                                              "valid pairs ('h' t: 6 pair(s), failed runs A 1 B 1",
                                              0),
              0u)
        << report.unmeasured.front();
}

// The SLO limits judge B's median over the measured rounds (not A's), and error_rate_max counts
// each failed run of B as `count` failed messages: a server that crashes must not pass on the
// runs that survived. A limit whose metric B never reported is a warning.
TEST(Analysis, Slo_JudgesBsMedian_ErrorRateCountsAFailedRunAsItsWholeLoad) {
    const std::string text = "[[workload]]\nname=\"p\"\nkind=\"publish\"\n"
                             "server=[\"./s\", \"--port\", \"{port}\"]\ncount=100\n"
                             "[workload.slo]\np99_ms=5.0\np95_ms=10.0\nerror_rate_max=0.05\n";
    const Config config = parse_config(text, "/repo/abtool.toml");
    const Plan plan = plan_of(text, 6, {"p"});
    std::vector<SampleRecord> records;
    for (std::size_t round = 1; round <= 6; ++round) {
        for (const Side side : {Side::a, Side::b}) {
            if (side == Side::b && round == 6) {
                records.push_back(failure(round, side, "p", "the server exited with status 1"));
                continue;
            }
            // A's p99 is above the limit, B's below then above: only B's median counts.
            const double p99 = side == Side::a ? 9 : 4 + static_cast<double>(round);
            records.push_back(sample(round, side, "p", "latency_p99_ms", p99));
            records.push_back(sample(round, side, "p", "errors", 0, "count"));
            records.push_back(sample(round, side, "p", "success", 100, "count"));
        }
    }
    const report::Report report = analyze_records(plan, config, records, AnalysisSettings{}, {});
    // B's p99 over its 5 runs: 5, 6, 7, 8, 9 (round 6 failed), median 7.
    const report::Row& p99 = only_row(report, "latency_p99_ms");
    EXPECT_EQ(p99.verdict, report::Verdict::slo_violated);
    ASSERT_TRUE(p99.slo.has_value());
    EXPECT_EQ(*p99.slo, "p99_ms 7 > 5");
    // 1 failed run of 100 messages against 500 answered: 100 / 600.
    const report::Row& errors = only_row(report, "errors");
    EXPECT_EQ(errors.verdict, report::Verdict::slo_violated);
    ASSERT_TRUE(errors.slo.has_value());
    EXPECT_EQ(*errors.slo, "error_rate 0.1667 > 0.05 (1 failed run(s) on B, 100 messages each)");
    EXPECT_NE(std::find(report.warnings.begin(), report.warnings.end(),
                        "workload 'p': SLO p95_ms not checked: no latency_p95_ms samples on B"),
              report.warnings.end());
    for (const std::string& warning : report.warnings) {
        EXPECT_EQ(warning.find("B FAILED"), std::string::npos)
            << "error_rate_max counts B's failures itself: " << warning;
    }
}

// Stream SLOs: loss is judged on B's worst run, never its median (one lost chunk in one run of six
// is a violation with no [workload.slo] at all); the median limits apply to B's median; the error
// rate counts failed sessions, and a failed run as all its sessions failed.
TEST(Analysis, StreamSlo_LossOnTheWorstRun_ErrorRateInSessions) {
    const std::string text = "[[workload]]\nname=\"t\"\nkind=\"stream\"\n"
                             "server=[\"./s\", \"{port}\"]\nexpect_chunks=20\nsession_count=4\n"
                             "[workload.slo]\noverhead_ms_max=1.0\nerror_rate_max=0.1\n";
    const Config config = parse_config(text, "/repo/abtool.toml");
    const Plan plan = plan_of(text, 6, {"t"});
    std::vector<SampleRecord> records;
    for (std::size_t round = 1; round <= 6; ++round) {
        for (const Side side : {Side::a, Side::b}) {
            if (side == Side::b && round == 6) {
                records.push_back(failure(round, side, "t", "the server exited with status 1"));
                continue;
            }
            const bool b = side == Side::b;
            records.push_back(
                sample(round, side, "t", "chunks_lost", b && round == 2 ? 1 : 0, "chunks"));
            // B's overhead over its 5 runs: 0.5, 1, 1.5, 2, 2.5 ms, median 1.5.
            records.push_back(sample(round, side, "t", "overhead_ms",
                                     b ? 0.5 * static_cast<double>(round) : 0.1));
            records.push_back(
                sample(round, side, "t", "errors", b && round == 3 ? 1 : 0, "sessions"));
            records.push_back(
                sample(round, side, "t", "sessions_ok", b && round == 3 ? 3 : 4, "sessions"));
        }
    }
    const report::Report report = analyze_records(plan, config, records, AnalysisSettings{}, {});
    const report::Row& lost = only_row(report, "chunks_lost");
    EXPECT_EQ(lost.verdict, report::Verdict::slo_violated);
    ASSERT_TRUE(lost.slo.has_value());
    EXPECT_EQ(*lost.slo, "chunks_lost 1 > loss_max 0 in a run of B (1 lost over its 5 measured "
                         "run(s))");
    const report::Row& overhead = only_row(report, "overhead_ms");
    ASSERT_TRUE(overhead.slo.has_value());
    EXPECT_EQ(*overhead.slo, "overhead_ms_max 1.5 > 1");
    // 1 failed session + 1 failed run of 4 sessions, against 19 sessions that completed: 5 / 24.
    const report::Row& errors = only_row(report, "errors");
    ASSERT_TRUE(errors.slo.has_value());
    EXPECT_EQ(*errors.slo, "error_rate 0.2083 > 0.1 (1 failed run(s) on B, 4 sessions each)");
}

// A stream soak: its limits judge B's median (rss_growth_kb_per_min 700 > 600); it has no session
// count, so B's failed run counts as the mean sessions of B's complete runs (40): 40 of 240
// failed. The measured runs' windows reach the report, a warm-up's do not.
TEST(Analysis, StreamSoak_LimitsOnBsMedian_AFailedRunIsItsMeanSessions_WindowsReported) {
    const std::string text = "[[workload]]\nname=\"t\"\nkind=\"stream\"\n"
                             "server=[\"./s\", \"{port}\"]\nexpect_chunks=20\nduration=\"1m\"\n"
                             "[workload.slo]\nrss_growth_kb_per_min_max=600\nerror_rate_max=0.1\n";
    const Config config = parse_config(text, "/repo/abtool.toml");
    const Plan plan = plan_of(text, 6, {"t"});
    std::vector<SampleRecord> records, windows;
    for (std::size_t round = 1; round <= 6; ++round) {
        for (const Side side : {Side::a, Side::b}) {
            const bool b = side == Side::b;
            if (b && round == 6) {
                records.push_back(failure(round, side, "t", "the load did not finish"));
                continue;
            }
            const double r = static_cast<double>(round);
            records.push_back(sample(round, side, "t", "rss_growth_kb_per_min",
                                     b ? 400 + 100 * r : 10, "kB/min"));
            records.push_back(sample(round, side, "t", "errors", 0, "sessions"));
            records.push_back(sample(round, side, "t", "sessions_ok", b ? 37 + r : 40, "sessions"));
        }
    }
    for (const std::size_t round : {0, 1}) {
        SampleRecord window;
        window.round = round;
        window.side = Side::b;
        window.workload = "t";
        window.window = runners::SoakWindow{0, 6, 1.0, 2.0, 3000, 0};
        window.window_index = 1;
        windows.push_back(window);
    }
    const report::Report report =
        analyze_records(plan, config, records, AnalysisSettings{}, windows);
    const report::Row& growth = only_row(report, "rss_growth_kb_per_min");
    ASSERT_TRUE(growth.slo.has_value());
    EXPECT_EQ(*growth.slo, "rss_growth_kb_per_min_max 700 > 600");
    const report::Row& errors = only_row(report, "errors");
    ASSERT_TRUE(errors.slo.has_value());
    EXPECT_EQ(*errors.slo, "error_rate 0.1667 > 0.1 (1 failed run(s) on B, 40 sessions each)");
    ASSERT_EQ(report.soak.size(), 1U);
    EXPECT_EQ(report.soak[0].side, 'B');
    EXPECT_EQ(report.soak[0].round, 1U);
    ASSERT_EQ(report.soak[0].windows.size(), 1U);
    EXPECT_EQ(report.soak[0].windows[0].rss_kb, 3000);
}

} // namespace
} // namespace abtool

namespace abtool {
namespace {

// A command workload counted under cachegrind with its own threshold, and a timed one at the
// run's: a deterministic +0.5% count is regressed at 0.2% while the same +0.5% of wall time is
// unchanged at 5%; each row carries the threshold it was judged by; the native runs give the
// slowdown and never enter a verdict.
TEST(Analysis, Counters_OwnThreshold_SlowdownFromTheNativeRuns) {
    const std::string text = "[run]\nthreshold = \"5%\"\n"
                             "[[workload]]\nname=\"count\"\nkind=\"command\"\ncommand=[\"./l\"]\n"
                             "metric=\"instructions\"\nthreshold=\"0.2%\"\n"
                             "[[workload]]\nname=\"time\"\nkind=\"command\"\ncommand=[\"./l\"]\n";
    Config config = parse_config(text, "/repo/abtool.toml");
    Plan plan = plan_of(text, 8, {"count", "time"});
    plan.threshold = config.run.threshold;
    WorkloadDesign counted;
    counted.workload = "count";
    counted.counter_backend = "cachegrind";
    counted.counter_reason = "no PMU";
    WorkloadDesign timed;
    timed.workload = "time";
    plan.designs = {counted, timed};
    apply_counting(plan, config);
    std::vector<SampleRecord> records;
    // 8 rounds: two gated metrics under Holm need them (2 x 2/2^6 > 0.05).
    for (std::size_t round = 1; round <= 8; ++round) {
        for (Side side : {Side::a, Side::b}) {
            const double factor = side == Side::b ? 1.005 : 1.0;
            records.push_back(sample(round, side, "count", "instructions", 1e9 * factor, "count"));
            SampleRecord wall = sample(round, side, "count", "wall_ms", 3000);
            wall.gate = runners::Gate::no;
            records.push_back(wall);
            records.push_back(sample(round, side, "time", "wall_ms", 100 * factor));
            // The native runs: 100 ms, where valgrind's took 3000 ms.
            SampleRecord native = sample(round, side, "count", "wall_ms", 100);
            native.pilot = k_native_pilot;
            native.gate = runners::Gate::no;
            records.push_back(native);
        }
    }
    const report::Report report =
        analyze_records(plan, config, records, settings_for(plan, config), {});
    const auto row = [&](const std::string& workload, const std::string& metric) {
        return *std::find_if(report.rows.begin(), report.rows.end(), [&](const report::Row& r) {
            return r.workload == workload && r.metric == metric;
        });
    };
    EXPECT_EQ(row("count", "instructions").verdict, report::Verdict::regressed);
    EXPECT_EQ(row("count", "instructions").threshold_pct, std::optional<double>(0.2));
    EXPECT_EQ(row("time", "wall_ms").verdict, report::Verdict::unchanged);
    EXPECT_FALSE(row("time", "wall_ms").threshold_pct);
    EXPECT_EQ(row("count", "wall_ms").a_values, std::vector<double>(8, 3000))
        << "the native runs are not part of the comparison";
    ASSERT_EQ(report.designs.size(), 2u);
    EXPECT_EQ(report.designs[0].counter_backend, "cachegrind");
    EXPECT_EQ(report.designs[0].counter_slowdown, std::optional<double>(30));
    EXPECT_FALSE(report.designs[1].counter_slowdown);
}

// A counted Google Benchmark program whose iterations moved between runs: its counts follow the
// machine's speed, and the report says so, naming the workload and the range.
TEST(Analysis, Counters_GbenchIterationsThatMove_AreWarnedAbout) {
    const std::string text = "[[workload]]\nname=\"g\"\nkind=\"hotpath\"\ncommand=[\"./b\"]\n"
                             "metric=\"instructions\"\n";
    const Config config = parse_config(text, "/repo/abtool.toml");
    const Plan plan = plan_of(text, 6, {"g"});
    const auto run = [&](double b_iterations) {
        std::vector<SampleRecord> records;
        for (std::size_t round = 1; round <= 6; ++round) {
            for (Side side : {Side::a, Side::b}) {
                records.push_back(sample(round, side, "g", "instructions", 5e8, "count"));
                SampleRecord iterations =
                    sample(round, side, "g", "iterations",
                           side == Side::b && round == 3 ? b_iterations : 1000, "count");
                iterations.gate = runners::Gate::no;
                records.push_back(iterations);
            }
        }
        return analyze_records(plan, config, records, AnalysisSettings{}, {}).warnings;
    };
    const auto mentions = [](const std::vector<std::string>& warnings) {
        return std::any_of(warnings.begin(), warnings.end(), [](const std::string& w) {
            return w.find("workload 'g' counts a Google Benchmark program whose iterations "
                          "varied between runs (1000 to 1400)") != std::string::npos;
        });
    };
    EXPECT_FALSE(mentions(run(1000)));
    EXPECT_TRUE(mentions(run(1400)));
}

} // namespace
} // namespace abtool

namespace abtool {
namespace {

// A count that moves between runs of the same code (here A's, by 2%) is no count to gate a small
// change on: the report says so, naming the workload, the counter and the side.
TEST(Analysis, Counters_UnsteadyCount_IsWarnedAbout) {
    const std::string text = "[[workload]]\nname=\"c\"\nkind=\"command\"\ncommand=[\"./l\"]\n"
                             "metric=\"instructions\"\n";
    const Config config = parse_config(text, "/repo/abtool.toml");
    const Plan plan = plan_of(text, 6, {"c"});
    const auto warnings = [&](double jitter) {
        std::vector<SampleRecord> records;
        for (std::size_t round = 1; round <= 6; ++round) {
            const double a = 1e8 * (round % 2 == 0 ? 1 + jitter : 1);
            records.push_back(sample(round, Side::a, "c", "instructions", a, "count"));
            records.push_back(sample(round, Side::b, "c", "instructions", 1e8 + 3, "count"));
        }
        return analyze_records(plan, config, records, AnalysisSettings{}, {}).warnings;
    };
    const auto mentions = [](const std::vector<std::string>& all) {
        return std::any_of(all.begin(), all.end(), [](const std::string& w) {
            return w.find("workload 'c': instructions moved by 2.00% between runs of the same "
                          "code on A") != std::string::npos;
        });
    };
    EXPECT_FALSE(mentions(warnings(0.00001))) << "a few instructions in 10^8: steady";
    EXPECT_TRUE(mentions(warnings(0.02)));
}

} // namespace
} // namespace abtool
