// The post-mortem commands through the real binary: on a real history (five runs of the binary
// on a hot path that prints fixed values, then `abtool compare` and `abtool history` on its
// results.csv and run samples), and on the committed fixtures in tests/fixtures/results/
// (make_fixtures.py says what shapes they hold): history.csv without run directories (stored
// medians only) and gate/ with samples.jsonl.
#include "tests/support/json_report.hpp"
#include "tests/support/shell.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_repo.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iterator>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

namespace abtool::testing {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

// "compare (unpaired): baseline run X vs candidate run Y" -> X.
std::string baseline_of(const std::string& output) {
    static const std::regex line(R"(baseline run (\S+) vs candidate run)");
    std::smatch match;
    return std::regex_search(output, match, line) ? match.str(1) : "<none>";
}

// A hot path that prints one deterministic value a run (a JSON line): `base` for its commit plus
// 0 to 4 from a count of its runs kept in its worktree, so that every series has spread but the
// commits' ranges never meet: v1 prints 100-104, v2 150-154, a change of +44% to +54%. This test
// used to time a real loop in two abtool runs and compare them unpaired, and failed whenever the
// machine's speed moved between the runs (a v1 binary once ran 4x slow for a whole run): stored
// runs have no pairs, so only values that cannot drift test compare and history.
std::string bench_script(int base) {
    return "n=$(cat runs.txt 2>/dev/null || echo 0)\n"
           "echo $((n + 1)) > runs.txt\n"
           "printf '{\"case\": \"c\", \"metric\": \"m\", \"value\": %d, \"unit\": \"us\", "
           "\"direction\": \"lower\"}\\n' $((" +
           std::to_string(base) + " + n % 5))\n";
}

class PostMortem : public ::testing::Test {
protected:
    PostMortem() : m_repo(m_dir / "repo") {
        m_repo.write(".gitignore", "results.csv\nruns.txt\n");
        m_repo.write("abtool.toml", "[run]\nrounds = 10\nthreshold = \"5%\"\n"
                                    "[[workload]]\nname = \"hot\"\nkind = \"hotpath\"\n"
                                    "format = \"jsonl\"\ncommand = [\"sh\", \"bench.sh\"]\n");
        m_repo.write("bench.sh", bench_script(100));
        m_repo.commit("v1");
        m_repo.tag("v1");
        m_repo.write("bench.sh", bench_script(150));
        m_repo.commit("v2");
        m_repo.tag("v2");
    }

    ShellResult abtool(const std::string& args) const {
        return shell("cd " + quote(m_repo.root().string()) + " && CI=true " + quote(ABTOOL_BINARY) +
                     " " + args + " 2>&1");
    }

