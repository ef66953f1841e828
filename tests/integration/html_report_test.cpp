// The --html report opened in a real browser (Debian's headless Chromium): the DOM Chromium builds
// from the file holds every chart the report draws, the browser's console stays free of errors
// (a script error, or an SVG attribute it rejects such as cy="nan"), no attribute holds a NaN or
// infinity, the file asks for nothing from the network, and a screenshot renders. The run has 4
// rounds, too few for an interval, so the no-interval drawing is what is checked. Skipped,
// saying why, only where Chromium is not installed (`bash ci/install-deps.sh --tests` installs
// it).
#include "tests/support/shell.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_repo.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace abtool::testing {
namespace {

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
        ++n;
    }
    return n;
}

const std::string k_chromium_flags =
    "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
    "--disable-background-networking --disable-component-update --disable-sync";

struct Page {
    int status = 0;
    std::string dom;
    std::vector<std::string> console; // messages the page logged, e.g. "Error: <circle> ..."
};

// Chromium with its log on stderr: the page's console messages are the lines
// `...:INFO:CONSOLE(12)] "message", source: file:///... (12)`.
Page open_page(const std::filesystem::path& html, const std::filesystem::path& profile) {
    const std::filesystem::path log = profile.string() + ".log";
    const ShellResult dom =
        // In a subshell: shell() adds 2>&1, which must not take the log from the file.
        shell("(timeout 120 chromium " + k_chromium_flags +
              " --user-data-dir=" + quote(profile.string()) + " --enable-logging=stderr --v=0 " +
              "--dump-dom " + quote("file://" + html.string()) + " 2>" + quote(log.string()) + ")");
    Page page{dom.status, dom.output, {}};
    const std::string text = read_file(log);
    for (std::size_t start = 0; start < text.size();) {
        const std::size_t end = std::min(text.find('\n', start), text.size());
        const std::string line = text.substr(start, end - start);
        const std::size_t at = line.find(":CONSOLE");
        const std::size_t quote_at = line.find("] \"", at == std::string::npos ? 0 : at);
        if (at != std::string::npos && quote_at != std::string::npos) {
            page.console.push_back(
                line.substr(quote_at + 3, line.rfind("\", source:") - quote_at - 3));
        }
        start = end + 1;
    }
    return page;
}

std::vector<std::string> errors_of(const Page& page) {
    std::vector<std::string> errors;
    for (const std::string& message : page.console) {
        if (message.rfind("Uncaught", 0) == 0 || message.find("Error") != std::string::npos) {
            errors.push_back(message);
        }
    }
    return errors;
}

// The console check itself: a page with a bad SVG attribute and a throwing script must be caught,
// or a Chromium that stopped logging to stderr would make the real check pass on nothing.
TEST(HtmlReport, ConsoleCheck_CatchesSvgAttributeAndScriptErrors) {
    if (shell("command -v chromium").status != 0) {
        GTEST_SKIP() << "chromium is not installed (bash ci/install-deps.sh --tests installs it)";
    }
    TempDir dir;
    write_file(dir / "bad.html",
               "<!doctype html><html><head><meta charset=\"utf-8\"></head><body>"
               "<svg width=\"10\" height=\"10\"><circle cx=\"nan\" cy=\"3\" r=\"2\"/></svg>"
               "<script>console.log('fine'); notDefined();</script></body></html>\n");
    const Page page = open_page(dir / "bad.html", dir / "profile");
    ASSERT_EQ(page.status, 0);
    const std::vector<std::string> errors = errors_of(page);
    ASSERT_EQ(errors.size(), 2u) << ::testing::PrintToString(page.console);
    EXPECT_NE(errors[0].find("attribute cx"), std::string::npos) << errors[0];
    EXPECT_NE(errors[1].find("Uncaught ReferenceError"), std::string::npos) << errors[1];
}

