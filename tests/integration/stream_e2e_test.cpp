// Stream workloads through the real abtool binary. A temporary git repository's server is
// stream_server_fixture (a real streaming server on 127.0.0.1), started by a script whose flags
// each commit changes: a pipeline that adds 5 ms to every chunk is regressed on interval_mean_ms
// and breaks overhead_ms_max; a server that drops one chunk is slo-violated on chunks_lost with
// no slo table at all (zero tolerance by default), and passes once loss_max allows it. The loss
// test takes timing out of the verdicts (a 99% threshold, which two identical servers' timings
// do not reach): its exit code rests on the chunk counts.
#include "tests/support/json_report.hpp"
#include "tests/support/shell.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_repo.hpp"

#include <gtest/gtest.h>

namespace abtool::testing {
namespace {

std::string serve_script(const std::string& flags) {
    return "exec " + quote(STREAM_SERVER_FIXTURE) + " --port \"$1\" " + flags + "\n";
}

std::string config(const std::string& threshold, const std::string& slo) {
    return "[run]\n"
           "rounds = 6\n"
           "warmup = 1\n"
           "threshold = \"" +
           threshold +
           "\"\n"
           "[[workload]]\n"
           "name = \"tokens\"\n"
           "kind = \"stream\"\n"
           "schedule = \"alternate\"\n"
           "server = [\"sh\", \"./serve.sh\", \"{port}\"]\n"
           "ready_path = \"/health\"\n"
           "ready_timeout = \"20s\"\n"
           "path = \"/v1/completions\"\n"
           "payload = '{\"max_tokens\": 20}'\n"
           "expect_chunks = 20\n"
           "period_ms = 5\n"
           "sessions = 2\n"
           "session_count = 3\n" +
           slo;
}

class StreamEndToEnd : public ::testing::Test {
protected:
    StreamEndToEnd() : m_repo(m_dir / "repo") {
        m_repo.write(".gitignore", "results.csv\n");
        m_repo.write("serve.sh", serve_script("--period-ms 5"));
    }

    // Runs abtool with `--json` to a report outside the repository.
    ShellResult abtool(const std::string& args) const {
        return shell("cd " + quote(m_repo.root().string()) + " && CI=true " + quote(ABTOOL_BINARY) +
                     " " + args + " --json " + quote((m_dir / "report.json").string()));
    }
    JsonReport report() const { return JsonReport(m_dir / "report.json"); }

