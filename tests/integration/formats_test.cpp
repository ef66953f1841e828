// The benchmarks teams already have (issue 16), run for real through the abtool binary on a git
// repository with two refs, the second doing three times the loop work: a Go benchmark read from
// `go test -bench` text, and a pytest-benchmark test whose --benchmark-json file abtool passes as
// {output}. Each gated row must come out regressed. A tool that is not installed skips its test,
// naming the Debian package (ci/install-deps.sh --tests installs them).
#include "tests/support/json_report.hpp"
#include "tests/support/shell.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_repo.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

namespace abtool::testing {
namespace {

class Formats : public ::testing::Test {
protected:
    Formats() : m_repo(m_dir / "repo") {}

    ShellResult abtool(const std::string& args) const {
        return shell("cd " + quote(m_repo.root().string()) + " && CI=true " + quote(ABTOOL_BINARY) +
                     " " + args);
    }

    // Two tagged commits, v1 and v2, whose `file` is `v1_text` and then `v2_text`.
    void two_refs(const std::string& file, const std::string& v1_text,
                  const std::string& v2_text) const {
        m_repo.write(file, v1_text);
        m_repo.commit("v1: baseline");
        m_repo.tag("v1");
        m_repo.write(file, v2_text);
        m_repo.commit("v2: three times the work");
        m_repo.tag("v2");
    }

    // abtool on v1 against v2: the gated row of `case_name`/`metric` must be regressed.
    void expect_regressed(const std::string& case_name, const std::string& metric) const {
        const std::filesystem::path report_file = m_dir / "report.json";
        const ShellResult result =
            abtool("--ref-a v1 --ref-b v2 --json " + quote(report_file.string()));
        EXPECT_EQ(result.status, 1) << result.output;
        const JsonReport report(report_file);
        EXPECT_TRUE(report.gated("bench", case_name, metric)) << report.summary();
        EXPECT_EQ(report.verdict("bench", case_name, metric), "regressed") << result.output;
    }

    // Few rounds, no pilot (schedule = "alternate"): the change is threefold.
    static std::string run_section() {
        return "[run]\nrounds = 6\nwarmup = 0\nthreshold = \"5%\"\nschedule = \"alternate\"\n";
    }

    TempDir m_dir;
    TestRepo m_repo;
};

std::string go_benchmark(int work) {
    return "package loop\n\n"
           "import \"testing\"\n\n"
           "var sink uint64\n\n"
           "func BenchmarkLoop(b *testing.B) {\n"
           "\tfor i := 0; i < b.N; i++ {\n"
           "\t\tx := uint64(0)\n"
           "\t\tfor j := 0; j < " +
           std::to_string(work) +
           "; j++ {\n"
           "\t\t\tx += uint64(j) * 2654435761\n"
           "\t\t}\n"
           "\t\tsink = x\n"
           "\t}\n"
           "}\n";
}

TEST_F(Formats, GoBenchmark_ThreeTimesTheWork_IsRegressedOnNsPerOp) {
    if (shell("go version").status != 0) {
        GTEST_SKIP() << "go is not installed (Debian package golang-go)";
    }
    // Each ref's test binary is built once (go test -c): its runs print what go test -bench
    // prints, without the go command compiling and linking again in every run. The Go tool's
    // caches and home are inside the test's directory: nothing of the user's is read or written,
    // and no module is fetched (go.mod has no requirements).
    const auto toml_string = [](const std::filesystem::path& path) {
        return nlohmann::json(path.string()).dump();
    };
    m_repo.write(".gitignore", "results.csv\nloop.test\n");
    m_repo.write("go.mod", "module example.com/loop\n\ngo 1.19\n");
    m_repo.write("abtool.toml",
                 "[build]\n"
                 "command = [\"go\", \"test\", \"-c\", \"-o\", \"loop.test\", \".\"]\n"
                 "env = { GOCACHE = " +
                     toml_string(m_dir / "gocache") + ", GOPATH = " +
                     toml_string(m_dir / "gopath") + ", HOME = " + toml_string(m_dir.path()) +
                     ", GOTOOLCHAIN = \"local\", GOFLAGS = \"-mod=mod\" }\n" + run_section() +
                     "[[workload]]\n"
                     "name = \"bench\"\n"
                     "kind = \"hotpath\"\n"
                     "format = \"go\"\n"
                     "command = [\"./loop.test\", \"-test.run\", \"^$\", \"-test.bench\", \".\", "
                     "\"-test.count\", \"1\", \"-test.benchtime\", \"300x\"]\n");
    two_refs("loop_test.go", go_benchmark(20'000), go_benchmark(60'000));
    expect_regressed("BenchmarkLoop", "ns_per_op");
}

std::string pytest_benchmark(int work) {
    return "def work(n):\n"
           "    x = 0\n"
           "    for i in range(n):\n"
           "        x += i * 7\n"
           "    return x\n\n\n"
           "def test_loop(benchmark):\n"
           "    benchmark.pedantic(work, args=(" +
           std::to_string(work) + ",), rounds=5, iterations=1)\n";
}

TEST_F(Formats, PytestBenchmark_WrittenToOutput_ThreeTimesTheWork_IsRegressedOnTime) {
    // Debian's pytest-benchmark is for Debian's Python: /usr/bin/python3, not whatever python3
    // comes first on PATH.
    if (shell("/usr/bin/python3 -c 'import pytest, pytest_benchmark'").status != 0) {
        GTEST_SKIP() << "pytest-benchmark is not installed (Debian packages python3-pytest and "
                        "python3-pytest-benchmark)";
    }
    m_repo.write(".gitignore", "results.csv\n__pycache__/\n");
    m_repo.write("abtool.toml", run_section() +
                                    "[[workload]]\n"
                                    "name = \"bench\"\n"
                                    "kind = \"hotpath\"\n"
                                    "format = \"pytest-benchmark\"\n"
                                    "command = [\"/usr/bin/python3\", \"-m\", \"pytest\", \"-q\", "
                                    "\"-p\", \"no:cacheprovider\", \"test_loop.py\", "
                                    "\"--benchmark-json={output}\"]\n"
                                    "output = \"{output}\"\n"
                                    "env = { PYTHONDONTWRITEBYTECODE = \"1\" }\n");
    two_refs("test_loop.py", pytest_benchmark(100'000), pytest_benchmark(300'000));
    expect_regressed("test_loop.py::test_loop", "time");
}

} // namespace
} // namespace abtool::testing
