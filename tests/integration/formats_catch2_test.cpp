// format = "catch2" end to end: a real Catch2 benchmark (Debian 12's header-only Catch2 v2) built
// by abtool in a real git repository at two refs, the second doing three times the work, run
// through the abtool binary reading Catch2's XML reporter: the gated "mean" row is regressed.
// Kept short for a loaded 2-core machine: Catch2's main compiled once for both refs, 10 samples
// and 1000 bootstrap resamples a run (Catch2's default 100000 is most of a short run), 6 rounds.
// Catch2's "mean" is a mean, which one preempted sample moves: an invocation lasts about a
// millisecond (a 60 us one gave CVs of 130% under a load of 3.5 on 2 CPUs, and an inconclusive
// verdict; 1 ms gave CVs of 26-30% and a +243% change, its interval's low end at +194%).
#include "tests/support/json_report.hpp"
#include "tests/support/shell.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_repo.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace abtool::testing {
namespace {

const std::filesystem::path k_catch2_header = "/usr/include/catch2/catch.hpp";

// A TEST_CASE with one BENCHMARK spinning `iterations` steps of a loop the compiler must keep.
std::string benchmark(long iterations) {
    return "#define CATCH_CONFIG_ENABLE_BENCHMARKING\n"
           "#include <catch2/catch.hpp>\n"
           "TEST_CASE(\"loop\") {\n"
           "    BENCHMARK(\"spin\") {\n"
           "        volatile unsigned long x = 0;\n"
           "        for (long i = 0; i < " +
           std::to_string(iterations) +
           "L; ++i) { x = x + (unsigned long)i * 2654435761UL; }\n"
           "        return x;\n"
           "    };\n"
           "}\n";
}

// Catch2's main and runner, compiled once for both refs (most of a Catch2 build's time), at -O0:
// only the benchmark's own translation unit is timed.
std::string compile_catch2_main(const TempDir& dir) {
    write_file(dir / "catch2_main.cpp", "#define CATCH_CONFIG_MAIN\n"
                                        "#define CATCH_CONFIG_ENABLE_BENCHMARKING\n"
                                        "#include <catch2/catch.hpp>\n");
    const std::string object = (dir / "catch2_main.o").string();
    must("c++ -std=c++17 -O0 -c " + quote((dir / "catch2_main.cpp").string()) + " -o " +
         quote(object));
    return object;
}

std::string config(const std::string& main_object) {
    return "[build]\n"
           "command = [\"c++\", \"-std=c++17\", \"-O1\", \"-o\", \"bench\", \"bench.cpp\", \"" +
           main_object +
           "\"]\n"
           "[run]\n"
           "rounds = 6\n"
           "warmup = 1\n"
           "schedule = \"alternate\"\n" // no pilot: the shortest run that gives a verdict
           "threshold = \"5%\"\n"
           "[[workload]]\n"
           "name = \"catch2\"\n"
           "kind = \"hotpath\"\n"
           "format = \"catch2\"\n"
           "command = [\"./bench\", \"-r\", \"xml\", \"--benchmark-samples\", \"10\", "
           "\"--benchmark-resamples\", \"1000\", \"--benchmark-warmup-time\", \"20\"]\n";
}

TEST(FormatsCatch2, ThreeTimesTheWork_MeanIsRegressed) {
    if (!std::filesystem::exists(k_catch2_header)) {
        GTEST_SKIP() << "needs Catch2 v2 (" << k_catch2_header.string()
                     << "): apt-get install catch2";
    }
    TempDir dir;
    TestRepo repo(dir / "repo");
    repo.write("abtool.toml", config(compile_catch2_main(dir)));
    repo.write("bench.cpp", benchmark(4'000'000)); // about 1 ms an invocation here
    repo.commit("v1");
    repo.tag("v1");
    repo.write("bench.cpp", benchmark(12'000'000));
    repo.commit("v2: three times the work");
    repo.tag("v2");

    const std::filesystem::path report_file = dir / "report.json";
    const ShellResult result =
        shell("cd " + quote(repo.root().string()) + " && CI=true " + quote(ABTOOL_BINARY) +
              " --ref-a v1 --ref-b v2 --json " + quote(report_file.string()));
    EXPECT_EQ(result.status, 1) << result.output;
    const JsonReport report(report_file);
    EXPECT_EQ(report.verdict("catch2", "loop/spin", "mean"), "regressed") << result.output;
    EXPECT_TRUE(report.gated("catch2", "loop/spin", "mean"));
    EXPECT_FALSE(report.gated("catch2", "loop/spin", "std_dev")) << "informational";
    EXPECT_GT(JsonReport::number(report.row("catch2", "loop/spin", "mean").at("delta_pct")), 60.0)
        << "three times the loop";
}

} // namespace
} // namespace abtool::testing
