// Stream workloads against a real streaming server on 127.0.0.1 (stream_server_fixture, built
// beside this test, which emits on an absolute schedule): every protocol counts chunks exactly; a
// fixed pace shows as no overhead and a pipeline adding time to every chunk as overhead; a dropped
// chunk, a stream closed mid-way and a stalled one count their lost chunks and errors; a slow
// cold start stays out of the warm first-chunk latencies; a server that sends nothing fails the
// run with the reason. The timing checks use effects of 10 ms and more per chunk, averaged over
// tens of chunks, against bounds that a 100 ms stall of this machine stays inside.
#include "abtool/runners.hpp"
#include "runners/publish/load_generator.hpp"
#include "runners/publish/soak.hpp"
#include "runners/publish/stream_client.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace abtool::runners {
namespace {

using abtool::testing::TempDir;

StreamWorkload fixture(std::vector<std::string> extra_args) {
    StreamWorkload workload;
    workload.server = {STREAM_SERVER_FIXTURE, "--port", "{port}"};
    workload.server.insert(workload.server.end(), extra_args.begin(), extra_args.end());
    workload.path = "/v1/completions";
    workload.payload = R"({"max_tokens": 30, "session": {seq}})";
    workload.expect_chunks = 30;
    workload.sessions = 2;
    workload.session_count = 4;
    workload.ready_timeout = std::chrono::seconds(20);
    workload.request_timeout = std::chrono::seconds(20);
    workload.chunk_timeout = std::chrono::seconds(20);
    return workload;
}

RunResult run(const StreamWorkload& workload, const std::filesystem::path& dir) {
    RunContext context;
    context.worktree = dir;
    context.label = "ref 'test'";
    return run_workload(Workload{"tokens", workload}, context);
}

std::optional<double> metric(const RunResult& result, const std::string& name) {
    for (const Sample& sample : result.samples) {
        if (sample.metric == name) {
            return sample.value;
        }
    }
    return std::nullopt;
}

// The fixture's chunk i, as a WebSocket message: {"seq": i, "token": "t<i>"}.
std::size_t chunk_bytes(std::size_t chunks) {
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < chunks; ++i) {
        bytes += std::string(R"({"seq": , "token": "t"})").size() + 2 * std::to_string(i).size();
    }
    return bytes;
}

TEST(StreamSeq, ReadFromTheChunk_NotParsed) {
    EXPECT_EQ(publish::seq_of(R"({"seq": 17, "token": "x"})"), 17);
    EXPECT_EQ(publish::seq_of(R"({"token":"x","seq":3})"), 3);
    EXPECT_EQ(publish::seq_of(R"({"token": "x"})"), std::nullopt);
    EXPECT_EQ(publish::seq_of(R"({"seq": "a"})"), std::nullopt);
    EXPECT_EQ(publish::seq_of(R"({"seq": 99999999999999999999999})"), std::nullopt);
}

TEST(StreamWorkload, Ndjson_FixedPace_EveryChunk_NoOverhead) {
    TempDir dir;
    StreamWorkload workload = fixture({"--period-ms", "20"});
    workload.period_ms = 20;
    const RunResult result = run(workload, dir.path());
    ASSERT_FALSE(result.error) << *result.error;
    EXPECT_EQ(metric(result, "chunks_received"), 120);
    EXPECT_EQ(metric(result, "chunks_lost"), 0);
    EXPECT_EQ(metric(result, "errors"), 0);
    EXPECT_EQ(metric(result, "sessions_ok"), 4);
    // The server keeps an exact schedule: the mean gap is its period, whatever one late chunk.
    ASSERT_TRUE(metric(result, "overhead_ms"));
    EXPECT_LT(std::abs(*metric(result, "overhead_ms")), 4.0);
    EXPECT_NEAR(*metric(result, "interval_mean_ms"), 20.0, 4.0);
    EXPECT_NEAR(*metric(result, "interval_p50_ms"), 20.0, 4.0);
    for (const char* name :
         {"first_chunk_p50_ms", "first_chunk_p95_ms", "first_chunk_p99_ms", "cold_first_chunk_ms",
          "interval_p95_ms", "interval_p99_ms", "jitter_p95_ms", "e2e_p50_ms", "e2e_p95_ms",
          "throughput_chunks_per_s", "bytes_in", "bytes_out"}) {
        EXPECT_TRUE(metric(result, name)) << name;
    }
    // A session is 29 gaps of 20 ms after its first chunk.
    EXPECT_GT(*metric(result, "e2e_p50_ms"), 29 * 20 - 5);
    for (const Sample& sample : result.samples) {
        const bool gated =
            sample.metric == "first_chunk_p50_ms" || sample.metric == "interval_mean_ms";
        EXPECT_EQ(sample.gate == Gate::yes, gated) << sample.metric;
    }
}

