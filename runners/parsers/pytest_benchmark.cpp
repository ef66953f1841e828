// pytest-benchmark's JSON (--benchmark-json=FILE, or a --benchmark-save file): benchmarks[] with
// name, fullname, group and stats {min, max, mean, stddev, median, iqr, ops, rounds, iterations,
// data}. stats.data holds each round's time per iteration, in seconds: pytest-benchmark 3.2 and
// later write it into every --benchmark-json file, and into --benchmark-save files only with
// --benchmark-save-data (session.py: include_data=True for json, self.save_data for save).
//
// A sample is one measurement: each round of `data` is a "time" sample. A file without `data`
// contributes its median as the one "time" sample, a summary standing in as a Google Benchmark
// aggregate does for aggregates-only output. "ops" (1/mean, higher is better) is recorded once
// per benchmark, informational. The case is `fullname` (test_x.py::TestGroup::test_small[param]),
// which is unique where `name` is not (the same test name in two classes or files).
#include "runners/parsers/json_text.hpp"
#include "runners/parsers/parsers.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <utility>

namespace abtool::runners::parsers {

namespace {

std::optional<ParseError> add_benchmark(const nlohmann::json& row, std::size_t at, Parsed& parsed) {
    const std::string field = "benchmarks[" + std::to_string(at) + "]";
    if (!row.is_object()) {
        return ParseError{"not pytest-benchmark JSON: a benchmark is not an object", std::nullopt,
                          field};
    }
    const std::string name = row.value("fullname", row.value("name", std::string()));
    const auto stats = row.find("stats");
    if (stats == row.end() || !stats->is_object()) {
        return ParseError{"not pytest-benchmark JSON: a benchmark without \"stats\"", std::nullopt,
                          field + ".stats"};
    }
    const auto time = [&](double seconds) {
        parsed.samples.push_back({name, "time", seconds * 1e9, "ns", Direction::lower, Gate::no});
    };
    if (const auto data = stats->find("data"); data != stats->end() && data->is_array()) {
        for (const nlohmann::json& seconds : *data) {
            if (seconds.is_number()) {
                time(seconds.get<double>());
            }
        }
    } else if (const auto median = stats->find("median");
               median != stats->end() && median->is_number()) {
        time(median->get<double>());
    }
    if (const auto ops = stats->find("ops"); ops != stats->end() && ops->is_number()) {
        parsed.samples.push_back(
            {name, "ops", ops->get<double>(), "ops/s", Direction::higher, Gate::no});
    }
    return std::nullopt;
}

} // namespace

ParseResult parse_pytest_benchmark(std::istream& in) {
    // Python's json module writes NaN and Infinity bare (a stddev of one round, an ops of a zero
    // mean): no sample, as in Google Benchmark's output.
    NonFiniteFilter filter(*in.rdbuf());
    std::istream filtered(&filter);
    Parsed parsed;
    std::optional<ParseError> failed;
    const RowHandler on_row = [&](const nlohmann::json& row, std::size_t at) {
        try {
            failed = add_benchmark(row, at, parsed);
        } catch (const nlohmann::json::exception& error) {
            failed = ParseError{std::string("not pytest-benchmark JSON: ") + error.what(),
                                std::nullopt, "benchmarks[" + std::to_string(at) + "]"};
        }
        return !failed;
    };
    const auto read = read_rows(filtered, "benchmarks", on_row);
    if (const auto* error = std::get_if<JsonTextError>(&read)) {
        return ParseError{"not pytest-benchmark JSON: " + error->message,
                          filter.original_offset(error->offset), error->field};
    }
    if (failed) {
        return *failed;
    }
    if (!std::get<RowsRead>(read).found) {
        return ParseError{"not pytest-benchmark JSON: no \"benchmarks\" array", std::nullopt,
                          "benchmarks"};
    }
    return parsed;
}

ParseResult parse_pytest_benchmark(std::string_view text) {
    ViewStream in(text);
    return parse_pytest_benchmark(in);
}

} // namespace abtool::runners::parsers
