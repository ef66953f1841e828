// Reporters over one hand-built Report: Markdown and the terminal share the table, JSON carries
// the raw series, exports have their formats' shapes, and GitHub Actions gets capped, escaped
// annotations, the step summary and outputs.
#include "abtool/error.hpp"
#include "src/report/exporters.hpp"
#include "src/report/outputs.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>

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

// Two workloads' designs: one the pilot chose (with its evidence and the duet's launch skew, and
// a '<' in its reason that HTML must escape), one configured.
std::vector<DesignReport> make_designs() {
    DesignReport duet;
    duet.workload = "hotpath";
    duet.schedule = "duet";
    duet.chosen_by = "pilot";
    duet.reason = "narrowest interval per machine second (score 3.2e-06 < 1.0e-05)";
    duet.evidence = {"alternate: spread 0.41%, 0.62 s/round, score 1.0e-05",
                     "duet: spread 0.30%, 0.35 s/round, score 3.2e-06"};
    duet.launch_skew_median_us = 12;
    duet.launch_skew_max_us = 80;
    DesignReport alternate;
    alternate.workload = "startup";
    alternate.schedule = "alternate";
    alternate.repeat = 3;
    alternate.summary = "min";
    alternate.chosen_by = "config";
    alternate.reason = "[run] repeat = 3";
    return {duet, alternate};
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
    EXPECT_TRUE(summarize(report).failed);
    report.rows = {make_row("x", Verdict::regressed, 12, false),
                   make_row("y", Verdict::unchanged, 0)};
    const GateSummary info = summarize(report);
    EXPECT_FALSE(info.failed) << "informational metrics never gate";
    EXPECT_EQ(info.regressed, 0) << "counts are of gated metrics";
    EXPECT_EQ(info.informational_regressed, 1);
    EXPECT_EQ(info.unchanged, 1);
    report.rows = {make_row("x", Verdict::inconclusive, 1)};
    EXPECT_FALSE(summarize(report).failed);
    report.strict = true;
    EXPECT_TRUE(summarize(report).failed);
    EXPECT_EQ(gate_outcome(summarize(report)), "failed: 1 inconclusive under --strict");
    report.rows = {make_row("x", Verdict::inconclusive, 1, false),
                   make_row("y", Verdict::unchanged, 0)};
    EXPECT_FALSE(summarize(report).failed) << "--strict is about gated metrics";
    report.strict = false;
    report.rows = {make_row("x", Verdict::slo_violated, 0, false)};
    EXPECT_TRUE(summarize(report).failed) << "an SLO always gates";
}

// The invariant behind every gate: a run passes only when it compared at least one gated metric
// over report.min_pairs valid pairs and measured every gated metric it names.
TEST(Report, Gate_NeverPassesOnNothing) {
    Report report = make_report();
    report.rows = {make_row("y", Verdict::unchanged, 0)};
    report.min_pairs = 3;
    GateSummary gate = summarize(report);
    EXPECT_FALSE(gate.failed);
    EXPECT_EQ(gate.compared, 1);
    EXPECT_EQ(gate_outcome(gate), "passed");

    report.min_pairs = 6; // the row's 3 pairs cannot carry a verdict at this confidence
    gate = summarize(report);
    EXPECT_TRUE(gate.failed);
    EXPECT_EQ(gate.compared, 0);
    EXPECT_EQ(gate_outcome(gate), "failed: no gated metric compared");

    report.min_pairs = 3;
    report.rows[0].comparison.interval = stats::IntervalMethod::none; // e.g. a zero value
    EXPECT_TRUE(summarize(report).failed) << "a gated row without an interval compared nothing";

    report.rows = {make_row("x", Verdict::unchanged, 0, false)};
    EXPECT_TRUE(summarize(report).failed) << "informational rows alone are not a gate's evidence";
    report.rows = {};
    EXPECT_TRUE(summarize(report).failed) << "no rows at all";

    report.rows = {make_row("y", Verdict::unchanged, 0)};
    report.unmeasured = {"workload 'w': gated metric 'm' is in no sample; the output carried: ns"};
    gate = summarize(report);
    EXPECT_TRUE(gate.failed) << "a gated metric without a value fails, whatever else compared";
    EXPECT_EQ(gate_outcome(gate), "failed: 1 gated metric(s) not measured");
    const std::string markdown = MarkdownExporter().serialize(report);
    EXPECT_NE(markdown.find("**Not measured:** workload 'w': gated metric 'm'"), std::string::npos)
        << markdown;

    // `abtool compare` of stored medians tests nothing by construction and says so in its notes:
    // exempt from the rule (its own test covers what it prints).
    report.unmeasured.clear();
    report.paired = false;
    report.rows[0].comparison.interval = stats::IntervalMethod::none;
    report.rows[0].verdict = Verdict::inconclusive;
    EXPECT_FALSE(summarize(report).failed);
}