    TempDir m_dir;
    TestRepo m_repo;
};

TEST_F(PostMortem, CompareStoredRuns_IsUnpairedAndFindsTheRegression_HistoryShowsTheStep) {
    // Three passing v1-against-v1 runs (history needs three runs before a step), then two runs
    // whose B is v2. An A/A run here cannot fail: its ratios stay within 104/100, below the 5%
    // threshold.
    // Each run's id from its --json report.
    std::vector<std::string> runs;
    for (int run = 0; run < 5; ++run) {
        const std::string ref_b = run < 3 ? "v1" : "v2";
        const std::filesystem::path json_file = m_dir / ("run-" + std::to_string(run) + ".json");
        const ShellResult result =
            abtool("--ref-a v1 --ref-b " + ref_b + " --json " + quote(json_file.string()));
        ASSERT_EQ(result.status, run < 3 ? 0 : 1) << result.output;
        const JsonReport report(json_file);
        EXPECT_EQ(report.json().at("ref_b"), ref_b);
        runs.push_back(report.json().at("run_id").get<std::string>());
    }
    // Five runs, each appended to results.csv (a row starts with its run id).
    const std::string results = read_file(m_repo.root() / "results.csv");
    EXPECT_EQ(std::set<std::string>(runs.begin(), runs.end()).size(), 5u);
    for (const std::string& run_id : runs) {
        EXPECT_NE(results.find("\n" + run_id + ","), std::string::npos) << run_id << "\n"
                                                                        << results;
    }
    const std::string last_v1_run = runs[2];
    const std::string first_v2_run = runs[3];

    const std::filesystem::path json_file = m_dir / "compare.json";
    const ShellResult compare =
        abtool("compare --baseline v1 --candidate latest --json " + quote(json_file.string()));
    EXPECT_EQ(compare.status, 1) << compare.output;
    EXPECT_NE(compare.output.find("unpaired"), std::string::npos) << compare.output;
    EXPECT_EQ(baseline_of(compare.output), last_v1_run) << compare.output;
    EXPECT_NE(compare.output.find("gate FAILED: 1 regressed"), std::string::npos) << compare.output;
    // Unpaired: B's values of the baseline run against B's values of the candidate run, tested
    // with Mann-Whitney U, and the change is the one the two commits print.
    const JsonReport report(json_file);
    EXPECT_FALSE(report.json().at("paired").get<bool>());
    ASSERT_EQ(report.rows().size(), 1u) << report.json().dump(2);
    const nlohmann::json& row = report.row("hot", "c", "m");
    EXPECT_EQ(row.at("verdict").get<std::string>(), "regressed") << compare.output;
    for (const nlohmann::json& value : row.at("a_values")) {
        EXPECT_TRUE(value >= 100 && value <= 104) << "the v1 run's B: " << value;
    }
    for (const nlohmann::json& value : row.at("b_values")) {
        EXPECT_TRUE(value >= 150 && value <= 154) << "the v2 run's B: " << value;
    }
    EXPECT_EQ(row.at("a_values").size(), 10u);
    EXPECT_EQ(row.at("b_values").size(), 10u);
    EXPECT_GE(row.at("delta_pct").get<double>(), 100.0 * (150.0 / 104 - 1)) << row.dump(2);
    EXPECT_LE(row.at("delta_pct").get<double>(), 100.0 * (154.0 / 100 - 1)) << row.dump(2);
    EXPECT_NE(report.json().at("interval_note").get<std::string>().find("Mann-Whitney U"),
              std::string::npos)
        << report.json().at("interval_note");

    // latest-pass skips the failed first v2 run: it is the last v1 run, and the regression is
    // still found.
    const std::filesystem::path same_file = m_dir / "same.json";
    const ShellResult same = abtool("compare --baseline latest-pass --candidate latest --strict "
                                    "--json " +
                                    quote(same_file.string()));
    EXPECT_EQ(same.status, 1) << same.output;
    EXPECT_EQ(baseline_of(same.output), last_v1_run) << same.output;
    EXPECT_EQ(JsonReport(same_file).verdict("hot", "c", "m"), "regressed") << same.output;

    // History: the two v2 runs are regressed, and the step is flagged where v2 came in.
    const ShellResult history = abtool("history --workload hot --metric m");
    EXPECT_EQ(history.status, 0) << history.output;
    EXPECT_NE(history.output.find("hot/c m"), std::string::npos) << history.output;
    const auto history_lines = lines_of(history.output);
    EXPECT_EQ(std::count_if(history_lines.begin(), history_lines.end(),
                            [](const std::string& line) {
                                return line.find(" regressed") != std::string::npos;
                            }),
              2)
        << "two run lines, the v2 runs', are regressed\n"
        << history.output;
    std::vector<std::string> steps;
    std::copy_if(history_lines.begin(), history_lines.end(), std::back_inserter(steps),
                 [](const std::string& line) { return line.find("<- ") != std::string::npos; });
    ASSERT_EQ(steps.size(), 1u) << history.output;
    EXPECT_NE(steps[0].find(first_v2_run), std::string::npos) << history.output;
    EXPECT_NE(steps[0].find("<- step +"), std::string::npos) << history.output;

    EXPECT_EQ(abtool("history").status, 2);
    EXPECT_EQ(abtool("history --workload nope").status, 2);
    EXPECT_EQ(abtool("compare --baseline no-such-run").status, 2);
}

// "(+15.06%)", as compare's notes print a delta.
std::string percent(double delta_pct) {
    char text[32];
    std::snprintf(text, sizeof text, "(%+.2f%%)", delta_pct);
    return text;
}

const std::filesystem::path k_fixtures =
    std::filesystem::path(ABTOOL_SOURCE_DIR) / "tests" / "fixtures" / "results";
const std::string k_run_5 = "20261101T130000Z-a00005";
const std::string k_run_6 = "20261101T140000Z-a00006";
const std::string k_run_7 = "20261101T150000Z-a00007";
const std::string k_run_8 = "20261101T160000Z-a00008";
const std::string k_run_9 = "20261101T170000Z-a00009";

// history.csv's B median of a row without quoted fields.
double fixture_b_median(const std::string& run_id, const std::string& case_metric) {
    for (const std::string& line : lines_of(read_file(k_fixtures / "history.csv"))) {
        if (line.rfind(run_id, 0) == 0 && line.find(case_metric) != std::string::npos) {
            std::vector<std::string> fields;
            std::istringstream in(line);
            for (std::string field; std::getline(in, field, ',');) {
                fields.push_back(field);
            }
            return std::stod(fields.at(17));
        }
    }
    throw std::runtime_error("no fixture row " + run_id + " " + case_metric);
}

// Blocks of `abtool history` output, one per key: its header line and its run lines.
std::vector<std::vector<std::string>> history_blocks(const std::string& output) {
    std::vector<std::vector<std::string>> blocks;
    for (const std::string& line : lines_of(output)) {
        if (line.rfind("pk_", 0) == 0) {
            blocks.push_back({line});
        } else if (!blocks.empty() && line.rfind("  ", 0) == 0) {
            blocks.back().push_back(line);
        }
    }
    return blocks;
}

class Fixtures : public ::testing::Test {
protected:
    // Outside any repository: only --results says where the history is, and no run directory
    // can be found.
    ShellResult abtool(const std::string& args) const {
        return shell("cd " + quote(m_dir.path().string()) + " && CI=true " + quote(ABTOOL_BINARY) +
                     " " + args + " 2>&1");
    }
    std::string history_csv() const { return quote((k_fixtures / "history.csv").string()); }

