// Sharded runs through the real binary (issue 15): `abtool run --shard K/N` on a real repository
// runs a deterministic 1/N of the workloads and of a {filter} hotpath's cases and appends
// nothing; `abtool merge` of every shard gives one correction, one gate and one results.csv
// append, equal to one run of them all with the same seed. The workloads print fixed values
// (v2 is 30% slower where it scales), so a mechanics test never depends on the machine's speed.
#include "tests/support/json_report.hpp"
#include "tests/support/shell.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_repo.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace abtool::testing {
namespace {

// Five units: alpha; gb's cases x, y and z (the program prints the cases {filter} matches, y
// slower on v2); beta.
constexpr const char* k_config = R"toml([run]
rounds = 6
threshold = "5%"
[[workload]]
name = "alpha"
kind = "hotpath"
format = "jsonl"
command = ["sh", "value.sh", "a", "100"]
[[workload]]
name = "gb"
kind = "hotpath"
format = "jsonl"
command = ["sh", "cases.sh", "{filter}"]
cases = ["x", "y", "z"]
[[workload]]
name = "beta"
kind = "hotpath"
format = "jsonl"
command = ["sh", "value.sh", "b", "300"]
)toml";

constexpr const char* k_line =
    R"(printf '{"case": "%s", "metric": "m", "value": %d, "unit": "us", "direction": "lower"}\n')";

// `filtered`: whether cases.sh runs only the cases its argument matches (else all of them, a
// program that ignores {filter}).
std::string cases_script(bool filtered) {
    return std::string(". ./scale.sh\n"
                       "for c in x:100 y:200 z:50; do\n"
                       "  name=${c%%:*}; v=${c#*:}\n"
                       "  case $name in y) v=$(( v * SCALE / 100 ));; esac\n") +
           (filtered ? "  printf '%s\\n' \"$name\" | grep -Eq \"$1\" || continue\n" : "") + "  " +
           k_line + " \"$name\" \"$v\"\n" + "done\n";
}

class Shards : public ::testing::Test {
protected:
    explicit Shards(bool filtered = true) : m_repo(m_dir / "repo") {
        m_repo.write(".gitignore", "results.csv\n");
        m_repo.write("abtool.toml", k_config);
        m_repo.write("value.sh",
                     std::string(". ./scale.sh\n") + k_line + " \"$1\" $(( $2 * SCALE / 100 ))\n");
        m_repo.write("cases.sh", cases_script(filtered));
        m_repo.write("scale.sh", "SCALE=100\n");
        m_repo.commit("v1");
        m_repo.tag("v1");
        m_repo.write("scale.sh", "SCALE=130\n");
        m_repo.commit("v2");
        m_repo.tag("v2");
    }

    ShellResult abtool(const std::string& args) const {
        return shell("cd " + quote(m_repo.root().string()) + " && CI=true " + quote(ABTOOL_BINARY) +
                     " " + args + " 2>&1");
    }

    // Runs shard k/3 of v1 against `ref_b`; its run directory (from the "run: DIR" line).
    std::filesystem::path shard(int k, const std::string& ref_b = "v2",
                                const std::string& more = "") {
        const ShellResult result =
            abtool("--ref-a v1 --ref-b " + ref_b + " --shard " + std::to_string(k) + "/3 " + more);
        EXPECT_EQ(result.status, 0) << result.output; // a shard is not a gate
        EXPECT_NE(result.output.find("shard " + std::to_string(k) + "/3 alone, not a gate"),
                  std::string::npos)
            << result.output;
        const std::size_t at = result.output.rfind("\nrun: ");
        EXPECT_NE(at, std::string::npos) << result.output;
        std::string dir = result.output.substr(at + 6);
        return dir.substr(0, dir.find('\n'));
    }

    std::string results() const {
        const std::filesystem::path file = m_repo.root() / "results.csv";
        return std::filesystem::exists(file) ? read_file(file) : "";
    }

    std::size_t run_dirs() const {
        std::size_t count = 0;
        for ([[maybe_unused]] const auto& entry :
             std::filesystem::directory_iterator(m_repo.root() / ".abtool" / "runs")) {
            ++count;
        }
        return count;
    }

    TempDir m_dir;
    TestRepo m_repo;
};

// results.csv's rows by run id, each without its run id and timestamp (which differ between the
// merged run and the single one by design).
std::map<std::string, std::set<std::string>> rows_by_run(const std::string& csv) {
    std::map<std::string, std::set<std::string>> rows;
    std::istringstream in(csv);
    std::string line;
    std::getline(in, line); // header
    while (std::getline(in, line)) {
        const std::size_t id_end = line.find(',');
        const std::size_t time_end = line.find(',', id_end + 1);
        rows[line.substr(0, id_end)].insert(line.substr(time_end + 1));
    }
    return rows;
}

