// Catch2's benchmark results, as its XML reporter (`-r xml`, v2's <Catch> or v3's <Catch2TestRun>)
// or its console reporter (the default) prints them; which one is sniffed from the first bytes.
//
// Neither form carries Catch2's per-sample times: both print only each benchmark's analysis of
// its samples (mean and standard deviation, each with bootstrap bounds). So a run contributes
// one "mean" sample per benchmark, a summary standing in for the samples the way a Google
// Benchmark aggregate does, and abtool's rounds supply the repetitions. "std_dev" is recorded
// beside it, informational.
//
// Cases are named "<TEST_CASE name>/<BENCHMARK name>": Catch2 only asks a benchmark's name to be
// unique within its test case, and two test cases each with a "fib 20" are common, so the
// benchmark's name alone could merge two benchmarks into one case. Sections are not part of the
// name (both reporters say which test case a benchmark is in; only the XML says which section).
#include "runners/parsers/json_text.hpp"
#include "runners/parsers/parsers.hpp"
#include "runners/parsers/xml_text.hpp"

#include <cmath>
#include <optional>
#include <string>
#include <vector>

namespace abtool::runners::parsers {

namespace {

std::string case_name(const std::string& test_case, const std::string& benchmark) {
    return test_case.empty() ? benchmark : test_case + "/" + benchmark;
}

// A summary's sample, or none when Catch2 printed NaN or infinity (no time to compare).
void add_sample(Parsed& parsed, const std::string& name, const char* metric, double ns) {
    if (std::isfinite(ns)) {
        parsed.samples.push_back({name, metric, ns, "ns", Direction::lower, Gate::no});
    }
}

// ---- XML ---------------------------------------------------------------------------------

struct XmlState {
    Parsed parsed;
    std::optional<ParseError> failed;
    bool root_seen = false;
    std::string test_case, benchmark;
    bool in_benchmark = false;
    std::size_t test_case_errors = 0; // errors reported for the current test case
};

std::string attribute_or(const XmlTag& tag, std::string_view key, std::string_view fallback) {
    return std::string(tag.attribute(key).value_or(fallback));
}

// <mean value=.../> or <standardDeviation value=.../> of the benchmark being read.
bool on_summary(const XmlTag& tag, const char* metric, XmlState& state) {
    const std::string name = case_name(state.test_case, state.benchmark);
    const std::string field =
        "BenchmarkResults[name=" + state.benchmark + "]." + std::string(tag.name) + ".value";
    const std::optional<std::string_view> text = tag.attribute("value");
    if (!text) {
        state.failed = ParseError{"not Catch2 XML: <" + std::string(tag.name) +
                                      "> of benchmark \"" + name + "\" has no value",
                                  tag.offset, field};
        return false;
    }
    const std::optional<double> ns = to_double(*text);
    if (!ns) {
        state.failed = ParseError{"not Catch2 XML: value \"" + std::string(*text) + "\" of <" +
                                      std::string(tag.name) + "> is not a number",
                                  tag.offset, field};
        return false;
    }
    add_sample(state.parsed, name, metric, *ns);
    return true;
}

// What Catch2 reports as failed: an assertion, an exception, a benchmark that threw.
void on_failure(const XmlTag& tag, XmlState& state) {
    const std::string where =
        attribute_or(tag, "filename", "?") + ":" + attribute_or(tag, "line", "?");
    std::string what;
    if (tag.name == "Expression") {
        if (tag.attribute("success") != "false") {
            return;
        }
        what = attribute_or(tag, "type", "assertion") + " failed at " + where;
    } else if (tag.name == "failed") {
        what = "benchmark \"" + state.benchmark +
               "\" failed: " + attribute_or(tag, "message", "no message");
    } else {
        what = std::string(tag.name) + " at " + where; // Exception, FatalErrorCondition, Failure
    }
    state.parsed.errors.push_back(state.test_case + ": " + what);
    ++state.test_case_errors;
}

bool on_xml_tag(const XmlTag& tag, XmlState& state) {
    const bool opens = tag.kind != XmlTag::Kind::close;
    if (!state.root_seen) {
        state.root_seen = true;
        if (tag.name != "Catch" && tag.name != "Catch2TestRun") {
            state.failed =
                ParseError{"not Catch2 XML: the root element is <" + std::string(tag.name) +
                               ">, not <Catch> or <Catch2TestRun>",
                           tag.offset, std::string(tag.name)};
            return false;
        }
        return true;
    }
    if (tag.name == "TestCase") {
        state.test_case = opens ? attribute_or(tag, "name", "") : "";
        state.test_case_errors = 0;
    } else if (tag.name == "BenchmarkResults") {
        state.in_benchmark = tag.kind == XmlTag::Kind::open;
        state.benchmark = opens ? attribute_or(tag, "name", "") : "";
    } else if (opens && state.in_benchmark && tag.name == "mean") {
        return on_summary(tag, "mean", state);
    } else if (opens && state.in_benchmark && tag.name == "standardDeviation") {
        return on_summary(tag, "std_dev", state);
    } else if (opens && (tag.name == "Expression" || tag.name == "Exception" ||
                         tag.name == "FatalErrorCondition" || tag.name == "Failure" ||
                         (tag.name == "failed" && state.in_benchmark))) {
        on_failure(tag, state);
    } else if (opens && tag.name == "OverallResult" && tag.attribute("success") == "false" &&
               state.test_case_errors == 0) {
        state.parsed.errors.push_back(state.test_case + ": failed");
    }
    return true;
}

ParseResult parse_xml(std::string_view text) {
    XmlState state;
    const XmlHandler on_tag = [&](const XmlTag& tag) {
        return on_xml_tag(tag, state);
    };
    if (const auto error = read_xml(text, on_tag)) {
        return ParseError{"not Catch2 XML: " + error->message, error->offset, {}};
    }
    if (state.failed) {
        return *state.failed;
    }
    return state.parsed;
}

// ---- console -----------------------------------------------------------------------------

std::vector<std::string_view> split_words(std::string_view line) {
    std::vector<std::string_view> words;
    std::size_t at = 0;
    while ((at = line.find_first_not_of(" \t\r", at)) != std::string_view::npos) {
        const std::size_t end = line.find_first_of(" \t\r", at);
        words.push_back(line.substr(at, end == std::string_view::npos ? end : end - at));
        at = end;
    }
    return words;
}

// Catch2's Duration units (catch.hpp, class Duration; v3 may print "µs"); 0 for anything else.
double ns_per(std::string_view unit) {
    return unit == "ns"                          ? 1
           : unit == "us" || unit == "\xC2\xB5s" ? 1e3
           : unit == "ms"                        ? 1e6
           : unit == "s"                         ? 1e9
           : unit == "m"                         ? 60e9
                                                 : 0;
}

bool is_count(std::string_view word) {
    return !word.empty() && word.find_first_not_of("0123456789") == std::string_view::npos;
}

// `count` durations ("176.57 ns ...") from word `from` on, in ns; nullopt when they are not.
std::optional<std::vector<double>> durations(const std::vector<std::string_view>& words,
                                             std::size_t from, std::size_t count) {
    if (words.size() != from + 2 * count) {
        return std::nullopt;
    }
    std::vector<double> values;
    for (std::size_t i = from; i < words.size(); i += 2) {
        const std::optional<double> value = to_double(words[i]);
        const double scale = ns_per(words[i + 1]);
        if (!value || scale == 0) {
            return std::nullopt;
        }
        values.push_back(*value * scale);
    }
    return values;
}

bool is_rule(std::string_view line, char c) {
    while (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
    }
    return line.size() >= 20 && line.find_first_not_of(c) == std::string_view::npos;
}

std::string trimmed(std::string_view text) {
    const std::size_t begin = text.find_first_not_of(" \t\r");
    if (begin == std::string_view::npos) {
        return {};
    }
    return std::string(text.substr(begin, text.find_last_not_of(" \t\r") - begin + 1));
}

// The console reporter's layout (catch.hpp, ConsoleReporter): a test case's header is its name
// between two rules of '-', then its file:line and a rule of '.'; a benchmark table has a header
// ("benchmark name ...") closed by a rule of '-', then per benchmark a row of name, samples,
// iterations and estimated time, a row of mean, low mean and high mean, and one of std dev, low
// and high; a name longer than its column is wrapped onto rows of its own before those (joined
// here with a space). With --benchmark-no-analysis the first row ends in the mean instead.
class ConsoleReader {
public:
    std::optional<ParseError> line(std::string_view line, std::size_t number, std::size_t offset);
    Parsed& parsed() { return m_parsed; }

private:
    enum class State { outside, header, table_header, table };
    enum class Row { first, mean, std_dev };

