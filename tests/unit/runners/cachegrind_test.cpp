// Counting instructions with cachegrind, for real: a C program compiled here runs under valgrind
// through run_workload. Its count is the same from run to run; a thread's work and a forked
// child's work are counted with the main program's; a crash is a failed run that shows the
// program's own output. Needs valgrind (ci/install-deps.sh installs it); skipped, saying so,
// without it.
#include "abtool/runners.hpp"
#include "tests/support/scoped_env.hpp"
#include "tests/support/shell.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace abtool::runners {
namespace {

using abtool::testing::must;
using abtool::testing::quote;
using abtool::testing::TempDir;

// `spin N plain|thread|fork|crash`: N steps of a loop the compiler keeps; `thread` runs N more
// in a second thread, `fork` N more in a child it waits for, `crash` says so and dies of SIGSEGV.
constexpr const char* k_program = R"(#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
static long steps;
static void* spin(void* unused) {
    volatile unsigned long x = 0;
    for (long i = 0; i < steps; ++i) { x += (unsigned long)i * 2654435761UL; }
    (void)unused;
    return NULL;
}
int main(int argc, char** argv) {
    steps = atol(argv[1]);
    const char* mode = argv[2];
    if (strcmp(mode, "crash") == 0) {
        fprintf(stderr, "about to crash\n");
        fflush(stderr);
        raise(SIGSEGV);
    }
    if (strcmp(mode, "thread") == 0) {
        pthread_t thread;
        pthread_create(&thread, NULL, spin, NULL);
        spin(NULL);
        pthread_join(thread, NULL);
    } else if (strcmp(mode, "fork") == 0) {
        const pid_t child = fork();
        spin(NULL);
        if (child == 0) { _exit(0); }
        waitpid(child, NULL, 0);
    } else {
        spin(NULL);
    }
    return 0;
}
)";

class Cachegrind : public ::testing::Test {
protected:
    void SetUp() override {
        if (!find_valgrind()) {
            GTEST_SKIP() << "valgrind is not installed (apt-get install valgrind): the cachegrind "
                            "backend cannot run here";
        }
        abtool::testing::write_file(m_dir.path() / "spin.c", k_program);
        must("cc -O1 -pthread -o " + quote((m_dir.path() / "spin").string()) + " " +
             quote((m_dir.path() / "spin.c").string()));
    }

    RunResult run(long steps, const std::string& mode, const std::string& stdout_name = "") {
        CommandWorkload spec;
        spec.argv = {(m_dir.path() / "spin").string(), std::to_string(steps), mode};
        spec.timeout = std::chrono::seconds(120);
        spec.metrics = {"instructions"};
        spec.counting.counters = {Counter::instructions};
        spec.counting.backend = CounterBackend::cachegrind;
        RunContext context;
        context.worktree = m_dir.path();
        context.label = "ref 'test'";
        if (!stdout_name.empty()) {
            context.stdout_file = m_dir.path() / "output" / stdout_name;
        }
        return run_workload({"spin", spec}, context);
    }

    static double instructions(const RunResult& result) {
        const auto it = std::find_if(result.samples.begin(), result.samples.end(),
                                     [](const Sample& s) { return s.metric == "instructions"; });
        EXPECT_NE(it, result.samples.end()) << "no instructions sample";
        if (it == result.samples.end()) {
            return std::nan("");
        }
        EXPECT_EQ(it->unit, "count");
        EXPECT_EQ(it->direction, Direction::lower);
        return it->value;
    }

    TempDir m_dir;
};

TEST_F(Cachegrind, FixedLoop_SameCountEveryRun_GatedOnInstructions) {
    std::vector<double> counts;
    for (int i = 0; i < 3; ++i) {
        const RunResult result = run(2'000'000, "plain");
        ASSERT_FALSE(result.error) << *result.error;
        counts.push_back(instructions(result));
        for (const Sample& sample : result.samples) {
            EXPECT_EQ(sample.gate, sample.metric == "instructions" ? Gate::yes : Gate::no)
                << sample.metric;
        }
    }
    // At least the loop's steps, and the same count each time (cachegrind simulates the CPU:
    // nothing of the machine's load reaches it; the environment and ASLR move a few instructions).
    EXPECT_GT(counts[0], 2'000'000.0 * 3);
    const auto [low, high] = std::minmax_element(counts.begin(), counts.end());
    EXPECT_LT((*high - *low) / *low, 1e-4) << *low << " .. " << *high;
}

