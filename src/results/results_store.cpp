#include "src/results/results_store.hpp"

#include "abtool/atomic_file.hpp"
#include "abtool/error.hpp"
#include "abtool/unique_fd.hpp"
#include "src/results/csv.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace abtool {

namespace {

std::string number(double value) {
    return std::isfinite(value) ? fmt::format("{}", value) : std::string();
}

// Strict number parsing: the whole field must be the number, so a row whose fields slid out of
// place (a torn quoted field swallowing its neighbours) is refused instead of half-read.
// from_chars, not stod: stod refuses a subnormal such as 1e-316 (ERANGE), which number() writes
// for a tiny p-value, and so dropped the row as malformed.
double to_double(const std::string& text) {
    if (text.empty()) {
        return std::nan("");
    }
    double value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) {
        throw std::invalid_argument("not a number");
    }
    return value;
}

template <typename Integer>
Integer to_integer(const std::string& text) {
    Integer value{};
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
        throw std::invalid_argument("not an integer");
    }
    return value;
}

// Run ids are abtool's "20261124T204903Z-37dae1" (or a test's "r1"): one token without spaces,
// quotes or separators. A line starting with anything else is the continuation of a broken row.
bool looks_like_run_id(const std::string& text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' ||
               c == '.' || c == ':' || c == '+';
    });
}

// results.csv's columns, in DESIGN.md's order: each one's header name, how a row writes it and
// how a record's field is read back (throwing on a field that does not parse). The header, the
// writer and the reader all come from this one table.
struct Column {
    std::string_view name;
    std::string (*write)(const ResultRow&);
    void (*read)(ResultRow&, const std::string&);
};

// How a field of each member type is written and read.
std::string write_field(const std::string& value) {
    return value;
}
std::string write_field(double value) {
    return number(value);
}
template <typename Integer>
std::string write_field(Integer value) {
    return std::to_string(value);
}
void read_field(const std::string& field, std::string& value) {
    value = field;
}
void read_field(const std::string& field, double& value) {
    value = to_double(field);
}
template <typename Integer>
void read_field(const std::string& field, Integer& value) {
    value = to_integer<Integer>(field);
}

template <auto Member>
Column column(std::string_view name) {
    return {name, [](const ResultRow& row) { return write_field(row.*Member); },
            [](ResultRow& row, const std::string& field) {
                read_field(field, row.*Member);
            }};
}

const std::array<Column, 30> k_columns{
    column<&ResultRow::run_id>("run_id"),
    column<&ResultRow::timestamp>("timestamp"),
    column<&ResultRow::primary_key>("primary_key"),
    column<&ResultRow::target_id>("target_id"),
    column<&ResultRow::workload>("workload"),
    column<&ResultRow::kind>("kind"),
    column<&ResultRow::case_name>("case"),
    column<&ResultRow::metric>("metric"),
    column<&ResultRow::unit>("unit"),
    column<&ResultRow::direction>("direction"),
    column<&ResultRow::ref_a>("ref_a"),
    column<&ResultRow::commit_a>("commit_a"),
    column<&ResultRow::ref_b>("ref_b"),
    column<&ResultRow::commit_b>("commit_b"),
    column<&ResultRow::rounds>("rounds"),
    column<&ResultRow::seed>("seed"),
    column<&ResultRow::a_median>("a_median"),
    column<&ResultRow::b_median>("b_median"),
    column<&ResultRow::delta_pct>("delta_pct"),
    column<&ResultRow::ci_low_pct>("ci_low_pct"),
    column<&ResultRow::ci_high_pct>("ci_high_pct"),
    column<&ResultRow::p_value>("p_value"),
    column<&ResultRow::cv_a_pct>("cv_a_pct"),
    column<&ResultRow::cv_b_pct>("cv_b_pct"),
    column<&ResultRow::threshold_pct>("threshold_pct"),
    column<&ResultRow::verdict>("verdict"),
    column<&ResultRow::errors_a>("errors_a"),
    column<&ResultRow::errors_b>("errors_b"),
    column<&ResultRow::host>("host"),
    column<&ResultRow::abtool_version>("abtool_version"),
};

std::size_t column_of(std::string_view name) {
    const auto it = std::find_if(k_columns.begin(), k_columns.end(),
                                 [&](const Column& column) { return column.name == name; });
    return static_cast<std::size_t>(it - k_columns.begin());
}

std::vector<std::string> fields_of(const ResultRow& row) {
    std::vector<std::string> fields;
    fields.reserve(k_columns.size());
    for (const Column& column : k_columns) {
        fields.push_back(column.write(row));
    }
    return fields;
}

// The row a record holds; throws on a field that does not parse.
ResultRow parse_row(const std::vector<std::string>& fields) {
    ResultRow row;
    for (std::size_t i = 0; i < k_columns.size(); ++i) {
        k_columns[i].read(row, fields[i]);
    }
    return row;
}

