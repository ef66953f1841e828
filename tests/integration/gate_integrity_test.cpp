// A gate never passes on nothing, through the real binary: count flags share the config's
// limits (exit 2, nothing appended), a gated metric that no sample carries or that has no value
// on one side fails the run (exit 3, nothing appended), with --strict and without. The workload
// prints fixed JSON lines, so every verdict here is deterministic.
#include "tests/support/json_report.hpp"
#include "tests/support/shell.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_repo.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace abtool::testing {
namespace {

std::string config(const std::string& run_keys = "", const std::string& workload_keys = "") {
    return "[run]\n"
           "rounds = 6\n"
           "warmup = 1\n"
           "schedule = \"alternate\"\n" +
           run_keys +
           "[[workload]]\n"
           "name = \"fixed\"\n"
           "kind = \"hotpath\"\n"
           "format = \"jsonl\"\n"
           "command = [\"sh\", \"bench.sh\"]\n" +
           workload_keys;
}

class GateIntegrity : public ::testing::Test {
protected:
    GateIntegrity() : m_repo(m_dir / "repo") {
        m_repo.write(".gitignore", "results.csv\n");
        m_repo.write("bench.sh", "echo '{\"case\":\"copy\",\"metric\":\"ns\",\"value\":100}'\n"
                                 "echo '{\"case\":\"copy\",\"metric\":\"bytes\",\"value\":64}'\n");
        m_repo.write("abtool.toml", config());
        m_repo.commit("v1");
        m_repo.tag("v1");
    }

    ShellResult abtool(const std::string& args) const {
        return shell("cd " + quote(m_repo.root().string()) + " && CI=true " + quote(ABTOOL_BINARY) +
                     " " + args);
    }

    std::filesystem::path results() const { return m_repo.root() / "results.csv"; }

    // results.csv as it is now ("" when absent): a failed run must leave it byte for byte.
    std::string results_text() const {
        return std::filesystem::exists(results()) ? read_file(results()) : std::string();
    }

