#include "runners/parsers/json_text.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <utility>

namespace abtool::runners::parsers {

namespace {

// The SAX handler behind read_rows and parse_json_text. It follows the path of keys and indexes
// (to name the field of a number that overflowed a double, which nlohmann reports only here, with
// the position just past the number and the number's text) and builds a DOM only for a row: an
// element of the top-level object's array at `key`, of the top-level array itself (Rows::array),
// or with an empty key the whole document.
class RowReader final : public nlohmann::json_sax<nlohmann::json> {
public:
    enum class Rows { at_key, array };

    RowReader(std::string_view key, const RowHandler& on_row, Rows rows = Rows::at_key)
        : m_key(key), m_on_row(on_row), m_top_array(rows == Rows::array) {}

    bool null() override { return value(nullptr); }
    bool boolean(bool b) override { return value(b); }
    bool number_integer(number_integer_t n) override { return value(n); }
    bool number_unsigned(number_unsigned_t n) override { return value(n); }
    bool number_float(number_float_t n, const string_t&) override { return value(n); }
    bool string(string_t& s) override { return value(std::move(s)); }
    bool binary(binary_t& b) override { return value(nlohmann::json::binary_t(std::move(b))); }

    bool start_object(std::size_t) override { return open(nlohmann::json::object(), false); }
    bool key(string_t& key) override {
        m_path.back().key = key;
        return true;
    }
    bool end_object() override { return close(); }
    bool start_array(std::size_t) override {
        if (m_top_array ? m_path.empty()
                        : m_path.size() == 1 && !m_key.empty() && !m_path.front().array &&
                              m_path.front().key == m_key && m_building.empty()) {
            m_in_rows = true;
            m_found = true;
        }
        return open(nlohmann::json::array(), true);
    }
    bool end_array() override {
        if (m_path.size() == (m_top_array ? 1u : 2u) && m_in_rows) {
            m_in_rows = false;
        }
        return close();
    }

    bool parse_error(std::size_t position, const std::string& last_token,
                     const nlohmann::detail::exception& error) override {
        // nlohmann counts bytes from 1; abtool reports 0-based offsets.
        if (error.id == 406) {
            const std::size_t start =
                position >= last_token.size() ? position - last_token.size() : 0;
            m_error = JsonTextError{"number " + last_token + " is outside the range of a double",
                                    start, field()};
        } else {
            m_error = JsonTextError{error.what(), position > 0 ? position - 1 : 0, {}};
        }
        return false;
    }

    const std::optional<JsonTextError>& error() const { return m_error; }
    bool found() const { return m_found; }

private:
    struct Frame {
        bool array = false;
        std::string key;       // in an object: the key whose value comes next
        std::size_t index = 0; // in an array: the index of the value that comes next
    };

    // A row starts here: an element of the rows array, or (no key) the document itself.
    bool at_row_start() const {
        if (m_top_array) {
            return m_building.empty() && m_in_rows && m_path.size() == 1;
        }
        return m_building.empty() &&
               (m_key.empty() ? m_path.empty() : m_in_rows && m_path.size() == 2);
    }

    // Puts `v` where the value being built goes and returns it.
    nlohmann::json& put(nlohmann::json&& v) {
        if (m_building.empty()) {
            m_row = std::move(v);
            return m_row;
        }
        nlohmann::json& parent = *m_building.back();
        if (parent.is_array()) {
            parent.push_back(std::move(v));
            return parent.back();
        }
        nlohmann::json& slot = parent[m_path.back().key];
        slot = std::move(v);
        return slot;
    }

    bool value(nlohmann::json&& v) {
        if (at_row_start()) {
            m_row = std::move(v);
            return deliver();
        }
        if (!m_building.empty()) {
            put(std::move(v));
        }
        return advance();
    }

    bool open(nlohmann::json&& container, bool array) {
        if (at_row_start() || !m_building.empty()) {
            m_building.push_back(&put(std::move(container)));
        }
        m_path.push_back({array, {}, 0});
        return true;
    }

    bool close() {
        m_path.pop_back();
        if (!m_building.empty()) {
            m_building.pop_back();
            if (m_building.empty()) {
                return deliver();
            }
        }
        return advance();
    }

    // A row is complete: hand it over (its index is the array's next one), then forget it.
    bool deliver() {
        const std::size_t index = m_path.empty() ? 0 : m_path.back().index;
        const bool go_on = m_on_row(m_row, index);
        m_row = nullptr;
        return go_on && advance();
    }

    bool advance() {
        if (!m_path.empty() && m_path.back().array) {
            ++m_path.back().index;
        }
        return true;
    }

    std::string field() const {
        std::string path;
        for (const Frame& frame : m_path) {
            // Appended piecewise: GCC 12 at -O3 flags "[" + string with a false -Wrestrict
            // (PR 105329), an error in the README's Release build.
            if (frame.array) {
                path += '[';
                path += std::to_string(frame.index);
                path += ']';
            } else {
                if (!path.empty()) {
                    path += '.';
                }
                path += frame.key;
            }
        }
        return path;
    }