    std::optional<ParseError> table_row(std::string_view line, std::size_t number,
                                        std::size_t offset);
    ParseError row_error(const std::string& what, std::size_t number, std::size_t offset) const;

    Parsed m_parsed;
    State m_state = State::outside;
    bool m_header_named = false, m_analysis = true;
    Row m_row = Row::first;
    std::string m_test_case, m_name;
};

std::optional<ParseError> ConsoleReader::line(std::string_view line, std::size_t number,
                                              std::size_t offset) {
    const std::string text = trimmed(line);
    if (is_rule(line, '-')) {
        m_state = m_state == State::header         ? State::outside
                  : m_state == State::table_header ? State::table
                                                   : State::header;
        m_header_named = false;
        m_row = Row::first;
        m_name.clear();
    } else if (text.ends_with(": FAILED:") ||
               text.find("Benchmark failed (") != std::string::npos) {
        const std::size_t at = text.find("Benchmark failed (");
        m_parsed.errors.push_back(m_test_case + ": " +
                                  (at == std::string::npos ? text : text.substr(at)));
        // The failure's expression and expansion follow: no table rows until the next header.
        m_state = at == std::string::npos ? State::outside : m_state;
        m_row = Row::first;
        m_name.clear();
    } else if (is_rule(line, '=')) {
        m_state = State::outside; // the totals
    } else if (m_state == State::header && !m_header_named) {
        m_test_case = text; // its sections follow, indented; not part of the case name
        m_header_named = true;
    } else if (text.starts_with("benchmark name")) {
        m_state = State::table_header;
        // --benchmark-no-analysis: one row, its last column the mean.
        m_analysis =
            text.find("estimated") != std::string::npos || text.find("mean") == std::string::npos;
    } else if (m_state == State::table && !text.empty()) {
        return table_row(line, number, offset);
    }
    return std::nullopt;
}

ParseError ConsoleReader::row_error(const std::string& what, std::size_t number,
                                    std::size_t offset) const {
    return ParseError{"not Catch2 console output: line " + std::to_string(number) + ": " + what +
                          " of benchmark \"" + case_name(m_test_case, m_name) + "\"",
                      offset, "line " + std::to_string(number)};
}

std::optional<ParseError> ConsoleReader::table_row(std::string_view line, std::size_t number,
                                                   std::size_t offset) {
    const std::vector<std::string_view> words = split_words(line);
    if (m_row == Row::first) {
        const std::size_t n = words.size();
        if (n < 4 || !is_count(words[n - 4]) || !is_count(words[n - 3]) ||
            !durations(words, n - 2, 1)) {
            // A wrapped name's first part, alone on its row.
            // Appended piecewise: GCC 12 at -O3 misreads `" " + std::string` (-Wrestrict).
            m_name += m_name.empty() ? "" : " ";
            m_name += trimmed(line);
            return std::nullopt;
        }
        const std::size_t name_end = static_cast<std::size_t>(words[n - 4].data() - line.data());
        const std::string last = trimmed(line.substr(0, name_end));
        m_name += m_name.empty() || last.empty() ? "" : " ";
        m_name += last;
        if (!m_analysis) {
            add_sample(m_parsed, case_name(m_test_case, m_name), "mean",
                       (*durations(words, n - 2, 1))[0]);
            m_name.clear();
            return std::nullopt;
        }
        m_row = Row::mean;
        return std::nullopt;
    }
    const std::optional<std::vector<double>> values = durations(words, 0, 3);
    const bool mean = m_row == Row::mean;
    if (!values) {
        return row_error(std::string("expected three durations (") +
                             (mean ? "mean, low mean, high mean" : "std dev, low, high") +
                             ", each a number and a unit: ns, us, ms, s or m)",
                         number, offset);
    }
    add_sample(m_parsed, case_name(m_test_case, m_name), mean ? "mean" : "std_dev", (*values)[0]);
    m_row = mean ? Row::std_dev : Row::first;
    if (!mean) {
        m_name.clear();
    }
    return std::nullopt;
}

ParseResult parse_console(std::string_view text) {
    ConsoleReader reader;
    std::size_t at = 0, number = 1;
    while (at < text.size()) {
        const std::size_t end = std::min(text.find('\n', at), text.size());
        if (auto error = reader.line(text.substr(at, end - at), number, at)) {
            return *error;
        }
        at = end + 1;
        ++number;
    }
    return std::move(reader.parsed());
}

} // namespace

ParseResult parse_catch2(std::istream& in) {
    std::string text;
    if (!read_whole(in, k_document_max, text)) {
        return ParseError{"Catch2 output longer than 64 MiB", k_document_max, {}};
    }
    const std::size_t first = text.find_first_not_of(" \t\r\n");
    const std::string_view start =
        first == std::string::npos ? std::string_view() : std::string_view(text).substr(first);
    // The XML reporter starts with its declaration, or with the root element when a program
    // strips it; anything else is the console reporter.
    if (start.starts_with("<?xml") || start.starts_with("<Catch") ||
        start.starts_with("\xEF\xBB\xBF<")) {
        return parse_xml(text);
    }
    return parse_console(text);
}

ParseResult parse_catch2(std::string_view text) {
    ViewStream in(text);
    return parse_catch2(in);
}

} // namespace abtool::runners::parsers
