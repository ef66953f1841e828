// Reading the JSON that hotpath programs print, as a stream: a program's output may be hundreds of
// megabytes (issue 18), so the readers never hold all of it. read_rows hands over one element of
// the document's array of rows at a time and skips everything else without building it; every way
// a text can fail to be JSON becomes one error that says where. A syntax error carries its byte; a
// number outside a double's range, such as 1e999, which nlohmann's DOM parse throws with no
// position at all (it used to escape the readers as an internal error), carries its byte and its
// field.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstddef>
#include <functional>
#include <istream>
#include <optional>
#include <streambuf>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace abtool::runners::parsers {

struct JsonTextError {
    std::string message;
    std::size_t offset = 0; // 0-based byte offset into the text
    std::string field;      // the value's path, e.g. "benchmarks[0].real_time"; set for 1e999
};

// Called with each row as it completes, and its index in the array; false stops the reading (the
// caller keeps its own reason).
using RowHandler = std::function<bool(nlohmann::json& row, std::size_t index)>;

struct RowsRead {
    bool found = false; // the document is an object with an array at `key`
};

// Reads one JSON document from `in`, handing each element of the array at the top-level `key`
// to `on_row` (a DOM of that element alone). Memory is one row and the path to it, whatever the
// document's size.
std::variant<RowsRead, JsonTextError> read_rows(std::istream& in, std::string_view key,
                                                const RowHandler& on_row);

// The same for a document that is itself the array of rows (JMH's -rf json): `found` says the
// document is an array.
std::variant<RowsRead, JsonTextError> read_array_rows(std::istream& in, const RowHandler& on_row);

// One whole document, as a DOM (a JSON line).
std::variant<nlohmann::json, JsonTextError> parse_json_text(std::string_view text);

// Google Benchmark writes bare NaN, Infinity and -Infinity (and nan, inf, their negatives), which
// JSON has no words for: this filter, over the program's output, turns each outside of strings
// into null (and so no sample), as the text streams through. "null" is one byte longer than a
// 3-letter word: original_offset maps an offset into the filtered text back to the original's.
class NonFiniteFilter final : public std::streambuf {
public:
    explicit NonFiniteFilter(std::streambuf& source);
    // For offsets the reader has reached (an error's): growths further back than the previous
    // chunk are only counted, so memory stays bounded.
    std::size_t original_offset(std::size_t offset) const;

    // The size of the chunks the filter reads (tests put words across their boundary).
    static constexpr std::size_t k_chunk = 65536;

protected:
    int_type underflow() override;

private:
    bool refill(); // more of the source read in; false at its end with nothing left
    void filter(); // what is read in, filtered into m_out (a possible word's start left)

    std::streambuf& m_source;
    std::array<char, k_chunk> m_in{};
    std::size_t m_in_begin = 0, m_in_end = 0;
    bool m_source_done = false;
    bool m_in_string = false, m_escaped = false;
    std::string m_out;          // the chunk the reader is in
    std::size_t m_produced = 0; // filtered bytes before m_out
    // Filtered offsets just past each one-byte growth, in this chunk and the previous one; the
    // number of those before.
    std::vector<std::size_t> m_grown, m_grown_before;
    std::size_t m_grown_earlier = 0;
};

// The whole of `in` into `out`, for the readers of formats that are small documents (Catch2's
// XML and console text, criterion's files): false, with `out` holding the first `max` bytes, when
// there is more than that.
bool read_whole(std::istream& in, std::size_t max, std::string& out);

// `text` as a double when all of it is one (from_chars: "nan" and "inf" included), else nullopt.
std::optional<double> to_double(std::string_view text);

// A text in memory as a std::istream, without a copy (the readers' string_view entry points).
class ViewStream : private std::streambuf, public std::istream {
public:
    explicit ViewStream(std::string_view text);
};

} // namespace abtool::runners::parsers
