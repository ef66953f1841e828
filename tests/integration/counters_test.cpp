// Instruction counts as a gated metric, through the real abtool binary on real temporary git
// repositories: a loop 0.5% longer is regressed in 6 rounds, the same code is unchanged, what
// counted is recorded (plan.json, samples.jsonl, the report), and the configurations that cannot
// give an honest count are refused with exit 2. On this VM, which has no hardware PMU, the count
// comes from valgrind's cachegrind; on a machine with one, from perf_event_open (both give a
// deterministic count, so the assertions hold for either).
#include "tests/support/json_report.hpp"
#include "tests/support/shell.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_repo.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

namespace abtool::testing {
namespace {

// `steps` of a loop the compiler keeps: about 5 instructions a step, against some 10^5 for the
// process's start-up, so the count follows the loop.
std::string program(long steps) {
    return "#include <stdio.h>\n"
           "int main(void) {\n"
           "    volatile unsigned long x = 0;\n"
           "    for (long i = 0; i < " +
           std::to_string(steps) +
           "L; ++i) { x += (unsigned long)i * 2654435761UL; }\n"
           "    printf(\"%lu\\n\", (unsigned long)x);\n"
           "    return 0;\n"
           "}\n";
}

// A command workload gated on its instructions, with the threshold a count can afford.
std::string config(const std::string& workload_keys = "metric = \"instructions\"\n"
                                                      "threshold = \"0.2%\"\n") {
    return "[build]\n"
           "command = [\"cc\", \"-O1\", \"-o\", \"app\", \"app.c\"]\n"
           "[run]\n"
           "rounds = 6\n"
           "warmup = 1\n"
           "threshold = \"5%\"\n"
           "[[workload]]\n"
           "name = \"loop\"\n"
           "kind = \"command\"\n"
           "command = [\"./app\"]\n" +
           workload_keys;
}

class Counters : public ::testing::Test {
protected:
    Counters() : m_repo(m_dir / "repo") {
        m_repo.write(".gitignore", "app\nresults.csv\n");
        m_repo.write("app.c", program(2'000'000));
        m_repo.write("abtool.toml", config());
        m_repo.commit("v1: baseline");
        m_repo.tag("v1");
    }

    ShellResult abtool(const std::string& args, const std::string& env = "") const {
        return shell("cd " + quote(m_repo.root().string()) + " && CI=true " + env + " " +
                     quote(ABTOOL_BINARY) + " " + args);
    }

    std::filesystem::path report_file() const { return m_dir / "report.json"; }
    std::string json_flag() const { return " --json " + quote(report_file().string()); }

