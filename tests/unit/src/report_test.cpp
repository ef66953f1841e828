// Reporters over one hand-built Report: Markdown and the terminal share the table, JSON carries
// the raw series, exports have their formats' shapes, and GitHub Actions gets capped, escaped
// annotations, the step summary and outputs.
#include "src/report/exporters.hpp"
#include "src/report/outputs.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>

namespace abtool::report {
namespace {

Row make_row(const std::string& case_name, Verdict verdict, double delta, bool gated = true) {
    Row row;
    row.primary_key = "pk_" + case_name;
    row.workload = "hotpath";
    row.kind = "hotpath";
    row.case_name = case_name;
    row.metric = "real_time";
    row.unit = "ns";
    row.gated = gated;
    row.verdict = verdict;
    row.comparison.n = 3;
    row.comparison.delta_pct = delta;
    row.comparison.ci_low_pct = delta - 1;
    row.comparison.ci_high_pct = delta + 1;
    row.comparison.interval = stats::IntervalMethod::wilcoxon_exact;
    row.comparison.p_adjusted = 0.01;
    row.comparison.reason = "because, 100%";
    row.a_values = {100, 101, 99};
    row.b_values = {100 * (1 + delta / 100), 101, 99};
    row.comparison.a = stats::describe(row.a_values);
    row.comparison.b = stats::describe(row.b_values);
    row.order = {stats::Order::ab, stats::Order::ba, stats::Order::ab};
    return row;
}

Report make_report() {
    Report report;
    report.run_id = "run1";
    report.ref_a = "main";
    report.commit_a = "aaaaaaaaaaaa";
    report.ref_b = "CURRENT";
    report.commit_b = "bbbbbbbbbbbb";
    report.rounds = 3;
    report.rows = {
        make_row("fast", Verdict::improved, -8), make_row("slow", Verdict::regressed, 12),
        make_row("flat", Verdict::unchanged, 0.1), make_row("slower", Verdict::regressed, 30)};
    return report;
}

TEST(Report, WorstFirst_RegressionsByDeltaThenTheRest) {
    const Report report = make_report();
    const auto rows = worst_first(report);
    ASSERT_EQ(rows.size(), 4u);
    EXPECT_EQ(rows[0]->case_name, "slower");
    EXPECT_EQ(rows[1]->case_name, "slow");
    EXPECT_EQ(rows[2]->case_name, "flat");
    EXPECT_EQ(rows[3]->case_name, "fast");
}

TEST(Report, Gate_FailsOnGatedRegressionOrSlo_StrictFailsOnInconclusive) {
    Report report = make_report();
    EXPECT_TRUE(summarize(report, StrictGate::no).failed);
    report.rows = {make_row("x", Verdict::regressed, 12, false),
                   make_row("y", Verdict::unchanged, 0)};
    const GateSummary info = summarize(report, StrictGate::no);
    EXPECT_FALSE(info.failed) << "informational metrics never gate";
    EXPECT_EQ(info.regressed, 0) << "counts are of gated metrics";
    EXPECT_EQ(info.informational_regressed, 1);
    EXPECT_EQ(info.unchanged, 1);
    report.rows = {make_row("x", Verdict::inconclusive, 1)};
    EXPECT_FALSE(summarize(report, StrictGate::no).failed);
    EXPECT_TRUE(summarize(report, StrictGate::yes).failed);
    report.rows = {make_row("x", Verdict::slo_violated, 0)};
    EXPECT_TRUE(summarize(report, StrictGate::no).failed);
}

TEST(Report, TerminalAndMarkdown_ShareTheTable) {
    const Report report = make_report();
    const std::string terminal = terminal_table(report, Color::no);
    const std::string markdown = MarkdownExporter().serialize(report);
    EXPECT_EQ(terminal.find("\033["), std::string::npos) << "no colour when not asked";
    EXPECT_NE(terminal_table(report, Color::yes).find("\033[1;31m"), std::string::npos);
    for (const char* cell : {"slower", "+30.00%", "[+29.00%, +31.00%]", "regressed"}) {
        EXPECT_NE(terminal.find(cell), std::string::npos) << cell;
        EXPECT_NE(markdown.find(cell), std::string::npos) << cell;
    }
    EXPECT_EQ(markdown.rfind("<!-- abtool-report -->", 0), 0u);
    EXPECT_LT(markdown.find("| slower |"), markdown.find("| slow |"));
}

TEST(Report, Json_CarriesRowsAndRawSeries) {
    const nlohmann::json json = nlohmann::json::parse(JsonExporter().serialize(make_report()));
    EXPECT_EQ(json.at("format"), "abtool-report-1");
    ASSERT_EQ(json.at("rows").size(), 4u);
    const auto& worst = json.at("rows")[0];
    EXPECT_EQ(worst.at("case"), "slower");
    EXPECT_EQ(worst.at("verdict"), "regressed");
    EXPECT_EQ(worst.at("a_values").size(), 3u);
    EXPECT_EQ(worst.at("order")[1], "BA");
}

TEST(Report, Exports_HaveTheirFormatsShapes) {
    const Report report = make_report();
    const std::string junit = JunitExporter().serialize(report);
    EXPECT_NE(junit.find("failures=\"2\""), std::string::npos);
    EXPECT_NE(junit.find("because, 100%"), std::string::npos);
    const nlohmann::json bencher = nlohmann::json::parse(BencherExporter().serialize(report));
    EXPECT_TRUE(bencher.at("hotpath/slow").at("real_time").contains("lower_value"));
    const std::string benchstat = BenchstatExporter(BenchstatExporter::Side::b).serialize(report);
    // One Go benchmark line per round: name, iterations, value, unit.
    EXPECT_NE(benchstat.find("Benchmarkhotpath/slow 1 101 real_time-ns\n"), std::string::npos)
        << benchstat;
    const nlohmann::json gha =
        nlohmann::json::parse(GhaBenchmarkExporter(stats::Direction::lower).serialize(report));
    EXPECT_EQ(gha.size(), 4u);
    EXPECT_TRUE(
        nlohmann::json::parse(GhaBenchmarkExporter(stats::Direction::higher).serialize(report))
            .empty());
    const std::string html = HtmlExporter().serialize(report);
    EXPECT_NE(html.find("<svg"), std::string::npos);
    EXPECT_EQ(html.find("http"), std::string::npos) << "self-contained: nothing to fetch";
}

TEST(Report, GithubActions_CappedEscapedAnnotations_SummaryAndOutputs) {
    abtool::testing::TempDir dir;
    Report report;
    report.ref_a = "main";
    report.ref_b = "pr";
    for (int i = 0; i < 12; ++i) {
        report.rows.push_back(
            make_row("case:" + std::to_string(i) + ",x", Verdict::regressed, 10 + i));
    }
    setenv("GITHUB_ACTIONS", "true", 1);
    setenv("GITHUB_STEP_SUMMARY", (dir / "summary.md").c_str(), 1);
    setenv("GITHUB_OUTPUT", (dir / "output.txt").c_str(), 1);
    ::testing::internal::CaptureStdout();
    publish_to_github_actions(report, summarize(report, StrictGate::no), dir.path());
    const std::string annotations = ::testing::internal::GetCapturedStdout();
    unsetenv("GITHUB_ACTIONS");
    unsetenv("GITHUB_STEP_SUMMARY");
    unsetenv("GITHUB_OUTPUT");
    std::size_t errors = 0;
    for (auto at = annotations.find("::error "); at != std::string::npos;
         at = annotations.find("::error ", at + 1)) {
        ++errors;
    }
    EXPECT_EQ(errors, 10u);
    EXPECT_NE(annotations.find("2 more regression(s)"), std::string::npos);
    EXPECT_NE(annotations.find("case%3A11%2Cx"), std::string::npos) << annotations;
    EXPECT_NE(annotations.find("100%25"), std::string::npos) << annotations;
    EXPECT_NE(abtool::testing::read_file(dir / "output.txt").find("verdict=fail\nregressed=12\n"),
              std::string::npos);
    EXPECT_NE(abtool::testing::read_file(dir / "summary.md").find("<!-- abtool-report -->"),
              std::string::npos);
    EXPECT_TRUE(std::filesystem::exists(dir / "comment.md"));
}

} // namespace
} // namespace abtool::report