// --strict with only an inconclusive gated row: the exit code fails, so must every report.
TEST(Report, Strict_EveryReportStatesTheGateTheExitCodeDoes) {
    Report report = make_report();
    report.rows = {make_row("maybe", Verdict::inconclusive, 1),
                   make_row("fine", Verdict::unchanged, 0)};
    for (const bool strict : {false, true}) {
        report.strict = strict;
        SCOPED_TRACE(strict ? "strict" : "not strict");
        const std::string markdown = MarkdownExporter().serialize(report);
        EXPECT_EQ(markdown.find("✅ passed") != std::string::npos, !strict) << markdown;
        EXPECT_EQ(markdown.find("❌ failed: 1 inconclusive under --strict") != std::string::npos,
                  strict)
            << markdown;
        const std::string html = HtmlExporter().serialize(report);
        EXPECT_EQ(html.find("<h1 class=\"gate failed\">abtool: failed: 1 inconclusive") !=
                      std::string::npos,
                  strict);
        EXPECT_EQ(html.find("<h1 class=\"gate passed\">abtool: passed</h1>") != std::string::npos,
                  !strict);
        const std::string junit = JunitExporter().serialize(report);
        EXPECT_NE(junit.find(strict ? "failures=\"1\"" : "failures=\"0\""), std::string::npos)
            << junit;
        EXPECT_EQ(junit.find("<failure message=\"inconclusive\">") != std::string::npos, strict);
        const nlohmann::json json = nlohmann::json::parse(JsonExporter().serialize(report));
        EXPECT_EQ(json.at("strict"), strict);
        EXPECT_EQ(json.at("gate").at("verdict"), strict ? "fail" : "pass");
        EXPECT_EQ(json.at("gate").at("inconclusive"), 1);
    }
}

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
        ++n;
    }
    return n;
}

// One rule for JUnit: a <failure> exactly for the rows that fail the gate, and failures= counts
// them; an informational regression is reported in <system-out>, not as a failure.
TEST(Report, Junit_FailuresAreTheGatesFailuresOnly) {
    Report report = make_report(); // two gated regressions
    report.rows.push_back(make_row("side", Verdict::regressed, 40, false));
    report.rows.push_back(make_row("limit", Verdict::slo_violated, 1));
    report.rows.back().slo = "p99_ms 7.21 > 5";
    const std::string junit = JunitExporter().serialize(report);
    EXPECT_NE(junit.find("failures=\"3\""), std::string::npos) << junit;
    EXPECT_EQ(count(junit, "<failure "), 3u) << junit;
    EXPECT_EQ(count(junit, "<system-out>informational metric regressed"), 1u) << junit;
    const auto side = junit.find("name=\"hotpath/side real_time\"");
    ASSERT_NE(side, std::string::npos);
    EXPECT_EQ(junit.substr(side, junit.find("</testcase>", side) - side).find("<failure"),
              std::string::npos);
    EXPECT_NE(junit.find("p99_ms 7.21 &gt; 5"), std::string::npos);
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
    publish_to_github_actions(report, dir.path());
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
    EXPECT_NE(annotations.find("2 more regressed case(s)"), std::string::npos);
    EXPECT_NE(annotations.find("case%3A11%2Cx"), std::string::npos) << annotations;
    EXPECT_NE(annotations.find("100%25"), std::string::npos) << annotations;
    EXPECT_NE(abtool::testing::read_file(dir / "output.txt").find("verdict=fail\nregressed=12\n"),
              std::string::npos);
    EXPECT_NE(abtool::testing::read_file(dir / "summary.md").find("<!-- abtool-report -->"),
              std::string::npos);
    EXPECT_TRUE(std::filesystem::exists(dir / "comment.md"));
}

