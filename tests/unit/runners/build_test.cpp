// Builds: a stamp skips the second build, --rebuild forces it, a failure names ref, command and
// log with the log's last lines, and a failed build leaves no stamp.
#include "abtool/error.hpp"
#include "abtool/runners.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

namespace abtool::runners {
namespace {

using abtool::testing::read_file;
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
