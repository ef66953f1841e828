// results.csv: DESIGN's header, RFC 4180 round trips, two processes appending at once, a
// SIGKILL in the middle of appending, torn lines reported and never rewritten, and a foreign
// file refused.
#include "abtool/error.hpp"
#include "src/results/results_store.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <tuple>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <fstream>
#include <iterator>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace abtool {
namespace {

using abtool::testing::read_file;
using abtool::testing::TempDir;
using abtool::testing::write_file;

ResultRow row(const std::string& run_id, int i) {
    ResultRow r;
    r.run_id = run_id;
    r.timestamp = "2026-11-24T00:00:00Z";
    r.primary_key = "pk_0123456789abcdef";
    r.target_id = "local";
    r.workload = "hotpath";
    r.kind = "hotpath";
    r.case_name = "BM_RoundTrip/" + std::to_string(i);
    r.metric = "real_time";
    r.unit = "ns";
    r.direction = "lower";
    r.ref_a = "main";
    r.commit_a = "a";
    r.ref_b = "CURRENT";
    r.commit_b = "b";
    r.rounds = 20;
    r.seed = 1;
    r.a_median = 1.5;
    r.b_median = 1.25 + i;
    r.delta_pct = -3.25;
    r.ci_low_pct = -4;
    r.ci_high_pct = -2.5;
    r.p_value = 0.0001234;
    r.cv_a_pct = 1.1;
    r.cv_b_pct = 1.2;
    r.threshold_pct = 2;
    r.verdict = "improved";
    r.host = "host";
    r.abtool_version = "0.1.0";
    return r;
}

TEST(ResultsStore, EveryColumnRoundTrips) {
    // Each field a value no other field has: a column written from or read into the wrong
    // member shows.
    TempDir dir;
    ResultRow r = row("r7", 0);
    r.ref_b = "feature";
    r.commit_b = "c0ffee";
    r.rounds = 31;
    r.seed = 18446744073709551615ULL;
    r.a_median = 10.5;
    r.delta_pct = 3.5;
    r.ci_low_pct = 0.5;
    r.ci_high_pct = 6.5;
    r.p_value = 0.03;
    r.cv_a_pct = 7.5;
    r.cv_b_pct = 8.5;
    r.threshold_pct = 1.5;
    r.verdict = "regressed";
    r.errors_a = 3;
    r.errors_b = 4;
    r.direction = "higher";
    ResultsStore(dir / "results.csv").append({r});
    const auto read = ResultsStore(dir / "results.csv").read();
    ASSERT_EQ(read.rows.size(), 1u);
    const ResultRow& b = read.rows[0];
    EXPECT_EQ(std::tie(b.run_id, b.timestamp, b.primary_key, b.target_id, b.workload, b.kind,
                       b.case_name, b.metric, b.unit, b.direction, b.ref_a, b.commit_a, b.ref_b,
                       b.commit_b, b.verdict, b.host, b.abtool_version),
              std::tie(r.run_id, r.timestamp, r.primary_key, r.target_id, r.workload, r.kind,
                       r.case_name, r.metric, r.unit, r.direction, r.ref_a, r.commit_a, r.ref_b,
                       r.commit_b, r.verdict, r.host, r.abtool_version));
    EXPECT_EQ(std::tie(b.rounds, b.seed, b.errors_a, b.errors_b),
              std::tie(r.rounds, r.seed, r.errors_a, r.errors_b));
    EXPECT_EQ(std::tie(b.a_median, b.b_median, b.delta_pct, b.ci_low_pct, b.ci_high_pct, b.p_value,
                       b.cv_a_pct, b.cv_b_pct, b.threshold_pct),
              std::tie(r.a_median, r.b_median, r.delta_pct, r.ci_low_pct, r.ci_high_pct, r.p_value,
                       r.cv_a_pct, r.cv_b_pct, r.threshold_pct));
}

TEST(ResultsStore, NewFileGetsTheDesignHeader_RowsRoundTrip) {
    TempDir dir;
    const ResultsStore store(dir / "results.csv");
    store.check_appendable();
    ResultRow tricky = row("r1", 0);
    tricky.ref_a = "feature,with \"quotes\"";
    tricky.case_name = "multi\nline";
    tricky.delta_pct = std::nan("");
    store.append({tricky, row("r1", 1)});
    const std::string text = read_file(dir / "results.csv");
    // DESIGN.md's header, column for column (the contract the column table must keep).
    EXPECT_EQ(text.substr(0, text.find('\n')),
              "run_id,timestamp,primary_key,target_id,workload,kind,case,metric,unit,direction,"
              "ref_a,commit_a,ref_b,commit_b,rounds,seed,a_median,b_median,delta_pct,ci_low_pct,"
              "ci_high_pct,p_value,cv_a_pct,cv_b_pct,threshold_pct,verdict,errors_a,errors_b,host,"
              "abtool_version");
    EXPECT_EQ(text.substr(0, text.find('\n')), results_header());
    const auto read = store.read();
    ASSERT_EQ(read.rows.size(), 2u);
    EXPECT_TRUE(read.warnings.empty());
    EXPECT_EQ(read.rows[0].ref_a, tricky.ref_a);
    EXPECT_EQ(read.rows[0].case_name, "multi\nline");
    EXPECT_TRUE(std::isnan(read.rows[0].delta_pct));
    EXPECT_EQ(read.rows[1].b_median, 2.25);
    EXPECT_EQ(read.rows[1].p_value, 0.0001234);
    EXPECT_EQ(read.rows[1].rounds, 20u);
}

TEST(ResultsStore, SubnormalAndExtremeNumbers_RoundTrip) {
    // fmt writes a subnormal p-value as "1e-316", which stod refused (ERANGE): the row used to be
    // skipped as malformed on read.
    TempDir dir;
    const ResultsStore store(dir / "results.csv");
    ResultRow tiny = row("r1", 0);
    tiny.p_value = 1e-316;
    tiny.a_median = 1.7976931348623157e308;
    tiny.b_median = 4.9406564584124654e-324;
    store.append({tiny});
    const auto read = store.read();
    ASSERT_EQ(read.rows.size(), 1u);
    EXPECT_TRUE(read.warnings.empty());
    EXPECT_EQ(read.rows[0].p_value, 1e-316);
    EXPECT_EQ(read.rows[0].a_median, tiny.a_median);
    EXPECT_EQ(read.rows[0].b_median, tiny.b_median);
}

TEST(ResultsStore, UnknownHeader_IsRefusedAndLeftUntouched) {
    TempDir dir;
    write_file(dir / "results.csv", "name,value\nx,1\n");
    const ResultsStore store(dir / "results.csv");
    try {
        store.check_appendable();
        FAIL() << "no error";
    } catch (const Error& error) {
        EXPECT_EQ(error.kind(), ErrorKind::config);
        EXPECT_NE(std::string(error.what()).find("results.csv"), std::string::npos);
    }
    EXPECT_THROW(store.append({row("r", 0)}), Error);
    EXPECT_EQ(read_file(dir / "results.csv"), "name,value\nx,1\n");
}

TEST(ResultsStore, TwoProcessesAppendingThousandsOfRows_AllIntact) {
    TempDir dir;
    const ResultsStore store(dir / "results.csv");
    std::vector<pid_t> children;
    for (int writer = 0; writer < 2; ++writer) {
        const pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            for (int batch = 0; batch < 100; ++batch) {
                std::vector<ResultRow> rows;
                for (int i = 0; i < 20; ++i) {
                    rows.push_back(row("writer" + std::to_string(writer), batch * 20 + i));
                }
                store.append(rows);
            }
            _exit(0);
        }
        children.push_back(pid);
    }
    for (pid_t pid : children) {
        int status = 0;
        waitpid(pid, &status, 0);
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    const auto read = store.read();
    EXPECT_TRUE(read.warnings.empty());
    ASSERT_EQ(read.rows.size(), 4000u);
    // Each append landed whole: a writer's 20 rows of one batch are contiguous.
    for (std::size_t i = 0; i < read.rows.size(); i += 20) {
        for (std::size_t j = 1; j < 20; ++j) {
            EXPECT_EQ(read.rows[i + j].run_id, read.rows[i].run_id);
        }
    }
}

TEST(ResultsStore, KilledMidAppend_ThenAGoodAppend_ReadsCleanly) {
    TempDir dir;
    const ResultsStore store(dir / "results.csv");
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        for (int i = 0;; ++i) {
            store.append({row("looping", i)});
        }
    }
    // Kill it once it has appended something (header and two rows), however slow the machine:
    // a fixed sleep may end before the first append on a loaded ASan build.
    const auto lines_written = [&] {
        std::ifstream in(dir / "results.csv", std::ios::binary);
        return std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(),
                          '\n');
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (lines_written() < 3 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    store.append({row("after", 0)});
    const auto read = store.read();
    ASSERT_GE(read.rows.size(), 2u) << "the child appended nothing in 20 s";
    EXPECT_EQ(read.rows.back().run_id, "after");
    // Every looping row that was read is whole and in order: row i carries case i and median
    // 1.25 + i, so a row that parsed from the wrong bytes, or a lost row, shows up here.
    for (std::size_t i = 0; i + 1 < read.rows.size(); ++i) {
        const ResultRow& r = read.rows[i];
        ASSERT_EQ(r.run_id, "looping") << "row " << i;
        EXPECT_EQ(r.case_name, "BM_RoundTrip/" + std::to_string(i));
        EXPECT_EQ(r.b_median, 1.25 + static_cast<double>(i));
        EXPECT_EQ(r.abtool_version, "0.1.0");
    }
    // Each append is one write: the kill leaves at most one torn row, on the line just before
    // the good append's (header on line 1, the looping rows after it).
    ASSERT_LE(read.warnings.size(), 1u);
    if (!read.warnings.empty()) {
        EXPECT_NE(
            read.warnings[0].find("results.csv:" + std::to_string(read.rows.size() + 1) + ": torn"),
            std::string::npos)
            << read.warnings[0];
    }
}

TEST(ResultsStore, RowTornInsideAQuotedField_DoesNotSwallowTheRowsAfterIt) {
    TempDir dir;
    const ResultsStore store(dir / "results.csv");
    ResultRow multi_line = row("r1", 0);
    multi_line.case_name = "two\nlines"; // lines 2 and 3
    store.append({multi_line, row("r1", 1)});
    std::string text = read_file(dir / "results.csv");
    // A crash cut this row inside its quoted case (line 5): its quote is never closed.
    text += "r2,2026-11-24T00:00:00Z,pk_x,local,hotpath,hotpath,\"BM_cut, with a comma";
    write_file(dir / "results.csv", text);
    ResultRow quoted = row("r3", 2);
    quoted.case_name = "BM_x/\"q\",1"; // a good row with quotes of its own after the torn one
    store.append({row("r3", 0), quoted, row("r3", 3)});
    const std::string after = read_file(dir / "results.csv");
    EXPECT_EQ(after.substr(0, text.size()), text) << "history was rewritten";
    const auto read = store.read();
    ASSERT_EQ(read.rows.size(), 5u);
    EXPECT_EQ(read.rows[0].case_name, "two\nlines");
    EXPECT_EQ(read.rows[2].run_id, "r3");
    EXPECT_EQ(read.rows[3].case_name, quoted.case_name);
    EXPECT_EQ(read.rows[4].b_median, 4.25);
    ASSERT_EQ(read.warnings.size(), 1u);
    EXPECT_NE(read.warnings[0].find("results.csv:5: torn"), std::string::npos) << read.warnings[0];
}

TEST(ResultsStore, TornMultiLineField_OneWarningForItsLines_ParsingRestartsAtTheNextRow) {
    TempDir dir;
    const ResultsStore store(dir / "results.csv");
    store.append({row("r1", 0)});
    std::string text = read_file(dir / "results.csv");
    text += "r2,2026-11-24T00:00:00Z,pk_x,local,hotpath,hotpath,\"first line\nsecond line\n,,,\n"
            "third";
    write_file(dir / "results.csv", text);
    store.append({row("r3", 0)});
    const auto read = store.read();
    ASSERT_EQ(read.rows.size(), 2u);
    EXPECT_EQ(read.rows[1].run_id, "r3");
    ASSERT_EQ(read.warnings.size(), 1u);
    EXPECT_NE(read.warnings[0].find("results.csv:3: torn or malformed row skipped (with 3 more"),
              std::string::npos)
        << read.warnings[0];
}

TEST(ResultsStore, RowWithFieldsOutOfPlace_IsSkipped_NotHalfRead) {
    TempDir dir;
    const ResultsStore store(dir / "results.csv");
    store.append({row("r1", 0)});
    std::string text = read_file(dir / "results.csv");
    std::string shifted = text.substr(text.find('\n') + 1);
    // Still 30 fields, but a median reads "1.5x", which a lenient parse (stod) would take as
    // 1.5: a row whose bytes are damaged is skipped and named, not half-read.
    shifted.replace(shifted.find(",1.5,"), 5, ",1.5x,");
    text += shifted;
    write_file(dir / "results.csv", text);
    const auto read = store.read();
    ASSERT_EQ(read.rows.size(), 1u);
    ASSERT_EQ(read.warnings.size(), 1u);
    EXPECT_NE(read.warnings[0].find("results.csv:3:"), std::string::npos) << read.warnings[0];
}

TEST(ResultsStore, AppendThatFailsPartWay_TruncatesItsOwnBytes) {
    TempDir dir;
    const ResultsStore store(dir / "results.csv");
    store.append({row("r1", 0)});
    const std::string before = read_file(dir / "results.csv");
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        // A file size limit a few bytes past the current end: write() stores part of the rows,
        // then fails with EFBIG, as a full disk would.
        signal(SIGXFSZ, SIG_IGN);
        const rlimit limit{static_cast<rlim_t>(before.size() + 40),
                           static_cast<rlim_t>(before.size() + 40)};
        setrlimit(RLIMIT_FSIZE, &limit);
        try {
            store.append({row("r2", 0), row("r2", 1)});
        } catch (const Error& error) {
            _exit(error.kind() == ErrorKind::storage ? 7 : 8);
        }
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 7) << "the append did not fail with Error(storage)";
    EXPECT_EQ(read_file(dir / "results.csv"), before) << "partial bytes were left behind";
    store.append({row("r3", 0)});
    const auto read = store.read();
    EXPECT_TRUE(read.warnings.empty());
    ASSERT_EQ(read.rows.size(), 2u);
    EXPECT_EQ(read.rows[1].run_id, "r3");
}