TEST(Report, GithubActions_UnwritableOutputs_ThrowNamingEach_AfterTryingBoth) {
    // A gate that cannot hand its verdict to the workflow must fail loudly, never pass silently:
    // /dev/full refuses every write (ENOSPC), a missing directory every open.
    abtool::testing::TempDir dir;
    Report report;
    report.rows.push_back(make_row("c", Verdict::unchanged, 0));
    setenv("GITHUB_ACTIONS", "true", 1);
    setenv("GITHUB_STEP_SUMMARY", (dir / "no-such-dir" / "summary.md").c_str(), 1);
    setenv("GITHUB_OUTPUT", "/dev/full", 1);
    std::string message;
    ErrorKind kind = ErrorKind::usage;
    ::testing::internal::CaptureStdout();
    try {
        publish_to_github_actions(report, dir.path());
    } catch (const Error& error) {
        message = error.what();
        kind = error.kind();
    }
    ::testing::internal::GetCapturedStdout();
    unsetenv("GITHUB_ACTIONS");
    unsetenv("GITHUB_STEP_SUMMARY");
    unsetenv("GITHUB_OUTPUT");
    EXPECT_EQ(kind, ErrorKind::storage) << message;
    EXPECT_NE(message.find("$GITHUB_STEP_SUMMARY (" +
                           (dir / "no-such-dir" / "summary.md").string() +
                           "): open: No such file or directory"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("$GITHUB_OUTPUT (/dev/full): write: No space left on device"),
              std::string::npos)
        << message;
}

// The workflow commands publish_to_github_actions prints on a runner without a step summary or
// output file.
std::string annotations_of(const Report& report, const std::filesystem::path& dir) {
    setenv("GITHUB_ACTIONS", "true", 1);
    unsetenv("GITHUB_STEP_SUMMARY");
    unsetenv("GITHUB_OUTPUT");
    ::testing::internal::CaptureStdout();
    publish_to_github_actions(report, dir);
    const std::string annotations = ::testing::internal::GetCapturedStdout();
    unsetenv("GITHUB_ACTIONS");
    return annotations;
}

// Ten metrics of one case regressing must not use up the annotations: one per case, worst
// first, its other metrics in the message; informational regressions are warnings, capped apart.
TEST(Report, GithubActions_OneAnnotationPerCase_WorstFirst_CappedPerKind) {
    abtool::testing::TempDir dir;
    Report report;
    report.ref_a = "main";
    report.ref_b = "pr";
    for (int i = 0; i < 12; ++i) {
        // Case i regresses by 10 + i on three metrics; the worst is case 11.
        for (const char* metric : {"real_time", "cpu_time", "cycles"}) {
            Row row =
                make_row(std::string("c").append(std::to_string(i)), Verdict::regressed, 10 + i);
            row.metric = metric;
            report.rows.push_back(row);
        }
    }
    for (int i = 0; i < 11; ++i) {
        Row row = make_row("info" + std::to_string(i), Verdict::regressed, 5, false);
        row.metric = "max_rss";
        report.rows.push_back(row);
    }
    const std::string annotations = annotations_of(report, dir.path());
    EXPECT_EQ(count(annotations, "::error "), 10u) << annotations;
    EXPECT_EQ(count(annotations, "::warning "), 10u) << annotations;
    EXPECT_NE(annotations.find("::notice title=abtool::3 more regressed case(s)"),
              std::string::npos)
        << annotations;
    // Worst first: case 11 leads, and cases 0 and 1 (the mildest) are the ones left out.
    EXPECT_EQ(annotations.find("::error title=abtool%3A hotpath/c11 "), 0u) << annotations;
    EXPECT_EQ(annotations.find("hotpath/c0 "), std::string::npos);
    EXPECT_EQ(annotations.find("hotpath/c1 "), std::string::npos);
    EXPECT_EQ(count(annotations, "hotpath/c5 "), 1u) << "one annotation for three metrics";
    EXPECT_NE(annotations.find("also 2 other metric(s) of this case"), std::string::npos);
    EXPECT_LT(annotations.rfind("::error "), annotations.find("::warning "));
}

// An error case is ordered by its worst failing row, not by an informational row that
// worst_first ranks earlier: under --strict, case x's +50% informational regression comes before
// every gated inconclusive row, yet case y's failing row (+3%) is worse than x's (+1%).
TEST(Report, GithubActions_ErrorCasesOrderedByTheirWorstFailingRow) {
    abtool::testing::TempDir dir;
    Report report;
    report.ref_a = "main";
    report.ref_b = "pr";
    report.strict = true;
    Row informational = make_row("x", Verdict::regressed, 50, false);
    informational.metric = "max_rss";
    report.rows = {informational, make_row("x", Verdict::inconclusive, 1),
                   make_row("y", Verdict::inconclusive, 3)};
    const std::string annotations = annotations_of(report, dir.path());
    EXPECT_EQ(count(annotations, "::error "), 2u) << annotations;
    EXPECT_EQ(annotations.find("::error title=abtool%3A hotpath/y "), 0u) << annotations;
    EXPECT_NE(annotations.find("::error title=abtool%3A hotpath/x "), std::string::npos)
        << annotations;
    EXPECT_EQ(count(annotations, "::warning "), 0u) << "x's informational row is in its error";
}

bool valid_utf8(const std::string& text) {
    for (std::size_t i = 0; i < text.size();) {
        const auto byte = static_cast<unsigned char>(text[i]);
        const std::size_t length = byte < 0x80           ? 1
                                   : (byte >> 5) == 0x6  ? 2
                                   : (byte >> 4) == 0xE  ? 3
                                   : (byte >> 3) == 0x1E ? 4
                                                         : 0;
        if (length == 0 || i + length > text.size()) {
            return false;
        }
        for (std::size_t k = 1; k < length; ++k) {
            if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) {
                return false;
            }
        }
        i += length;
    }
    return true;
}

