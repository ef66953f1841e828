// The --html report opened in a real browser (Debian's headless Chromium): the DOM Chromium builds
// from the file holds every chart the report draws, the file asks for nothing from the network,
// and a screenshot renders. Skipped, saying why, only where Chromium is not installed
// (`bash ci/install-deps.sh --tests` installs it).
#include "tests/support/shell.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_repo.hpp"

#include <gtest/gtest.h>

namespace abtool::testing {
namespace {

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
        ++n;
    }
    return n;
}

TEST(HtmlReport, RendersEveryChartInHeadlessChromium_NoNetwork) {
    if (shell("command -v chromium").status != 0) {
        GTEST_SKIP() << "chromium is not installed (bash ci/install-deps.sh --tests installs it)";
    }
    TempDir dir;
    TestRepo repo(dir / "repo");
    repo.write(".gitignore", "results.csv\n");
    repo.write("abtool.toml", "[run]\nrounds = 4\nwarmup = 0\n"
                              "[[workload]]\nname = \"tiny\"\nkind = \"command\"\n"
                              "command = [\"true\"]\n");
    repo.commit("v1");
    const std::filesystem::path html = dir / "report.html";
    const ShellResult run =
        shell("cd " + quote(repo.root().string()) + " && CI=true " + quote(ABTOOL_BINARY) +
              " --ref-a HEAD --ref-b HEAD --html " + quote(html.string()));
    ASSERT_TRUE(run.status == 0 || run.status == 1) << run.output;
    const std::string file = read_file(html);
    // Self-contained: no script, style sheet, image or font fetched at view time.
    EXPECT_EQ(file.find("src=\"http"), std::string::npos);
    EXPECT_EQ(file.find("href=\"http"), std::string::npos);
    EXPECT_EQ(file.find("@import"), std::string::npos);
    const std::size_t charts = count(file, "<svg class=\"chart\"");
    ASSERT_GE(charts, 4u) << "at least wall_ms and user_ms, two charts each";

    const std::string flags = "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
                              "--disable-background-networking --disable-component-update "
                              "--disable-sync --user-data-dir=" +
                              quote((dir / "chromium-profile").string());
    const ShellResult dom = shell("timeout 120 chromium " + flags + " --dump-dom " +
                                  quote("file://" + html.string()) + " 2>/dev/null");
    ASSERT_EQ(dom.status, 0) << dom.output.substr(0, 2000);
    // Chromium serializes the DOM it built: every chart survived parsing as SVG, with every point.
    EXPECT_EQ(count(dom.output, "<svg class=\"chart\""), charts);
    EXPECT_EQ(count(dom.output, "<circle"), count(file, "<circle"));
    EXPECT_GE(count(file, "<circle"), 2 * (4 + 4 + 4 + 1)) << "4 rounds: A, B, deltas, estimate";
    EXPECT_NE(dom.output.find("<h1>abtool:"), std::string::npos);

    const std::filesystem::path png = dir / "report.png";
    const ShellResult shot = shell("timeout 120 chromium " + flags +
                                   " --window-size=1200,1600 --screenshot=" + quote(png.string()) +
                                   " " + quote("file://" + html.string()) + " 2>&1");
    ASSERT_EQ(shot.status, 0) << shot.output.substr(0, 2000);
    EXPECT_GT(std::filesystem::file_size(png), 10'000u) << "a blank page would be far smaller";
}

} // namespace
} // namespace abtool::testing
