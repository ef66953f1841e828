#include "runners/parsers/json_text.hpp"
#include "runners/parsers/parsers.hpp"

#include <nlohmann/json.hpp>

#include <utility>

namespace abtool::runners::parsers {

ParseResult parse_jsonl(std::string_view text) {
    Parsed parsed;
    std::size_t offset = 0;
    while (offset < text.size()) {
        std::size_t end = text.find('\n', offset);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        const std::string_view line = text.substr(offset, end - offset);
        if (line.find_first_not_of(" \t\r") != std::string_view::npos) {
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
                const std::string direction = row.value("direction", std::string("lower"));
                if (direction != "lower" && direction != "higher") {
                    return ParseError{"\"direction\" must be \"lower\" or \"higher\"", offset, {}};
                }
                sample.direction = direction == "higher" ? Direction::higher : Direction::lower;
                parsed.samples.push_back(std::move(sample));
            } catch (const nlohmann::json::exception& error) {
                return ParseError{std::string("a JSON line needs \"metric\" and a numeric "
                                              "\"value\": ") +
                                      error.what(),
                                  offset,
                                  {}};
            }
        }
        offset = end + 1;
    }
    return parsed;
}

} // namespace abtool::runners::parsers
