#include "src/results/csv.hpp"

namespace abtool::csv {

std::string quote(std::string_view field) {
    if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
        return std::string(field);
    }
    std::string quoted = "\"";
    for (char c : field) {
        quoted += c;
        if (c == '"') {
            quoted += '"';
        }
    }
    return quoted + "\"";
}

std::string join(const std::vector<std::string>& fields) {
    std::string line;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (i > 0) {
            line += ',';
        }
        line += quote(fields[i]);
    }
    return line;
}

std::optional<std::vector<std::string>> next_record(std::string_view text, std::size_t& offset) {
    std::vector<std::string> fields;
    std::string field;
    bool quoted = false;
    std::size_t i = offset;
    while (i < text.size()) {
        const char c = text[i];
        if (quoted) {
            if (c == '"') {
                if (i + 1 < text.size() && text[i + 1] == '"') {
                    field += '"';
                    ++i;
                } else {
                    quoted = false;
                }
            } else {
                field += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            fields.push_back(std::move(field));
            field.clear();
        } else if (c == '\n' || c == '\r') {
            fields.push_back(std::move(field));
            i += (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ? 2 : 1;
            offset = i;
            return fields;
        } else {
            field += c;
        }
        ++i;
    }
    offset = text.size();
    return std::nullopt; // no line end: a row cut short by a crash
}

} // namespace abtool::csv
