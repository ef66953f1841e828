// The round schedule: balanced blocks, reproducible from the seed, extendable for adaptive runs.
#include "src/core/plan.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace abtool {
namespace {

const std::vector<std::string> k_workloads{"startup", "hotpath", "publish"};

TEST(SeededGenerator, MatchesSplitmix64ReferenceVectors) {
    // Outputs of the reference splitmix64.c (Vigna) for seed 1234567.
    SeededGenerator generator(1234567);
    EXPECT_EQ(generator.next(), 6457827717110365317ULL);
    EXPECT_EQ(generator.next(), 3203168211198807973ULL);
    EXPECT_EQ(generator.next(), 9817491932198370423ULL);
}

TEST(SeededGenerator, BelowStaysInRangeAndCoversIt) {
    SeededGenerator generator(7);
    std::vector<int> counts(5, 0);
    for (int i = 0; i < 5000; ++i) {
        const auto value = generator.below(5);
        ASSERT_LT(value, 5u);
        ++counts[value];
    }
    for (int count : counts) {
        EXPECT_GT(count, 800); // about 1000 each
    }
}

TEST(Schedule, EveryBlockHasOneABAndOneBARound) {
    for (std::uint64_t seed : {1ULL, 2ULL, 42ULL, 12345ULL}) {
        const auto schedule = make_schedule(40, k_workloads, seed);
        ASSERT_EQ(schedule.size(), 40u);
        for (std::size_t i = 0; i < schedule.size(); i += 2) {
            EXPECT_NE(schedule[i].order, schedule[i + 1].order)
                << "seed " << seed << " block " << i / 2;
        }
    }
}

TEST(Schedule, FirstOrderOfBlocksIsDrawnNotFixed) {
    const auto schedule = make_schedule(200, k_workloads, 1);
    int ab_first = 0;
    for (std::size_t i = 0; i < schedule.size(); i += 2) {
        ab_first += schedule[i].order == stats::Order::ab;
    }
    EXPECT_GT(ab_first, 30);
    EXPECT_LT(ab_first, 70);
}

TEST(Schedule, SameSeedSameSchedule_OtherSeedOtherSchedule) {
    const auto first = make_schedule(20, k_workloads, 99);
    const auto again = make_schedule(20, k_workloads, 99);
    const auto other = make_schedule(20, k_workloads, 100);
    bool all_same = true, any_different = false;
    for (std::size_t i = 0; i < first.size(); ++i) {
        all_same = all_same && first[i].order == again[i].order &&
                   first[i].workloads == again[i].workloads;
        any_different = any_different || first[i].order != other[i].order ||
                        first[i].workloads != other[i].workloads;
    }
    EXPECT_TRUE(all_same);
    EXPECT_TRUE(any_different);
}

TEST(Schedule, LongerScheduleExtendsShorterOne) {
    const auto short_schedule = make_schedule(10, k_workloads, 5);
    const auto long_schedule = make_schedule(30, k_workloads, 5);
    for (std::size_t i = 0; i < short_schedule.size(); ++i) {
        EXPECT_EQ(short_schedule[i].order, long_schedule[i].order);
        EXPECT_EQ(short_schedule[i].workloads, long_schedule[i].workloads);
        EXPECT_EQ(short_schedule[i].index, i + 1);
    }
}

TEST(Schedule, WorkloadOrderIsAShuffledPermutation) {
    const auto schedule = make_schedule(50, k_workloads, 3);
    std::set<std::vector<std::string>> orders;
    for (const auto& round : schedule) {
        auto sorted = round.workloads;
        std::sort(sorted.begin(), sorted.end());
        auto expected = k_workloads;
        std::sort(expected.begin(), expected.end());
        EXPECT_EQ(sorted, expected);
        orders.insert(round.workloads);
    }
    EXPECT_GT(orders.size(), 3u); // of 6 possible orders
}

TEST(Schedule, OddRoundCountsAreRoundedUpToWholeBlocks) {
    EXPECT_EQ(whole_blocks(2), 2u);
    EXPECT_EQ(whole_blocks(3), 4u);
    EXPECT_EQ(whole_blocks(7), 8u);
    for (std::uint64_t seed : {1ULL, 2ULL, 42ULL, 12345ULL, 0xdeadbeefULL}) {
        for (std::size_t rounds : {3u, 5u, 7u, 21u}) {
            const auto schedule = make_schedule(rounds, k_workloads, seed);
            ASSERT_EQ(schedule.size(), rounds + 1) << "seed " << seed << " rounds " << rounds;
            std::size_t ab = 0;
            for (std::size_t i = 0; i < schedule.size(); i += 2) {
                EXPECT_NE(schedule[i].order, schedule[i + 1].order)
                    << "seed " << seed << " rounds " << rounds << " block " << i / 2;
                ab += (schedule[i].order == stats::Order::ab) +
                      (schedule[i + 1].order == stats::Order::ab);
                EXPECT_EQ(schedule[i].index, i + 1);
            }
            EXPECT_EQ(ab * 2, schedule.size()); // as many AB rounds as BA rounds
        }
    }
}

TEST(Schedule, OddRoundCountsAreReproducibleAndPrefixesOfLongerSchedules) {
    for (std::uint64_t seed : {3ULL, 17ULL, 99ULL, 2024ULL}) {
        const auto odd = make_schedule(9, k_workloads, seed);
        const auto again = make_schedule(9, k_workloads, seed);
        const auto even = make_schedule(10, k_workloads, seed);
        const auto longer = make_schedule(31, k_workloads, seed);
        ASSERT_EQ(odd.size(), 10u);
        ASSERT_EQ(longer.size(), 32u);
        for (std::size_t i = 0; i < odd.size(); ++i) {
            EXPECT_EQ(odd[i].order, again[i].order) << "seed " << seed << " round " << i + 1;
            EXPECT_EQ(odd[i].workloads, again[i].workloads);
            EXPECT_EQ(odd[i].order, even[i].order);
            EXPECT_EQ(odd[i].workloads, even[i].workloads);
            EXPECT_EQ(odd[i].order, longer[i].order);
            EXPECT_EQ(odd[i].workloads, longer[i].workloads);
        }
    }
}

TEST(Plan, JsonRoundTrip) {
    Plan plan;
    plan.run_id = "r1";
    plan.timestamp = "2026-11-24T00:00:00Z";
    plan.abtool_version = "0.1.0";
    plan.host = "h";
    plan.a = {"v1", "c1", "t1", "commit", "/wt/a"};
    plan.b = {"CURRENT", "c1", "t2", "snapshot", "/wt/b"};
    plan.workloads = k_workloads;
    plan.rounds = 4;
    plan.max_rounds = 6;
    plan.rounds_requested = 3;
    plan.max_rounds_requested = 5;
    plan.seed = 9;
    plan.cpus = {1};
    plan.schedule = make_schedule(6, k_workloads, 9);
    const Plan back = plan_from_json(to_json(plan), "plan.json");
    EXPECT_EQ(to_json(back), to_json(plan));
    EXPECT_EQ(back.rounds_requested, 3u);
    EXPECT_EQ(back.max_rounds_requested, 5u);
}

TEST(Plan, OlderPlanWithoutRequestedRoundsReadsAsNotRounded) {
    Plan plan;
    plan.rounds = 4;
    plan.max_rounds = 8;
    plan.schedule = make_schedule(8, k_workloads, 1);
    nlohmann::json json = to_json(plan);
    json.erase("rounds_requested");
    json.erase("max_rounds_requested");
    const Plan back = plan_from_json(json, "plan.json");
    EXPECT_EQ(back.rounds_requested, 4u);
    EXPECT_EQ(back.max_rounds_requested, 8u);
}

} // namespace
} // namespace abtool
