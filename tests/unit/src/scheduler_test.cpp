// The scheduler with a fake runner (ninja's FakeCommandRunner; hyperfine's MockExecutor): the
// order of runs, duet launches and their CPUs, repetitions, pilots, failures, interrupts and the
// adaptive loop, with fixed values and no process started. The real runner is exercised end to
// end by tests/integration.
#include "src/experiment/scheduler.hpp"

#include "abtool/error.hpp"
#include "src/experiment/analysis.hpp"
#include "src/experiment/pilot.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>

namespace abtool {
namespace {

struct Call {
    std::string workload;
    Side side;
    std::vector<int> cpus;
    bool together = false;
};

// Answers every run with one gated sample, `value(call, n)` (n counts this side's runs), or an
// error / an interrupt where the test says so.
class FakeRunner : public WorkloadRunner {
public:
    std::function<double(const Call&, std::size_t)> value = [](const Call& call, std::size_t) {
        return call.side == Side::a ? 100.0 : 103.0;
    };
    std::function<bool(const Call&, std::size_t)> fails = [](const Call&, std::size_t) {
        return false;
    };
    std::optional<std::size_t> interrupt_at; // the call (0-based) that a stop cuts short
    std::vector<Call> calls;

    runners::RunResult run(const RunRequest& request) override {
        return answer({request.workload->workload.name, request.side, request.cpus, false});
    }
    std::pair<runners::RunResult, runners::RunResult>
    run_together(const RunRequest& first, const RunRequest& second) override {
        runners::RunResult a =
            answer({first.workload->workload.name, first.side, first.cpus, true});
        runners::RunResult b =
            answer({second.workload->workload.name, second.side, second.cpus, true});
        return {a, b};
    }

private:
    runners::RunResult answer(const Call& call) {
        calls.push_back(call);
        const std::size_t n = m_count[{call.workload, call.side}]++;
        runners::RunResult result;
        result.wall_ms = call.together ? 10 : 10;
        result.start_unix_ns = static_cast<std::int64_t>(calls.size()) * 1000;
        if (interrupt_at && calls.size() - 1 == *interrupt_at) {
            result.interrupted = true;
            return result;
        }
        if (fails(call, n)) {
            result.error = "exit code 3";
            return result;
        }
        result.samples.push_back(
            {"", "wall_ms", value(call, n), "ms", runners::Direction::lower, runners::Gate::yes});
        return result;
    }
    std::map<std::pair<std::string, Side>, std::size_t> m_count;
};

class NullObserver : public ScheduleObserver {
public:
    std::size_t planned = 0;
    void rounds_planned(std::size_t rounds) override { planned = rounds; }
    void running(std::size_t, const std::string&) override {}
    void round_done(std::size_t) override {}
    void finished() override {}
};

Config two_workloads() {
    return parse_config(R"(
[[workload]]
name = "spin"
kind = "command"
command = ["./spin"]

[[workload]]
name = "hot"
kind = "command"
command = ["./hot"]
)",
                        "/tmp/abtool.toml");
}

Plan plan_for(const Config& config, std::size_t rounds, WorkloadDesign design) {
    Plan plan;
    plan.a.name = "v1";
    plan.a.commit = "1111111111";
    plan.b.name = "v2";
    plan.b.commit = "2222222222";
    for (const WorkloadConfig& workload : config.workloads) {
        plan.workloads.push_back(workload.workload.name);
        design.workload = workload.workload.name;
        plan.designs.push_back(design);
    }
    plan.rounds = plan.max_rounds = rounds;
    plan.seed = 7;
    plan.warmup = 0;
    plan.schedule = make_schedule(rounds, plan.workloads, plan.seed);
    return plan;
}

struct Harness {
    Config config = two_workloads();
    Plan plan;
    FakeRunner runner;
    std::vector<SampleRecord> sunk;
    Scheduler scheduler;
    NullObserver observer;

    explicit Harness(std::size_t rounds, WorkloadDesign design = {})
        : plan(plan_for(config, rounds, std::move(design))),
          scheduler(
              plan, config, runner,
              [this](const std::vector<SampleRecord>& records) {
                  sunk.insert(sunk.end(), records.begin(), records.end());
              },
              RunDir("/tmp/run")) {}

