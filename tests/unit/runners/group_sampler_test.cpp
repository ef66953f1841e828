// GroupSampler on real process groups: a forked child that grows its heap while a grandchild
// sleeps beside it in the same group, a child that burns CPU, and a group with nobody in it.
// The children talk to the test over pipes (pids, "go", "done"), so no check depends on how fast
// the machine is; after fork they make only async-signal-safe calls and end in _exit.
#include "abtool/unique_fd.hpp"
#include "runners/group_sampler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <fstream>
#include <limits>
#include <poll.h>
#include <string>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace abtool::runners {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t k_chunk_bytes = 4 << 20;
constexpr int k_chunks = 20; // 80 MiB, one chunk every 100 ms: about 2 s
constexpr std::int64_t k_mib_kb = 1024;

void write_all(int fd, const void* data, std::size_t size) {
    if (::write(fd, data, size) != static_cast<ssize_t>(size)) {
        _exit(3);
    }
}

// Child bodies: `in` carries the test's "go", `out` the child's news. Each returns when done;
// the child then sleeps until the test kills its group.
void grow_heap_beside_a_sleeping_grandchild(int in, int out) {
    const pid_t grandchild = fork();
    if (grandchild == 0) {
        ::sleep(120); // killed with the group long before
        _exit(0);
    }
    write_all(out, &grandchild, sizeof grandchild);
    char go = 0;
    if (::read(in, &go, 1) != 1) {
        _exit(4);
    }
    for (int i = 0; i < k_chunks; ++i) {
        void* chunk = ::mmap(nullptr, k_chunk_bytes, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (chunk == MAP_FAILED) {
            _exit(5);
        }
        std::memset(chunk, 0x5a, k_chunk_bytes); // resident only once touched
        const timespec pause{0, 100'000'000};
        ::nanosleep(&pause, nullptr);
    }
}

void burn_half_a_cpu_second(int /*in*/, int /*out*/) {
    // Half a second of this process's own CPU time, not of the clock: a loaded machine
    // stretches the loop, it does not shorten the work.
    timespec used{};
    do {
        ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &used);
    } while (used.tv_sec == 0 && used.tv_nsec < 500'000'000);
}

// A forked child leading a process group of its own, running `body`, then telling the test "done"
// and sleeping. Destruction kills the whole group and reaps what is the test's to reap, so a
// failed ASSERT leaves no process behind.
class ForkedGroup {
public:
    explicit ForkedGroup(void (*body)(int in, int out)) {
        int to_child[2] = {-1, -1};
        int from_child[2] = {-1, -1};
        if (::pipe2(to_child, O_CLOEXEC) != 0 || ::pipe2(from_child, O_CLOEXEC) != 0) {
            return;
        }
        m_to_child.reset(to_child[1]);
        m_from_child.reset(from_child[0]);
        const UniqueFd child_in(to_child[0]);
        const UniqueFd child_out(from_child[1]);
        m_pid = fork();
        if (m_pid == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL); // a crashed test takes it along
            ::setpgid(0, 0);
            body(child_in.get(), child_out.get());
            write_all(child_out.get(), "d", 1);
            ::sleep(120);
            _exit(0);
        }
        if (m_pid > 0) {
            ::setpgid(m_pid, m_pid); // also here: whichever runs first, the group exists after
        }
    }
    ForkedGroup(const ForkedGroup&) = delete;
    ForkedGroup& operator=(const ForkedGroup&) = delete;
    ~ForkedGroup() {
        if (m_pid <= 0) {
            return;
        }
        ::kill(-m_pid, SIGKILL);
        int status = 0;
        ::waitpid(m_pid, &status, 0);
        // Ours to reap only when this test binary is a child subreaper (another test made it
        // one); ECHILD at once otherwise.
        if (m_grandchild > 0) {
            ::waitpid(m_grandchild, &status, 0);
        }
    }

    pid_t pgid() const { return m_pid; }
    bool started() const { return m_pid > 0; }
    // Reads `size` bytes from the child within 60 s (a generous bound for a loaded machine).
    bool receive(void* data, std::size_t size) {
        pollfd ready{m_from_child.get(), POLLIN, 0};
        return ::poll(&ready, 1, 60'000) == 1 &&
               ::read(m_from_child.get(), data, size) == static_cast<ssize_t>(size);
    }
    bool receive_done() {
        char done = 0;
        return receive(&done, 1) && done == 'd';
    }
    bool send_go() { return ::write(m_to_child.get(), "g", 1) == 1; }
    void set_grandchild(pid_t pid) { m_grandchild = pid; }

private:
    pid_t m_pid = -1;
    pid_t m_grandchild = -1;
    UniqueFd m_to_child, m_from_child;
};

