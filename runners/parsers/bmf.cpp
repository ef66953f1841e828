// Bencher Metric Format (https://bencher.dev/docs/reference/bencher-metric-format):
// {"<benchmark>": {"<measure>": {"value": N, "lower_value": N?, "upper_value": N?}}}. Each
// (benchmark, measure) is one sample of metric <measure>: BMF carries one value per measure and
// run. lower_value and upper_value are not measurements but the bounds the harness put around
// `value` (an interval, e.g. criterion's); abtool's intervals come from its own rounds, so they
// are left out rather than passed off as two more samples.
//
// The document is one object whose keys are the benchmarks, not an array of rows, so it is read
// whole (read_rows streams arrays); BMF is a few lines per benchmark, written by an adapter.
#include "runners/parsers/json_text.hpp"
#include "runners/parsers/parsers.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <iterator>
#include <optional>
#include <string_view>
#include <utility>

namespace abtool::runners::parsers {

namespace {

struct Measure {
    std::string_view slug;
    std::string_view unit;
    Direction direction;
};

// Bencher's built-in measures and their units: latency in nanoseconds (ns) and throughput in
// operations / second (ops/s), from its harness adapters
// (https://bencher.dev/docs/explanation/adapters); build-time in seconds and file-size in bytes
// (https://bencher.dev/docs/how-to/track-build-time, .../track-file-size); the Iai and
// Iai-Callgrind adapters' counts. Any other measure is the user's: no unit, lower is better
// unless `directions` in the config says otherwise.
constexpr std::array<Measure, 9> k_measures{{
    {"latency", "ns", Direction::lower},
    {"throughput", "ops/s", Direction::higher},
    {"build-time", "s", Direction::lower},
    {"file-size", "B", Direction::lower},
    {"instructions", "count", Direction::lower},
    {"cycles", "count", Direction::lower},
    {"l1-accesses", "count", Direction::lower},
    {"l2-accesses", "count", Direction::lower},
    {"ram-accesses", "count", Direction::lower},
}};

Sample sample_of(const std::string& benchmark, const std::string& measure, double value) {
    for (const Measure& known : k_measures) {
        if (known.slug == measure) {
            return {benchmark, measure, value, std::string(known.unit), known.direction, Gate::no};
        }
    }
    return {benchmark, measure, value, "", Direction::lower, Gate::no};
}

ParseError shape_error(const std::string& message, const std::string& field) {
    return ParseError{"not Bencher Metric Format JSON: " + message, std::nullopt, field};
}

std::optional<ParseError> add_benchmark(const std::string& name, const nlohmann::json& measures,
                                        Parsed& parsed) {
    if (!measures.is_object()) {
        return shape_error("a benchmark is not an object of measures", name);
    }
    for (const auto& [measure, metric] : measures.items()) {
        const std::string field = name + "." + measure;
        if (!metric.is_object()) {
            return shape_error("a measure is not an object", field);
        }
        const auto value = metric.find("value");
        if (value == metric.end() || !(value->is_number() || value->is_null())) {
            return shape_error("a measure needs a numeric \"value\"", field + ".value");
        }
        if (value->is_number()) { // null: a NaN or infinity the filter turned into none
            parsed.samples.push_back(sample_of(name, measure, value->get<double>()));
        }
    }
    return std::nullopt;
}

} // namespace

ParseResult parse_bmf(std::istream& in) {
    NonFiniteFilter filter(*in.rdbuf());
    const std::string text{std::istreambuf_iterator<char>(&filter),
                           std::istreambuf_iterator<char>()};
    auto document = parse_json_text(text);
    if (auto* error = std::get_if<JsonTextError>(&document)) {
        return ParseError{"not Bencher Metric Format JSON: " + error->message,
                          filter.original_offset(error->offset), std::move(error->field)};
    }
    const nlohmann::json& root = std::get<nlohmann::json>(document);
    if (!root.is_object()) {
        return shape_error("the document is not an object of benchmarks", "");
    }
    Parsed parsed;
    for (const auto& [name, measures] : root.items()) {
        if (auto error = add_benchmark(name, measures, parsed)) {
            return *error;
        }
    }
    return parsed;
}

ParseResult parse_bmf(std::string_view text) {
    ViewStream in(text);
    return parse_bmf(in);
}

} // namespace abtool::runners::parsers
