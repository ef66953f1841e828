#include "src/results_store.hpp"

#include "abtool/error.hpp"
#include "src/csv.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace abtool {

namespace csv {

std::string quote(std::string_view field) {
    if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
        return std::string(field);
    }
    std::string quoted = "\"";
    for (char c : field) {
        quoted += c;
        if (c == '"') {
            quoted += '"';
        }
    }
    return quoted + "\"";
}

std::string join(const std::vector<std::string>& fields) {
    std::string line;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (i > 0) {
            line += ',';
        }
        line += quote(fields[i]);
    }
    return line;
}

std::optional<std::vector<std::string>> next_record(std::string_view text, std::size_t& offset) {
    std::vector<std::string> fields;
    std::string field;
    bool quoted = false;
    std::size_t i = offset;
    while (i < text.size()) {
        const char c = text[i];
        if (quoted) {
            if (c == '"') {
                if (i + 1 < text.size() && text[i + 1] == '"') {
                    field += '"';
                    ++i;
                } else {
                    quoted = false;
                }
            } else {
                field += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            fields.push_back(std::move(field));
            field.clear();
        } else if (c == '\n' || c == '\r') {
            fields.push_back(std::move(field));
            i += (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ? 2 : 1;
            offset = i;
            return fields;
        } else {
            field += c;
        }
        ++i;
    }
    offset = text.size();
    return std::nullopt; // no line end: a row cut short by a crash
}

} // namespace csv

namespace {

std::string number(double value) {
    return std::isfinite(value) ? fmt::format("{}", value) : std::string();
}

double to_double(const std::string& text) {
    return text.empty() ? std::nan("") : std::stod(text);
}

std::vector<std::string> fields_of(const ResultRow& row) {
    return {row.run_id,
            row.timestamp,
            row.primary_key,
            row.target_id,
            row.workload,
            row.kind,
            row.case_name,
            row.metric,
            row.unit,
            row.direction,
            row.ref_a,
            row.commit_a,
            row.ref_b,
            row.commit_b,
            std::to_string(row.rounds),
            std::to_string(row.seed),
            number(row.a_median),
            number(row.b_median),
            number(row.delta_pct),
            number(row.ci_low_pct),
            number(row.ci_high_pct),
            number(row.p_value),
            number(row.cv_a_pct),
            number(row.cv_b_pct),
            number(row.threshold_pct),
            row.verdict,
            std::to_string(row.errors_a),
            std::to_string(row.errors_b),
            row.host,
            row.abtool_version};
}

ResultRow row_of(const std::vector<std::string>& f) {
    ResultRow row;
    row.run_id = f[0];
    row.timestamp = f[1];
    row.primary_key = f[2];
    row.target_id = f[3];
    row.workload = f[4];
    row.kind = f[5];
    row.case_name = f[6];
    row.metric = f[7];
    row.unit = f[8];
    row.direction = f[9];
    row.ref_a = f[10];
    row.commit_a = f[11];
    row.ref_b = f[12];
    row.commit_b = f[13];
    row.rounds = std::stoul(f[14]);
    row.seed = std::stoull(f[15]);
    row.a_median = to_double(f[16]);
    row.b_median = to_double(f[17]);
    row.delta_pct = to_double(f[18]);
    row.ci_low_pct = to_double(f[19]);
    row.ci_high_pct = to_double(f[20]);
    row.p_value = to_double(f[21]);
    row.cv_a_pct = to_double(f[22]);
    row.cv_b_pct = to_double(f[23]);
    row.threshold_pct = to_double(f[24]);
    row.verdict = f[25];
    row.errors_a = std::stoi(f[26]);
    row.errors_b = std::stoi(f[27]);
    row.host = f[28];
    row.abtool_version = f[29];
    return row;
}

constexpr std::size_t k_columns = 30;

std::string read_text(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The header line of `text`, or "" when the file is empty.
std::string_view first_line(std::string_view text) {
    const auto end = text.find_first_of("\r\n");
    return text.substr(0, end);
}

} // namespace

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
        row.direction = r.direction == stats::Direction::lower ? "lower" : "higher";
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
        row.threshold_pct = report.threshold_pct;
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
    if (std::filesystem::exists(m_file)) {
        const std::string text = read_text(m_file);
        if (!text.empty() && first_line(text) != k_results_header) {
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
    const int fd = open(m_file.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        throw Error(ErrorKind::io,
                    fmt::format("cannot open {}: {}", m_file.string(), std::strerror(errno)));
    }
    // One lock for the whole check-and-append, so two abtool processes never interleave rows.
    while (flock(fd, LOCK_EX) != 0 && errno == EINTR) {
    }
    struct stat info {};
    fstat(fd, &info);
    std::string text;
    if (info.st_size == 0) {
        text = std::string(k_results_header) + "\n";
    } else {
        const std::string existing = read_text(m_file);
        if (first_line(existing) != k_results_header) {
            close(fd);
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
    // A single write of whole rows, then fsync: a crash leaves all of them or a torn tail that
    // readers detect, never a row that parses wrongly.
    std::size_t written = 0;
    while (written < text.size()) {
        const ssize_t n = write(fd, text.data() + written, text.size() - written);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            const int error = errno;
            close(fd);
            throw Error(ErrorKind::io, fmt::format("cannot append to {}: {}", m_file.string(),
                                                   std::strerror(error)));
        }
        written += static_cast<std::size_t>(n);
    }
    fsync(fd);
    close(fd);
}

ResultsStore::ReadResult ResultsStore::read() const {
    ReadResult result;
    if (!std::filesystem::exists(m_file)) {
        return result;
    }
    const std::string text = read_text(m_file);
    std::size_t offset = 0;
    std::size_t line = 1;
    const auto header = csv::next_record(text, offset);
    if (!header || csv::join(*header) != k_results_header) {
        throw Error(
            ErrorKind::config,
            fmt::format("{} is not an abtool results.csv (unknown header)", m_file.string()));
    }
    while (offset < text.size()) {
        ++line;
        const std::size_t start = offset;
        const auto record = csv::next_record(text, offset);
        if (!record || record->size() != k_columns) {
            result.warnings.push_back(
                fmt::format("{}:{}: torn or malformed row skipped", m_file.string(), line));
            continue;
        }
        for (std::size_t at = text.find('\n', start); at != std::string::npos && at + 1 < offset;
             at = text.find('\n', at + 1)) {
            ++line; // a quoted field spanned lines
        }
        try {
            result.rows.push_back(row_of(*record));
        } catch (const std::exception&) {
            result.warnings.push_back(
                fmt::format("{}:{}: row with malformed numbers skipped", m_file.string(), line));
        }
    }
    return result;
}

} // namespace abtool