    TempDir m_dir;
    TestRepo m_repo;
};

TEST_F(GateIntegrity, CountFlags_ShareTheConfigsLimits_Exit2_NothingAppended) {
    const ShellResult good = abtool("--ref-a v1 --ref-b CURRENT");
    ASSERT_EQ(good.status, 0) << good.output;
    const std::string before = results_text();
    ASSERT_FALSE(before.empty());

    const struct {
        const char* flags;
        const char* message;
    } cases[] = {
        {"--rounds -1", "--rounds: must be between 2 and 100000, not -1"},
        {"--rounds -3", "--rounds: must be between 2 and 100000, not -3"},
        {"--rounds 18446744073709551615",
         "--rounds: must be between 2 and 100000, not 18446744073709551615"},
        {"--rounds 200000", "--rounds: must be between 2 and 100000, not 200000"},
        {"--rounds 1", "--rounds: must be between 2 and 100000, not 1"},
        {"--rounds 6x", "--rounds: must be a whole number, not '6x'"},
        {"--max-rounds -1", "--max-rounds: must be between 2 and 100000, not -1"},
        {"--seed -1", "--seed: must be between 0 and 9223372036854775807, not -1"},
    };
    for (const auto& bad : cases) {
        for (const char* strict : {"", " --strict"}) {
            SCOPED_TRACE(std::string(bad.flags) + strict);
            const ShellResult result =
                abtool(std::string("--ref-a v1 --ref-b CURRENT ") + bad.flags + strict);
            EXPECT_EQ(result.status, 2) << result.output;
            EXPECT_NE(result.output.find(bad.message), std::string::npos) << result.output;
            EXPECT_EQ(result.output.find("gate passed"), std::string::npos) << result.output;
            EXPECT_EQ(result.output.find("internal error"), std::string::npos) << result.output;
        }
    }
    const ShellResult calibrate = abtool("calibrate --ref v1 --rounds -1");
    EXPECT_EQ(calibrate.status, 2) << calibrate.output;
    EXPECT_NE(calibrate.output.find("--rounds: must be between 2 and 100000, not -1"),
              std::string::npos)
        << calibrate.output;
    const ShellResult history = abtool("history --limit 0");
    EXPECT_EQ(history.status, 2) << history.output;
    EXPECT_NE(history.output.find("--limit must be at least 1, not 0"), std::string::npos)
        << history.output;
    EXPECT_EQ(results_text(), before);

    // The config says the same about the same numbers.
    for (const auto& [key, message] : std::vector<std::pair<std::string, std::string>>{
             {"rounds = -1\n", "[run] 'rounds' must be between 2 and 100000, not -1"},
             {"max_rounds = 200000\n", "[run] 'max_rounds' must be between 2 and 100000, not "
                                       "200000"},
             {"seed = -1\n", "[run] 'seed' must be between 0 and 9223372036854775807, not -1"}}) {
        SCOPED_TRACE(key);
        std::string text = config();
        text.replace(text.find("rounds = 6\n"), 11, key);
        m_repo.write("abtool.toml", text);
        const ShellResult result = abtool("--ref-a CURRENT --ref-b CURRENT");
        EXPECT_EQ(result.status, 2) << result.output;
        EXPECT_NE(result.output.find("abtool.toml:2: " + message), std::string::npos)
            << result.output;
    }
    EXPECT_EQ(results_text(), before);
}

TEST_F(GateIntegrity, GatedMetricInNoSample_Exit3_NamesWhatTheOutputCarried_NothingAppended) {
    m_repo.write("abtool.toml", config("", "metrics = [\"no_such_metric\"]\n"));
    m_repo.commit("gate on a metric the program does not print");
    for (const std::string strict : {"", " --strict"}) {
        SCOPED_TRACE(strict);
        // A report of its own per run: one left by the run before must not stand in for it.
        const std::filesystem::path json_file =
            m_dir / (strict.empty() ? "lax.json" : "strict.json");
        const ShellResult result =
            abtool("--ref-a HEAD --ref-b CURRENT --json " + quote(json_file.string()) + strict);
        EXPECT_EQ(result.status, 3) << result.output;
        EXPECT_NE(result.output.find("gate FAILED"), std::string::npos) << result.output;
        EXPECT_EQ(result.output.find("gate passed"), std::string::npos) << result.output;
        EXPECT_NE(result.output.find("workload 'fixed': gated metric 'no_such_metric' is in no "
                                     "sample; the output carried: bytes, ns"),
                  std::string::npos)
            << result.output;
        EXPECT_NE(result.output.find("nothing was appended to results.csv"), std::string::npos)
            << result.output;
        EXPECT_FALSE(std::filesystem::exists(results())) << result.output;
        // Every report states the same failed gate.
        const JsonReport report(json_file);
        EXPECT_EQ(report.json().at("strict"), !strict.empty());
        EXPECT_EQ(report.gate().at("verdict"), "fail");
        EXPECT_EQ(report.gate().at("outcome"), "failed: 1 gated metric(s) not measured");
        ASSERT_EQ(report.gate().at("unmeasured").size(), 1u);
    }
}

// No workload reader lets NaN through (each rejects non-finite numbers with a parse error), so a
// NaN reaches the analysis only from samples.jsonl, which `abtool analyze` reads: B's values are
// nulled there, as a damaged or hand-edited file would have them. (8 rounds: honest planning
// raises the config's 6 for two gated metrics, ns and bytes.)
TEST_F(GateIntegrity, OnlyBWithoutValues_RowShowsAsMedian_VerdictSaysBHasNone_Exit3) {
    const ShellResult good = abtool("--ref-a v1 --ref-b CURRENT");
    ASSERT_EQ(good.status, 0) << good.output;
    const std::filesystem::path run_dir = m_repo.only_run_dir();
    const std::filesystem::path samples = run_dir / "samples.jsonl";
    std::istringstream in(read_file(samples));
    std::string edited, line;
    while (std::getline(in, line)) {
        nlohmann::json record = nlohmann::json::parse(line);
        if (record["ref"] == "b" && record["round"].get<int>() > 0 && record["metric"] == "ns") {
            record["value"] = nullptr;
        }
        edited += record.dump() + "\n";
    }
    write_file(samples, edited);
    const std::string before = results_text();

    const std::filesystem::path json_file = m_dir / "analyze.json";
    const ShellResult result = abtool("analyze " + quote(run_dir.string()) + " --strict --json " +
                                      quote(json_file.string()));
    EXPECT_EQ(result.status, 3) << result.output;
    EXPECT_NE(result.output.find("workload 'fixed' case 'copy': gated metric 'ns' has no "
                                 "comparable value: A has 8, B has none (8 NaN or infinite)"),
              std::string::npos)
        << result.output;
    // The row: A's median, no B median, and a verdict that says why.
    const JsonReport report(json_file);
    const nlohmann::json& row = report.row("fixed", "copy", "ns");
    EXPECT_EQ(row.at("a").at("n"), 8) << row.dump(2);
    EXPECT_EQ(JsonReport::number(row.at("a").at("median")), 100.0) << row.dump(2);
    EXPECT_EQ(row.at("b").at("n"), 0) << row.dump(2);
    EXPECT_NE(row.at("reason").get<std::string>().find("B has none"), std::string::npos)
        << row.dump(2);
    // The table names the empty side in its verdict column, on that row only.
    const std::string no_b = "no value on B";
    const auto first = result.output.find(no_b);
    EXPECT_NE(first, std::string::npos) << result.output;
    EXPECT_EQ(result.output.find(no_b, first + 1), std::string::npos) << result.output;
    EXPECT_EQ(results_text(), before);
}

} // namespace
} // namespace abtool::testing
