// Publish workloads against a real server on 127.0.0.1 (publish_server_fixture, built beside this
// test): every protocol counts messages and bytes exactly, a slower server shows in latency and
// throughput, error replies, resets and timeouts are counted, a server that never gets ready or
// crashes gives an error with its output, paced mode shows a server's freeze in the tail where
// burst mode hides it, a paced soak's windows show a late freeze, and no server process outlives
// its run.
#include "abtool/error.hpp"
#include "abtool/runners.hpp"
#include "runners/publish/load_generator.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <utility>
#include <vector>

namespace abtool::runners {
namespace {

using abtool::testing::TempDir;

RunContext context_in(const std::filesystem::path& dir) {
    RunContext context;
    context.worktree = dir;
    context.label = "ref 'test'";
    return context;
}

PublishWorkload fixture(std::vector<std::string> extra_args) {
    PublishWorkload workload;
    workload.server = {PUBLISH_SERVER_FIXTURE, "--port", "{port}"};
    workload.server.insert(workload.server.end(), extra_args.begin(), extra_args.end());
    workload.count = 200;
    workload.concurrency = 2;
    workload.ready_timeout = std::chrono::seconds(20);
    workload.request_timeout = std::chrono::seconds(20);
    return workload;
}

RunResult run(const PublishWorkload& workload, const std::filesystem::path& dir) {
    return run_workload(Workload{"publish", workload}, context_in(dir));
}

std::optional<double> metric(const RunResult& result, const std::string& name) {
    for (const Sample& sample : result.samples) {
        if (sample.metric == name) {
            return sample.value;
        }
    }
    return std::nullopt;
}

// The fixture's exact reply: the tests check bytes_in to the byte.
std::size_t http_reply_size(bool keep_alive) {
    const std::string body = "{\"ok\":true}";
    return std::string("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ")
               .size() +
           std::to_string(body.size()).size() +
           std::string(keep_alive ? "\r\nConnection: keep-alive" : "\r\nConnection: close").size() +
           4 + body.size();
}

TEST(PublishPayload, EverySeqPlaceholderIsReplaced) {
    EXPECT_EQ(publish::render_payload(R"({"seq": {seq}, "again": "{seq}"})", 42),
              R"({"seq": 42, "again": "42"})");
    EXPECT_EQ(publish::render_payload("no placeholder", 7), "no placeholder");
}

TEST(PublishWorkload, Http_NewConnectionPerMessage_CountsMessagesAndBytes) {
    TempDir dir;
    PublishWorkload workload = fixture({});
    workload.protocol = Protocol::http;
    const RunResult result = run(workload, dir.path());
    ASSERT_FALSE(result.error) << *result.error;
    EXPECT_EQ(metric(result, "success"), 200);
    EXPECT_EQ(metric(result, "errors"), 0);
    EXPECT_EQ(metric(result, "bytes_in"), 200.0 * static_cast<double>(http_reply_size(false)));
    EXPECT_GT(*metric(result, "bytes_out"), 200.0 * 60); // request line, headers and payload
    EXPECT_GT(*metric(result, "throughput_rps"), 0);
    const double p50 = *metric(result, "latency_p50_ms");
    EXPECT_LE(*metric(result, "latency_min_ms"), p50);
    EXPECT_LE(p50, *metric(result, "latency_p95_ms"));
    EXPECT_LE(*metric(result, "latency_p95_ms"), *metric(result, "latency_p99_ms"));
    EXPECT_LE(*metric(result, "latency_p99_ms"), *metric(result, "latency_max_ms"));
    EXPECT_TRUE(metric(result, "latency_mean_ms"));
    EXPECT_TRUE(metric(result, "latency_stddev_ms"));
    for (const Sample& sample : result.samples) {
        const bool gated = sample.metric == "latency_p50_ms" || sample.metric == "throughput_rps";
        EXPECT_EQ(sample.gate == Gate::yes, gated) << sample.metric;
    }
}

TEST(PublishWorkload, KeepAlive_ReusesConnections_CountsMessagesAndBytes) {
    TempDir dir;
    PublishWorkload workload = fixture({});
    workload.protocol = Protocol::http_keepalive;
    const RunResult result = run(workload, dir.path());
    ASSERT_FALSE(result.error) << *result.error;
    EXPECT_EQ(metric(result, "success"), 200);
    EXPECT_EQ(metric(result, "bytes_in"), 200.0 * static_cast<double>(http_reply_size(true)));
}

TEST(PublishWorkload, Tcp_OneReplyLinePerMessage) {
    TempDir dir;
    PublishWorkload workload = fixture({"--protocol", "tcp"});
    workload.protocol = Protocol::tcp;
    workload.payload = "msg {seq}";
    const RunResult result = run(workload, dir.path());
    ASSERT_FALSE(result.error) << *result.error;
    EXPECT_EQ(metric(result, "success"), 200);
    EXPECT_EQ(metric(result, "bytes_in"), 200.0 * 3); // "ok\n"
    // "msg 0\n" .. "msg 199\n": 10 + 90 * 2 + 100 * 3 digits, plus "msg \n" each.
    EXPECT_EQ(metric(result, "bytes_out"), 200.0 * 5 + 10 + 90 * 2 + 100 * 3);
}

TEST(PublishWorkload, SlowerServer_ShowsInLatencyAndThroughput) {
    TempDir dir;
    PublishWorkload fast = fixture({});
    fast.protocol = Protocol::http_keepalive;
    fast.concurrency = 1;
    PublishWorkload slow = fast;
    slow.server.insert(slow.server.end(), {"--delay-us", "2000"});
    const RunResult fast_result = run(fast, dir.path());
    const RunResult slow_result = run(slow, dir.path());
    ASSERT_FALSE(fast_result.error) << *fast_result.error;
    ASSERT_FALSE(slow_result.error) << *slow_result.error;
    // 2 ms of work per message is a floor on the slow server's latency, whatever the load.
    EXPECT_GE(*metric(slow_result, "latency_p50_ms"), 2.0);
    EXPECT_LT(*metric(fast_result, "latency_p50_ms"), *metric(slow_result, "latency_p50_ms"));
    EXPECT_LE(*metric(slow_result, "throughput_rps"), 500.0);
    EXPECT_GT(*metric(fast_result, "throughput_rps"), *metric(slow_result, "throughput_rps"));
}

TEST(PublishWorkload, ErrorReplies_AreCountedNotTimed) {
    TempDir dir;
    PublishWorkload workload = fixture({"--fail-every", "10"});
    workload.protocol = Protocol::http_keepalive;
    const RunResult result = run(workload, dir.path());
    ASSERT_FALSE(result.error) << *result.error;
    EXPECT_EQ(metric(result, "success"), 180);
    EXPECT_EQ(metric(result, "errors"), 20);
    EXPECT_EQ(metric(result, "errors_http"), 20);
    EXPECT_EQ(metric(result, "errors_reset"), 0);
}

TEST(PublishWorkload, OnlyErrorReplies_FailTheRun) {
    TempDir dir;
    PublishWorkload workload = fixture({"--fail-every", "1"});
    const RunResult result = run(workload, dir.path());
    ASSERT_TRUE(result.error);
    EXPECT_NE(result.error->find("no message got a 2xx reply: 200 error replies"),
              std::string::npos)
        << *result.error;
    EXPECT_TRUE(result.samples.empty());
}

TEST(PublishWorkload, SlowReplies_CountAsTimeouts) {
    TempDir dir;
    // The first request freezes the server for 1.5 s; a 200 ms request timeout gives up on it
    // and on whatever else is due meanwhile, and later messages get through.
    PublishWorkload workload = fixture({"--freeze-at", "1", "--freeze-ms", "1500"});
    workload.protocol = Protocol::http_keepalive;
    workload.concurrency = 1;
    workload.count = 20;
    workload.request_timeout = std::chrono::milliseconds(200);
    const RunResult result = run(workload, dir.path());
    ASSERT_FALSE(result.error) << *result.error;
    EXPECT_GE(*metric(result, "errors_timeout"), 1);
    EXPECT_EQ(*metric(result, "errors_timeout") + *metric(result, "success"), 20);
}

TEST(PublishWorkload, ServerNeverReady_ErrorShowsItsOutput) {
    TempDir dir;
    // The error shows what the server printed by the time the ready timeout ran out, so the
    // fixture must have printed its line by then. That line is the readiness signal: the timeout
    // starts with the server and cannot wait for it, so a run whose error says "it printed
    // nothing" shows nothing of the output and is run again with a 4 times longer timeout.
    const std::vector<std::pair<std::chrono::milliseconds, std::string>> timeouts = {
        {std::chrono::milliseconds(700), "0.7"},
        {std::chrono::milliseconds(2800), "2.8"},
        {std::chrono::milliseconds(11200), "11.2"}};
    for (const auto& [timeout, in_seconds] : timeouts) {
        PublishWorkload workload = fixture({"--never-listen"});
        workload.ready_timeout = timeout;
        const RunResult result = run(workload, dir.path());
        ASSERT_TRUE(result.error);
        const bool timed_out =
            result.error->find("not ready after " + in_seconds + " s") != std::string::npos;
        if (timed_out && result.error->find("it printed nothing") != std::string::npos &&
            timeout != timeouts.back().first) {
            std::printf("the server printed nothing within %s s: once more, longer\n",
                        in_seconds.c_str());
            continue;
        }
        EXPECT_TRUE(timed_out) << *result.error;
        EXPECT_NE(result.error->find("warming up forever"), std::string::npos) << *result.error;
        break;
    }
}

TEST(PublishWorkload, ServerExitingAtStart_ErrorShowsExitCodeAndOutput) {
    TempDir dir;
    PublishWorkload workload = fixture({"--no-such-flag"});
    const RunResult result = run(workload, dir.path());
    ASSERT_TRUE(result.error);
    EXPECT_NE(result.error->find("exited with code 2"), std::string::npos) << *result.error;
    EXPECT_NE(result.error->find("unknown argument --no-such-flag"), std::string::npos)
        << *result.error;
}

TEST(PublishWorkload, MissingServerExecutable_Throws) {
    TempDir dir;
    PublishWorkload workload;
    workload.server = {"./no-such-server", "--port", "{port}"};
    try {
        run(workload, dir.path());
        FAIL() << "expected an error";
    } catch (const Error& error) {
        EXPECT_EQ(error.kind(), ErrorKind::workload);
        EXPECT_NE(std::string(error.what()).find("no-such-server"), std::string::npos);
    }
}

TEST(PublishWorkload, ServerCrashingMidRun_FailsTheRunWithItsOutput) {
    TempDir dir;
    PublishWorkload workload = fixture({"--crash-after", "50"});
    workload.protocol = Protocol::http_keepalive;
    workload.request_timeout = std::chrono::seconds(2);
    const RunResult result = run(workload, dir.path());
    ASSERT_TRUE(result.error);
    EXPECT_NE(result.error->find("during the run"), std::string::npos) << *result.error;
    EXPECT_NE(result.error->find("crashing on request 50"), std::string::npos) << *result.error;
    EXPECT_TRUE(result.samples.empty());
}

TEST(PublishWorkload, Paced_ShowsAFreezeInTheTail_WhereBurstHidesIt) {
    TempDir dir;
    // One 300 ms stall at message 100. Open loop at 1,000 msg/s: about 300 messages fall due
    // during the stall, and their latency runs from when they were due. Closed loop: only the
    // one message in flight waits (coordinated omission), so the tail hardly moves.
    PublishWorkload paced = fixture({"--freeze-at", "100", "--freeze-ms", "300"});
    paced.protocol = Protocol::http_keepalive;
    paced.concurrency = 1;
    paced.count = 1000;
    paced.mode = PublishMode::paced;
    paced.rate = 1000;
    PublishWorkload burst = paced;
    burst.mode = PublishMode::burst;

    const RunResult paced_result = run(paced, dir.path());
    const RunResult burst_result = run(burst, dir.path());
    ASSERT_FALSE(paced_result.error) << *paced_result.error;
    ASSERT_FALSE(burst_result.error) << *burst_result.error;
    EXPECT_GE(*metric(paced_result, "latency_max_ms"), 250.0);
    EXPECT_GE(*metric(paced_result, "latency_p99_ms"), 100.0);
    EXPECT_GE(*metric(burst_result, "latency_max_ms"), 250.0);
    EXPECT_LT(*metric(burst_result, "latency_p99_ms"), *metric(paced_result, "latency_p99_ms"));
    EXPECT_TRUE(metric(paced_result, "send_lag_p99_ms"));
    EXPECT_FALSE(metric(burst_result, "send_lag_p99_ms"));
}

TEST(PublishWorkload, Paced_AFreezeLongerThanTheRequestTimeout_ShowsInP99AndMax) {
    TempDir dir;
    // The server freezes at message 190 of 200 for far longer than the 1 s request timeout, so
    // no message after it gets a reply and there is no backlog of late replies to show the
    // freeze: only the timed-out messages themselves can. They are errors and, timed from when
    // they were due, at least 1 s each: 10 of 200 messages put p99 and max at 1 s or more, where
    // the answered ones are far under it. Were timed-out messages left out of the latencies, p99
    // would be an answered message's. The rate (200/s) and the long timeout leave a slow, loaded
    // machine (ASan) a wide margin: a late ordinary reply is not mistaken for a timeout.
    PublishWorkload workload = fixture({"--freeze-at", "190", "--freeze-ms", "5000"});
    workload.protocol = Protocol::http_keepalive;
    workload.concurrency = 4;
    workload.count = 200;
    workload.mode = PublishMode::paced;
    workload.rate = 200;
    workload.request_timeout = std::chrono::seconds(1);
    const RunResult result = run(workload, dir.path());
    ASSERT_FALSE(result.error) << *result.error;
    // The fixture numbers requests as they arrive, and four connections may deliver 189 after
    // 190: so "at least 10".
    EXPECT_GE(*metric(result, "errors_timeout"), 10);
    EXPECT_EQ(*metric(result, "errors_timeout") + *metric(result, "success"), 200);
    EXPECT_GE(*metric(result, "latency_p99_ms"), 1000.0);
    EXPECT_GE(*metric(result, "latency_max_ms"), 1000.0);
    // Most messages were answered: the median is one of them, below the timeout.
    EXPECT_LT(*metric(result, "latency_p50_ms"), 1000.0);
}

// A paced soak of 3 s at 200 messages/s whose server freezes for 1.5 s at message 560 (2.8 s in):
// 600 messages; ten windows that each hold latencies and RSS samples; the freeze in the last
// window's p99, where the messages due in it waited (over 1 s), not in whichever window their
// backlog completed; latency_p99_drift_pct far above 0 (the last tenth against the first: a host
// stutter of a few hundred ms in the first cannot close that gap); the group's RSS and CPU time.
TEST(PublishWorkload, PacedSoak_AFreezeInTheLastTenth_IsItsP99_AndTheDrift) {
    TempDir dir;
    PublishWorkload workload = fixture({"--freeze-at", "560", "--freeze-ms", "1500"});
    workload.protocol = Protocol::http_keepalive;
    workload.mode = PublishMode::paced;
    workload.rate = 200;
    workload.duration = std::chrono::seconds(3);
    ASSERT_EQ(workload.messages(), 600U);
    const RunResult result = run(workload, dir.path());
    ASSERT_FALSE(result.error) << *result.error;
    EXPECT_EQ(metric(result, "success"), 600);
    ASSERT_EQ(result.windows.size(), 10U);
    for (const SoakWindow& window : result.windows) {
        ASSERT_TRUE(window.latency_p99_ms) << "window from " << window.start_s << " s";
        ASSERT_TRUE(window.rss_kb) << "window from " << window.start_s << " s";
        EXPECT_GT(*window.rss_kb, 0);
        EXPECT_EQ(window.errors, 0U);
    }
    EXPECT_GE(*result.windows.back().latency_p99_ms, 1000.0);
    EXPECT_LT(*result.windows.front().latency_p99_ms, 500.0);
    ASSERT_TRUE(metric(result, "latency_p99_drift_pct"));
    EXPECT_GT(*metric(result, "latency_p99_drift_pct"), 100.0);
    EXPECT_GT(*metric(result, "rss_start_kb"), 0);
    EXPECT_TRUE(metric(result, "rss_growth_kb_per_min"));
    EXPECT_TRUE(metric(result, "cpu_s"));
}

TEST(PublishWorkload, NoServerProcessOutlivesItsRun) {
    TempDir dir;
    const std::filesystem::path pid_file = dir / "server.pid";
    PublishWorkload workload;
    // exec keeps the shell's pid, so the file names the server itself.
    workload.server = {"/bin/sh", "-c",
                       "echo $$ > server.pid; exec " + std::string(PUBLISH_SERVER_FIXTURE) +
                           " --port {port}"};
    workload.count = 20;
    const RunResult result = run(workload, dir.path());
    ASSERT_FALSE(result.error) << *result.error;
    const pid_t pid = std::stoi(abtool::testing::read_file(pid_file));
    errno = 0;
    EXPECT_EQ(::kill(pid, 0), -1);
    EXPECT_EQ(errno, ESRCH);
}

TEST(PublishWorkload, Interrupt_EndsTheLoadAndSaysSo) {
    TempDir dir;
    PublishWorkload workload = fixture({});
    workload.mode = PublishMode::paced;
    workload.rate = 20; // 1,000 messages would take 50 s
    workload.count = 1000;
    std::thread interrupter([] {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        request_stop();
    });
    const RunResult result = run(workload, dir.path());
    interrupter.join();
    clear_stop_request();
    ASSERT_TRUE(result.error);
    EXPECT_NE(result.error->find("interrupted"), std::string::npos) << *result.error;
    EXPECT_TRUE(result.interrupted);
}

TEST(PublishWorkload, StopRequestedAfterTheLoadFinished_KeepsTheRun) {
    // A stop that lands once every message was answered (here: while the server is being
    // stopped) cut nothing short: the run is a measurement, neither interrupted nor an error.
    TempDir dir;
    clear_stop_request();
    PublishWorkload workload;
    // The server ignores SIGTERM (SIG_IGN survives exec), so stopping it takes the whole grace
    // period; its shell marks when the stop began, which is after the load ended.
    workload.server = {"/bin/sh", "-c",
                       "(trap '' TERM; exec " + std::string(PUBLISH_SERVER_FIXTURE) +
                           " --port {port}) & trap 'touch stopping' TERM; "
                           "while kill -0 $! 2>/dev/null; do sleep 0.05; done"};
    workload.count = 20;
    std::thread interrupter([&] {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (!std::filesystem::exists(dir / "stopping") &&
               std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        request_stop();
    });
    const RunResult result = run(workload, dir.path());
    interrupter.join();
    clear_stop_request();
    ASSERT_TRUE(std::filesystem::exists(dir / "stopping")) << "the server was never stopped";
    ASSERT_FALSE(result.error) << *result.error;
    EXPECT_FALSE(result.interrupted);
    EXPECT_TRUE(metric(result, "latency_p50_ms"));
    EXPECT_EQ(*metric(result, "success"), 20);
}

} // namespace
} // namespace abtool::runners