    TempDir m_dir;
};

TEST_F(Fixtures, History_FlagsTheKnownStep_NotTheFlatKeyOrAOneRunSpike) {
    const ShellResult hotpath =
        abtool("history --results " + history_csv() + " --workload hotpath --metric real_time");
    ASSERT_EQ(hotpath.status, 0) << hotpath.output;
    const auto blocks = history_blocks(hotpath.output);
    ASSERT_EQ(blocks.size(), 2u) << hotpath.output;
    for (const auto& block : blocks) {
        ASSERT_EQ(block.size(), 11u) << "header, sparkline, nine runs\n" << hotpath.output;
        std::vector<std::string> flagged;
        for (const std::string& line : block) {
            if (line.find("<- ") != std::string::npos) {
                flagged.push_back(line);
            }
        }
        if (block[0].find("BM_RoundTrip/inproc real_time") != std::string::npos) {
            ASSERT_EQ(flagged.size(), 1u) << hotpath.output;
            EXPECT_NE(flagged[0].find(k_run_6), std::string::npos) << flagged[0];
            EXPECT_NE(flagged[0].find("<- step +1"), std::string::npos) << flagged[0];
        } else {
            EXPECT_NE(block[0].find("BM_Copy<std::vector<int>, 64> real_time"), std::string::npos)
                << block[0];
            EXPECT_TRUE(flagged.empty()) << hotpath.output;
            // Run 7 has no B median: a gap in the sparkline, not a broken scale.
            EXPECT_NE(block[1].find("·"), std::string::npos) << block[1];
        }
    }

    // Run 4's wall time is 20% above the others, four times its 5% threshold, but only once.
    const ShellResult spin =
        abtool("history --results " + history_csv() + " --workload spin --metric wall_ms");
    ASSERT_EQ(spin.status, 0) << spin.output;
    EXPECT_EQ(spin.output.find("<- "), std::string::npos) << spin.output;
    EXPECT_NE(spin.output.find("regressed"), std::string::npos) << spin.output;

    // The same key by --key.
    const std::string key = blocks[0][0].substr(0, blocks[0][0].find(' '));
    const ShellResult by_key = abtool("history --results " + history_csv() + " --key " + key);
    EXPECT_EQ(by_key.status, 0) << by_key.output;
    EXPECT_EQ(history_blocks(by_key.output).size(), 1u) << by_key.output;
}

TEST_F(Fixtures, CompareWithoutRawSamples_DeltaOfMediansIsInconclusive_StrictFails) {
    const std::string args =
        "compare --results " + history_csv() + " --baseline " + k_run_5 + " --candidate " + k_run_6;
    const std::filesystem::path json_file = m_dir / "compare.json";
    const ShellResult compare = abtool(args + " --json " + quote(json_file.string()));
    EXPECT_EQ(compare.status, 0) << "inconclusive passes without --strict\n" << compare.output;
    EXPECT_NE(compare.output.find("only its stored medians are available"), std::string::npos)
        << compare.output;
    // Gated-ness by the runners' rule (no plan, no samples): Google Benchmark's real_time gates,
    // its cpu_time does not.
    const JsonReport report(json_file);
    for (const auto& [workload, case_name, metric, gated] :
         std::vector<std::tuple<std::string, std::string, std::string, bool>>{
             {"hotpath", "BM_RoundTrip/inproc", "real_time", true},
             {"hotpath", "BM_RoundTrip/inproc", "cpu_time", false},
             {"spin", "", "user_ms", false},
             {"spin", "", "wall_ms", true}}) {
        SCOPED_TRACE(workload + "/" + case_name + "/" + metric);
        EXPECT_EQ(report.verdict(workload, case_name, metric), "inconclusive") << compare.output;
        EXPECT_EQ(report.gated(workload, case_name, metric), gated) << compare.output;
    }
    const double expected = (fixture_b_median(k_run_6, ",BM_RoundTrip/inproc,real_time,") /
                                 fixture_b_median(k_run_5, ",BM_RoundTrip/inproc,real_time,") -
                             1) *
                            100;
    const std::string note = "note: hotpath/BM_RoundTrip/inproc real_time: no raw samples: cannot "
                             "test; stored medians ";
    const auto note_lines = lines_of(compare.output);
    const auto note_line = std::find_if(note_lines.begin(), note_lines.end(),
                                        [&](const auto& l) { return l.rfind(note, 0) == 0; });
    ASSERT_NE(note_line, note_lines.end()) << compare.output;
    EXPECT_GT(expected, 10) << "the fixture's step is +15%";
    EXPECT_NE(note_line->find(" ns " + percent(expected)), std::string::npos)
        << *note_line << " vs " << percent(expected);
    EXPECT_NE(compare.output.find("gate passed: 0 regressed"), std::string::npos) << compare.output;

    const ShellResult strict = abtool(args + " --strict");
    EXPECT_EQ(strict.status, 1) << strict.output;
    EXPECT_NE(strict.output.find("gate FAILED: 0 regressed, 0 improved, 0 unchanged, 3 "
                                 "inconclusive"),
              std::string::npos)
        << "the three gated rows fail --strict as inconclusive\n"
        << strict.output;
}

TEST_F(Fixtures, LatestPass_IsTheLatestRunWhoseGatePassed) {
    // Run 8 regressed only in cpu_time, which does not gate: its gate passed.
    const ShellResult from_9 = abtool("compare --results " + history_csv());
    EXPECT_EQ(from_9.status, 0) << from_9.output;
    EXPECT_EQ(baseline_of(from_9.output), k_run_8) << from_9.output;
    // Run 6 regressed in real_time, which gates: from run 7, latest-pass is run 5.
    const ShellResult from_7 = abtool("compare --results " + history_csv() + " --candidate " +
                                      k_run_7 + " --baseline latest-pass");
    EXPECT_EQ(from_7.status, 0) << from_7.output;
    EXPECT_EQ(baseline_of(from_7.output), k_run_5) << from_7.output;
    EXPECT_EQ(abtool("compare --results " + history_csv() + " --candidate nope").status, 2);
}

class GateFixture : public ::testing::Test {
protected:
    GateFixture() : m_repo(m_dir / "repo") {
        m_repo.write("README", "x\n");
        m_repo.commit("init");
        std::filesystem::copy_file(k_fixtures / "gate" / "results.csv",
                                   m_repo.root() / "results.csv");
        std::filesystem::create_directories(m_repo.root() / ".abtool");
        std::filesystem::copy(k_fixtures / "gate" / "runs", m_repo.root() / ".abtool" / "runs",
                              std::filesystem::copy_options::recursive);
    }

