// Reading the XML that test frameworks print (Catch2's `-r xml`): the elements of a document,
// each with its attributes and the byte it starts at, handed over in document order. There is no
// XML library in abtool's stack and the reporters write a small subset, so this reads only that:
// elements and attributes, the five predefined entities and numeric character references;
// comments, CDATA, processing instructions, DOCTYPE and text are skipped (a test's captured
// output is text, never read). No namespaces, no DTD, no external anything. Whole-document: the
// caller holds the text and caps its size.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace abtool::runners::parsers {

struct XmlTag {
    enum class Kind { open, close, empty }; // <a ...>, </a>, <a .../>
    Kind kind = Kind::open;
    std::string_view name;
    std::vector<std::pair<std::string_view, std::string>> attributes; // values decoded
    std::size_t offset = 0;                                           // the byte of its '<'

    // The decoded value of attribute `key`, or nullopt.
    std::optional<std::string_view> attribute(std::string_view key) const;
};

struct XmlError {
    std::string message;
    std::size_t offset = 0; // 0-based byte offset into the text
};

// Called with each tag in document order; false stops the reading (the caller keeps its reason).
using XmlHandler = std::function<bool(const XmlTag& tag)>;

// Reads `text` as one XML document, handing each tag to `on_tag`: an error names the byte where
// the text stops being well-formed XML of this subset (an unclosed tag, a close tag that does not
// match, an unknown entity, a second root, text that ends inside an element).
std::optional<XmlError> read_xml(std::string_view text, const XmlHandler& on_tag);

} // namespace abtool::runners::parsers
