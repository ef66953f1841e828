#include "runners/parsers/parsers.hpp"

#include <nlohmann/json.hpp>

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
            try {
                const nlohmann::json row = nlohmann::json::parse(line);
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
            } catch (const nlohmann::json::parse_error& error) {
                return ParseError{std::string("not a JSON line: ") + error.what(),
                                  offset + (error.byte > 0 ? error.byte - 1 : 0),
                                  {}};
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
