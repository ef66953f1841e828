#include "runners/parsers/json_text.hpp"
#include "runners/parsers/parsers.hpp"

#include <nlohmann/json.hpp>

#include <utility>

namespace abtool::runners::parsers {

ParseResult parse_hyperfine(std::string_view text) {
    auto parsed_text = parse_json_text(text);
    if (auto* error = std::get_if<JsonTextError>(&parsed_text)) {
        return ParseError{"not hyperfine JSON: " + error->message, error->offset,
                          std::move(error->field)};
    }
    const nlohmann::json json = std::move(std::get<nlohmann::json>(parsed_text));
    if (!json.is_object() || !json.contains("results") || !json["results"].is_array()) {
        return ParseError{"not hyperfine JSON: no \"results\" array", std::nullopt, "results"};
    }
    Parsed parsed;
    const nlohmann::json& results = json["results"];
    // Well-formed JSON of the wrong shape surfaces as a type error from nlohmann: name the entry.
    std::size_t at = 0;
    try {
        for (at = 0; at < results.size(); ++at) {
            const nlohmann::json& result = results[at];
            if (!result.is_object()) {
                return ParseError{"not hyperfine JSON: a result is not an object", std::nullopt,
                                  "results[" + std::to_string(at) + "]"};
            }
            const std::string name = result.value("command", std::string());
            if (result.contains("exit_codes") && result["exit_codes"].is_array()) {
                for (const nlohmann::json& code : result["exit_codes"]) {
                    // Compared as JSON, not as an int: get<int>() on 1e10 is undefined behaviour.
                    if (code.is_number() && code != 0) {
                        parsed.errors.push_back(name + ": exit code " + code.dump());
                        break;
                    }
                }
            }
            // hyperfine's times are seconds; abtool records milliseconds.
            if (result.contains("times") && result["times"].is_array()) {
                for (const nlohmann::json& time : result["times"]) {
                    if (time.is_number()) {
                        parsed.samples.push_back({name, "wall_ms", time.get<double>() * 1e3, "ms",
                                                  Direction::lower, Gate::no});
                    }
                }
            } else if (result.contains("mean") && result["mean"].is_number()) {
                parsed.samples.push_back({name, "wall_ms", result["mean"].get<double>() * 1e3, "ms",
                                          Direction::lower, Gate::no});
            }
        }
    } catch (const nlohmann::json::exception& error) {
        return ParseError{std::string("not hyperfine JSON: ") + error.what(), std::nullopt,
                          "results[" + std::to_string(at) + "]"};
    }
    return parsed;
}

} // namespace abtool::runners::parsers