    TempDir m_dir;
    TestRepo m_repo;
};

TEST_F(StreamEndToEnd, TimeAddedToEveryChunk_IsRegressed_AndBreaksTheOverheadSlo_Exit1) {
    m_repo.write("abtool.toml", config("5%", "[workload.slo]\noverhead_ms_max = 2.5\n"));
    m_repo.commit("v1");
    m_repo.tag("v1");
    // 5 ms more per chunk on a 5 ms pace: the interval doubles.
    m_repo.write("serve.sh", serve_script("--period-ms 5 --extra-ms-per-chunk 5"));
    m_repo.commit("v2: a slower pipeline");
    m_repo.tag("v2");

    const ShellResult result = abtool("--ref-a v1 --ref-b v2");
    EXPECT_EQ(result.status, 1) << result.output;
    const JsonReport json = report();
    EXPECT_EQ(json.verdict("tokens", "", "interval_mean_ms"), "regressed") << json.summary();
    EXPECT_TRUE(json.gated("tokens", "", "interval_mean_ms"));
    EXPECT_TRUE(json.gated("tokens", "", "first_chunk_p50_ms"));
    EXPECT_EQ(json.verdict("tokens", "", "overhead_ms"), "slo-violated") << json.summary();
    EXPECT_NE(result.output.find("overhead_ms_max"), std::string::npos) << result.output;
    EXPECT_NE(json.verdict("tokens", "", "chunks_lost"), "slo-violated") << json.summary();
    for (const char* metric :
         {"first_chunk_p95_ms", "first_chunk_p99_ms", "cold_first_chunk_ms", "interval_p50_ms",
          "interval_p95_ms", "interval_p99_ms", "jitter_p95_ms", "e2e_p50_ms", "e2e_p95_ms",
          "chunks_received", "throughput_chunks_per_s", "bytes_in", "bytes_out", "errors"}) {
        EXPECT_TRUE(json.has_row("tokens", "", metric)) << metric << "\n" << json.summary();
    }
    const std::string csv = read_file(m_repo.root() / "results.csv");
    EXPECT_NE(csv.find(",stream,"), std::string::npos) << csv.substr(0, 400);
}

TEST_F(StreamEndToEnd, OneDroppedChunk_IsSloViolated_WithoutAnySloTable) {
    m_repo.write("abtool.toml", config("99%", ""));
    m_repo.commit("v1");
    m_repo.tag("v1");
    m_repo.write("serve.sh", serve_script("--period-ms 5 --drop-seq 4 --drop-session 1"));
    m_repo.commit("v2: loses a token of its second session");
    m_repo.tag("v2");

    const ShellResult lossy = abtool("--ref-a v1 --ref-b v2");
    EXPECT_EQ(lossy.status, 1) << lossy.output;
    EXPECT_EQ(report().verdict("tokens", "", "chunks_lost"), "slo-violated") << report().summary();
    EXPECT_NE(lossy.output.find("chunks_lost 1 > loss_max 0"), std::string::npos) << lossy.output;

    // The same loss is within loss_max = 1; A against itself loses nothing.
    m_repo.write("abtool.toml", config("99%", "[workload.slo]\nloss_max = 1\n"));
    const ShellResult allowed = abtool("--ref-a v2 --ref-b CURRENT");
    EXPECT_EQ(allowed.status, 0) << allowed.output;
    EXPECT_NE(report().verdict("tokens", "", "chunks_lost"), "slo-violated") << report().summary();
    const ShellResult clean = abtool("--ref-a v1 --ref-b v1");
    EXPECT_EQ(clean.status, 0) << clean.output;
}

// A soak: sessions back to back for 2 s a run, the server's process group sampled every 50 ms.
// v2 leaks 20 kB on every chunk it sends: its rss_growth_kb_per_min breaks the SLO (exit 1), while
// v1's runs stay far below it; every soak run's ten windows are in samples.jsonl and drawn in the
// HTML report, and `abtool analyze` reads that file back to the same verdicts.
TEST_F(StreamEndToEnd, ALeakUnderASoak_BreaksTheRssGrowthSlo_WindowsInSamples) {
    const std::string soak = "[run]\nrounds = 2\nwarmup = 0\nthreshold = \"99%\"\n"
                             "[[workload]]\nname = \"tokens\"\nkind = \"stream\"\n"
                             "schedule = \"alternate\"\n"
                             "server = [\"sh\", \"./serve.sh\", \"{port}\"]\n"
                             "ready_path = \"/health\"\nready_timeout = \"20s\"\n"
                             "payload = '{\"max_tokens\": 30}'\nexpect_chunks = 30\nperiod_ms = 5\n"
                             "sessions = 2\nduration = \"2s\"\n"
                             "[workload.slo]\nrss_growth_kb_per_min_max = 20000\n";
    m_repo.write("abtool.toml", soak);
    m_repo.commit("v1");
    m_repo.tag("v1");
    m_repo.write("serve.sh", serve_script("--period-ms 5 --leak-kb-per-chunk 20"));
    m_repo.commit("v2: leaks on every token");
    m_repo.tag("v2");

    const std::filesystem::path html = m_dir / "soak.html";
    const ShellResult leaking = abtool("--ref-a v1 --ref-b v2 --html " + quote(html.string()));
    EXPECT_EQ(leaking.status, 1) << leaking.output;
    const JsonReport json = report();
    EXPECT_EQ(json.verdict("tokens", "", "rss_growth_kb_per_min"), "slo-violated")
        << json.summary();
    for (const nlohmann::json& value :
         json.row("tokens", "", "rss_growth_kb_per_min").at("a_values")) {
        EXPECT_LT(value.get<double>(), 20000) << "v1 does not leak\n" << json.summary();
    }
    for (const char* metric : {"rss_start_kb", "rss_end_kb", "cpu_s", "latency_p99_drift_pct"}) {
        EXPECT_TRUE(json.has_row("tokens", "", metric)) << metric << "\n" << json.summary();
    }
    const std::string run_dir = json.json().at("run_dir").get<std::string>();
    const std::string samples = read_file(std::filesystem::path(run_dir) / "samples.jsonl");
    std::size_t windows = 0;
    for (std::size_t at = samples.find("\"window\":"); at != std::string::npos;
         at = samples.find("\"window\":", at + 1)) {
        ++windows;
    }
    const std::size_t rounds = json.json().at("rounds").get<std::size_t>();
    EXPECT_EQ(windows, 2 * rounds * 10) << "ten windows for each soak run on each side";
    const std::string page = read_file(html);
    EXPECT_NE(page.find("<h2>Soak</h2>"), std::string::npos);
    EXPECT_NE(page.find("aria-label=\"server RSS over the run\""), std::string::npos);
    const ShellResult analyzed = abtool("analyze " + quote(run_dir));
    EXPECT_EQ(analyzed.status, 1) << analyzed.output;
    EXPECT_EQ(report().verdict("tokens", "", "rss_growth_kb_per_min"), "slo-violated");
}

} // namespace
} // namespace abtool::testing
