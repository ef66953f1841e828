// Parsers for what hotpath programs print: Google Benchmark JSON, hyperfine's --export-json,
// abtool's JSON lines, Catch2's XML or console output, criterion's bencher text or files, and the
// other formats of issue 16. Each returns samples, or an error naming the byte offset or the field
// of the problem.
#pragma once

#include "abtool/runners.hpp"

#include <cstddef>
#include <filesystem>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace abtool::runners::parsers {

struct Parsed {
    std::vector<Sample> samples;
    std::vector<std::string> errors; // rows the program itself reported as failed
    // Google Benchmark: the iterations of every iteration row, summed. It picks them from the
    // time a case takes, so a whole-process count of a run follows the machine's speed unless
    // this stays the same from run to run.
    double iterations = 0;
};

// A parse failure: what and where. `offset` is a byte offset into the original text when the
// text is not JSON at all; JSON of the wrong shape names the field instead (nlohmann_json keeps
// no positions for parsed values), e.g. "benchmarks[3].run_type".
struct ParseError {
    std::string message;
    std::optional<std::size_t> offset;
    std::string field;
};

using ParseResult = std::variant<Parsed, ParseError>;

// Google Benchmark: one sample per iteration row (repetition). A benchmark that has no iteration
// rows because it ran with --benchmark_report_aggregates_only or, on stdout,
// --benchmark_display_aggregates_only contributes one sample instead: its median aggregate, or
// its mean when there is no median (each a summary of that run's repetitions).
//
// JMH (-rf json): one "score" sample per measurement iteration per fork, time per op in ns
// (lower) or throughput in ops/s (higher); mode "sample" gives each iteration's histogram mean;
// secondary metrics under JMH's names. Cases: "benchmark(param=value,...)".
// BenchmarkDotNet (full JSON export): one "time" sample in ns per Workload/Result measurement
// (Statistics.OriginalValues when measurements are left out), "bytes_per_op" from the
// MemoryDiagnoser; a benchmark without Statistics is a reported failure. Cases: FullName.
//
// Each reads its input as a stream, holding one row (or line) at a time and the samples: a
// program's output of any size costs only what it reports.
ParseResult parse_gbench(std::istream& in);
ParseResult parse_hyperfine(std::istream& in);
ParseResult parse_jsonl(std::istream& in);
ParseResult parse_catch2(std::istream& in);
ParseResult parse_pytest_benchmark(std::istream& in);
ParseResult parse_go(std::istream& in);
ParseResult parse_criterion(std::istream& in);
ParseResult parse_jmh(std::istream& in);
ParseResult parse_benchmarkdotnet(std::istream& in);
ParseResult parse_bmf(std::istream& in);
// The same, on a text in memory (tests, fuzzing).
ParseResult parse_gbench(std::string_view text);
ParseResult parse_hyperfine(std::string_view text);
ParseResult parse_jsonl(std::string_view text);
ParseResult parse_catch2(std::string_view text);
ParseResult parse_pytest_benchmark(std::string_view text);
ParseResult parse_go(std::string_view text);
ParseResult parse_criterion(std::string_view text);
ParseResult parse_jmh(std::string_view text);
ParseResult parse_benchmarkdotnet(std::string_view text);
ParseResult parse_bmf(std::string_view text);
// criterion's files below a target/criterion directory (criterion.cpp says which): the
// <id>/new/ results written at or after `not_before` (this run's), cases named by their id.
ParseResult parse_criterion_directory(const std::filesystem::path& root,
                                      std::filesystem::file_time_type not_before);
// The parser of `format`.
ParseResult parse(HotpathFormat format, std::istream& in);

// The longest JSON line parse_jsonl accepts: 1 MiB, where a sample's line is under 1 KiB; a longer
// one is an error at its first byte, not a line held in memory however long it grows.
inline constexpr std::size_t k_jsonl_line_max = std::size_t{1} << 20;

// The most of a Catch2 or criterion output the readers hold: 64 MiB, where a run of a thousand
// benchmarks writes about 1 MiB; a longer one is an error at that byte.
inline constexpr std::size_t k_document_max = std::size_t{64} << 20;

} // namespace abtool::runners::parsers