    TempDir m_dir;
    TestRepo m_repo;
};

TEST_F(Counters, LoopHalfAPercentLonger_IsRegressedInSixRounds_Exit1) {
    m_repo.write("app.c", program(2'010'000));
    m_repo.commit("v2: 0.5% more steps");
    m_repo.tag("v2");

    const ShellResult result = abtool("--ref-a v1 --ref-b v2" + json_flag());
    EXPECT_EQ(result.status, 1) << result.output;
    const JsonReport report(report_file());
    const nlohmann::json& row = report.row("loop", "", "instructions");
    EXPECT_EQ(row.at("verdict"), "regressed") << result.output;
    EXPECT_EQ(row.at("gated"), true);
    EXPECT_EQ(row.at("n"), 6);
    // The loop is nearly all of the count: +0.5% of the steps is a little under +0.5%.
    EXPECT_GT(JsonReport::number(row.at("delta_pct")), 0.4) << row.dump(2);
    EXPECT_LT(JsonReport::number(row.at("delta_pct")), 0.5) << row.dump(2);
    // Wall time is measured too, and does not gate (under cachegrind it is valgrind's).
    EXPECT_EQ(report.row("loop", "", "wall_ms").at("gated"), false);

    // What counted is on record: the report's design, plan.json, every count in samples.jsonl.
    const nlohmann::json& design = report.json().at("designs").at(0);
    const std::string backend = design.at("counter_backend").get<std::string>();
    EXPECT_TRUE(backend == "perf" || backend == "cachegrind") << design.dump(2);
    EXPECT_FALSE(design.at("counter_reason").get<std::string>().empty());
    EXPECT_EQ(design.at("chosen_by"), "counters") << "a count needs no pilot";
    const std::filesystem::path run_dir = m_repo.only_run_dir();
    const nlohmann::json plan = nlohmann::json::parse(read_file(run_dir / "plan.json"));
    EXPECT_EQ(plan.at("designs").at(0).at("counter_backend"), backend);
    std::ifstream samples(run_dir / "samples.jsonl");
    std::size_t counts = 0;
    for (std::string line; std::getline(samples, line);) {
        const nlohmann::json record = nlohmann::json::parse(line);
        if (record.value("metric", "") == "instructions") {
            ++counts;
            EXPECT_EQ(record.at("counter_backend"), backend) << line;
        } else {
            EXPECT_FALSE(record.contains("counter_backend")) << line;
        }
    }
    EXPECT_EQ(counts, 2u * (6 + 1)) << "six rounds and a warm-up run per side";
}

TEST_F(Counters, SameCode_IsUnchanged_TheCountsAlmostEqual_Exit0) {
    m_repo.write("README", "only documentation changed\n");
    m_repo.commit("docs");
    m_repo.tag("v1-docs");

    const ShellResult result = abtool("--ref-a v1 --ref-b v1-docs" + json_flag());
    EXPECT_EQ(result.status, 0) << result.output;
    const JsonReport report(report_file());
    const nlohmann::json& row = report.row("loop", "", "instructions");
    EXPECT_EQ(row.at("verdict"), "unchanged") << result.output;
    // Across all twelve runs the count moves by a few instructions at most (the environment's
    // padding differs from run to run), never by the load on the machine.
    std::vector<double> values;
    for (const char* side : {"a_values", "b_values"}) {
        for (const nlohmann::json& value : row.at(side)) {
            values.push_back(JsonReport::number(value));
        }
    }
    ASSERT_EQ(values.size(), 12u);
    const auto [low, high] = std::minmax_element(values.begin(), values.end());
    EXPECT_LT((*high - *low) / *low, 1e-4) << row.dump(2);
}

TEST_F(Counters, CachegrindBesideAGatedWallTime_IsRefused_Exit2) {
    // Counting under valgrind slows the run many times over: its wall time cannot gate.
    m_repo.write("abtool.toml",
                 config("counters = [\"instructions\"]\ncounter_backend = \"cachegrind\"\n"));
    m_repo.commit("count, but gate the time");
    const ShellResult result = abtool("--ref-a v1 --ref-b HEAD");
    EXPECT_EQ(result.status, 2) << result.output;
    EXPECT_NE(
        result.output.find("workload 'loop' (" + (m_repo.root() / "abtool.toml").string() + ":7)"),
        std::string::npos)
        << result.output;
    EXPECT_NE(result.output.find("'wall_ms' gates"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find("metric = \"instructions\""), std::string::npos) << result.output;
    EXPECT_FALSE(std::filesystem::exists(m_repo.root() / ".abtool" / "runs"))
        << "refused before anything ran";
}

TEST_F(Counters, NoValgrind_Exit2_NamesThePackage) {
    m_repo.write("abtool.toml", config("metric = \"instructions\"\n"
                                       "counter_backend = \"cachegrind\"\n"));
    m_repo.commit("cachegrind");
    // A PATH without valgrind (abtool needs nothing from PATH before it would start one).
    const ShellResult result = abtool("--ref-a v1 --ref-b HEAD", "PATH=/nonexistent");
    EXPECT_EQ(result.status, 2) << result.output;
    EXPECT_NE(result.output.find("apt-get install valgrind"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find("workload 'loop'"), std::string::npos) << result.output;
}

TEST_F(Counters, BadCounterConfig_Exit2_NamesTheLineAndKey) {
    const auto refused = [&](const std::string& keys, const std::string& expected) {
        m_repo.write("abtool.toml", config(keys));
        const ShellResult result = abtool("--ref-a v1 --ref-b CURRENT");
        EXPECT_EQ(result.status, 2) << keys << result.output;
        EXPECT_NE(result.output.find(expected), std::string::npos) << keys << result.output;
    };
    refused("counters = [\"instrucions\"]\n",
            "abtool.toml:11: [[workload]] 'loop': 'counters' takes instructions, cycles, "
            "branch_misses, cache_misses, page_faults, not 'instrucions'");
    refused("metric = \"instrucions\"\n", "not 'instrucions'");
    refused("counter_backend = \"perf\"\n", "'counter_backend' without 'counters'");
    refused("counters = [\"cycles\"]\ncounter_backend = \"cachegrind\"\n",
            "cachegrind counts instructions only, not cycles");
    refused("counters = [\"instructions\"]\ncounter_kernel = \"yes\"\n",
            "'counter_kernel' must be true or false");
    refused("metric = \"instructions\"\ncounter_kernel = true\ncounter_backend = \"cachegrind\"\n",
            "counter_kernel = true needs counter_backend = \"perf\"");
}

} // namespace
} // namespace abtool::testing
