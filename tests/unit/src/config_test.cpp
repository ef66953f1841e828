// abtool.toml parsing: every accepted form and every error of issue 2, each naming file and line.
#include "abtool/error.hpp"
#include "src/core/config.hpp"
#include "src/results/primary_key.hpp"

#include <gtest/gtest.h>

#include <string>

namespace abtool {
namespace {

const std::filesystem::path k_file = "/repo/abtool.toml";

constexpr const char* k_design_example = R"toml(
[build]
command = ["make", "-s"]

[run]
rounds = 20
warmup = 1
seed = 1
threshold = "2%"
confidence = 0.95

[results]
file = "results.csv"

[[workload]]
name = "startup"
kind = "command"
command = ["./app", "--version"]

[[workload]]
name = "hotpath"
kind = "hotpath"
command = ["./bench", "--benchmark_format=json"]
format = "gbench"
metric = "real_time"

[[workload]]
name = "publish"
kind = "publish"
server = ["./server", "--port", "{port}"]
protocol = "http"
path = "/publish"
payload = '{"seq": {seq}}'
mode = "burst"
count = 2000
concurrency = 4
[workload.slo]
p99_ms = 5.0
throughput_rps_min = 1000
error_rate_max = 0.0
)toml";

// The Error a config text raises, or a test failure when it raises none.
Error error_of(const std::string& text) {
    try {
        parse_config(text, k_file);
    } catch (const Error& error) {
        return error;
    }
    ADD_FAILURE() << "no error for:\n" << text;
    return Error(ErrorKind::usage, "");
}

std::string with_workload(const std::string& run_section, const std::string& workload) {
    return run_section + "\n[[workload]]\n" + workload;
}

TEST(Config, DesignExample_ParsesEveryField) {
    const Config config = parse_config(k_design_example, k_file);
    EXPECT_EQ(config.build.argv, (std::vector<std::string>{"make", "-s"}));
    EXPECT_EQ(config.run.rounds, 20u);
    EXPECT_EQ(config.run.seed, 1u);
    EXPECT_DOUBLE_EQ(config.run.threshold, 0.02);
    EXPECT_EQ(config.results_file, "/repo/results.csv");
    ASSERT_EQ(config.workloads.size(), 3u);
    EXPECT_EQ(config.workloads[0].kind(), "command");
    const auto& hotpath = std::get<runners::HotpathWorkload>(config.workloads[1].workload.spec);
    EXPECT_EQ(hotpath.format, runners::HotpathFormat::gbench);
    EXPECT_EQ(hotpath.metrics, std::vector<std::string>{"real_time"});
    const auto& publish = std::get<runners::PublishWorkload>(config.workloads[2].workload.spec);
    EXPECT_EQ(publish.count, 2000u);
    EXPECT_EQ(publish.payload, R"({"seq": {seq}})");
    EXPECT_EQ(config.workloads[2].slo.p99_ms, 5.0);
    EXPECT_EQ(config.workloads[2].slo.throughput_rps_min, 1000.0);
}

TEST(Config, UnknownKey_NamesFileLineAndSuggestion) {
    const Error error = error_of(with_workload("", "name = \"x\"\nkind = \"command\"\n"
                                                   "comand = [\"./app\"]\n"));
    EXPECT_EQ(error.kind(), ErrorKind::config);
    EXPECT_EQ(exit_code_for(error.kind()), 2);
    const std::string message = error.what();
    EXPECT_NE(message.find("/repo/abtool.toml:5"), std::string::npos) << message;
    EXPECT_NE(message.find("unknown key 'comand'"), std::string::npos) << message;
    EXPECT_NE(message.find("did you mean 'command'"), std::string::npos) << message;
}

TEST(Config, UnknownTopLevelAndRunKeys_AreErrors) {
    EXPECT_NE(std::string(error_of("[runs]\nrounds = 3\n").what()).find("unknown key 'runs'"),
              std::string::npos);
    const Error error = error_of(
        with_workload("[run]\nround = 3\n", "name=\"x\"\nkind=\"command\"\ncommand=[\"a\"]\n"));
    EXPECT_NE(std::string(error.what()).find(":2: [run] unknown key 'round'"), std::string::npos)
        << error.what();
}

TEST(Config, WrongType_NamesKeyAndLine) {
    const Error error = error_of(with_workload("[run]\nrounds = \"twenty\"\n",
                                               "name=\"x\"\nkind=\"command\"\ncommand=[\"a\"]\n"));
    EXPECT_NE(std::string(error.what()).find(":2: [run] 'rounds' must be an integer"),
              std::string::npos)
        << error.what();
    const Error argv_error =
        error_of(with_workload("", "name=\"x\"\nkind=\"command\"\ncommand=\"./app --flag\"\n"));
    EXPECT_NE(std::string(argv_error.what()).find("'command' must be a non-empty array"),
              std::string::npos)
        << argv_error.what();
}

// Values that used to pass the config and fail later naming nothing, or not fail at all.
TEST(Config, SlipThroughs_EmptyProgramNulAndControlCharacters_NameTheLine) {
    const struct {
        std::string workload;
        std::string message;
    } cases[] = {
        {"name=\"x\"\nkind=\"command\"\ncommand=[\"\"]\n",
         ":5: [[workload]] 'x': 'command' starts with an empty program name"},
        {"name=\"x\"\nkind=\"command\"\nshell=\" \"\n",
         ":5: [[workload]] 'x': 'shell' is empty: nothing to run"},
        {"name=\"x\"\nkind=\"command\"\ncommand=[\"./app.sh\\u0000--evil\"]\n",
         ":5: 'workload[0].command[0]' contains a NUL character (\\u0000)"},
        {"name=\"x\\u0000y\"\nkind=\"command\"\ncommand=[\"a\"]\n",
         ":3: 'workload[0].name' contains a NUL character"},
        {"name=\"x\"\nkind=\"command\"\ncommand=[\"a\"]\nenv={ A = \"1\\u0000\" }\n",
         ":6: 'workload[0].env.A' contains a NUL character"},
        {"name=\"x\\ty\"\nkind=\"command\"\ncommand=[\"a\"]\n",
         ":3: [[workload]] #1: 'name' contains control character 0x09"},
        {"name=\"x\\u001b[31m\"\nkind=\"command\"\ncommand=[\"a\"]\n",
         "'name' contains control character 0x1b"},
    };
    for (const auto& bad : cases) {
        SCOPED_TRACE(bad.workload);
        const Error error = error_of(with_workload("", bad.workload));
        EXPECT_EQ(error.kind(), ErrorKind::config);
        EXPECT_NE(std::string(error.what()).find(bad.message), std::string::npos) << error.what();
        EXPECT_EQ(std::string(error.what()).find('\0'), std::string::npos)
            << "the message itself must not carry the NUL";
    }
    // An empty argument after the program is an argument, and a metric list is not a command.
    EXPECT_NO_THROW(parse_config(
        with_workload("", "name=\"x\"\nkind=\"command\"\ncommand=[\"a\", \"\"]\n"), k_file));
}

TEST(Config, MissingCommand_IsAnError) {
    const Error error = error_of(with_workload("", "name = \"startup\"\nkind = \"command\"\n"));
    EXPECT_NE(std::string(error.what()).find("'startup': missing 'command'"), std::string::npos)
        << error.what();
}

TEST(Config, BuildTableWithoutCommand_IsAnError) {
    const std::string workload = "name=\"x\"\nkind=\"command\"\ncommand=[\"a\"]\n";
    const Error error = error_of(with_workload("[build]\nenv = { CC = \"gcc\" }\n", workload));
    EXPECT_EQ(error.kind(), ErrorKind::config);
    EXPECT_NE(std::string(error.what()).find(":1: [build] needs 'command'"), std::string::npos)
        << error.what();
}

TEST(Config, SubSecondBuildTimeout_IsAnErrorNotAnInstantTimeout) {
    const std::string workload = "name=\"x\"\nkind=\"command\"\ncommand=[\"a\"]\n";
    const Error error =
        error_of(with_workload("[build]\ncommand = [\"make\"]\ntimeout = \"500ms\"\n", workload));
    EXPECT_NE(std::string(error.what()).find(":3: [build] 'timeout' = \"500ms\" is too short"),
              std::string::npos)
        << error.what();
    EXPECT_EQ(
        parse_config(with_workload("[build]\ncommand = [\"make\"]\ntimeout = \"2s\"\n", workload),
                     k_file)
            .build.timeout.count(),
        2);
}

TEST(Config, NoWorkloads_IsAnError) {
    EXPECT_NE(std::string(error_of("[run]\nrounds = 4\n").what()).find("no [[workload]]"),
              std::string::npos);
    EXPECT_NE(std::string(error_of("workload = []\n").what()).find("no [[workload]]"),
              std::string::npos);
}

TEST(Config, DuplicateWorkloadNames_AreAnError) {
    const std::string workload = "name=\"same\"\nkind=\"command\"\ncommand=[\"a\"]\n";
    const Error error = error_of(with_workload("", workload) + "[[workload]]\n" + workload);
    EXPECT_NE(std::string(error.what()).find(":6: duplicate workload name 'same'"),
              std::string::npos)
        << error.what();
}

TEST(Config, Threshold_AcceptsPercentAndFraction_RejectsGarbage) {
    EXPECT_DOUBLE_EQ(*parse_threshold("2%"), 0.02);
    EXPECT_DOUBLE_EQ(*parse_threshold("0.02"), 0.02);
    EXPECT_DOUBLE_EQ(*parse_threshold(" 1.5 % "), 0.015);
    EXPECT_FALSE(parse_threshold("abc"));
    EXPECT_FALSE(parse_threshold("2%%"));
    EXPECT_FALSE(parse_threshold("-2%"));
    EXPECT_FALSE(parse_threshold("150%"));
    EXPECT_FALSE(parse_threshold(""));
    const std::string workload = "name=\"x\"\nkind=\"command\"\ncommand=[\"a\"]\n";
    EXPECT_DOUBLE_EQ(parse_config(with_workload("[run]\nthreshold = \"0.05\"\n", workload), k_file)
                         .run.threshold,
                     0.05);
    const Error error = error_of(with_workload("[run]\nthreshold = \"abc\"\n", workload));
    EXPECT_NE(std::string(error.what()).find(":2: [run] 'threshold'"), std::string::npos)
        << error.what();
}

TEST(Config, Durations) {
    EXPECT_EQ(parse_duration("500ms")->count(), 500);
    EXPECT_EQ(parse_duration("60s")->count(), 60000);
    EXPECT_EQ(parse_duration("15m")->count(), 900000);
    EXPECT_EQ(parse_duration("14d")->count(), 14LL * 86400 * 1000);
    EXPECT_FALSE(parse_duration("15"));
    EXPECT_FALSE(parse_duration("m"));
    EXPECT_FALSE(parse_duration("5 weeks"));
    // Past a year: a typo, and at 9e15 ms the steady clock's nanoseconds would overflow into an
    // instant timeout (noticed while fuzzing the config reader).
    EXPECT_EQ(parse_duration("366d")->count(), 366LL * 86400 * 1000);
    EXPECT_FALSE(parse_duration("367d"));
    EXPECT_FALSE(parse_duration("9000000000000000ms"));
    EXPECT_FALSE(parse_duration("1" + std::string(400, '0') + "s")) << "inf";
    const Error error = error_of(with_workload(
        "", "name=\"x\"\nkind=\"command\"\ncommand=[\"a\"]\ntimeout=\"9000000000000000ms\"\n"));
    EXPECT_NE(
        std::string(error.what()).find("'timeout' = \"9000000000000000ms\" is not a duration"),
        std::string::npos)
        << error.what();
}

TEST(Config, TomlSyntaxError_NamesLine) {
    const Error error = error_of("[run]\nrounds = = 3\n");
    EXPECT_EQ(error.kind(), ErrorKind::config);
    EXPECT_NE(std::string(error.what()).find("/repo/abtool.toml:2"), std::string::npos)
        << error.what();
}

TEST(Config, KindSpecificKeys_AreCheckedPerKind) {
    const Error error = error_of(
        with_workload("", "name=\"x\"\nkind=\"command\"\ncommand=[\"a\"]\nformat=\"gbench\"\n"));
    EXPECT_NE(std::string(error.what()).find("unknown key 'format'"), std::string::npos);
    const Error kind_error = error_of(with_workload("", "name=\"x\"\nkind=\"cmd\"\n"));
    EXPECT_NE(std::string(kind_error.what())
                  .find("'kind' must be one of command, hotpath, publish, stream, not 'cmd'"),
              std::string::npos)
        << kind_error.what();
    // 'slo' on a kind that has none says so, not "unknown key".
    const Error slo = error_of(with_workload(
        "", "name=\"x\"\nkind=\"command\"\ncommand=[\"a\"]\n[workload.slo]\np99_ms = 5\n"));
    EXPECT_NE(std::string(slo.what()).find("'slo' applies to publish and stream workloads only"),
              std::string::npos)
        << slo.what();
    const Error paced = error_of(with_workload(
        "", "name=\"p\"\nkind=\"publish\"\nserver=[\"./s\",\"{port}\"]\nmode=\"paced\"\n"));
    EXPECT_NE(std::string(paced.what()).find("needs 'rate'"), std::string::npos);
}

constexpr const char* k_stream = R"toml(
[[workload]]
name = "tokens"
kind = "stream"
server = ["./server", "--port", "{port}"]
protocol = "websocket"
path = "/v1/completions"
payload = '{"max_tokens": 200}'
expect_chunks = 200
period_ms = 20
sessions = 3
session_count = 12
request_timeout = "2s"
chunk_timeout = "500ms"
[workload.slo]
first_chunk_p95_ms = 300
overhead_ms_max = 3
jitter_p95_ms = 5
e2e_p95_ms = 4500
error_rate_max = 0.01
)toml";

