#include "runners/parsers/json_text.hpp"
#include "runners/parsers/parsers.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <utility>

namespace abtool::runners::parsers {

ParseResult parse_hyperfine(std::istream& in) {
    Parsed parsed;
    std::optional<ParseError> failed;
    const RowHandler on_row = [&](const nlohmann::json& result, std::size_t at) {
        // Well-formed JSON of the wrong shape surfaces as a type error from nlohmann: name the
        // entry.
        try {
            if (!result.is_object()) {
                failed = ParseError{"not hyperfine JSON: a result is not an object", std::nullopt,
                                    "results[" + std::to_string(at) + "]"};
                return false;
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
            return true;
        } catch (const nlohmann::json::exception& error) {
            failed = ParseError{std::string("not hyperfine JSON: ") + error.what(), std::nullopt,
                                "results[" + std::to_string(at) + "]"};
            return false;
        }
    };
    const auto read = read_rows(in, "results", on_row);
    if (const auto* error = std::get_if<JsonTextError>(&read)) {
        return ParseError{"not hyperfine JSON: " + error->message, error->offset, error->field};
    }
    if (failed) {
        return *failed;
    }
    if (!std::get<RowsRead>(read).found) {
        return ParseError{"not hyperfine JSON: no \"results\" array", std::nullopt, "results"};
    }
    return parsed;
}

ParseResult parse_hyperfine(std::string_view text) {
    ViewStream in(text);
    return parse_hyperfine(in);
}

} // namespace abtool::runners::parsers