// Waits (up to 60 s) until the sampler holds at least `count` samples.
bool wait_for_samples(const GroupSampler& sampler, std::size_t count) {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (sampler.samples().size() < count) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

// One process's resident set from /proc/<pid>/statm (its second field, in pages): a reading
// independent of the sampler's (which parses /proc/<pid>/stat).
std::int64_t own_rss_kb(pid_t pid) {
    std::ifstream statm("/proc/" + std::to_string(pid) + "/statm");
    std::int64_t size = 0, resident = -1;
    statm >> size >> resident;
    return resident * (::sysconf(_SC_PAGESIZE) / 1024);
}

TEST(GroupSampler, GrowingHeap_ShowsInTheGroupsRss_SummedWithTheGrandchild) {
    ForkedGroup group(grow_heap_beside_a_sleeping_grandchild);
    ASSERT_TRUE(group.started());
    pid_t grandchild = 0;
    ASSERT_TRUE(group.receive(&grandchild, sizeof grandchild));
    ASSERT_GT(grandchild, 0);
    group.set_grandchild(grandchild);

    GroupSampler sampler(group.pgid(), 100ms);
    // The first sample before the first chunk, the last after the last: the growth between them
    // is the whole 80 MiB, whatever the machine's speed.
    ASSERT_TRUE(wait_for_samples(sampler, 1));
    ASSERT_TRUE(group.send_go());
    ASSERT_TRUE(group.receive_done());
    // Two more: the second of them was surely scanned after "done" (and at least 10 in all).
    ASSERT_TRUE(wait_for_samples(sampler, std::max<std::size_t>(sampler.samples().size() + 2, 10)));
    // Both now sleep: their own readings and the group's hold still.
    const std::int64_t child_kb = own_rss_kb(group.pgid());
    const std::int64_t grandchild_kb = own_rss_kb(grandchild);
    const GroupSample now = sample_group_once(group.pgid());
    sampler.stop();
    const std::vector<GroupSample> samples = sampler.samples();

    ASSERT_GE(samples.size(), 10U);
    // Half the 80 MiB: room for the kernel reclaiming some of it on a machine short of memory.
    EXPECT_GT(samples.back().rss_kb - samples.front().rss_kb, 40 * k_mib_kb)
        << samples.front().rss_kb << " kB -> " << samples.back().rss_kb << " kB";
    EXPECT_GT(grandchild_kb, 0);
    EXPECT_GE(child_kb, k_chunks * static_cast<std::int64_t>(k_chunk_bytes / 1024) / 2);
    EXPECT_GE(now.rss_kb, child_kb + grandchild_kb)
        << "child " << child_kb << " kB, grandchild " << grandchild_kb << " kB";
    EXPECT_GE(samples.front().t_s, 0.0);
    for (std::size_t i = 1; i < samples.size(); ++i) {
        EXPECT_GT(samples[i].t_s, samples[i - 1].t_s) << i;
    }
}

TEST(GroupSampler, BusyChild_ShowsItsCpuTime) {
    ForkedGroup group(burn_half_a_cpu_second);
    ASSERT_TRUE(group.started());
    GroupSampler sampler(group.pgid(), 100ms);
    ASSERT_TRUE(group.receive_done());
    ASSERT_TRUE(wait_for_samples(sampler, sampler.samples().size() + 2));
    sampler.stop();
    const std::vector<GroupSample> samples = sampler.samples();
    ASSERT_GE(samples.size(), 2U);
    // 0.5 s burnt; 0.2 leaves room for the clock-tick granularity of /proc (10 ms) many times.
    EXPECT_GE(samples.back().cpu_s, 0.2);
    EXPECT_LE(samples.front().cpu_s, samples.back().cpu_s);
}

TEST(GroupSampler, EmptyGroup_ReadsZero) {
    // No process can have this pgid: pid_max is at most 2^22.
    const pid_t nobody = std::numeric_limits<pid_t>::max();
    const GroupSample once = sample_group_once(nobody);
    EXPECT_EQ(once.rss_kb, 0);
    EXPECT_EQ(once.cpu_s, 0.0);
    GroupSampler sampler(nobody, 10ms);
    ASSERT_TRUE(wait_for_samples(sampler, 3));
    sampler.stop();
    for (const GroupSample& sample : sampler.samples()) {
        EXPECT_EQ(sample.rss_kb, 0);
        EXPECT_EQ(sample.cpu_s, 0.0);
    }
}

TEST(GroupSampler, FirstSampleAtOnce_StopIsPrompt) {
    // An hour's period: the first sample must not wait for it, nor stop() for the next one.
    GroupSampler sampler(::getpgrp(), std::chrono::hours(1));
    ASSERT_TRUE(wait_for_samples(sampler, 1));
    const auto start = std::chrono::steady_clock::now();
    sampler.stop();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 30s); // not an hour
    const std::vector<GroupSample> samples = sampler.samples();
    ASSERT_EQ(samples.size(), 1U);
    EXPECT_GT(samples[0].rss_kb, 0); // this very test binary is in its own group
    sampler.stop();                  // a second stop (and the destructor's) is harmless
}

} // namespace
} // namespace abtool::runners