TEST(Config, StreamWorkload_EveryKey_LossMaxZeroByDefault) {
    const Config config = parse_config(k_stream, k_file);
    ASSERT_EQ(config.workloads.size(), 1U);
    EXPECT_EQ(config.workloads[0].kind(), "stream");
    const auto& stream = std::get<runners::StreamWorkload>(config.workloads[0].workload.spec);
    EXPECT_EQ(stream.protocol, runners::StreamProtocol::websocket);
    EXPECT_EQ(stream.path, "/v1/completions");
    EXPECT_EQ(stream.expect_chunks, 200U);
    EXPECT_EQ(stream.period_ms, 20.0);
    EXPECT_EQ(stream.sessions, 3U);
    EXPECT_EQ(stream.total_sessions(), 12U);
    EXPECT_EQ(stream.request_timeout, std::chrono::seconds(2));
    EXPECT_EQ(stream.chunk_timeout, std::chrono::milliseconds(500));
    const SloConfig& slo = config.workloads[0].slo;
    EXPECT_EQ(slo.first_chunk_p95_ms, 300.0);
    EXPECT_EQ(slo.overhead_ms_max, 3.0);
    EXPECT_EQ(slo.jitter_p95_ms, 5.0);
    EXPECT_EQ(slo.e2e_p95_ms, 4500.0);
    EXPECT_EQ(slo.error_rate_max, 0.01);
    EXPECT_EQ(slo.loss_max, 0.0); // not written: zero tolerance
    EXPECT_EQ(runners::gated_metrics(config.workloads[0].workload),
              (std::vector<std::string>{"first_chunk_p50_ms", "interval_mean_ms"}));
    // The parameters that change what is measured are in the primary key's identity.
    const std::string identity = identity_parameters(config.workloads[0]).dump();
    for (const char* key : {"\"protocol\":\"websocket\"", "\"expect_chunks\":200",
                            "\"period_ms\":20", "\"session_count\":12"}) {
        EXPECT_NE(identity.find(key), std::string::npos) << key << " in " << identity;
    }
    // Without an slo table, loss is still checked.
    const Config bare = parse_config(
        "[[workload]]\nname=\"t\"\nkind=\"stream\"\nserver=[\"./s\"]\nexpect_chunks=5\n", k_file);
    EXPECT_EQ(bare.workloads[0].slo.loss_max, 0.0);
    EXPECT_EQ(std::get<runners::StreamWorkload>(bare.workloads[0].workload.spec).total_sessions(),
              1U);
}