TEST(Report, StepSummaryCap_NeverSplitsAUtf8Character) {
    // One line of 2-byte characters longer than the cap, so the cut has to land inside it; two
    // prefixes of different parity so that one of them puts the cut mid-character.
    for (const std::string prefix : {"", "x"}) {
        std::string text = prefix;
        for (int i = 0; i < 600'000; ++i) {
            text += "é";
        }
        const std::string cut = truncate_markdown(text, 1024 * 1024);
        EXPECT_LE(cut.size(), 1024u * 1024u);
        EXPECT_GT(cut.size(), 1024u * 1024u - 200);
        EXPECT_TRUE(valid_utf8(cut)) << "prefix '" << prefix << "'";
        EXPECT_NE(cut.find("truncated"), std::string::npos);
    }
    // With lines, at a line's end: no table row cut in two.
    const std::string line = "| 🔴 | row | +1.00% |\n";
    std::string table;
    while (table.size() < 3000) {
        table += line;
    }
    const std::string cut = truncate_markdown(table, 1000);
    EXPECT_LE(cut.size(), 1000u);
    EXPECT_TRUE(valid_utf8(cut));
    const std::string kept = cut.substr(0, cut.find("\n\n… truncated"));
    EXPECT_GT(kept.size(), 500u);
    EXPECT_EQ(kept.size() % line.size(), 0u) << "whole lines only:\n" << kept;
    EXPECT_EQ(truncate_markdown("short", 1000), "short");
}