TEST(ResultsStore, TornLastLine_IsReportedWithItsLineAndNeverRewritten) {
    TempDir dir;
    const ResultsStore store(dir / "results.csv");
    store.append({row("r1", 0)});
    std::string text = read_file(dir / "results.csv");
    text += "r2,2026-11-24T00:00:00Z,pk_x,local,hot"; // a crash cut this row short
    write_file(dir / "results.csv", text);
    store.append({row("r3", 0)});
    const std::string after = read_file(dir / "results.csv");
    EXPECT_EQ(after.substr(0, text.size()), text) << "history was rewritten";
    const auto read = store.read();
    ASSERT_EQ(read.rows.size(), 2u);
    EXPECT_EQ(read.rows[1].run_id, "r3");
    ASSERT_EQ(read.warnings.size(), 1u);
    EXPECT_NE(read.warnings[0].find("results.csv:3"), std::string::npos) << read.warnings[0];
}

TEST(ResultsStore, RowsFromReport_OneRowPerWorkloadCaseMetric) {
    report::Report report;
    report.run_id = "r";
    report.ref_a = "a";
    report.ref_b = "b";
    report::Row first;
    first.workload = "w";
    first.metric = "wall_ms";
    first.verdict = report::Verdict::slo_violated;
    report.rows = {first, first};
    report.rows[1].metric = "user_ms";
    const auto rows = rows_from_report(report);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].verdict, "slo-violated");
    EXPECT_EQ(rows[1].metric, "user_ms");
}

} // namespace
} // namespace abtool