// The row a record holds, or nullopt when it is not a well-formed results.csv row: exactly the
// header's field count, a run id first, a direction word and numbers where numbers belong.
std::optional<ResultRow> row_of(const std::vector<std::string>& f) {
    static const std::size_t run_id = column_of("run_id");
    static const std::size_t direction = column_of("direction");
    if (f.size() != k_columns.size() || !looks_like_run_id(f[run_id]) ||
        (f[direction] != "lower" && f[direction] != "higher")) {
        return std::nullopt;
    }
    try {
        return parse_row(f);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

// A results path that is a directory is the user's slip (--results out/): exit 2, naming it.
void check_not_directory(const std::filesystem::path& file) {
    if (std::filesystem::is_directory(file)) {
        throw Error(ErrorKind::usage, fmt::format("results file {} is a directory", file.string()),
                    fmt::format("--results (or [results] file) names a file, e.g. {}",
                                (file / "results.csv").string()));
    }
}

std::string read_text(const std::filesystem::path& file) {
    check_not_directory(file);
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw Error(ErrorKind::io,
                    fmt::format("cannot read {}: {}", file.string(), std::strerror(errno)));
    }
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The header line of `text`, or "" when the file is empty.
std::string_view first_line(std::string_view text) {
    const auto end = text.find_first_of("\r\n");
    return text.substr(0, end);
}

} // namespace

const std::string& results_header() {
    static const std::string header = [] {
        std::string text;
        for (const Column& column : k_columns) {
            text += text.empty() ? "" : ",";
            text += column.name;
        }
        return text;
    }();
    return header;
}

std::vector<ResultRow> rows_from_report(const report::Report& report) {
    std::vector<ResultRow> rows;
    for (const report::Row& r : report.rows) {
        ResultRow row;
        row.run_id = report.run_id;
        row.timestamp = report.timestamp;
        row.primary_key = r.primary_key;
        row.target_id = report.target_id;
        row.workload = r.workload;
        row.kind = r.kind;
        row.case_name = r.case_name;
        row.metric = r.metric;
        row.unit = r.unit;
        row.direction = to_string(r.direction);
        row.ref_a = report.ref_a;
        row.commit_a = report.commit_a;
        row.ref_b = report.ref_b;
        row.commit_b = report.commit_b;
        row.rounds = r.comparison.n;
        row.seed = report.seed;
        row.a_median = r.comparison.a.n > 0 ? r.comparison.a.median : std::nan("");
        row.b_median = r.comparison.b.n > 0 ? r.comparison.b.median : std::nan("");
        const bool tested = r.comparison.interval != stats::IntervalMethod::none;
        row.delta_pct = tested ? r.comparison.delta_pct : std::nan("");
        row.ci_low_pct = tested ? r.comparison.ci_low_pct : std::nan("");
        row.ci_high_pct = tested ? r.comparison.ci_high_pct : std::nan("");
        row.p_value = tested ? r.comparison.p_adjusted : std::nan("");
        row.cv_a_pct = r.comparison.a.cv_pct;
        row.cv_b_pct = r.comparison.b.cv_pct;
        row.threshold_pct = r.threshold_pct.value_or(report.threshold_pct);
        row.verdict = report::to_string(r.verdict);
        row.errors_a = r.errors_a;
        row.errors_b = r.errors_b;
        row.host = report.host;
        row.abtool_version = report.abtool_version;
        rows.push_back(std::move(row));
    }
    return rows;
}

ResultsStore::ResultsStore(std::filesystem::path file) : m_file(std::move(file)) {}

void ResultsStore::check_appendable() const {
    check_not_directory(m_file);
    if (std::filesystem::exists(m_file)) {
        const std::string text = read_text(m_file);
        if (!text.empty() && first_line(text) != results_header()) {
            throw Error(ErrorKind::config,
                        fmt::format("{} has an unknown header; abtool appends only to its own "
                                    "results.csv",
                                    m_file.string()),
                        "point [results] file (or --results) at another file; the existing one "
                        "is left untouched");
        }
        if (access(m_file.c_str(), W_OK) != 0) {
            throw Error(ErrorKind::io, fmt::format("{} is not writable", m_file.string()));
        }
        return;
    }
    const std::filesystem::path dir =
        m_file.parent_path().empty() ? std::filesystem::path(".") : m_file.parent_path();
    if (!std::filesystem::is_directory(dir) || access(dir.c_str(), W_OK) != 0) {
        throw Error(ErrorKind::io, fmt::format("cannot create {}: {} is not a writable directory",
                                               m_file.string(), dir.string()));
    }
}

void ResultsStore::append(const std::vector<ResultRow>& rows) const {
    check_not_directory(m_file);
    const bool existed = std::filesystem::exists(m_file);
    const UniqueFd file(open(m_file.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (!file) {
        throw Error(ErrorKind::io,
                    fmt::format("cannot open {}: {}", m_file.string(), std::strerror(errno)));
    }
    const int fd = file.get();
    // One lock for the whole check-and-append (held until the descriptor closes), so two abtool
    // processes never interleave rows.
    while (flock(fd, LOCK_EX) != 0 && errno == EINTR) {
    }
    struct stat info {};
    fstat(fd, &info);
    const off_t size_before = info.st_size;
    std::string text;
    if (size_before == 0) {
        text = std::string(results_header()) + "\n";
    } else {
        const std::string existing = read_text(m_file);
        if (first_line(existing) != results_header()) {
            throw Error(ErrorKind::config,
                        fmt::format("{} has an unknown header; nothing appended", m_file.string()));
        }
        if (existing.back() != '\n') {
            // End a row torn by an earlier crash; it stays as it is, reported on read. (push_back,
            // not `= "\n"`: GCC 12 -O3 warns falsely on the latter, PR 105329.)
            text.push_back('\n');
        }
    }
    for (const ResultRow& row : rows) {
        text += csv::join(fields_of(row)) + "\n";
    }
    // Takes back this append's own bytes after a failure (a full disk, a file size limit), so a
    // failed append leaves the file as it found it rather than with a torn row; the lock keeps
    // every other abtool's bytes out of the range cut.
    // A file this append created goes again: a 0-byte results.csv without its header would be
    // refused by the next run as "unknown header".
    const auto fail = [&](const char* what, int error) {
        const bool restored = ftruncate(fd, size_before) == 0;
        const bool removed =
            restored && !existed && size_before == 0 && unlink(m_file.c_str()) == 0;
        throw Error(ErrorKind::storage,
                    fmt::format("cannot append to {}: {}: {}{}", m_file.string(), what,
                                std::strerror(error),
                                removed    ? "; nothing appended, the new file removed"
                                : restored ? "; nothing appended"
                                           : "; a torn row may remain"));
    };
    // A single write of whole rows, then fsync: a crash leaves all of them or a torn tail that
    // readers detect and skip, never a row that parses wrongly.
    if (const int error = write_all(fd, text); error != 0) {
        fail("write", error);
    }
    if (fsync(fd) != 0) {
        fail("fsync", errno);
    }
}

ResultsStore::ReadResult ResultsStore::read() const {
    ReadResult result;
    if (!std::filesystem::exists(m_file)) {
        return result;
    }
    const std::string text = read_text(m_file);
    std::size_t offset = 0;
    const auto header = csv::next_record(text, offset);
    if (!header || csv::join(*header) != results_header()) {
        throw Error(
            ErrorKind::config,
            fmt::format("{} is not an abtool results.csv (unknown header)", m_file.string()));
    }
    const auto newlines = [&](std::size_t from, std::size_t to) {
        return static_cast<std::size_t>(std::count(text.begin() + static_cast<std::ptrdiff_t>(from),
                                                   text.begin() + static_cast<std::ptrdiff_t>(to),
                                                   '\n'));
    };
    // A malformed record (a row torn inside a quoted field by a crash, which the next append
    // ended with a bare line feed) is skipped with the line it starts on, and parsing restarts
    // at the next physical line that begins a well-formed row: the lines in between are the
    // broken row's remains. Without the restart, the torn row's open quote would swallow every
    // good row after it.
    std::size_t line = 1 + newlines(0, offset); // the line `offset` starts
    std::optional<std::size_t> junk_from;       // first line of the malformed stretch
    std::size_t junk_lines = 0;
    const auto report_junk = [&] {
        if (junk_from) {
            result.warnings.push_back(fmt::format(
                "{}:{}: torn or malformed row skipped{}", m_file.string(), *junk_from,
                junk_lines > 1
                    ? fmt::format(" (with {} more line(s) of its remains)", junk_lines - 1)
                    : std::string()));
            junk_from.reset();
            junk_lines = 0;
        }
    };
    while (offset < text.size()) {
        std::size_t end = offset;
        const auto record = csv::next_record(text, end);
        std::optional<ResultRow> row = record ? row_of(*record) : std::nullopt;
        if (row) {
            report_junk();
            result.rows.push_back(std::move(*row));
            line += newlines(offset, end); // a quoted field may span lines
            offset = end;
            continue;
        }
        if (!junk_from) {
            junk_from = line;
        }
        ++junk_lines;
        const std::size_t line_end = text.find('\n', offset);
        offset = line_end == std::string::npos ? text.size() : line_end + 1;
        ++line;
    }
    report_junk();
    return result;
}

} // namespace abtool
