// analyze_records: the run's [run] settings reach the statistics. Here, the multiplicity
// correction: Holm by default, Benjamini-Hochberg when the config asks for "bh".
#include "src/core/config.hpp"
#include "src/experiment/analysis.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
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
    return analyze_records(plan, config, records, settings);
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
    const report::Report report = analyze_records(plan, config, records, settings);
    ASSERT_EQ(report.rows.size(), 1u);
    EXPECT_EQ(report.rounds, 6u);
    EXPECT_EQ(report.rows[0].a_values, std::vector<double>(6, 100));
    EXPECT_EQ(report.rows[0].b_values, std::vector<double>(6, 110));
    settings.summary = Summary::median;
    const report::Report median = analyze_records(plan, config, records, settings);
    EXPECT_NE(median.rows[0].b_values, std::vector<double>(6, 110)) << "--summary median differs";
    ASSERT_EQ(report.designs.size(), 1u);
    EXPECT_EQ(report.designs[0].repeat, 2u);
}

} // namespace
} // namespace abtool
