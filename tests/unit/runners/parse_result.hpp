// A reader's result in a test: the samples it parsed (a parse error is a test failure, naming
// where and why), or the error it was expected to give (a successful parse is the failure).
#pragma once

#include "runners/parsers/parsers.hpp"

#include <gtest/gtest.h>

#include <variant>

namespace abtool::runners::parsers {

inline Parsed parsed(const ParseResult& result) {
    if (const auto* error = std::get_if<ParseError>(&result)) {
        ADD_FAILURE() << "parse error at " << error->offset.value_or(0) << " " << error->field
                      << ": " << error->message;
        return {};
    }
    return std::get<Parsed>(result);
}

inline ParseError error_of(const ParseResult& result) {
    if (const auto* error = std::get_if<ParseError>(&result)) {
        return *error;
    }
    ADD_FAILURE() << "parsed, where an error was expected";
    return {};
}

} // namespace abtool::runners::parsers