TEST(Config, StreamWorkload_BadInput_NamesTheKeyAndTheLine) {
    const std::string head = "name=\"t\"\nkind=\"stream\"\nserver=[\"./s\",\"{port}\"]\n";
    const Error missing = error_of(with_workload("", head + "path=\"/x\"\n"));
    EXPECT_NE(std::string(missing.what()).find("missing 'expect_chunks'"), std::string::npos)
        << missing.what();
    EXPECT_NE(std::string(missing.what()).find("abtool.toml:2"), std::string::npos)
        << missing.what();
    const Error protocol =
        error_of(with_workload("", head + "expect_chunks=5\nprotocol=\"grpc\"\n"));
    EXPECT_NE(std::string(protocol.what())
                  .find("'protocol' must be one of http-ndjson, sse, websocket, not 'grpc'"),
              std::string::npos)
        << protocol.what();
    EXPECT_NE(std::string(protocol.what()).find("abtool.toml:7"), std::string::npos)
        << protocol.what();
    const Error zero = error_of(with_workload("", head + "expect_chunks=0\n"));
    EXPECT_NE(std::string(zero.what()).find("'expect_chunks'"), std::string::npos) << zero.what();
    // A publish limit on a stream workload is not silently ignored.
    const Error slo =
        error_of(with_workload("", head + "expect_chunks=5\n[workload.slo]\np99_ms=5\n"));
    EXPECT_NE(std::string(slo.what()).find("unknown key 'p99_ms'"), std::string::npos)
        << slo.what();
    const Error publish_key = error_of(with_workload("", head + "expect_chunks=5\ncount=3\n"));
    EXPECT_NE(std::string(publish_key.what()).find("unknown key 'count'"), std::string::npos)
        << publish_key.what();
}

