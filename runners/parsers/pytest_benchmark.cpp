// TEMPORARY placeholder while the pytest_benchmark reader is written (issue 16): every input is refused. It
// must be replaced by the real reader, or the format removed, before this lands.
#include "runners/parsers/json_text.hpp"
#include "runners/parsers/parsers.hpp"

namespace abtool::runners::parsers {

ParseResult parse_pytest_benchmark(std::istream& /*in*/) {
    return ParseError{"the pytest_benchmark reader is not written yet", std::nullopt, ""};
}

ParseResult parse_pytest_benchmark(std::string_view text) {
    ViewStream in(text);
    return parse_pytest_benchmark(in);
}

} // namespace abtool::runners::parsers
