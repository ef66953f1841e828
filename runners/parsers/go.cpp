// `go test -bench` text: one result line per benchmark run (`-count N` prints N lines, each one
// sample), among lines that are not results (goos:, pkg:, cpu:, PASS, ok, a benchmark's b.Log
// output, -v's bare name lines). The line grammar is golang.org/x/perf/benchfmt's: "Benchmark"
// and a name, an integer iteration count, then pairs of a value and its unit.
//
// The case name is the name Go prints without its -N suffix (GOMAXPROCS), as benchfmt splits it
// off into a gomaxprocs label: N is the number of CPUs the process may use, so it names the
// machine or abtool's CPU pinning (a duet run pins each side to fewer CPUs), not the benchmark;
// kept, it would split one benchmark's rows between hosts and schedules. Only when one output
// reports a benchmark at several GOMAXPROCS (go test -cpu 1,2,4) does the suffix tell its runs
// apart, and there it stays as printed. (A sub-benchmark whose own name ends in -<digits> run at
// GOMAXPROCS=1 loses that ending: benchfmt reads it the same way.)
#include "runners/parsers/json_text.hpp"
#include "runners/parsers/parsers.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace abtool::runners::parsers {

namespace {

// Whitespace-separated fields of a line.
std::vector<std::string_view> fields_of(std::string_view line) {
    std::vector<std::string_view> fields;
    std::size_t at = 0;
    while (at < line.size()) {
        at = line.find_first_not_of(" \t\r", at);
        if (at == std::string_view::npos) {
            break;
        }
        const std::size_t end = std::min(line.find_first_of(" \t\r", at), line.size());
        fields.push_back(line.substr(at, end - at));
        at = end;
    }
    return fields;
}

// benchfmt's test: "Benchmark" followed by the end or a character that is not a lower-case letter
// (BenchmarkFoo, Benchmark/x; not Benchmarking).
bool is_benchmark_name(std::string_view field) {
    if (!field.starts_with("Benchmark")) {
        return false;
    }
    return field.size() == 9 || !(field[9] >= 'a' && field[9] <= 'z');
}

// A value as Go prints it (%g, %.2f, NaN, +Inf); nullopt when it is not a number.
std::optional<double> number_of(std::string_view text) {
    if (text.empty()) {
        return std::nullopt;
    }
    const std::string copy(text);
    char* end = nullptr;
    const double value = std::strtod(copy.c_str(), &end);
    if (end != copy.c_str() + copy.size()) {
        return std::nullopt;
    }
    return value;
}

// Go's own units and what abtool calls them; any other unit (b.ReportMetric) is named after
// itself and is better lower unless it is a rate ("/s").
struct Metric {
    std::string name;
    std::string unit;
    Direction direction;
};

Metric metric_of(std::string_view unit) {
    if (unit == "ns/op") {
        return {"ns_per_op", "ns", Direction::lower};
    }
    if (unit == "B/op") {
        return {"bytes_per_op", "B", Direction::lower};
    }
    if (unit == "allocs/op") {
        return {"allocs_per_op", "count", Direction::lower};
    }
    if (unit == "MB/s") {
        return {"mb_per_s", "MB/s", Direction::higher};
    }
    return {std::string(unit), std::string(unit),
            unit.ends_with("/s") ? Direction::higher : Direction::lower};
}

// A name split from its -N (GOMAXPROCS) suffix; "" when there is none.
std::pair<std::string, std::string> split_procs(std::string_view name) {
    const std::size_t dash = name.rfind('-');
    if (dash == std::string_view::npos || dash + 1 == name.size()) {
        return {std::string(name), ""};
    }
    for (std::size_t at = dash + 1; at < name.size(); ++at) {
        if (name[at] < '0' || name[at] > '9') {
            return {std::string(name), ""};
        }
    }
    return {std::string(name.substr(0, dash)), std::string(name.substr(dash + 1))};
}

struct Reading {
    Parsed parsed;
    std::vector<std::string> procs; // per sample, its benchmark's -N
    std::map<std::string, std::set<std::string>> procs_of;
    std::optional<std::size_t> failed_at; // the error of a --- FAIL line, for its message lines
};

ParseError line_error(const std::string& message, std::size_t line) {
    return ParseError{"not go test -bench output: " + message, std::nullopt,
                      "line " + std::to_string(line)};
}

// One result line's samples, or why it is not a result line.
std::optional<ParseError> add_result(const std::vector<std::string_view>& fields, std::size_t line,
                                     Reading& reading) {
    std::uint64_t iterations = 0;
    const std::string_view count = fields[1];
    const auto [end, error] =
        std::from_chars(count.data(), count.data() + count.size(), iterations);
    if (error != std::errc() || end != count.data() + count.size()) {
        return line_error("after the benchmark's name, \"" + std::string(count) +
                              "\" is not an iteration count",
                          line);
    }
    if (fields.size() % 2 != 0) {
        return line_error("a value without its unit", line);
    }
    auto [name, procs] = split_procs(fields[0]);
    reading.procs_of[name].insert(procs);
    for (std::size_t at = 2; at < fields.size(); at += 2) {
        const std::optional<double> value = number_of(fields[at]);
        if (!value) {
            return line_error(fmt::format("\"{}\" is not a number", fields[at]), line);
        }
        if (!std::isfinite(*value)) {
            continue; // b.ReportMetric(NaN): no measurement, as a JSON null is none
        }
        const Metric metric = metric_of(fields[at + 1]);
        reading.parsed.samples.push_back(
            {name, metric.name, *value, metric.unit, metric.direction, Gate::no});
        reading.procs.push_back(procs);
    }
    return std::nullopt;
}

// One line: a result, a failure (--- FAIL: and the indented lines after it), or anything else.
std::optional<ParseError> read_line(std::string_view line, std::size_t number, Reading& reading) {
    const bool indented = !line.empty() && (line[0] == ' ' || line[0] == '\t');
    const std::vector<std::string_view> fields = fields_of(line);
    if (indented && reading.failed_at && !fields.empty()) {
        std::string& error = reading.parsed.errors[*reading.failed_at];
        error += (error.ends_with(": failed") ? ": " : "; ") +
                 std::string(line.substr(line.find_first_not_of(" \t")));
        return std::nullopt;
    }
    reading.failed_at.reset();
    // "--- FAIL: BenchmarkX" alone, or after the name Go printed before the benchmark ran.
    const std::size_t fail = line.find("--- FAIL: ");
    if (fail != std::string_view::npos) {
        const std::vector<std::string_view> rest = fields_of(line.substr(fail + 10));
        reading.failed_at = reading.parsed.errors.size();
        reading.parsed.errors.push_back(
            (rest.empty() ? std::string("a test") : split_procs(rest[0]).first) + ": failed");
        return std::nullopt;
    }
    if (indented || fields.size() < 2 || !is_benchmark_name(fields[0]) ||
        line.find("--- ") != std::string_view::npos) {
        return std::nullopt; // -v's bare name line, --- SKIP, logs, headers
    }
    return add_result(fields, number, reading);
}

// Each benchmark's case name: without its -N unless the output ran it at several.
void name_cases(Reading& reading) {
    for (std::size_t at = 0; at < reading.parsed.samples.size(); ++at) {
        Sample& sample = reading.parsed.samples[at];
        if (reading.procs_of[sample.case_name].size() > 1 && !reading.procs[at].empty()) {
            sample.case_name += "-" + reading.procs[at];
        }
    }
}

} // namespace

ParseResult parse_go(std::istream& in) {
    // Line by line, at most k_jsonl_line_max bytes of one held: a line longer than that is an
    // error at its number, not a line held in memory however long it grows.
    Reading reading;
    std::streambuf& source = *in.rdbuf();
    std::string line;
    std::size_t number = 0;
    for (;;) {
        line.clear();
        int c = 0;
        bool read_any = false;
        while ((c = source.sbumpc()) != std::char_traits<char>::eof() && c != '\n') {
            read_any = true;
            if (line.size() == k_jsonl_line_max) {
                return line_error("a line longer than 1 MiB", number + 1);
            }
            line.push_back(static_cast<char>(c));
        }
        if (c == std::char_traits<char>::eof() && !read_any) {
            break;
        }
        if (auto error = read_line(line, ++number, reading)) {
            return *error;
        }
        if (c == std::char_traits<char>::eof()) {
            break;
        }
    }
    name_cases(reading);
    return std::move(reading.parsed);
}

ParseResult parse_go(std::string_view text) {
    ViewStream in(text);
    return parse_go(in);
}

} // namespace abtool::runners::parsers