// benchstat compares the same benchmark across files only within one table, and its tables
// are split by the files' configuration lines: A's and B's must be identical.
TEST(Report, Benchstat_BothFilesHaveTheSameConfigLines) {
    const Report report = make_report();
    const auto config_lines = [](const std::string& text) {
        std::vector<std::string> lines;
        std::size_t start = 0;
        while (start < text.size()) {
            const std::size_t end = text.find('\n', start);
            const std::string line = text.substr(start, end - start);
            if (line.rfind("Benchmark", 0) != 0 && line.find(": ") != std::string::npos) {
                lines.push_back(line);
            }
            start = end == std::string::npos ? text.size() : end + 1;
        }
        return lines;
    };
    const auto a = config_lines(BenchstatExporter(BenchstatExporter::Side::a).serialize(report));
    const auto b = config_lines(BenchstatExporter(BenchstatExporter::Side::b).serialize(report));
    EXPECT_FALSE(a.empty());
    EXPECT_EQ(a, b);
    for (const std::string& line : a) {
        EXPECT_EQ(line.find(report.ref_a), std::string::npos) << line;
        EXPECT_EQ(line.find(report.ref_b), std::string::npos) << line;
    }
}

// Bencher: the value lies within its own bounds, also when the interval does not hold the
// median estimate; without an interval there are no bounds, and never a NaN.
TEST(Report, Bencher_ValueWithinItsBounds) {
    Report report = make_report();
    Row outside = make_row("outside", Verdict::regressed, 12);
    outside.comparison.ci_low_pct = 13; // a Wilcoxon interval around HL, not around delta
    outside.comparison.ci_high_pct = 15;
    report.rows.push_back(outside);
    Row none = make_row("none", Verdict::inconclusive, 3);
    none.comparison.interval = stats::IntervalMethod::none;
    none.comparison.ci_low_pct = std::nan("");
    none.comparison.ci_high_pct = std::nan("");
    report.rows.push_back(none);
    const std::string text = BencherExporter().serialize(report);
    const nlohmann::json bencher = nlohmann::json::parse(text);
    std::size_t bounded = 0;
    for (const auto& [name, measures] : bencher.items()) {
        const auto& m = measures.at("real_time");
        if (!m.contains("lower_value")) {
            continue;
        }
        ++bounded;
        const double value = m.at("value"), lower = m.at("lower_value"),
                     upper = m.at("upper_value");
        EXPECT_LE(lower, value) << name;
        EXPECT_LE(value, upper) << name;
        EXPECT_LT(lower, upper) << name;
    }
    EXPECT_EQ(bounded, 5u);
    EXPECT_FALSE(bencher.at("hotpath/none").at("real_time").contains("lower_value"));
    // slow: B median 101, delta +12%, interval [+11%, +13%]: bounds 101 * 1.11/1.12, 1.13/1.12.
    const auto& slow = bencher.at("hotpath/slow").at("real_time");
    EXPECT_DOUBLE_EQ(slow.at("value").get<double>(), 101);
    EXPECT_NEAR(slow.at("lower_value").get<double>(), 101 * 1.11 / 1.12, 1e-9);
    EXPECT_NEAR(slow.at("upper_value").get<double>(), 101 * 1.13 / 1.12, 1e-9);
    EXPECT_EQ(text.find("nan"), std::string::npos);
    EXPECT_EQ(text.find("null"), std::string::npos);
}

TEST(Report, GhaBenchmark_NoRangeWithoutAnInterval) {
    Report report = make_report();
    Row none = make_row("none", Verdict::inconclusive, 3);
    none.comparison.interval = stats::IntervalMethod::none;
    none.comparison.ci_low_pct = std::nan("");
    none.comparison.ci_high_pct = std::nan("");
    report.rows.push_back(none);
    const std::string text = GhaBenchmarkExporter(stats::Direction::lower).serialize(report);
    EXPECT_EQ(text.find("nan"), std::string::npos) << text;
    const nlohmann::json gha = nlohmann::json::parse(text);
    ASSERT_EQ(gha.size(), 5u);
    for (const auto& entry : gha) {
        EXPECT_EQ(entry.contains("range"), entry.at("name") != "hotpath/none real_time")
            << entry.dump();
    }
    EXPECT_EQ(gha[0].at("range"), "± 1.00%");
}

