// RFC 4180 fields: quoted when they hold a comma, a quote, CR or LF; quotes doubled.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace abtool::csv {

std::string quote(std::string_view field);
std::string join(const std::vector<std::string>& fields); // no line end

// Splits one record starting at `text[offset]` (which may span lines inside quotes); returns
// nullopt when the text ends inside a record (a torn line). `offset` moves past the line end.
std::optional<std::vector<std::string>> next_record(std::string_view text, std::size_t& offset);

} // namespace abtool::csv
