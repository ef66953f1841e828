// nlohmann_json's parse for the hotpath readers, with every way a text can fail to be JSON turned
// into one error that says where. A syntax error (json::parse_error) carries its byte; a number
// outside a double's range, such as 1e999, is json::out_of_range 406, which nlohmann throws with no
// position at all and which used to escape the readers as an internal error (issue 18).
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

namespace abtool::runners::parsers {

struct JsonTextError {
    std::string message;
    std::size_t offset = 0; // 0-based byte offset into the text
    std::string field;      // the value's path, e.g. "benchmarks[0].real_time"; set for 1e999
};

std::variant<nlohmann::json, JsonTextError> parse_json_text(std::string_view text);

} // namespace abtool::runners::parsers
