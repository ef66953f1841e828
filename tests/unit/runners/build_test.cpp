// Builds: a stamp skips the second build, --rebuild forces it, a failure names ref, command and
// log with the log's last lines, and a failed build leaves no stamp.
#include "abtool/error.hpp"
#include "abtool/runners.hpp"
#include "tests/support/scoped_env.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace abtool::runners {
namespace {

using abtool::testing::read_file;
using abtool::testing::ScopedEnv;
using abtool::testing::TempDir;

TEST(Build, SecondBuildIsSkipped_RebuildForcesIt_ChangedCommandRebuilds) {
    TempDir dir;
    BuildSpec spec;
    spec.shell = "echo built >> count.txt";
    const auto meta = dir / "meta";
    const BuildOutcome first =
        build(spec, dir.path(), meta, "tree1", dir / "b1.log", "ref 'x'", Rebuild::no);
    EXPECT_FALSE(first.skipped);
    EXPECT_TRUE(
        build(spec, dir.path(), meta, "tree1", dir / "b2.log", "ref 'x'", Rebuild::no).skipped);
    EXPECT_FALSE(
        build(spec, dir.path(), meta, "tree1", dir / "b3.log", "ref 'x'", Rebuild::yes).skipped);
    EXPECT_FALSE(
        build(spec, dir.path(), meta, "tree2", dir / "b4.log", "ref 'x'", Rebuild::no).skipped);
    spec.env = {{"CC", "clang"}};
    EXPECT_FALSE(
        build(spec, dir.path(), meta, "tree2", dir / "b5.log", "ref 'x'", Rebuild::no).skipped);
    EXPECT_EQ(read_file(dir / "count.txt"), "built\nbuilt\nbuilt\nbuilt\n");
}

// A build says it is alive while it runs: its elapsed time and the last line it wrote, which
// changes as it goes (a real child writing to its real log; 100 ms between calls here).
TEST(Build, Progress_ReportsElapsedTimeAndTheLastLineAsTheBuildGoes) {
    TempDir dir;
    BuildSpec spec;
    spec.shell = "echo compiling one.c; sleep 0.5; printf 'linking app\\r\\n'; sleep 0.5";
    spec.progress_every = std::chrono::milliseconds(100);
    std::vector<std::pair<double, std::string>> calls;
    spec.progress = [&](double elapsed_s, std::string_view last_line) {
        calls.emplace_back(elapsed_s, std::string(last_line));
    };
    build(spec, dir.path(), dir / "meta", "tree1", dir / "b.log", "ref 'x'", Rebuild::no);
    ASSERT_GE(calls.size(), 4u);
    bool compiling = false, linking = false;
    for (std::size_t i = 0; i < calls.size(); ++i) {
        compiling = compiling || calls[i].second == "compiling one.c";
        linking = linking || calls[i].second == "linking app";
        if (i > 0) {
            EXPECT_GE(calls[i].first, calls[i - 1].first) << "elapsed time went back";
        }
    }
    EXPECT_TRUE(compiling);
    EXPECT_TRUE(linking) << "the line after the first, its carriage return dropped";
    EXPECT_LT(calls.back().first, 5.0);
}

TEST(Build, ChangedInheritedToolchainVariablesRebuild_SameEnvironmentSkips) {
    TempDir dir;
    BuildSpec spec;
    spec.shell = "echo \"built with $CFLAGS\" >> count.txt";
    const auto meta = dir / "meta";
    const auto build_once = [&](const std::string& log) {
        return build(spec, dir.path(), meta, "tree", dir / log, "ref 'x'", Rebuild::no).skipped;
    };
    {
        const ScopedEnv cflags("CFLAGS", "-O2");
        EXPECT_FALSE(build_once("1.log"));
        EXPECT_TRUE(build_once("2.log"));
    }
    {
        const ScopedEnv cflags("CFLAGS", "-O0 -g");
        EXPECT_FALSE(build_once("3.log"));
        EXPECT_TRUE(build_once("4.log"));
    }
    {
        // Another compiler first on PATH is another toolchain, even with the same flags; and
        // so is an upgrade of that compiler in place (a new file, same name).
        const auto toolchain = dir / "toolchain";
        abtool::testing::write_file(toolchain / "cc", "#!/bin/sh\necho 1.0\n");
        std::filesystem::permissions(toolchain / "cc", std::filesystem::perms::owner_all);
        const std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
        const ScopedEnv cflags("CFLAGS", "-O0 -g");
        const ScopedEnv path_env("PATH", (toolchain.string() + ":" + path).c_str());
        EXPECT_FALSE(build_once("5.log"));
        EXPECT_TRUE(build_once("6.log"));
        abtool::testing::write_file(toolchain / "cc", "#!/bin/sh\necho 2.0.1\n");
        EXPECT_FALSE(build_once("7.log"));
        EXPECT_TRUE(build_once("8.log"));
    }
    {
        // [build] env decides over the inherited value, so then the inherited one no longer
        // matters.
        spec.env = {{"CFLAGS", "-O1"}};
        const ScopedEnv cflags("CFLAGS", "-O3");
        EXPECT_FALSE(build_once("9.log"));
        const ScopedEnv other_cflags("CFLAGS", "-Os");
        EXPECT_TRUE(build_once("10.log"));
    }
    EXPECT_EQ(read_file(dir / "count.txt"),
              "built with -O2\nbuilt with -O0 -g\nbuilt with -O0 -g\nbuilt with -O0 -g\n"
              "built with -O1\n");
}

TEST(Build, Failure_NamesRefCommandAndLog_AndLeavesNoStamp) {
    TempDir dir;
    BuildSpec spec;
    spec.argv = {"sh", "-c", "echo compiling; echo 'error: bad code' >&2; exit 2"};
    const auto meta = dir / "meta";
    try {
        build(spec, dir.path(), meta, "tree", dir / "build.log", "ref 'dev' (3f2a1c9)",
              Rebuild::no);
        FAIL() << "no error";
    } catch (const Error& error) {
        const std::string message = error.what();
        EXPECT_EQ(error.kind(), ErrorKind::build);
        EXPECT_NE(message.find("ref 'dev' (3f2a1c9)"), std::string::npos) << message;
        EXPECT_NE(message.find("exited with 2"), std::string::npos) << message;
        EXPECT_NE(message.find((dir / "build.log").string()), std::string::npos) << message;
        EXPECT_NE(message.find("error: bad code"), std::string::npos) << message;
    }
    // Both streams are in the log; and the next call builds again (no stamp was written).
    const std::string log = read_file(dir / "build.log");
    EXPECT_NE(log.find("compiling"), std::string::npos);
    EXPECT_NE(log.find("error: bad code"), std::string::npos);
    EXPECT_THROW(build(spec, dir.path(), meta, "tree", dir / "again.log", "ref 'dev'", Rebuild::no),
                 Error);
}

} // namespace
} // namespace abtool::runners