// A row without an interval (too few rounds) or with a failed round's NaN: the HTML draws no
// made-up interval and writes no "nan"/"inf" into an SVG attribute (browsers reject those).
TEST(Report, Html_NoNanOrInfInSvgAttributes_NoIntervalDrawnWithoutOne) {
    Report report = make_report();
    Row none = make_row("none", Verdict::inconclusive, 3);
    none.comparison.interval = stats::IntervalMethod::none;
    none.comparison.ci_low_pct = 0; // the struct's defaults when no interval was computed
    none.comparison.ci_high_pct = 0;
    none.comparison.delta_pct = std::nan("");
    none.comparison.log_ratios = {0.01, std::nan(""), -0.02, std::log(1.03)};
    report.rows.push_back(none);
    Row failed = make_row("failed", Verdict::inconclusive, 1);
    failed.a_values = {100, std::nan(""), 101};
    failed.b_values = {std::numeric_limits<double>::infinity(), 101, 100};
    failed.comparison.ci_low_pct = std::nan("");
    failed.comparison.ci_high_pct = std::nan("");
    failed.comparison.log_ratios = {0.01, std::nan(""), 0.0};
    report.rows.push_back(failed);
    for (Row& row : report.rows) {
        if (row.comparison.log_ratios.empty()) {
            row.comparison.log_ratios = {0.01, 0.02, -0.01};
        }
    }
    const std::string html = HtmlExporter().serialize(report);
    // Every attribute value: no nan or inf in any spelling.
    std::size_t attributes = 0;
    for (auto at = html.find("=\""); at != std::string::npos; at = html.find("=\"", at + 1)) {
        const std::string value = html.substr(at + 2, html.find('"', at + 2) - at - 2);
        ++attributes;
        std::string lower = value;
        for (char& ch : lower) {
            ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        }
        EXPECT_EQ(lower.find("nan"), std::string::npos) << value;
        EXPECT_EQ(lower.find("inf"), std::string::npos) << value;
    }
    EXPECT_GT(attributes, 100u);
    // Two rows without an interval: two "no interval" notes, and four interval bars for the rest.
    EXPECT_EQ(count(html, ">no interval</text>"), 2u);
    EXPECT_EQ(count(html, "<title>interval ["), 4u);
    EXPECT_EQ(count(html, "<title>interval [+0.00%, +0.00%]"), 0u);
    const nlohmann::json json = nlohmann::json::parse(JsonExporter().serialize(report));
    for (const auto& row : json.at("rows")) {
        if (row.at("case") == "none") {
            EXPECT_TRUE(row.at("ci_low_pct").is_null()) << "no interval is null, not [0, 0]";
        }
    }
}

// A side without samples (a workload that reported nothing on B): its numbers and the change are
// null in --json, not the zeros of an empty Descriptives, which a script would read as a median
// of 0 and "no change".
TEST(Report, Json_SideWithoutSamples_IsNullNotZero) {
    Report report = make_report();
    Row& row = report.rows.front();
    row.b_values.clear();
    row.comparison.b = stats::Descriptives{};
    row.comparison.n = 0;
    row.comparison.delta_pct = 0;
    row.comparison.hl_delta_pct = 0;
    row.comparison.interval = stats::IntervalMethod::none;
    const nlohmann::json json = nlohmann::json::parse(JsonExporter().serialize(report));
    const nlohmann::json* empty = nullptr;
    for (const auto& each : json.at("rows")) {
        if (each.at("case") == row.case_name) {
            empty = &each;
        }
    }
    ASSERT_NE(empty, nullptr) << json.dump(2);
    EXPECT_EQ(empty->at("b").at("n"), 0);
    for (const char* field : {"min", "max", "mean", "median", "stddev", "cv_pct", "p95"}) {
        EXPECT_TRUE(empty->at("b").at(field).is_null()) << field << ": " << empty->dump(2);
    }
    EXPECT_FALSE(empty->at("a").at("median").is_null()) << "A has its samples";
    EXPECT_TRUE(empty->at("delta_pct").is_null()) << empty->dump(2);
    EXPECT_TRUE(empty->at("hl_delta_pct").is_null()) << empty->dump(2);
}

