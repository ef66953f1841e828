// Parsers for what hotpath programs print: Google Benchmark JSON, hyperfine's --export-json and
// abtool's JSON lines. Each returns samples, or an error naming the byte offset of the problem.
#pragma once

#include "abtool/runners.hpp"

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace abtool::runners::parsers {

struct Parsed {
    std::vector<Sample> samples;
    std::vector<std::string> errors; // rows the program itself reported as failed
};

// A parse failure: what and where (byte offset into the text).
struct ParseError {
    std::string message;
    std::size_t offset = 0;
};

using ParseResult = std::variant<Parsed, ParseError>;

ParseResult parse_gbench(std::string_view text);
ParseResult parse_hyperfine(std::string_view text);
ParseResult parse_jsonl(std::string_view text);

// Google Benchmark writes bare NaN, Infinity and -Infinity, which JSON has no words for: they
// become null outside of strings (and so no sample).
std::string replace_non_finite(std::string_view text);

} // namespace abtool::runners::parsers
