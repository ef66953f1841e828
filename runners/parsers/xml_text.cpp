#include "runners/parsers/xml_text.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdint>

namespace abtool::runners::parsers {

std::optional<std::string_view> XmlTag::attribute(std::string_view key) const {
    for (const auto& [attribute_key, value] : attributes) {
        if (attribute_key == key) {
            return std::string_view(value);
        }
    }
    return std::nullopt;
}

namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Names as the reporters write them: ASCII letters, digits, '_', '-', '.', ':', and any byte of a
// multi-byte UTF-8 character.
bool is_name_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || c == '_' ||
           c == '-' || c == '.' || c == ':' || u >= 0x80;
}

// Appends the UTF-8 of `code`; false when it is no character XML allows.
bool append_utf8(std::uint32_t code, std::string& out) {
    if (code == 0 || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
        return false;
    }
    if (code < 0x80) {
        out += static_cast<char>(code);
    } else if (code < 0x800) {
        out += static_cast<char>(0xC0 | (code >> 6));
        out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
        out += static_cast<char>(0xE0 | (code >> 12));
        out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (code >> 18));
        out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (code & 0x3F));
    }
    return true;
}

// One entity's text (between '&' and ';') appended decoded; false when it is none this reads.
bool append_entity(std::string_view entity, std::string& out) {
    static constexpr std::pair<std::string_view, char> k_named[] = {
        {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
    for (const auto& [name, c] : k_named) {
        if (entity == name) {
            out += c;
            return true;
        }
    }
    if (entity.size() < 2 || entity[0] != '#') {
        return false;
    }
    const bool hex = entity[1] == 'x';
    const std::string_view digits = entity.substr(hex ? 2 : 1);
    std::uint32_t code = 0;
    const auto [end, error] =
        std::from_chars(digits.data(), digits.data() + digits.size(), code, hex ? 16 : 10);
    return !digits.empty() && error == std::errc() && end == digits.data() + digits.size() &&
           append_utf8(code, out);
}

// Reporters nest a handful of levels (run, test case, section, benchmark): far deeper is not
// their output, and the stack of open elements stays small.
constexpr std::size_t k_depth_max = 1000;

class Reader {
public:
    Reader(std::string_view text, const XmlHandler& on_tag) : m_text(text), m_on_tag(on_tag) {}

    std::optional<XmlError> run() {
        while (m_at < m_text.size() && !m_stopped) {
            const std::size_t lt = m_text.find('<', m_at);
            if (auto error = text_until(lt == std::string_view::npos ? m_text.size() : lt)) {
                return error;
            }
            if (lt == std::string_view::npos) {
                break;
            }
            m_at = lt;
            auto error = m_text.substr(m_at, 2) == "<?" || m_text.substr(m_at, 2) == "<!"
                             ? skip_markup()
                             : tag();
            if (error) {
                return error;
            }
        }
        if (m_stopped) {
            return std::nullopt;
        }
        if (!m_open.empty()) {
            return XmlError{"the text ends inside <" + std::string(m_open.back()) + ">",
                            m_text.size()};
        }
        if (!m_root_seen) {
            return XmlError{"no root element", m_text.size()};
        }
        return std::nullopt;
    }

private:
    // Text before `end`: skipped inside the root, only white space outside it.
    std::optional<XmlError> text_until(std::size_t end) {
        if (m_open.empty()) {
            for (std::size_t i = m_at; i < end; ++i) {
                if (!is_space(m_text[i]) && !(i < 3 && m_text.substr(0, 3) == "\xEF\xBB\xBF")) {
                    return XmlError{"text outside the root element", i};
                }
            }
        }
        m_at = end;
        return std::nullopt;
    }

    // <?...?>, <!--...-->, <![CDATA[...]]> and <!DOCTYPE ...> (without an internal subset).
    std::optional<XmlError> skip_markup() {
        const std::size_t start = m_at;
        std::string_view close = ">";
        if (m_text.substr(m_at, 2) == "<?") {
            close = "?>";
        } else if (m_text.substr(m_at, 4) == "<!--") {
            close = "-->";
        } else if (m_text.substr(m_at, 9) == "<![CDATA[") {
            if (m_open.empty()) {
                return XmlError{"CDATA outside the root element", start};
            }
            close = "]]>";
        }
        const std::size_t end = m_text.find(close, m_at + 2);
        if (end == std::string_view::npos) {
            return XmlError{"unterminated markup: no '" + std::string(close) + "'", start};
        }
        if (close == ">" && m_text.substr(m_at, end - m_at).find('[') != std::string_view::npos) {
            return XmlError{"a DOCTYPE with an internal subset (not read)", start};
        }
        m_at = end + close.size();
        return std::nullopt;
    }

    std::string_view name() {
        const std::size_t start = m_at;
        while (m_at < m_text.size() && is_name_char(m_text[m_at])) {
            ++m_at;
        }
        return m_text.substr(start, m_at - start);
    }

    bool skip_spaces() {
        const std::size_t start = m_at;
        while (m_at < m_text.size() && is_space(m_text[m_at])) {
            ++m_at;
        }
        return m_at > start;
    }

    std::optional<XmlError> tag() {
        XmlTag tag;
        tag.offset = m_at++;
        const bool close = m_at < m_text.size() && m_text[m_at] == '/';
        m_at += close ? 1 : 0;
        tag.name = name();
        if (tag.name.empty()) {
            return XmlError{"a '<' that starts no tag", tag.offset};
        }
        auto error = close ? close_tag(tag) : attributes(tag);
        if (error) {
            return error;
        }
        if (!close) {
            if (m_open.empty() && m_root_seen) {
                return XmlError{"a second root element <" + std::string(tag.name) + ">",
                                tag.offset};
            }
            m_root_seen = true;
            if (tag.kind == XmlTag::Kind::open) {
                if (m_open.size() >= k_depth_max) {
                    return XmlError{"elements nested deeper than 1000", tag.offset};
                }
                m_open.push_back(tag.name);
            }
        }
        m_stopped = !m_on_tag(tag);
        return std::nullopt;
    }

    std::optional<XmlError> close_tag(XmlTag& tag) {
        tag.kind = XmlTag::Kind::close;
        skip_spaces();
        if (m_at >= m_text.size() || m_text[m_at] != '>') {
            return XmlError{"expected '>' to end </" + std::string(tag.name) + ">", m_at};
        }
        ++m_at;
        if (m_open.empty() || m_open.back() != tag.name) {
            return XmlError{fmt::format("</{}> closes {}", tag.name,
                                        m_open.empty() ? std::string("no element")
                                                       : fmt::format("<{}>", m_open.back())),
                            tag.offset};
        }
        m_open.pop_back();
        return std::nullopt;
    }

    std::optional<XmlError> attributes(XmlTag& tag) {
        const std::string in = " in <" + std::string(tag.name) + ">";
        while (true) {
            const bool spaced = skip_spaces();
            if (m_at >= m_text.size()) {
                return XmlError{"the text ends inside the tag <" + std::string(tag.name) + ">",
                                tag.offset};
            }
            if (m_text[m_at] == '>' || m_text.substr(m_at, 2) == "/>") {
                tag.kind = m_text[m_at] == '>' ? XmlTag::Kind::open : XmlTag::Kind::empty;
                m_at += tag.kind == XmlTag::Kind::open ? 1 : 2;
                return std::nullopt;
            }
            const std::size_t key_at = m_at;
            const std::string_view key = name();
            if (key.empty() || !spaced) {
                return XmlError{
                    "unexpected character '" + std::string(1, m_text[key_at]) + "'" + in, key_at};
            }
            if (auto error = attribute(tag, key, key_at, in)) {
                return error;
            }
        }
    }

    // key="value" or key='value', from just past the key.
    std::optional<XmlError> attribute(XmlTag& tag, std::string_view key, std::size_t key_at,
                                      const std::string& in) {
        const std::string what = "attribute " + std::string(key) + in;
        skip_spaces();
        if (m_at >= m_text.size() || m_text[m_at] != '=') {
            return XmlError{what + " has no '='", key_at};
        }
        ++m_at;
        skip_spaces();
        const char quote = m_at < m_text.size() ? m_text[m_at] : '\0';
        if (quote != '"' && quote != '\'') {
            return XmlError{what + " has an unquoted value", m_at};
        }
        const std::size_t end = m_text.find(quote, m_at + 1);
        if (end == std::string_view::npos) {
            return XmlError{what + " has an unterminated value", m_at};
        }
        const std::string_view raw = m_text.substr(m_at + 1, end - m_at - 1);
        std::string value;
        if (auto error = decode(raw, m_at + 1, what, value)) {
            return error;
        }
        if (tag.attribute(key)) {
            return XmlError{what + " appears twice", key_at};
        }
        tag.attributes.emplace_back(key, std::move(value));
        m_at = end + 1;
        return std::nullopt;
    }

    static std::optional<XmlError> decode(std::string_view raw, std::size_t at,
                                          const std::string& what, std::string& out) {
        for (std::size_t i = 0; i < raw.size(); ++i) {
            if (raw[i] == '<') {
                return XmlError{"a '<' in the value of " + what, at + i};
            }
            if (raw[i] != '&') {
                out += raw[i];
                continue;
            }
            const std::size_t semicolon = raw.find(';', i);
            const std::string_view entity = semicolon == std::string_view::npos
                                                ? std::string_view()
                                                : raw.substr(i + 1, semicolon - i - 1);
            if (entity.empty() || entity.size() > 10 || !append_entity(entity, out)) {
                return XmlError{"an unknown entity or stray '&' in the value of " + what, at + i};
            }
            i = semicolon;
        }
        return std::nullopt;
    }

    std::string_view m_text;
    const XmlHandler& m_on_tag;
    std::size_t m_at = 0;
    std::vector<std::string_view> m_open; // the open elements, outermost first
    bool m_root_seen = false, m_stopped = false;
};

} // namespace

std::optional<XmlError> read_xml(std::string_view text, const XmlHandler& on_tag) {
    return Reader(text, on_tag).run();
}

} // namespace abtool::runners::parsers