namespace abtool::report {
namespace {

// Golden files (hyperfine's export tests): the exact bytes a user's scripts and PR comments see.
// After an intended change, regenerate with ABTOOL_UPDATE_GOLDEN=1 and review the diff.
void expect_golden(const std::string& name, const std::string& actual) {
    const std::filesystem::path file = std::filesystem::path(ABTOOL_FIXTURES_DIR) / "report" / name;
    if (std::getenv("ABTOOL_UPDATE_GOLDEN") != nullptr) {
        abtool::testing::write_file(file, actual);
    }
    EXPECT_EQ(actual, abtool::testing::read_file(file))
        << "differs from " << file << " (ABTOOL_UPDATE_GOLDEN=1 regenerates it)";
}

Report golden_report() {
    Report report = make_report();
    report.timestamp = "2026-11-24T12:00:00Z";
    report.seed = 7;
    report.threshold_pct = 5;
    report.host = "golden-host";
    report.abtool_version = "0.0.0-golden";
    report.interval_note = "95% intervals: exact Wilcoxon";
    report.warnings = {"load average 3.1 on 2 CPUs"};
    return report;
}

TEST(Golden, Markdown) {
    expect_golden("report.md", MarkdownExporter().serialize(golden_report()));
}

TEST(Golden, Json) {
    expect_golden("report.json", JsonExporter().serialize(golden_report()));
}

TEST(Golden, Junit) {
    expect_golden("report.junit.xml", JunitExporter().serialize(golden_report()));
}

TEST(Golden, Bencher) {
    expect_golden("report.bencher.json", BencherExporter().serialize(golden_report()));
}

TEST(Golden, BenchstatBothSides) {
    expect_golden("report.benchstat-a.txt",
                  BenchstatExporter(BenchstatExporter::Side::a).serialize(golden_report()));
    expect_golden("report.benchstat-b.txt",
                  BenchstatExporter(BenchstatExporter::Side::b).serialize(golden_report()));
}

TEST(Golden, GhaBenchmarkBothDirections) {
    expect_golden("report.gha-smaller.json",
                  GhaBenchmarkExporter(stats::Direction::lower).serialize(golden_report()));
    expect_golden("report.gha-bigger.json",
                  GhaBenchmarkExporter(stats::Direction::higher).serialize(golden_report()));
}

} // namespace
} // namespace abtool::report
