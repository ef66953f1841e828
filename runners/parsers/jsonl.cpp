#include "runners/parsers/json_text.hpp"
#include "runners/parsers/parsers.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <optional>
#include <utility>

namespace abtool::runners::parsers {

namespace {

// One non-blank line's sample, or why it is not one; `offset` is the line's first byte.
std::optional<ParseError> add_line(std::string_view line, std::size_t offset, Parsed& parsed) {
    auto parsed_line = parse_json_text(line);
    if (auto* error = std::get_if<JsonTextError>(&parsed_line)) {
        return ParseError{"not a JSON line: " + error->message, offset + error->offset,
                          std::move(error->field)};
    }
    const nlohmann::json row = std::move(std::get<nlohmann::json>(parsed_line));
    try {
        Sample sample;
        sample.case_name = row.value("case", std::string());
        sample.metric = row.at("metric").get<std::string>();
        sample.value = row.at("value").get<double>();
        sample.unit = row.value("unit", std::string());
        const std::optional<Direction> direction =
            direction_from_string(row.value("direction", std::string("lower")));
        if (!direction) {
            return ParseError{"\"direction\" must be \"lower\" or \"higher\"", offset, {}};
        }
        sample.direction = *direction;
        parsed.samples.push_back(std::move(sample));
    } catch (const nlohmann::json::exception& error) {
        return ParseError{std::string("a JSON line needs \"metric\" and a numeric \"value\": ") +
                              error.what(),
                          offset,
                          {}};
    }
    return std::nullopt;
}

} // namespace

ParseResult parse_jsonl(std::istream& in) {
    Parsed parsed;
    std::string line;
    std::size_t line_start = 0, offset = 0;
    const auto finish_line = [&]() -> std::optional<ParseError> {
        std::optional<ParseError> error;
        if (line.find_first_not_of(" \t\r") != std::string::npos) {
            error = add_line(line, line_start, parsed);
        }
        line.clear();
        return error;
    };
    std::array<char, 65536> chunk{};
    std::streamsize got = 0;
    while ((got = in.rdbuf()->sgetn(chunk.data(), chunk.size())) > 0) {
        std::string_view rest(chunk.data(), static_cast<std::size_t>(got));
        while (!rest.empty()) {
            const std::size_t end = rest.find('\n');
            const std::string_view piece = rest.substr(0, end);
            if (line.size() + piece.size() > k_jsonl_line_max) {
                return ParseError{
                    "a JSON line longer than 1 MiB (a sample is one short line)", line_start, {}};
            }
            line.append(piece);
            offset += piece.size();
            if (end == std::string_view::npos) {
                break;
            }
            ++offset; // the newline
            if (auto error = finish_line()) {
                return *error;
            }
            line_start = offset;
            rest.remove_prefix(end + 1);
        }
    }
    if (auto error = finish_line()) {
        return *error;
    }
    return parsed;
}

ParseResult parse_jsonl(std::string_view text) {
    ViewStream in(text);
    return parse_jsonl(in);
}

} // namespace abtool::runners::parsers