TEST(Config, Soak_DurationOnPacedPublishAndStream_BadInputNamesKeyAndLine) {
    const std::string paced = "name=\"p\"\nkind=\"publish\"\nserver=[\"./s\",\"{port}\"]\n"
                              "mode=\"paced\"\nrate=100\n";
    const Config soak = parse_config(
        with_workload("", paced + "duration=\"10m\"\n[workload.slo]\nrss_growth_kb_per_min_max=64\n"
                                  "latency_p99_drift_pct_max=20\n"),
        k_file);
    const auto& publish = std::get<runners::PublishWorkload>(soak.workloads[0].workload.spec);
    EXPECT_EQ(publish.duration, std::chrono::minutes(10));
    EXPECT_EQ(publish.messages(), 60000U);
    EXPECT_EQ(publish.timeout, std::chrono::minutes(10) + std::chrono::seconds(300))
        << "the load's default timeout counts from the soak's end";
    EXPECT_EQ(soak.workloads[0].slo.rss_growth_kb_per_min_max, 64.0);
    EXPECT_EQ(soak.workloads[0].slo.latency_p99_drift_pct_max, 20.0);
    const Config stream = parse_config(
        with_workload("", "name=\"t\"\nkind=\"stream\"\nserver=[\"./s\"]\nexpect_chunks=5\n"
                          "duration=\"20s\"\n"),
        k_file);
    EXPECT_EQ(std::get<runners::StreamWorkload>(stream.workloads[0].workload.spec).duration,
              std::chrono::seconds(20));
    EXPECT_EQ(std::get<runners::StreamWorkload>(stream.workloads[0].workload.spec).timeout,
              std::chrono::seconds(320));

    const Error burst = error_of(
        with_workload("", "name=\"p\"\nkind=\"publish\"\nserver=[\"./s\"]\nduration=\"10m\"\n"));
    EXPECT_NE(std::string(burst.what()).find("'duration' (a soak) needs mode = \"paced\""),
              std::string::npos)
        << burst.what();
    EXPECT_NE(std::string(burst.what()).find("abtool.toml:6"), std::string::npos) << burst.what();
    const Error both = error_of(with_workload("", paced + "count=10\nduration=\"1m\"\n"));
    EXPECT_NE(std::string(both.what()).find("has both 'duration' (a soak) and 'count'"),
              std::string::npos)
        << both.what();
    const Error sessions = error_of(
        with_workload("", "name=\"t\"\nkind=\"stream\"\nserver=[\"./s\"]\nexpect_chunks=5\n"
                          "session_count=3\nduration=\"1m\"\n"));
    EXPECT_NE(std::string(sessions.what()).find("and 'session_count': keep one"), std::string::npos)
        << sessions.what();
    const Error no_soak =
        error_of(with_workload("", paced + "[workload.slo]\nrss_growth_kb_per_min_max=64\n"));
    EXPECT_NE(std::string(no_soak.what())
                  .find("'rss_growth_kb_per_min_max' judges a soak run: the workload needs a "
                        "'duration'"),
              std::string::npos)
        << no_soak.what();
    EXPECT_NE(std::string(no_soak.what()).find("abtool.toml:9"), std::string::npos)
        << no_soak.what();
    const Error cut_short =
        error_of(with_workload("", paced + "duration=\"10m\"\ntimeout=\"5m\"\n"));
    EXPECT_NE(std::string(cut_short.what())
                  .find("'timeout' would stop the soak before its 'duration' ends"),
              std::string::npos)
        << cut_short.what();
    EXPECT_NE(std::string(cut_short.what()).find("abtool.toml:9"), std::string::npos)
        << cut_short.what();
}

