#include "runners/parsers/json_text.hpp"

#include <vector>

namespace abtool::runners::parsers {

namespace {

// A second, rare pass over a text that overflowed a double: nlohmann reports the overflow only to
// a SAX handler, with the position just past the number and the number's text, so this handler
// follows the path of keys and indexes to name the field as well.
class OverflowLocator final : public nlohmann::json_sax<nlohmann::json> {
public:
    bool null() override { return value(); }
    bool boolean(bool) override { return value(); }
    bool number_integer(number_integer_t) override { return value(); }
    bool number_unsigned(number_unsigned_t) override { return value(); }
    bool number_float(number_float_t, const string_t&) override { return value(); }
    bool string(string_t&) override { return value(); }
    bool binary(binary_t&) override { return value(); }
    bool start_object(std::size_t) override {
        m_path.push_back({Frame::Kind::object, {}, 0});
        return true;
    }
    bool key(string_t& key) override {
        m_path.back().key = key;
        return true;
    }
    bool end_object() override { return close(); }
    bool start_array(std::size_t) override {
        m_path.push_back({Frame::Kind::array, {}, 0});
        return true;
    }
    bool end_array() override { return close(); }
    bool parse_error(std::size_t position, const std::string& last_token,
                     const nlohmann::detail::exception&) override {
        m_end = position;
        m_token = last_token;
        return false;
    }

    // The first byte of the number that failed, and its field.
    std::size_t offset() const { return m_end >= m_token.size() ? m_end - m_token.size() : 0; }
    const std::string& token() const { return m_token; }
    std::string field() const {
        std::string path;
        for (const Frame& frame : m_path) {
            // Appended piecewise: GCC 12 at -O3 flags "[" + string with a false -Wrestrict
            // (PR 105329), an error in the README's Release build.
            if (frame.kind == Frame::Kind::array) {
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

private:
    struct Frame {
        enum class Kind { object, array } kind;
        std::string key;       // in an object: the key whose value comes next
        std::size_t index = 0; // in an array: the index of the value that comes next
    };

    bool value() {
        if (!m_path.empty() && m_path.back().kind == Frame::Kind::array) {
            ++m_path.back().index;
        }
        return true;
    }
    bool close() {
        m_path.pop_back();
        return value();
    }

    std::vector<Frame> m_path;
    std::size_t m_end = 0;
    std::string m_token;
};

} // namespace

std::variant<nlohmann::json, JsonTextError> parse_json_text(std::string_view text) {
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& error) {
        // nlohmann counts bytes from 1; abtool reports 0-based offsets.
        return JsonTextError{error.what(), error.byte > 0 ? error.byte - 1 : 0, {}};
    } catch (const nlohmann::json::out_of_range& error) {
        if (error.id != 406) {
            throw; // nlohmann's parse throws no other out_of_range
        }
        OverflowLocator locator;
        nlohmann::json::sax_parse(text, &locator);
        return JsonTextError{"number " + locator.token() + " is outside the range of a double",
                             locator.offset(), locator.field()};
    }
}

} // namespace abtool::runners::parsers