TEST(Report, Describe_RepeatShownOnlyAboveOne) {
    DesignReport design;
    EXPECT_EQ(describe(design), "alternate");
    design.summary = "min";
    EXPECT_EQ(describe(design), "alternate") << "one run per side: nothing to summarise";
    design.repeat = 3;
    EXPECT_EQ(describe(design), "alternate x3 (min)");
    design.summary = "";
    EXPECT_EQ(describe(design), "alternate x3");
    design.schedule = "duet";
    design.repeat = 1;
    design.summary = "median";
    EXPECT_EQ(describe(design), "duet");
    design.repeat = 2;
    EXPECT_EQ(describe(design), "duet x2 (median)");
}

TEST(Report, Designs_JsonCarriesEveryField_NullSkewWhenNotMeasured) {
    Report report = make_report();
    report.designs = make_designs();
    report.designs[1].counter_backend = "cachegrind";
    report.designs[1].counter_reason = "no hardware PMU here";
    report.designs[1].counter_slowdown = 38.0;
    const nlohmann::json json = nlohmann::json::parse(JsonExporter().serialize(report));
    const nlohmann::json expected = nlohmann::json::parse(R"json([
      {"workload": "hotpath", "schedule": "duet", "repeat": 1, "summary": "",
       "chosen_by": "pilot",
       "reason": "narrowest interval per machine second (score 3.2e-06 < 1.0e-05)",
       "evidence": ["alternate: spread 0.41%, 0.62 s/round, score 1.0e-05",
                    "duet: spread 0.30%, 0.35 s/round, score 3.2e-06"],
       "launch_skew_median_us": 12.0, "launch_skew_max_us": 80.0,
       "counter_backend": null, "counter_reason": "", "counter_slowdown": null
},
      {"workload": "startup", "schedule": "alternate", "repeat": 3, "summary": "min",
       "chosen_by": "config", "reason": "[run] repeat = 3", "evidence": [],
       "launch_skew_median_us": null, "launch_skew_max_us": null,
       "counter_backend": "cachegrind", "counter_reason": "no hardware PMU here",
       "counter_slowdown": 38.0}
    ])json");
    EXPECT_EQ(json.at("designs"), expected) << json.at("designs").dump(2);
    EXPECT_EQ(design_summary(report.designs[1]),
              "alternate x3 (min) (config): [run] repeat = 3; counted by cachegrind (no hardware "
              "PMU here), 38x slower than a native run: its times are informational");
    EXPECT_EQ(json.at("rows").size(), 4u) << "the rows are unchanged beside them";
}

TEST(Report, Designs_TerminalLinePerWorkload_EvidenceOnlyForThePilotsChoice) {
    Report report = make_report();
    report.designs = make_designs();
    report.designs[1].evidence = {"not shown: the config chose this design"};
    const std::string terminal = terminal_table(report, Color::no);
    const std::string expected =
        "\ndesign: hotpath: duet (pilot): narrowest interval per machine second (score 3.2e-06 "
        "< 1.0e-05); launch skew median 12 us, max 80 us\n"
        "  alternate: spread 0.41%, 0.62 s/round, score 1.0e-05\n"
        "  duet: spread 0.30%, 0.35 s/round, score 3.2e-06\n"
        "design: startup: alternate x3 (min) (config): [run] repeat = 3\n";
    ASSERT_GE(terminal.size(), expected.size()) << terminal;
    EXPECT_EQ(terminal.substr(terminal.size() - expected.size()), expected) << terminal;
    EXPECT_LT(terminal.find("slower"), terminal.find("design: ")) << "after the table";
    // A fallback is the pilot's doing too: its evidence says why nothing else qualified.
    report.designs[1].chosen_by = "fallback";
    EXPECT_NE(terminal_table(report, Color::no).find("\n  not shown: the config chose"),
              std::string::npos);
}

TEST(Report, Designs_MarkdownCompactList_EvidenceNested) {
    Report report = make_report();
    report.designs = make_designs();
    const std::string markdown = MarkdownExporter().serialize(report);
    const std::string expected =
        "\n**Design**\n\n"
        "- `hotpath`: duet (pilot): narrowest interval per machine second (score 3.2e-06 < "
        "1.0e-05); launch skew median 12 us, max 80 us\n"
        "  - alternate: spread 0.41%, 0.62 s/round, score 1.0e-05\n"
        "  - duet: spread 0.30%, 0.35 s/round, score 3.2e-06\n"
        "- `startup`: alternate x3 (min) (config): [run] repeat = 3\n";
    EXPECT_NE(markdown.find(expected), std::string::npos) << markdown;
    EXPECT_LT(markdown.find("| slower |"), markdown.find("**Design**")) << "after the table";
}