TEST(Config, MaxRoundsBelowRounds_IsAnError) {
    const Error error = error_of(with_workload("[run]\nrounds = 20\nmax_rounds = 10\n",
                                               "name=\"x\"\nkind=\"command\"\ncommand=[\"a\"]\n"));
    EXPECT_NE(std::string(error.what()).find("'max_rounds' (10) must be at least"),
              std::string::npos);
}

TEST(Config, WorkloadParameters_IgnoreTimeoutsButNotCommands) {
    const std::string a = "name=\"x\"\nkind=\"command\"\ncommand=[\"a\"]\n";
    const std::string b = "name=\"x\"\nkind=\"command\"\ncommand=[\"a\"]\ntimeout=\"5s\"\n";
    const std::string c = "name=\"x\"\nkind=\"command\"\ncommand=[\"b\"]\n";
    const auto params = [](const std::string& workload) {
        return identity_parameters(parse_config(with_workload("", workload), k_file).workloads[0]);
    };
    EXPECT_EQ(params(a), params(b));
    EXPECT_NE(params(a), params(c));
}

TEST(Config, DesignKeys_InRunAndPerWorkload) {
    const Config config = parse_config(
        with_workload("[run]\nschedule = \"duet\"\nrepeat = 2\npilot_rounds = 8\n",
                      "name=\"x\"\nkind=\"command\"\ncommand=[\"a\"]\nschedule=\"alternate\"\n"
                      "repeat=3\nsummary=\"median\"\n"),
        "/repo/abtool.toml");
    EXPECT_EQ(config.run.design.schedule, Schedule::duet);
    EXPECT_EQ(config.run.design.repeat, 2u);
    EXPECT_FALSE(config.run.design.summary.has_value());
    EXPECT_EQ(config.run.pilot_rounds, 8u);
    const DesignConfig& design = config.workloads.at(0).design;
    EXPECT_EQ(design.schedule, Schedule::alternate);
    EXPECT_EQ(design.repeat, 3u);
    EXPECT_EQ(design.summary, Summary::median);
}