TEST(StreamWorkload, APipelineAddingTimeToEveryChunk_ShowsAsOverhead) {
    TempDir dir;
    StreamWorkload workload = fixture({"--period-ms", "10", "--extra-ms-per-chunk", "10"});
    workload.period_ms = 10;
    const RunResult result = run(workload, dir.path());
    ASSERT_FALSE(result.error) << *result.error;
    EXPECT_EQ(metric(result, "chunks_lost"), 0);
    ASSERT_TRUE(metric(result, "overhead_ms"));
    EXPECT_GT(*metric(result, "overhead_ms"), 6.0);
    EXPECT_LT(*metric(result, "overhead_ms"), 14.0);
    EXPECT_NEAR(*metric(result, "interval_mean_ms"), 20.0, 4.0);
    // No period given: the jitter is measured against the median gap instead, and there is no
    // overhead to report.
    workload.period_ms.reset();
    const RunResult unpaced = run(workload, dir.path());
    ASSERT_FALSE(unpaced.error) << *unpaced.error;
    EXPECT_FALSE(metric(unpaced, "overhead_ms"));
    EXPECT_TRUE(metric(unpaced, "jitter_p95_ms"));
}

TEST(StreamWorkload, ADroppedChunk_IsOneLost_FromTheSeqGap) {
    TempDir dir;
    StreamWorkload workload =
        fixture({"--period-ms", "2", "--drop-seq", "7", "--drop-session", "2"});
    const RunResult result = run(workload, dir.path());
    ASSERT_FALSE(result.error) << *result.error;
    EXPECT_EQ(metric(result, "chunks_received"), 119);
    EXPECT_EQ(metric(result, "chunks_lost"), 1);
    EXPECT_EQ(metric(result, "errors"), 0); // the stream itself ended properly
}

TEST(StreamWorkload, ASlowColdStart_IsKeptApartFromTheWarmSessions) {
    TempDir dir;
    StreamWorkload workload = fixture({"--period-ms", "2", "--cold-first-ms", "400"});
    workload.sessions = 1;
    workload.session_count = 5;
    const RunResult result = run(workload, dir.path());
    ASSERT_FALSE(result.error) << *result.error;
    ASSERT_TRUE(metric(result, "cold_first_chunk_ms"));
    EXPECT_GE(*metric(result, "cold_first_chunk_ms"), 400.0);
    // The warm sessions' first chunks come at once; even their p99 is far below the cold one.
    EXPECT_LT(*metric(result, "first_chunk_p99_ms"), *metric(result, "cold_first_chunk_ms") - 250);
    EXPECT_EQ(metric(result, "chunks_lost"), 0);
}

TEST(StreamWorkload, Sse_EveryEvent_DoneNotCounted) {
    TempDir dir;
    StreamWorkload workload = fixture({"--protocol", "sse", "--period-ms", "2"});
    workload.protocol = StreamProtocol::sse;
    const RunResult result = run(workload, dir.path());
    ASSERT_FALSE(result.error) << *result.error;
    EXPECT_EQ(metric(result, "chunks_received"), 120);
    EXPECT_EQ(metric(result, "chunks_lost"), 0);
    EXPECT_EQ(metric(result, "errors"), 0);
}