TEST(HtmlReport, RendersEveryChartInHeadlessChromium_NoConsoleErrors_NoNetwork) {
    if (shell("command -v chromium").status != 0) {
        GTEST_SKIP() << "chromium is not installed (bash ci/install-deps.sh --tests installs it)";
    }
    TempDir dir;
    TestRepo repo(dir / "repo");
    repo.write(".gitignore", "results.csv\n");
    // "sparse" reports a sample in one run of three on each side (a counter in its checkout), so
    // its row has too few pairs for an interval, beside tiny's rows that have one.
    const auto sparse = [](int base) {
        return "n=$(cat runs 2>/dev/null || echo 0); echo $((n + 1)) > runs\n"
               "[ $((n % 3)) -eq 0 ] || exit 1\n"
               "echo \"{\\\"case\\\": \\\"c\\\", \\\"metric\\\": \\\"m\\\", \\\"value\\\": "
               "$((" +
               std::to_string(base) + " + n))}\"\n";
    };
    repo.write("sparse.sh", sparse(20));
    repo.write("abtool.toml", "[run]\nrounds = 8\nwarmup = 0\nschedule = \"alternate\"\n"
                              "[[workload]]\nname = \"tiny\"\nkind = \"command\"\n"
                              "command = [\"true\"]\n"
                              "[[workload]]\nname = \"sparse\"\nkind = \"hotpath\"\n"
                              "format = \"jsonl\"\ncommand = [\"sh\", \"sparse.sh\"]\n");
    repo.commit("v1");
    repo.write("sparse.sh", sparse(30)); // B's values differ from A's by a varying ratio
    repo.commit("v2");
    const std::filesystem::path html = dir / "report.html";
    const ShellResult run =
        shell("cd " + quote(repo.root().string()) + " && CI=true " + quote(ABTOOL_BINARY) +
              " --ref-a HEAD~1 --ref-b HEAD --html " + quote(html.string()));
    ASSERT_TRUE(run.status == 0 || run.status == 1) << run.output;
    const std::string file = read_file(html);
    // Self-contained: no script, style sheet, image or font fetched at view time.
    EXPECT_EQ(file.find("src=\"http"), std::string::npos);
    EXPECT_EQ(file.find("href=\"http"), std::string::npos);
    EXPECT_EQ(file.find("@import"), std::string::npos);
    const std::size_t charts = count(file, "<svg class=\"chart\"");
    ASSERT_GE(charts, 4u) << "at least wall_ms and user_ms, two charts each";

    // No NaN or infinity in any attribute, also where a row has no interval (sparse: 3 pairs).
    EXPECT_NE(file.find(">no interval</text>"), std::string::npos);
    for (auto at = file.find("=\""); at != std::string::npos; at = file.find("=\"", at + 1)) {
        const std::string value = file.substr(at + 2, file.find('"', at + 2) - at - 2);
        EXPECT_EQ(value.find("nan"), std::string::npos) << value;
        EXPECT_EQ(value.find("inf"), std::string::npos) << value;
    }

    const Page page = open_page(html, dir / "chromium-profile");
    ASSERT_EQ(page.status, 0) << page.dom.substr(0, 2000);
    EXPECT_EQ(errors_of(page), std::vector<std::string>{})
        << "the browser's console: " << ::testing::PrintToString(page.console);
    // Chromium serializes the DOM it built: every chart survived parsing as SVG, with every point.
    EXPECT_EQ(count(page.dom, "<svg class=\"chart\""), charts);
    EXPECT_EQ(count(page.dom, "<circle"), count(file, "<circle"));
    EXPECT_GE(count(file, "<circle"), 2 * (4 + 4 + 4)) << "4 rounds: A, B and the paired deltas";
    EXPECT_NE(page.dom.find("<h1 class=\"gate"), std::string::npos);

    const std::string flags =
        k_chromium_flags + " --user-data-dir=" + quote((dir / "chromium-profile").string());
    const std::filesystem::path png = dir / "report.png";
    const ShellResult shot = shell("timeout 120 chromium " + flags +
                                   " --window-size=1200,1600 --screenshot=" + quote(png.string()) +
                                   " " + quote("file://" + html.string()) + " 2>&1");
    ASSERT_EQ(shot.status, 0) << shot.output.substr(0, 2000);
    EXPECT_GT(std::filesystem::file_size(png), 10'000u) << "a blank page would be far smaller";
}

} // namespace
} // namespace abtool::testing