    std::size_t run(Scheduler::KeepGoing keep_going = [](const auto&, std::size_t) {
        return false;
    }) {
        return scheduler.run_rounds(keep_going, observer);
    }
};

WorkloadDesign duet() {
    WorkloadDesign design;
    design.schedule = Schedule::duet;
    design.duet_cpus = {{0}, {1}};
    return design;
}

WorkloadDesign repeated(std::size_t repeat) {
    WorkloadDesign design;
    design.repeat = repeat;
    return design;
}

TEST(Scheduler, Alternate_RunsEveryRoundInItsPlannedOrderAndWorkloadOrder) {
    Harness h(4);
    EXPECT_EQ(h.run(), 4u);
    ASSERT_EQ(h.runner.calls.size(), 4u * 2 * 2);
    std::size_t at = 0;
    for (const PlannedRound& round : h.plan.schedule) {
        for (const std::string& name : round.workloads) {
            const Side first = round.order == stats::Order::ab ? Side::a : Side::b;
            EXPECT_EQ(h.runner.calls[at].workload, name);
            EXPECT_EQ(h.runner.calls[at].side, first) << "round " << round.index;
            EXPECT_NE(h.runner.calls[at + 1].side, first);
            EXPECT_FALSE(h.runner.calls[at].together);
            at += 2;
        }
    }
    EXPECT_EQ(h.sunk.size(), h.scheduler.records().size()) << "every record reaches the sink";
}

TEST(Scheduler, Repeat_InterleavesTheSidesInsideTheRoundAndNumbersTheRuns) {
    Harness h(2, repeated(3));
    h.run();
    ASSERT_EQ(h.runner.calls.size(), 2u * 2 * 6);
    for (std::size_t i = 0; i + 1 < 6; ++i) {
        EXPECT_NE(h.runner.calls[i].side, h.runner.calls[i + 1].side) << "ABAB... or BABA...";
    }
    std::map<std::tuple<std::size_t, std::string, Side>, std::set<std::size_t>> reps;
    for (const SampleRecord& record : h.scheduler.records()) {
        reps[{record.round, record.workload, record.side}].insert(record.rep);
    }
    ASSERT_EQ(reps.size(), 2u * 2 * 2);
    for (const auto& [key, seen] : reps) {
        EXPECT_EQ(seen, (std::set<std::size_t>{0, 1, 2}));
    }
}

TEST(Scheduler, Duet_LaunchesBothSidesTogether_EachSideGetsEachCpuOncePerBlock) {
    Harness h(8, duet());
    h.run();
    ASSERT_EQ(h.runner.calls.size(), 8u * 2 * 2);
    // round -> workload -> A's CPU
    std::map<std::size_t, std::map<std::string, int>> cpu_of_a;
    for (const SampleRecord& record : h.scheduler.records()) {
        ASSERT_EQ(record.cpus.size(), 1u);
        if (record.side == Side::a) {
            cpu_of_a[record.round][record.workload] = record.cpus[0];
        }
    }
    for (const Call& call : h.runner.calls) {
        EXPECT_TRUE(call.together);
    }
    // Which side the runner launches first follows each round's A/B order: as often A as B.
    std::size_t a_launched_first = 0;
    for (std::size_t at = 0; at < h.runner.calls.size(); at += 2) {
        a_launched_first += h.runner.calls[at].side == Side::a ? 1 : 0;
    }
    EXPECT_EQ(a_launched_first, h.runner.calls.size() / 4);
    for (std::size_t block = 1; block <= 8; block += 2) {
        for (const char* name : {"spin", "hot"}) {
            EXPECT_NE(cpu_of_a[block][name], cpu_of_a[block + 1][name])
                << "block starting at round " << block << ": A must take each CPU once";
        }
    }
    // Neither side's CPU is fixed: across the blocks, A starts on CPU 1 at least once.
    bool a_first_on_1 = false;
    for (std::size_t block = 1; block <= 8; block += 2) {
        a_first_on_1 |= cpu_of_a[block]["spin"] == 1;
    }
    EXPECT_TRUE(a_first_on_1);
}

TEST(Scheduler, Duet_PublishSidesTakeAServerAndALoadSetEach) {
    WorkloadDesign design;
    design.schedule = Schedule::duet;
    design.duet_cpus = {{0}, {1}, {2}, {3}};
    Harness h(2, design);
    h.run();
    for (const SampleRecord& record : h.scheduler.records()) {
        ASSERT_EQ(record.cpus.size(), 1u);
        EXPECT_TRUE(record.cpus[0] == 0 || record.cpus[0] == 2) << "server sets only";
    }
}

TEST(Scheduler, WarmUp_FailingEveryRunOnOneSide_IsAWorkloadErrorNamingTheRef) {
    Harness h(2);
    h.plan.warmup = 2;
    h.runner.fails = [](const Call& call, std::size_t) {
        return call.side == Side::b && call.workload == "hot";
    };
    try {
        h.scheduler.warm_up();
        FAIL() << "expected Error(workload)";
    } catch (const Error& error) {
        EXPECT_EQ(error.kind(), ErrorKind::workload);
        EXPECT_NE(std::string(error.what()).find("'hot'"), std::string::npos) << error.what();
        EXPECT_NE(std::string(error.what()).find("ref 'v2'"), std::string::npos) << error.what();
    }
}

TEST(Scheduler, WarmUp_OneFailureOfTwo_IsNoError) {
    Harness h(2);
    h.plan.warmup = 2;
    h.runner.fails = [](const Call& call, std::size_t n) {
        return call.side == Side::b && n == 0;
    };
    EXPECT_NO_THROW(h.scheduler.warm_up());
    for (const SampleRecord& record : h.scheduler.records()) {
        EXPECT_EQ(record.round, 0u) << "warm-up runs are round 0";
    }
}

TEST(Scheduler, MeasuredRuns_AllFailedOnASide_IsAWorkloadError_SomeFailedIsNot) {
    {
        Harness h(4);
        h.runner.fails = [](const Call& call, std::size_t) {
            return call.side == Side::a;
        };
        EXPECT_THROW(h.run(), Error);
    }
    {
        Harness h(4);
        h.runner.fails = [](const Call& call, std::size_t n) {
            return call.side == Side::a && n % 2 == 0;
        };
        EXPECT_EQ(h.run(), 4u);
    }
}

TEST(Scheduler, Interrupt_StopsWithTheFinishedRunsKeptAndTheCutRunDropped) {
    Harness h(4);
    h.runner.interrupt_at = 5; // round 2: the first workload's second side
    try {
        h.run();
        FAIL() << "expected Error(interrupted)";
    } catch (const Error& error) {
        EXPECT_EQ(error.kind(), ErrorKind::interrupted);
        EXPECT_NE(std::string(error.what()).find("after 1 complete round"), std::string::npos)
            << error.what();
    }
    EXPECT_EQ(h.scheduler.records().size(), 5u) << "five runs finished, one was cut short";
    EXPECT_EQ(h.runner.calls.size(), 6u) << "nothing starts after the stop";
}

TEST(Scheduler, Adaptive_AddsBlocksWhileOpen_NeverPastMaxRounds) {
    Harness h(4);
    h.plan.max_rounds = 10;
    h.plan.schedule = make_schedule(10, h.plan.workloads, h.plan.seed);
    std::vector<std::size_t> asked;
    const std::size_t done = h.run([&](const auto&, std::size_t rounds_done) {
        asked.push_back(rounds_done);
        return rounds_done < 8;
    });
    EXPECT_EQ(done, 8u);
    EXPECT_EQ(asked, (std::vector<std::size_t>{4, 6, 8}));

    Harness always(4);
    always.plan.max_rounds = 10;
    always.plan.schedule = make_schedule(10, always.plan.workloads, always.plan.seed);
    EXPECT_EQ(always.run([](const auto&, std::size_t) { return true; }), 10u);
}

TEST(Scheduler, Pilot_RunsEveryCandidateRoundByRound_LabelledAndOutsideTheVerdict) {
    Harness h(2);
    WorkloadDesign three = repeated(3);
    three.workload = "spin";
    WorkloadDesign together = duet();
    together.workload = "spin";
    h.scheduler.run_pilot(h.config.workloads[0], {three, together}, 4);
    // Per pilot round: 6 alternate runs, then one duet launch (2 calls).
    ASSERT_EQ(h.runner.calls.size(), 4u * 8);
    for (std::size_t round = 0; round < 4; ++round) {
        EXPECT_FALSE(h.runner.calls[round * 8 + 5].together);
        EXPECT_TRUE(h.runner.calls[round * 8 + 6].together);
    }
    std::set<std::string> labels;
    for (const SampleRecord& record : h.scheduler.records()) {
        ASSERT_TRUE(record.pilot.has_value());
        labels.insert(*record.pilot);
    }
    EXPECT_EQ(labels, (std::set<std::string>{"alternate x3", "duet"}));
    EXPECT_EQ(completed_rounds(h.plan, h.scheduler.records()), 0u)
        << "pilot rounds are not measured rounds";
}

// The pilot's choice, end to end through the scheduler: values from a known noise model per
// design, so the choice follows from the figures, not from this machine.
struct PilotCase {
    double alternate_noise;   // relative spread of one alternate run
    double duet_noise;        // of one duet run
    double duet_shrink = 1.0; // duet measures this fraction of the true +3%
};

WorkloadDesign choose(const PilotCase& model) {
    Harness h(2);
    std::uint64_t state = 12345;
    const auto noise = [&] { // deterministic, roughly uniform in [-1, 1]
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        return static_cast<double>(state >> 11) / static_cast<double>(1ULL << 52) - 1.0;
    };
    h.runner.value = [&](const Call& call, std::size_t) {
        const double truth = call.side == Side::a ? 100 : 103;
        if (call.together) {
            const double b = 100 + 3 * model.duet_shrink;
            return (call.side == Side::a ? 100 : b) * (1 + model.duet_noise * noise());
        }
        return truth * (1 + model.alternate_noise * noise());
    };
    WorkloadDesign base;
    base.workload = "spin";
    const Pilot pilot = pilot_candidates(base, std::nullopt, {{0}, {1}});
    h.scheduler.run_pilot(h.config.workloads[0], pilot.runs, 8);
    return choose_from_pilot(pilot, h.scheduler.records());
}

TEST(Pilot, DuetMuchNarrower_IsChosenWithItsEvidence) {
    const WorkloadDesign chosen = choose({0.08, 0.004});
    EXPECT_EQ(chosen.schedule, Schedule::duet) << chosen.reason;
    EXPECT_EQ(chosen.chosen_by, "pilot");
    EXPECT_EQ(chosen.duet_cpus, (std::vector<std::vector<int>>{{0}, {1}}));
    EXPECT_EQ(chosen.evidence.size(), 3u) << "alternate, alternate x3, duet";
}

TEST(Pilot, DuetWider_IsNotChosen) {
    const WorkloadDesign chosen = choose({0.004, 0.04});
    EXPECT_EQ(chosen.schedule, Schedule::alternate) << chosen.reason;
    EXPECT_NE(chosen.reason.find("duet not used"), std::string::npos) << chosen.reason;
}

TEST(Pilot, DuetBiased_IsNotChosenAndTheReportSaysWhy) {
    // Duet reads +0.5% for a true +3%, with a tiny spread: narrow and wrong.
    const WorkloadDesign chosen = choose({0.005, 0.0005, 1.0 / 6});
    EXPECT_EQ(chosen.schedule, Schedule::alternate) << chosen.reason;
    EXPECT_NE(chosen.reason.find("duet not used"), std::string::npos) << chosen.reason;
}

TEST(Pilot, EveryPilotRunFailed_FallsBackToAlternate) {
    Harness h(2);
    h.runner.fails = [](const Call&, std::size_t) {
        return true;
    };
    WorkloadDesign base;
    base.workload = "spin";
    const Pilot pilot = pilot_candidates(base, std::nullopt, {{0}, {1}});
    h.scheduler.run_pilot(h.config.workloads[0], pilot.runs, 4);
    const WorkloadDesign chosen = choose_from_pilot(pilot, h.scheduler.records());
    EXPECT_EQ(chosen.schedule, Schedule::alternate);
    EXPECT_EQ(chosen.repeat, 1u);
    EXPECT_EQ(chosen.chosen_by, "fallback") << chosen.reason;
}

TEST(Pilot, WithoutDuetCpus_OnlyAlternateDesignsAreTried) {
    WorkloadDesign base;
    base.workload = "spin";
    const Pilot pilot = pilot_candidates(base, std::nullopt, {});
    ASSERT_EQ(pilot.runs.size(), 1u);
    EXPECT_EQ(pilot_label(pilot.runs[0]), "alternate x3");
    ASSERT_EQ(pilot.designs.size(), 2u);
    EXPECT_EQ(pilot_label(pilot.designs[0]), "alternate");
    const Pilot fixed = pilot_candidates(base, 2, {{0}, {1}});
    ASSERT_EQ(fixed.runs.size(), 2u);
    EXPECT_EQ(pilot_label(fixed.runs[0]), "alternate x2");
    EXPECT_EQ(pilot_label(fixed.runs[1]), "duet x2");
}

} // namespace
} // namespace abtool