    ShellResult abtool(const std::string& args) const {
        return shell("cd " + quote(m_repo.root().string()) + " && CI=true " + quote(ABTOOL_BINARY) +
                     " " + args + " 2>&1");
    }

    TempDir m_dir;
    TestRepo m_repo;
};

const std::string k_g1 = "20261102T100000Z-g1";
const std::string k_g2 = "20261102T110000Z-g2";
const std::string k_g3 = "20261102T120000Z-g3";

TEST_F(GateFixture, InformationalRegression_DoesNotFailCompare) {
    const std::filesystem::path json_file = m_dir / "c.json";
    const ShellResult compare =
        abtool("compare --baseline " + k_g1 + " --candidate " + k_g2 + " --markdown " +
               quote((m_dir / "c.md").string()) + " --json " + quote(json_file.string()));
    EXPECT_EQ(compare.status, 0) << compare.output;
    const JsonReport report(json_file);
    EXPECT_EQ(report.verdict("spin", "", "user_ms"), "regressed") << compare.output;
    EXPECT_FALSE(report.gated("spin", "", "user_ms")) << "informational";
    EXPECT_EQ(report.verdict("spin", "", "wall_ms"), "unchanged") << compare.output;
    EXPECT_TRUE(report.gated("spin", "", "wall_ms"));
    EXPECT_NE(compare.output.find("gate passed: 0 regressed"), std::string::npos) << compare.output;
    // The report names its own test, and only that one.
    EXPECT_NE(compare.output.find("p: Mann-Whitney U, Holm-adjusted"), std::string::npos)
        << compare.output;
    EXPECT_EQ(compare.output.find("Wilcoxon signed-rank"), std::string::npos) << compare.output;
    const std::string markdown = read_file(m_dir / "c.md");
    EXPECT_NE(markdown.find("Mann-Whitney U"), std::string::npos) << markdown;
    EXPECT_EQ(markdown.find("Wilcoxon signed-rank"), std::string::npos) << markdown;
}

TEST_F(GateFixture, GatedRegression_FailsCompare_PValuesHolmAdjustedPerGroup) {
    const std::filesystem::path json_file = m_dir / "c.json";
    const ShellResult compare = abtool("compare --baseline " + k_g1 + " --candidate " + k_g3 +
                                       " --json " + quote(json_file.string()));
    EXPECT_EQ(compare.status, 1) << compare.output;
    const JsonReport report(json_file);
    EXPECT_EQ(report.verdict("spin", "", "wall_ms"), "regressed") << compare.output;
    EXPECT_TRUE(report.gated("spin", "", "wall_ms"));
    EXPECT_EQ(report.verdict("hotpath", "BM_A", "real_time"), "unchanged") << compare.output;
    EXPECT_TRUE(report.gated("hotpath", "BM_A", "real_time"));

    std::vector<std::pair<double, double>> p[2]; // (raw, adjusted) of gated, informational rows
    for (const nlohmann::json& row : report.rows()) {
        p[row.at("gated").get<bool>() ? 0 : 1].emplace_back(row.at("p_value").get<double>(),
                                                            row.at("p_adjusted").get<double>());
    }
    ASSERT_EQ(p[0].size(), 3u); // wall_ms, BM_A and BM_B real_time
    ASSERT_EQ(p[1].size(), 2u); // user_ms, BM_A cpu_time
    for (auto& group : p) {
        std::sort(group.begin(), group.end());
        const double m = static_cast<double>(group.size());
        // Holm: the smallest p is multiplied by the group's size, and adjusted values never
        // fall below the raw ones.
        EXPECT_NEAR(group[0].second, std::min(1.0, m * group[0].first), 1e-12 + 1e-9 * m);
        for (const auto& [raw, adjusted] : group) {
            EXPECT_GE(adjusted, raw);
        }
    }
}

TEST_F(GateFixture, LatestPass_SkipsOnlyRunsWhoseGateFailed) {
    // g2's only regression is informational (user_ms): its gate passed, so it is g3's baseline.
    const std::filesystem::path json_file = m_dir / "c.json";
    const ShellResult compare =
        abtool("compare --candidate latest --json " + quote(json_file.string()));
    EXPECT_EQ(baseline_of(compare.output), k_g2) << compare.output;
    EXPECT_EQ(compare.status, 1) << compare.output;
    const JsonReport report(json_file);
    EXPECT_EQ(report.verdict("spin", "", "wall_ms"), "regressed") << compare.output;
    EXPECT_TRUE(report.gated("spin", "", "wall_ms"));
    EXPECT_EQ(report.verdict("spin", "", "user_ms"), "improved") << compare.output;
    EXPECT_FALSE(report.gated("spin", "", "user_ms")) << "informational";
}

} // namespace
} // namespace abtool::testing