TEST(StreamWorkload, WebSocket_EveryMessage_PayloadBytesExact) {
    TempDir dir;
    StreamWorkload workload = fixture({"--protocol", "websocket", "--period-ms", "2"});
    workload.protocol = StreamProtocol::websocket;
    const RunResult result = run(workload, dir.path());
    ASSERT_FALSE(result.error) << *result.error;
    EXPECT_EQ(metric(result, "chunks_received"), 120);
    EXPECT_EQ(metric(result, "chunks_lost"), 0);
    EXPECT_EQ(metric(result, "errors"), 0);
    EXPECT_EQ(metric(result, "bytes_in"), static_cast<double>(4 * chunk_bytes(30)));
    std::size_t sent = 0;
    for (int session = 0; session < 4; ++session) {
        sent += publish::render_payload(workload.payload, static_cast<std::size_t>(session)).size();
    }
    EXPECT_EQ(metric(result, "bytes_out"), static_cast<double>(sent));
}

TEST(StreamWorkload, AStreamClosedMidWay_CountsItsLostChunksAndAnError) {
    for (const char* protocol : {"ndjson", "websocket"}) {
        TempDir dir;
        StreamWorkload workload =
            fixture({"--protocol", protocol, "--period-ms", "2", "--close-after", "10"});
        workload.protocol = std::string(protocol) == "ndjson" ? StreamProtocol::http_ndjson
                                                              : StreamProtocol::websocket;
        const RunResult result = run(workload, dir.path());
        ASSERT_FALSE(result.error) << protocol << ": " << *result.error;
        EXPECT_EQ(metric(result, "chunks_received"), 40) << protocol;
        EXPECT_EQ(metric(result, "chunks_lost"), 80) << protocol;
        EXPECT_EQ(metric(result, "errors"), 4) << protocol;
        EXPECT_EQ(metric(result, "sessions_ok"), 0) << protocol;
    }
}

TEST(StreamWorkload, AStalledStream_HitsChunkTimeout) {
    TempDir dir;
    StreamWorkload workload = fixture({"--period-ms", "2", "--stall-after", "5"});
    workload.chunk_timeout = std::chrono::milliseconds(400);
    workload.session_count = 2;
    const auto began = std::chrono::steady_clock::now();
    const RunResult result = run(workload, dir.path());
    ASSERT_FALSE(result.error) << *result.error;
    EXPECT_EQ(metric(result, "chunks_received"), 10);
    EXPECT_EQ(metric(result, "chunks_lost"), 50);
    EXPECT_EQ(metric(result, "errors"), 2);
    // Each session waits chunk_timeout once, not the fixture's hour.
    EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(60));
}

TEST(StreamWorkload, NoChunkAtAll_FailsTheRun_SayingWhy) {
    TempDir dir;
    StreamWorkload workload = fixture({"--stall-after", "0"});
    workload.request_timeout = std::chrono::milliseconds(300);
    workload.session_count = 2;
    const RunResult result = run(workload, dir.path());
    ASSERT_TRUE(result.error);
    EXPECT_TRUE(result.samples.empty());
    EXPECT_NE(result.error->find("no session got a chunk"), std::string::npos) << *result.error;
    EXPECT_NE(result.error->find("request_timeout"), std::string::npos) << *result.error;
}

TEST(StreamWorkload, TheWrongProtocol_IsABadReply) {
    TempDir dir;
    StreamWorkload workload = fixture({"--protocol", "websocket"});
    workload.protocol = StreamProtocol::http_ndjson; // a POST to a WebSocket server: 400
    const RunResult result = run(workload, dir.path());
    ASSERT_TRUE(result.error);
    EXPECT_NE(result.error->find("HTTP status 400"), std::string::npos) << *result.error;
}

} // namespace
} // namespace abtool::runners