TEST(Report, Designs_HtmlSection_Escaped) {
    Report report = make_report();
    report.designs = make_designs();
    const std::string html = HtmlExporter().serialize(report);
    EXPECT_NE(html.find("<h2>Design</h2>"), std::string::npos) << html;
    EXPECT_NE(html.find("<li><code>hotpath</code>: duet (pilot): narrowest interval per machine "
                        "second (score 3.2e-06 &lt; 1.0e-05); launch skew median 12 us, max 80 "
                        "us<ul><li>alternate: spread 0.41%, 0.62 s/round, score 1.0e-05</li>"),
              std::string::npos)
        << html;
    EXPECT_NE(html.find("<li><code>startup</code>: alternate x3 (min) (config): [run] repeat = "
                        "3</li>"),
              std::string::npos)
        << html;
    EXPECT_EQ(html.find("3.2e-06 < 1.0e-05"), std::string::npos) << "a raw '<' in the text";
}

TEST(Report, Designs_NoneGivesNoDesignSection) {
    const Report report = make_report(); // as `abtool compare` makes it
    ASSERT_TRUE(report.designs.empty());
    EXPECT_EQ(terminal_table(report, Color::no).find("design"), std::string::npos);
    EXPECT_EQ(MarkdownExporter().serialize(report).find("Design"), std::string::npos);
    EXPECT_EQ(HtmlExporter().serialize(report).find("Design"), std::string::npos);
    // JSON keeps its shape for scripts: the key is there, with no entries.
    const nlohmann::json json = nlohmann::json::parse(JsonExporter().serialize(report));
    EXPECT_EQ(json.at("designs"), nlohmann::json::array());
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
    report.designs = make_designs();
    return report;
}

TEST(IntervalNote, ACrossoverRow_SaysItsPIsMannWhitney) {
    Report report = golden_report();
    EXPECT_EQ(interval_note_line(report),
              "95% intervals: exact Wilcoxon; p: Wilcoxon signed-rank, Holm-adjusted");
    report.interval_note = "95% intervals: exact Mann-Whitney, crossover, exact Wilcoxon";
    EXPECT_EQ(interval_note_line(report),
              "95% intervals: exact Mann-Whitney, crossover, exact Wilcoxon; p: Wilcoxon "
              "signed-rank (Mann-Whitney where crossover), Holm-adjusted");
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

namespace abtool::report {
namespace {

TEST(Report, Counts_ShownWhole_ThousandsGrouped) {
    EXPECT_EQ(format_value(12132049, "count"), "12,132,049");
    EXPECT_EQ(format_value(999, "count"), "999");
    EXPECT_EQ(format_value(1000, "count"), "1,000");
    EXPECT_EQ(format_value(1.5, "ms"), "1.5 ms");
}

TEST(Report, WorkloadThresholds_NamedBesideTheRunsThreshold) {
    Report report = make_report();
    report.threshold_pct = 5;
    EXPECT_EQ(threshold_text(report), "5%");
    report.rows[0].threshold_pct = 0.2;
    report.rows[1].threshold_pct = 0.2; // the same workload: named once
    EXPECT_EQ(threshold_text(report), "5% (" + report.rows[0].workload + ": 0.2%)");
    const nlohmann::json json = nlohmann::json::parse(JsonExporter().serialize(report));
    for (const nlohmann::json& row : json.at("rows")) {
        const bool own = row.at("primary_key") == report.rows[0].primary_key ||
                         row.at("primary_key") == report.rows[1].primary_key;
        EXPECT_EQ(row.at("threshold_pct"), own ? nlohmann::json(0.2) : nlohmann::json(nullptr))
            << row.dump();
    }
}

} // namespace
} // namespace abtool::report
