// --shard K/N: `cases` and {filter} in abtool.toml (both or neither), the units each shard gets,
// the gated metrics it plans for, and its schedule (the whole suite's, filtered).
#include "abtool/error.hpp"
#include "src/core/config.hpp"
#include "src/core/plan.hpp"

#include <gtest/gtest.h>

#include <string>

namespace abtool {
namespace {

const std::filesystem::path k_file = "/repo/abtool.toml";

// Five units: alpha, gb's x, y and z, beta.
constexpr const char* k_suite = R"toml(
[[workload]]
name = "alpha"
kind = "hotpath"
format = "jsonl"
command = ["./alpha"]

[[workload]]
name = "gb"
kind = "hotpath"
command = ["./bench", "--benchmark_filter={filter}"]
cases = ["x", "y", "z"]

[[workload]]
name = "beta"
kind = "command"
command = ["./beta"]
)toml";

std::string what_of(const std::string& text) {
    try {
        parse_config(text, k_file);
    } catch (const Error& error) {
        EXPECT_EQ(error.kind(), ErrorKind::config);
        return error.what();
    }
    ADD_FAILURE() << "no error for:\n" << text;
    return "";
}

TEST(ShardConfig, FilterWithoutCases_NamesTheCommandLine) {
    const std::string what = what_of("[[workload]]\nname = \"gb\"\nkind = \"hotpath\"\n"
                                     "command = [\"./b\", \"--benchmark_filter={filter}\"]\n");
    EXPECT_NE(what.find("abtool.toml:4:"), std::string::npos) << what;
    EXPECT_NE(what.find("'command' has {filter} but the workload lists no 'cases'"),
              std::string::npos)
        << what;
}

TEST(ShardConfig, CasesWithoutFilter_OrRepeated_NameTheCasesLine) {
    const std::string base = "[[workload]]\nname = \"gb\"\nkind = \"hotpath\"\n";
    const std::string without = what_of(base + "command = [\"./b\"]\ncases = [\"x\"]\n");
    EXPECT_NE(without.find("abtool.toml:5:"), std::string::npos) << without;
    EXPECT_NE(without.find("'command' has no {filter}"), std::string::npos) << without;
    const std::string repeated =
        what_of(base + "shell = \"./b {filter}\"\ncases = [\"x\", \"y\", \"x\"]\n");
    EXPECT_NE(repeated.find("abtool.toml:5:"), std::string::npos) << repeated;
    EXPECT_NE(repeated.find("a repeated case name 'x'"), std::string::npos) << repeated;
}

TEST(ShardFlag, Malformed_OrOutOfRange_IsAUsageErrorNamingTheFlag) {
    EXPECT_EQ(parse_shard("2/3"), (std::pair<std::size_t, std::size_t>{2, 3}));
    for (const char* bad : {"3", "0/3", "4/3", "1/0", "a/3", "1/3x", "-1/3", "/3", "1/"}) {
        try {
            parse_shard(bad);
            ADD_FAILURE() << bad << " accepted";
        } catch (const Error& error) {
            EXPECT_EQ(error.kind(), ErrorKind::usage) << bad;
            EXPECT_NE(std::string(error.what()).find("--shard"), std::string::npos) << error.what();
        }
    }
}

std::vector<std::pair<std::string, std::vector<std::string>>> units_of(const Shard& shard) {
    std::vector<std::pair<std::string, std::vector<std::string>>> units;
    for (const ShardUnit& unit : shard.units) {
        units.emplace_back(unit.workload, unit.cases);
    }
    return units;
}

TEST(ShardSelection, UnitsGoRoundRobin_AFilterHotpathsCasesOneUnitEach) {
    using Units = std::vector<std::pair<std::string, std::vector<std::string>>>;
    const Units expected[] = {
        {{"alpha", {}}, {"gb", {"z"}}}, {{"gb", {"x"}}, {"beta", {}}}, {{"gb", {"y"}}}};
    for (std::size_t index = 1; index <= 3; ++index) {
        Config config = parse_config(k_suite, k_file);
        select_shard(config, index, 3);
        ASSERT_TRUE(config.shard);
        EXPECT_EQ(units_of(*config.shard), expected[index - 1]) << "shard " << index;
        EXPECT_EQ(config.shard->suite, (std::vector<std::string>{"alpha", "gb", "beta"}));
        EXPECT_EQ(config.shard->split, std::vector<std::string>{"gb"});
        // Five gated metrics in all (gb's three cases each report one): the others' share.
        EXPECT_EQ(config.shard->other_gated, 5 - expected[index - 1].size()) << "shard " << index;
        // The program is asked for this shard's cases only.
        for (const WorkloadConfig& workload : config.workloads) {
            if (workload.workload.name == "gb") {
                EXPECT_EQ(std::get<runners::HotpathWorkload>(workload.workload.spec).cases,
                          expected[index - 1][index == 1 ? 1 : 0].second);
            }
        }
    }
}

TEST(ShardSelection, AShardWithoutUnits_IsAUsageError) {
    Config config = parse_config(k_suite, k_file);
    try {
        select_shard(config, 6, 6);
        FAIL() << "shard 6/6 of 5 units accepted";
    } catch (const Error& error) {
        EXPECT_EQ(error.kind(), ErrorKind::usage);
        EXPECT_NE(std::string(error.what()).find("--shard 6/6: the run has only 5 unit(s)"),
                  std::string::npos)
            << error.what();
    }
}

TEST(ShardPlan, ScheduleIsTheWholeSuitesFiltered_SplitWorkloadRunsAlternate) {
    Config whole = parse_config(k_suite, k_file);
    RunOptions options;
    const Plan unsharded = make_plan(options, whole, {0, 1});
    Config config = parse_config(k_suite, k_file);
    select_shard(config, 2, 3);
    const Plan plan = make_plan(options, config, {0, 1});
    ASSERT_TRUE(plan.shard);
    EXPECT_EQ(plan.workloads, (std::vector<std::string>{"gb", "beta"}));
    // Same rounds (planned for all five gated metrics), orders, CPU swaps and relative order.
    ASSERT_EQ(plan.schedule.size(), unsharded.schedule.size());
    for (std::size_t i = 0; i < plan.schedule.size(); ++i) {
        const PlannedRound& mine = plan.schedule[i];
        const PlannedRound& whole_round = unsharded.schedule[i];
        EXPECT_EQ(mine.order, whole_round.order);
        EXPECT_EQ(mine.swap_cpus, whole_round.swap_cpus);
        std::vector<std::string> kept = whole_round.workloads;
        std::erase(kept, "alpha");
        EXPECT_EQ(mine.workloads, kept) << "round " << mine.index;
    }
    // gb's cases are in three shards: no pilot of its own in each; beta keeps auto.
    EXPECT_EQ(plan.design_of("gb").schedule, Schedule::alternate);
    EXPECT_EQ(plan.design_of("gb").chosen_by, "shard");
    EXPECT_EQ(plan.design_of("beta").schedule, Schedule::automatic);
    // plan.json keeps the shard (written once the pilot has chosen beta's design).
    Plan chosen = plan;
    chosen.designs[1].schedule = Schedule::alternate;
    const Plan read = plan_from_json(to_json(chosen), "plan.json");
    ASSERT_TRUE(read.shard);
    EXPECT_EQ(read.shard->index, 2u);
    EXPECT_EQ(units_of(*read.shard), units_of(*plan.shard));
    EXPECT_EQ(read.shard->other_gated, plan.shard->other_gated);
}

} // namespace
} // namespace abtool