    std::string m_key;
    const RowHandler& m_on_row;
    bool m_top_array = false;
    std::vector<Frame> m_path;
    bool m_in_rows = false, m_found = false;
    nlohmann::json m_row;
    std::vector<nlohmann::json*> m_building; // the open containers of the row being built
    std::optional<JsonTextError> m_error;
};

template <typename Input>
std::variant<RowsRead, JsonTextError> read_with(Input&& input, std::string_view key,
                                                const RowHandler& on_row,
                                                RowReader::Rows rows = RowReader::Rows::at_key) {
    RowReader reader(key, on_row, rows);
    nlohmann::json::sax_parse(std::forward<Input>(input), &reader);
    if (reader.error()) {
        return *reader.error();
    }
    return RowsRead{reader.found()};
}

} // namespace

std::variant<RowsRead, JsonTextError> read_rows(std::istream& in, std::string_view key,
                                                const RowHandler& on_row) {
    return read_with(in, key, on_row);
}

std::variant<RowsRead, JsonTextError> read_array_rows(std::istream& in, const RowHandler& on_row) {
    return read_with(in, {}, on_row, RowReader::Rows::array);
}

std::variant<nlohmann::json, JsonTextError> parse_json_text(std::string_view text) {
    nlohmann::json document;
    const RowHandler keep = [&](nlohmann::json& row, std::size_t) {
        document = std::move(row);
        return true;
    };
    auto read = read_with(text, {}, keep);
    if (auto* error = std::get_if<JsonTextError>(&read)) {
        return std::move(*error);
    }
    return document;
}

NonFiniteFilter::NonFiniteFilter(std::streambuf& source) : m_source(source) {
    setg(nullptr, nullptr, nullptr);
}

std::size_t NonFiniteFilter::original_offset(std::size_t offset) const {
    std::size_t grown = m_grown_earlier;
    for (const std::vector<std::size_t>* list : {&m_grown_before, &m_grown}) {
        grown += static_cast<std::size_t>(std::upper_bound(list->begin(), list->end(), offset) -
                                          list->begin());
    }
    return offset >= grown ? offset - grown : 0;
}

namespace {

constexpr std::array<std::string_view, 8> k_non_finite_words{
    "-Infinity", "Infinity", "-NaN", "NaN", "-nan", "nan", "-inf", "inf"};
constexpr std::size_t k_longest_word = 9;

} // namespace

bool NonFiniteFilter::refill() {
    // What is left unfiltered (at most a word's beginning) moves to the front.
    if (!m_source_done && m_in_end - m_in_begin < k_longest_word) {
        std::copy(m_in.begin() + static_cast<std::ptrdiff_t>(m_in_begin),
                  m_in.begin() + static_cast<std::ptrdiff_t>(m_in_end), m_in.begin());
        m_in_end -= m_in_begin;
        m_in_begin = 0;
        const std::streamsize got = m_source.sgetn(
            m_in.data() + m_in_end, static_cast<std::streamsize>(m_in.size() - m_in_end));
        if (got <= 0) {
            m_source_done = true;
        } else {
            m_in_end += static_cast<std::size_t>(got);
        }
    }
    return m_in_begin < m_in_end;
}

void NonFiniteFilter::filter() {
    std::size_t i = m_in_begin;
    for (; i < m_in_end; ++i) {
        const char c = m_in[i];
        if (m_in_string) {
            m_out += c;
            if (m_escaped) {
                m_escaped = false;
            } else if (c == '\\') {
                m_escaped = true;
            } else if (c == '"') {
                m_in_string = false;
            }
            continue;
        }
        if (c == '"' || std::string_view("-INni").find(c) == std::string_view::npos) {
            m_in_string = c == '"';
            m_out += c; // no word starts here
            continue;
        }
        const std::string_view rest(m_in.data() + i, m_in_end - i);
        if (rest.size() < k_longest_word && !m_source_done) {
            break; // a word may go on in the next read
        }
        const auto word =
            std::find_if(k_non_finite_words.begin(), k_non_finite_words.end(),
                         [&](std::string_view w) { return rest.substr(0, w.size()) == w; });
        if (word == k_non_finite_words.end()) {
            m_out += c;
            continue;
        }
        // Padded to the word's length where it is longer than "null", so later offsets still
        // point into the original; a 3-letter word grows the text by one byte.
        m_out += "null";
        if (word->size() > 4) {
            m_out.append(word->size() - 4, ' ');
        } else if (word->size() == 3) {
            m_grown.push_back(m_produced + m_out.size());
        }
        i += word->size() - 1;
    }
    m_in_begin = i;
}

NonFiniteFilter::int_type NonFiniteFilter::underflow() {
    if (gptr() < egptr()) {
        return traits_type::to_int_type(*gptr());
    }
    m_produced += m_out.size();
    m_out.clear();
    m_grown_earlier += m_grown_before.size();
    m_grown_before = std::move(m_grown);
    m_grown.clear();
    while (m_out.empty()) {
        if (!refill()) {
            return traits_type::eof();
        }
        filter();
    }
    setg(m_out.data(), m_out.data(), m_out.data() + m_out.size());
    return traits_type::to_int_type(*gptr());
}

bool read_whole(std::istream& in, std::size_t max, std::string& out) {
    out.clear();
    std::array<char, 65536> chunk{};
    std::streamsize got = 0;
    while ((got = in.rdbuf()->sgetn(chunk.data(), chunk.size())) > 0) {
        const auto n = static_cast<std::size_t>(got);
        if (out.size() + n > max) {
            out.append(chunk.data(), max - out.size());
            return false;
        }
        out.append(chunk.data(), n);
    }
    return true;
}

std::optional<double> to_double(std::string_view text) {
    double value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

ViewStream::ViewStream(std::string_view text) : std::istream(this) {
    char* begin = const_cast<char*>(text.data()); // only ever read
    setg(begin, begin, begin + text.size());
}

} // namespace abtool::runners::parsers