TEST(Config, DesignKeys_BadValues_NameTheKeyTheChoicesAndTheLine) {
    const Error schedule = error_of(with_workload(
        "[run]\nschedule = \"parallel\"\n", "name=\"x\"\nkind=\"command\"\ncommand=[\"a\"]\n"));
    EXPECT_NE(std::string(schedule.what())
                  .find(":2: [run] 'schedule' must be one of auto, alternate, duet, not "
                        "'parallel'"),
              std::string::npos)
        << schedule.what();
    const Error repeat =
        error_of(with_workload("", "name=\"x\"\nkind=\"command\"\ncommand=[\"a\"]\nrepeat=0\n"));
    EXPECT_NE(std::string(repeat.what()).find("'repeat' must be between 1 and 100"),
              std::string::npos)
        << repeat.what();
    const Error summary = error_of(
        with_workload("", "name=\"x\"\nkind=\"command\"\ncommand=[\"a\"]\nsummary=\"mean\"\n"));
    EXPECT_NE(std::string(summary.what()).find("'summary' must be one of min, median"),
              std::string::npos)
        << summary.what();
}

TEST(Config, DesignKeys_DoNotChangeThePrimaryKeyParameters) {
    const Config plain = parse_config(
        with_workload("", "name=\"x\"\nkind=\"command\"\ncommand=[\"a\"]\n"), "/r/abtool.toml");
    const Config duet = parse_config(
        with_workload("", "name=\"x\"\nkind=\"command\"\ncommand=[\"a\"]\nschedule=\"duet\"\n"),
        "/r/abtool.toml");
    EXPECT_EQ(identity_parameters(plain.workloads[0]), identity_parameters(duet.workloads[0]))
        << "how rounds run is not what is measured: the history must not split";
}