namespace abtool::runners {
namespace {

// The soak summary on a made-up timeline, exactly: RSS climbing 600 kB a minute with one spike
// (Theil-Sen ignores it), the last tenth's p99 twice the first's, errors in their windows.
TEST(Soak, Summary_And_Windows_OfAKnownTimeline) {
    publish::SoakTimeline timeline;
    timeline.duration_s = 100;
    for (int second = 0; second <= 100; ++second) {
        const std::int64_t rss = 10000 + 10 * second + (second == 50 ? 50000 : 0);
        timeline.group.push_back({static_cast<double>(second), rss, 0.01 * second});
    }
    for (int i = 0; i < 100; ++i) {
        const double at = i + 0.5;
        timeline.latencies.push_back({at, at < 10 ? 2.0 : (at > 90 ? 4.0 : 3.0)});
    }
    timeline.errors_at_s = {5, 95, 96};
    RunResult result;
    publish::add_soak(timeline, result);
    const auto value = [&](const std::string& name) -> std::optional<double> {
        for (const Sample& sample : result.samples) {
            if (sample.metric == name) {
                EXPECT_EQ(sample.gate, Gate::no) << name;
                return sample.value;
            }
        }
        return std::nullopt;
    };
    EXPECT_EQ(value("rss_start_kb"), 10000);
    EXPECT_EQ(value("rss_end_kb"), 11000);
    EXPECT_NEAR(*value("rss_growth_kb_per_min"), 600, 1e-9);
    EXPECT_NEAR(*value("cpu_s"), 1.0, 1e-9);
    EXPECT_NEAR(*value("latency_p99_drift_pct"), 100.0, 1e-9);
    ASSERT_EQ(result.windows.size(), 10U);
    EXPECT_EQ(result.windows[0].start_s, 0);
    EXPECT_EQ(result.windows[9].end_s, 100);
    EXPECT_EQ(result.windows[0].errors, 1U);
    EXPECT_EQ(result.windows[9].errors, 2U);
    // A window's RSS is its largest sample: window 5 (seconds 50 to 59) has the spike, window 6
    // its own last sample.
    EXPECT_EQ(result.windows[5].rss_kb, 10000 + 10 * 50 + 50000);
    EXPECT_EQ(result.windows[6].rss_kb, 10000 + 10 * 69);
    EXPECT_EQ(result.windows[5].latency_p50_ms, 3.0);
}

// A server that leaks on every chunk, under a 20 s soak: its group's RSS climbs and the windows
// show the climb; the same server without the leak stays flat (over a shorter soak).
TEST(StreamWorkload, ASoakOfALeakingServer_ShowsItsRssGrowing) {
    TempDir dir;
    StreamWorkload workload = fixture({"--period-ms", "5", "--leak-kb-per-chunk", "20"});
    workload.expect_chunks = 30;
    workload.sessions = 2;
    workload.duration = std::chrono::seconds(20);
    const RunResult leaking = run(workload, dir.path());
    ASSERT_FALSE(leaking.error) << *leaking.error;
    ASSERT_TRUE(metric(leaking, "rss_growth_kb_per_min"));
    // 2 sessions x 200 chunks/s x 20 kB: about 480 MB a minute when the machine keeps the pace;
    // a tenth of that even when it does not.
    EXPECT_GT(*metric(leaking, "rss_growth_kb_per_min"), 48000);
    EXPECT_GT(*metric(leaking, "rss_end_kb"), *metric(leaking, "rss_start_kb") + 10000);
    ASSERT_EQ(leaking.windows.size(), 10U);
    for (const SoakWindow& window : leaking.windows) {
        ASSERT_TRUE(window.rss_kb) << "every window holds samples (one every 400 ms)";
    }
    EXPECT_GT(*leaking.windows.back().rss_kb, *leaking.windows.front().rss_kb + 10000);
    EXPECT_TRUE(metric(leaking, "cpu_s"));
    EXPECT_EQ(metric(leaking, "chunks_lost"), 0);

    workload.server = {STREAM_SERVER_FIXTURE, "--port", "{port}", "--period-ms", "5"};
    workload.duration = std::chrono::seconds(4);
    const RunResult flat = run(workload, dir.path());
    ASSERT_FALSE(flat.error) << *flat.error;
    EXPECT_LT(*metric(flat, "rss_growth_kb_per_min"), 4800);
}

} // namespace
} // namespace abtool::runners