TEST_F(Cachegrind, ThreadsAndForkedChildren_AreCountedWhole) {
    const double plain = instructions(run(4'000'000, "plain"));
    const double thread = instructions(run(4'000'000, "thread"));
    const double forked = instructions(run(4'000'000, "fork"));
    // The loop dominates (start-up is about 10^5 instructions): twice the loop, nearly twice the
    // count. A count that missed the thread or the child would stay near `plain`.
    EXPECT_GT(thread / plain, 1.9) << plain << " vs " << thread;
    EXPECT_LT(thread / plain, 2.1) << plain << " vs " << thread;
    EXPECT_GT(forked / plain, 1.9) << plain << " vs " << forked;
    EXPECT_LT(forked / plain, 2.1) << plain << " vs " << forked;
}

TEST_F(Cachegrind, CrashingChild_IsAFailedRun_ShowingItsOutput) {
    const RunResult result = run(1000, "crash");
    ASSERT_TRUE(result.error);
    EXPECT_NE(result.error->find("signal 11"), std::string::npos) << *result.error;
    EXPECT_NE(result.error->find("about to crash"), std::string::npos) << *result.error;
    EXPECT_TRUE(result.samples.empty());
}

TEST_F(Cachegrind, FilesKeptBesideTheRunsOutput_OnePerProcess) {
    const RunResult result = run(100'000, "fork", "r1-a.stdout");
    ASSERT_FALSE(result.error) << *result.error;
    const std::filesystem::path dir = m_dir.path() / "output" / "r1-a.cachegrind";
    ASSERT_TRUE(std::filesystem::is_directory(dir));
    std::size_t files = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) {
        ++files;
    }
    EXPECT_EQ(files, 2u) << "the program and its forked child";
    // A run without a kept output counts in a temporary directory, removed afterwards.
    const std::filesystem::path tmp = m_dir.path() / "tmp";
    std::filesystem::create_directories(tmp);
    const abtool::testing::ScopedEnv tmpdir("TMPDIR", tmp.c_str());
    const RunResult temporary = run(1000, "plain");
    ASSERT_FALSE(temporary.error) << *temporary.error;
    EXPECT_TRUE(std::filesystem::is_empty(tmp));
}

// A hotpath program counted whole: its own samples stay as it reports them (not gated: the
// workload gates its instructions), the count is a sample of case "", and a Google Benchmark
// program's iterations are recorded beside it (analysis warns when they move).
TEST_F(Cachegrind, HotpathProgram_CountedWhole_ItsIterationsBesideTheCount) {
    HotpathWorkload spec;
    spec.shell = "echo '{\"benchmarks\": [{\"name\": \"BM_a\", \"iterations\": 700, "
                 "\"real_time\": 3, \"time_unit\": \"us\"}, {\"name\": \"BM_b\", "
                 "\"iterations\": 300, \"real_time\": 5, \"time_unit\": \"us\"}]}'";
    spec.format = HotpathFormat::gbench;
    spec.metrics = {"instructions"};
    spec.counting.counters = {Counter::instructions};
    spec.counting.backend = CounterBackend::cachegrind;
    RunContext context;
    context.worktree = m_dir.path();
    context.label = "ref 'test'";
    const RunResult result = run_workload({"gb", spec}, context);
    ASSERT_FALSE(result.error) << *result.error;
    std::map<std::string, const Sample*> by_name;
    for (const Sample& sample : result.samples) {
        by_name[sample.case_name + "/" + sample.metric] = &sample;
    }
    ASSERT_TRUE(by_name.count("BM_a/real_time")) << result.samples.size();
    EXPECT_EQ(by_name["BM_a/real_time"]->gate, Gate::no);
    ASSERT_TRUE(by_name.count("/instructions"));
    EXPECT_EQ(by_name["/instructions"]->gate, Gate::yes);
    EXPECT_GT(by_name["/instructions"]->value, 1000.0) << "a shell and echo ran";
    ASSERT_TRUE(by_name.count("/iterations"));
    EXPECT_EQ(by_name["/iterations"]->value, 1000.0);
    EXPECT_EQ(by_name["/iterations"]->gate, Gate::no);
}

} // namespace
} // namespace abtool::runners
