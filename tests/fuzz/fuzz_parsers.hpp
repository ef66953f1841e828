// The hotpath readers' fuzz body: they document no exception at all (every failure is a returned
// ParseError), and a ParseError's byte offset must point into the text it names.
#pragma once

#include "runners/parsers/parsers.hpp"
#include "tests/fuzz/fuzz_support.hpp"

#include <variant>

namespace abtool::fuzz {

template <typename Parse>
void fuzz_parser(Parse&& parse, std::string_view text) {
    try {
        const runners::parsers::ParseResult result = parse(text);
        if (const auto* error = std::get_if<runners::parsers::ParseError>(&result)) {
            if (error->offset && *error->offset > text.size()) {
                std::fprintf(stderr, "fuzz: offset %zu past the end of %zu bytes\n", *error->offset,
                             text.size());
                std::abort();
            }
        }
    } catch (const std::exception& error) {
        escaped(error.what());
    } catch (...) {
        escaped("not a std::exception");
    }
}

} // namespace abtool::fuzz
