// Parsers for what hotpath programs print: Google Benchmark JSON, hyperfine's --export-json and
// abtool's JSON lines. Each returns samples, or an error naming the byte offset or the field of
// the problem.
#pragma once

#include "abtool/runners.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace abtool::runners::parsers {

struct Parsed {
    std::vector<Sample> samples;
    std::vector<std::string> errors; // rows the program itself reported as failed
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
ParseResult parse_gbench(std::string_view text);
ParseResult parse_hyperfine(std::string_view text);
ParseResult parse_jsonl(std::string_view text);

// Google Benchmark writes bare NaN, Infinity and -Infinity, which JSON has no words for: they
// become null outside of strings (and so no sample). "null" is one byte longer than a 3-letter
// NaN or inf: original_offset maps an offset into `text` back to the original's.
struct NonFiniteReplaced {
    std::string text;
    std::vector<std::size_t> grown_at; // offsets in `text` just past each one-byte growth
    std::size_t original_offset(std::size_t offset) const;
};
NonFiniteReplaced replace_non_finite(std::string_view text);

} // namespace abtool::runners::parsers