TEST_F(Shards, ThreeShardsMerged_EqualOneRunOfThemAll_OneCorrectionOneGateOneAppend) {
    const std::filesystem::path one =
        shard(1, "v2", "--json " + quote((m_dir / "s1.json").string()));
    const std::filesystem::path two = shard(2);
    const std::filesystem::path three = shard(3);
    EXPECT_EQ(results(), "") << "a shard appended to results.csv";
    // Shard 1 measured alpha and gb's z only; shard 3 gb's y only.
    const JsonReport first(m_dir / "s1.json");
    EXPECT_EQ(first.rows().size(), 2u) << first.json().dump(2);
    EXPECT_TRUE(first.has_row("alpha", "a", "m"));
    EXPECT_TRUE(first.has_row("gb", "z", "m"));

    // Any order of the directories.
    const std::filesystem::path merged_json = m_dir / "merged.json";
    const ShellResult merged =
        abtool("merge " + quote(three.string()) + " " + quote(one.string()) + " " +
               quote(two.string()) + " --json " + quote(merged_json.string()));
    ASSERT_EQ(merged.status, 1) << merged.output; // alpha, beta and gb/y regressed
    EXPECT_NE(merged.output.find("gate FAILED: 3 regressed, 0 improved, 2 unchanged"),
              std::string::npos)
        << merged.output;
    const JsonReport report(merged_json);
    EXPECT_EQ(report.rows().size(), 5u) << report.json().dump(2);
    // One Holm correction over all five cases, not over a shard's own two.
    EXPECT_GT(report.row("alpha", "a", "m").at("p_adjusted").get<double>(),
              first.row("alpha", "a", "m").at("p_adjusted").get<double>());
    const nlohmann::json plan = nlohmann::json::parse(read_file(
        std::filesystem::path(report.json().at("run_dir").get<std::string>()) / "plan.json"));
    EXPECT_EQ(plan.at("merged_from").size(), 3u);
    EXPECT_FALSE(plan.contains("shard"));

    const ShellResult single = abtool("--ref-a v1 --ref-b v2");
    ASSERT_EQ(single.status, 1) << single.output;
    const auto runs = rows_by_run(results());
    ASSERT_EQ(runs.size(), 2u) << results();
    EXPECT_EQ(runs.begin()->second.size(), 5u) << results();
    EXPECT_EQ(runs.begin()->second, std::next(runs.begin())->second) << results();
}

TEST_F(Shards, BadMerges_Exit2NamingTheOddShard_NothingWritten) {
    const std::filesystem::path one = shard(1);
    const std::filesystem::path two = shard(2);
    const std::filesystem::path other = shard(3, "v1"); // another comparison's shard 3
    const std::size_t dirs = run_dirs();
    const auto merge = [&](const std::vector<std::filesystem::path>& dirs_given) {
        std::string args = "merge";
        for (const std::filesystem::path& dir : dirs_given) {
            args += " " + quote(dir.string());
        }
        return abtool(args);
    };
    const ShellResult missing = merge({one, two});
    EXPECT_EQ(missing.status, 2) << missing.output;
    EXPECT_NE(missing.output.find("shard(s) 3 of 3 missing"), std::string::npos) << missing.output;
    const ShellResult twice = merge({one, two, one});
    EXPECT_EQ(twice.status, 2) << twice.output;
    EXPECT_NE(twice.output.find("shard 1 is given twice"), std::string::npos) << twice.output;
    const ShellResult refs = merge({one, two, other});
    EXPECT_EQ(refs.status, 2) << refs.output;
    EXPECT_NE(refs.output.find("shard 3/3 (" + other.string() + "): ref B is ref 'v1'"),
              std::string::npos)
        << refs.output;
    const ShellResult not_a_dir = merge({one, two, m_dir / "nowhere"});
    EXPECT_EQ(not_a_dir.status, 2) << not_a_dir.output;
    EXPECT_NE(not_a_dir.output.find("nowhere is not an abtool run directory"), std::string::npos)
        << not_a_dir.output;
    EXPECT_EQ(results(), "");
    EXPECT_EQ(run_dirs(), dirs) << "a refused merge left a run directory";

    const ShellResult bad_flag = abtool("--ref-a v1 --ref-b v2 --shard 4/3");
    EXPECT_EQ(bad_flag.status, 2) << bad_flag.output;
    EXPECT_NE(bad_flag.output.find("--shard 4/3: K must be 1 to 3"), std::string::npos)
        << bad_flag.output;
}

class ShardsOfAProgramIgnoringTheFilter : public Shards {
protected:
    ShardsOfAProgramIgnoringTheFilter() : Shards(false) {}
};

TEST_F(ShardsOfAProgramIgnoringTheFilter, MergeRefusesCasesMeasuredTwice) {
    const std::filesystem::path one = shard(1);
    const std::filesystem::path two = shard(2);
    const std::filesystem::path three = shard(3);
    const ShellResult merged = abtool("merge " + quote(one.string()) + " " + quote(two.string()) +
                                      " " + quote(three.string()));
    EXPECT_EQ(merged.status, 2) << merged.output;
    EXPECT_NE(merged.output.find("workload 'gb' case 'x' was measured by shard 1/3"),
              std::string::npos)
        << merged.output;
    EXPECT_EQ(results(), "");
}

} // namespace
} // namespace abtool::testing