// output = "{output}" and the placeholder in the command come together; `directions` takes
// "lower" or "higher" (issue 16). Each error names the file, the line and the key.
TEST(Config, OutputPlaceholder_BothOrNeither_NotWithOutputFile) {
    const std::string head = "name=\"p\"\nkind=\"hotpath\"\nformat=\"pytest-benchmark\"\n";
    const Config config = parse_config(
        with_workload("", head + "command=[\"pytest\", \"--benchmark-json={output}\"]\n"
                                 "output=\"{output}\"\n"),
        k_file);
    const auto& spec = std::get<runners::HotpathWorkload>(config.workloads[0].workload.spec);
    EXPECT_TRUE(spec.output_placeholder);
    EXPECT_EQ(spec.format, runners::HotpathFormat::pytest_benchmark);

    const Error no_placeholder =
        error_of(with_workload("", head + "command=[\"pytest\"]\noutput=\"{output}\"\n"));
    EXPECT_NE(std::string(no_placeholder.what()).find("abtool.toml:7: [[workload]] 'p': 'output'"),
              std::string::npos)
        << no_placeholder.what();
    const Error no_output =
        error_of(with_workload("", head + "shell=\"pytest --benchmark-json={output}\"\n"));
    EXPECT_NE(std::string(no_output.what()).find(":6: [[workload]] 'p': 'shell' has {output}"),
              std::string::npos)
        << no_output.what();
    const Error other_value =
        error_of(with_workload("", head + "command=[\"a\", \"{output}\"]\noutput=\"out.json\"\n"));
    EXPECT_NE(std::string(other_value.what()).find("'output' must be \"{output}\""),
              std::string::npos)
        << other_value.what();
    const Error both = error_of(with_workload(
        "", head + "command=[\"a\", \"{output}\"]\noutput=\"{output}\"\noutput_file=\"x\"\n"));
    EXPECT_NE(std::string(both.what()).find("both 'output' and 'output_file'"), std::string::npos)
        << both.what();
}

TEST(Config, Directions_LowerOrHigher_NamesLineAndKey) {
    const std::string head = "name=\"g\"\nkind=\"hotpath\"\ncommand=[\"./b\"]\n";
    const Config config = parse_config(
        with_workload("", head + "directions = { hits = \"higher\", misses = \"lower\" }\n"),
        k_file);
    const auto& spec = std::get<runners::HotpathWorkload>(config.workloads[0].workload.spec);
    ASSERT_EQ(spec.directions.size(), 2u);
    EXPECT_EQ(spec.directions.at("hits"), Direction::higher);
    EXPECT_EQ(spec.directions.at("misses"), Direction::lower);
    const Error bad = error_of(with_workload("", head + "directions = { hits = \"up\" }\n"));
    EXPECT_NE(std::string(bad.what()).find(":6: [[workload]] 'g': 'directions.hits' must be"),
              std::string::npos)
        << bad.what();
    const Error not_table = error_of(with_workload("", head + "directions = \"higher\"\n"));
    EXPECT_NE(std::string(not_table.what()).find("'directions' must be a table"), std::string::npos)
        << not_table.what();
}

} // namespace
} // namespace abtool
