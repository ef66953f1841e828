// JMH's JSON result file (-rf json -rff FILE): an array with one result per benchmark, mode and
// parameter combination. Each measurement iteration of each fork is one sample of "score" (the
// primary metric), times per operation in ns and throughputs in ops/s, so that a change of
// @OutputTimeUnit between two refs compares like with like; secondary metrics (profilers,
// @AuxCounters, the methods of a @Group) are informational samples under the names JMH gives them.
#include "runners/parsers/json_text.hpp"
#include "runners/parsers/parsers.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <map>
#include <optional>
#include <utility>

namespace abtool::runners::parsers {

namespace {

// What a JMH score unit becomes: "ns/op" style time per operation, or "ops/s" style throughput.
struct UnitScale {
    double factor = 1;
    const char* unit = "";
    Direction direction = Direction::lower;
};

// The abbreviations of JMH's TimeValue/TimeUnit, in ns; 0 for anything else.
double nanoseconds_per(std::string_view unit) {
    static const std::map<std::string_view, double> k_units{
        {"ns", 1},         {"us", 1e3},        {"ms", 1e6},         {"s", 1e9},
        {"min", 60 * 1e9}, {"hr", 3600 * 1e9}, {"day", 86400 * 1e9}};
    const auto it = k_units.find(unit);
    return it == k_units.end() ? 0 : it->second;
}

// "ms/op" (avgt, sample, ss) or "ops/ms" (thrpt); nullopt for any other unit.
std::optional<UnitScale> time_unit_scale(std::string_view unit) {
    const std::size_t slash = unit.find('/');
    if (slash == std::string_view::npos) {
        return std::nullopt;
    }
    const std::string_view left = unit.substr(0, slash), right = unit.substr(slash + 1);
    if (right == "op" && nanoseconds_per(left) != 0) {
        return UnitScale{nanoseconds_per(left), "ns", Direction::lower};
    }
    if (left == "ops" && nanoseconds_per(right) != 0) {
        return UnitScale{1e9 / nanoseconds_per(right), "ops/s", Direction::higher};
    }
    return std::nullopt;
}

// A wrong field, named from the result it is in: "[2].primaryMetric.scoreUnit".
struct Bad {
    std::string field;
    std::string message;
};

std::string case_name(const nlohmann::json& result, const std::string& at) {
    const auto benchmark = result.find("benchmark");
    if (benchmark == result.end() || !benchmark->is_string() || benchmark->empty()) {
        throw Bad{at + ".benchmark", "no benchmark name"};
    }
    // JMH's own -p syntax, keys in sorted order (nlohmann keeps objects sorted), in parentheses:
    // "org.foo.Bench.method(size=100,type=array)". Stable whatever order the file lists them in,
    // and it reads like the call it measures.
    std::string name = benchmark->get<std::string>();
    const auto params = result.find("params");
    if (params == result.end() || params->is_null()) {
        return name;
    }
    if (!params->is_object()) {
        throw Bad{at + ".params", "params is not an object"};
    }
    std::string list;
    for (const auto& [key, value] : params->items()) {
        list += (list.empty() ? "" : ",") + key + "=" +
                (value.is_string() ? value.get<std::string>() : value.dump());
    }
    return list.empty() ? name : name + "(" + list + ")";
}

// A raw value: a finite number. JMH writes "NaN", "+INF" and "-INF" as strings; nullopt for those.
std::optional<double> raw_value(const nlohmann::json& value, const std::string& field) {
    if (value.is_number()) {
        const double v = value.get<double>();
        if (std::isfinite(v)) {
            return v;
        }
    } else if (!value.is_string() && !value.is_null()) {
        throw Bad{field, "not a number: " + value.dump()};
    } else if (value.is_string() && value != "NaN" && value != "+INF" && value != "-INF") {
        throw Bad{field, "not a number: " + value.dump()};
    }
    return std::nullopt;
}

const nlohmann::json& array_at(const nlohmann::json& parent, const char* key,
                               const std::string& field) {
    const auto it = parent.find(key);
    if (it == parent.end()) {
        throw Bad{field, std::string("no \"") + key + "\""};
    }
    if (!it->is_array()) {
        throw Bad{field, std::string("\"") + key + "\" is not an array"};
    }
    return *it;
}

// Which non-finite raw values a metric gives: the primary metric's are refused (a measurement
// that failed would silently shorten the series); a profiler's are skipped (they report NaN for
// an iteration in which they measured nothing).
enum class NonFinite { refused, skipped };

// rawData: [fork][iteration] values, one sample each.
std::size_t add_raw_data(const nlohmann::json& metric, const std::string& field,
                         const Sample& model, double factor, NonFinite non_finite, Parsed& parsed) {
    const nlohmann::json& forks = array_at(metric, "rawData", field + ".rawData");
    std::size_t added = 0;
    for (std::size_t f = 0; f < forks.size(); ++f) {
        const std::string fork_field = field + ".rawData[" + std::to_string(f) + "]";
        if (!forks[f].is_array()) {
            throw Bad{fork_field, "a fork's iterations are not an array"};
        }
        for (std::size_t i = 0; i < forks[f].size(); ++i) {
            const std::string value_field = fork_field + "[" + std::to_string(i) + "]";
            const std::optional<double> value = raw_value(forks[f][i], value_field);
            if (!value) {
                if (non_finite == NonFinite::refused) {
                    throw Bad{value_field, "not a finite number: " + forks[f][i].dump()};
                }
                continue;
            }
            Sample sample = model;
            sample.value = *value * factor;
            parsed.samples.push_back(std::move(sample));
            ++added;
        }
    }
    return added;
}

// Mode "sample" keeps a histogram per iteration instead, rawDataHistogram: [fork][iteration]
// [[value, count], ...]. Each iteration gives one sample, the mean of its histogram, as the other
// modes give one per iteration (JMH's score is the mean of all of them); expanding the counts
// would make hundreds of thousands of samples of one run. JMH reports the percentiles as
// secondary metrics ("method·p0.99"), one value per iteration, read like any other.
std::size_t add_histograms(const nlohmann::json& metric, const std::string& field,
                           const Sample& model, double factor, Parsed& parsed) {
    const nlohmann::json& forks = array_at(metric, "rawDataHistogram", field + ".rawDataHistogram");
    std::size_t added = 0;
    for (std::size_t f = 0; f < forks.size(); ++f) {
        const std::string fork_field = field + ".rawDataHistogram[" + std::to_string(f) + "]";
        if (!forks[f].is_array()) {
            throw Bad{fork_field, "a fork's iterations are not an array"};
        }
        for (std::size_t i = 0; i < forks[f].size(); ++i) {
            const std::string iteration_field = fork_field + "[" + std::to_string(i) + "]";
            const nlohmann::json& bins = forks[f][i];
            double sum = 0, count = 0;
            for (std::size_t b = 0; bins.is_array() && b < bins.size(); ++b) {
                const nlohmann::json& bin = bins[b];
                const std::string bin_field = iteration_field + "[" + std::to_string(b) + "]";
                if (!bin.is_array() || bin.size() != 2 || !bin[0].is_number() ||
                    !bin[1].is_number() || !std::isfinite(bin[0].get<double>()) ||
                    bin[1].get<double>() < 0) {
                    throw Bad{bin_field, "not a [value, count] pair: " + bin.dump()};
                }
                sum += bin[0].get<double>() * bin[1].get<double>();
                count += bin[1].get<double>();
            }
            if (!bins.is_array() || count == 0 || !std::isfinite(sum)) {
                throw Bad{iteration_field, "an iteration's histogram is empty or not an array"};
            }
            Sample sample = model;
            sample.value = sum / count * factor;
            parsed.samples.push_back(std::move(sample));
            ++added;
        }
    }
    return added;
}

std::string score_unit(const nlohmann::json& metric, const std::string& field) {
    const auto unit = metric.find("scoreUnit");
    if (unit == metric.end() || !unit->is_string()) {
        throw Bad{field + ".scoreUnit", "no scoreUnit string"};
    }
    return unit->get<std::string>();
}

void add_primary(const nlohmann::json& result, const std::string& name, const std::string& mode,
                 const std::string& at, Parsed& parsed) {
    const std::string field = at + ".primaryMetric";
    const auto metric = result.find("primaryMetric");
    if (metric == result.end() || !metric->is_object()) {
        throw Bad{field, "no primaryMetric object"};
    }
    const std::string unit = score_unit(*metric, field);
    const std::optional<UnitScale> scale = time_unit_scale(unit);
    if (!scale) {
        throw Bad{field + ".scoreUnit", "unknown scoreUnit \"" + unit +
                                            "\" (expected a time per op such as ns/op, or ops "
                                            "per time such as ops/s)"};
    }
    const Sample model{name, "score", 0, scale->unit, scale->direction, Gate::no};
    const std::size_t added =
        mode == "sample"
            ? add_histograms(*metric, field, model, scale->factor, parsed)
            : add_raw_data(*metric, field, model, scale->factor, NonFinite::refused, parsed);
    if (added == 0) {
        throw Bad{field + (mode == "sample" ? ".rawDataHistogram" : ".rawData"),
                  "no measurement iterations"};
    }
}

void add_secondaries(const nlohmann::json& result, const std::string& name, const std::string& at,
                     Parsed& parsed) {
    const auto secondaries = result.find("secondaryMetrics");
    if (secondaries == result.end() || secondaries->is_null()) {
        return;
    }
    if (!secondaries->is_object()) {
        throw Bad{at + ".secondaryMetrics", "secondaryMetrics is not an object"};
    }
    for (const auto& [metric_name, metric] : secondaries->items()) {
        const std::string field = at + ".secondaryMetrics." + metric_name;
        if (!metric.is_object()) {
            throw Bad{field, "a secondary metric is not an object"};
        }
        // Times and throughputs are normalised as the score is; any other unit (the GC
        // profiler's B/op, MB/sec of allocation, counts, ms of GC time) is kept as JMH gives it
        // and recorded lower-is-better: more allocation, collections or pauses is worse.
        const std::string unit = score_unit(metric, field);
        const UnitScale scale =
            time_unit_scale(unit).value_or(UnitScale{1, nullptr, Direction::lower});
        const Sample model{name,    metric_name, 0, scale.unit ? scale.unit : unit, scale.direction,
                           Gate::no};
        add_raw_data(metric, field, model, scale.factor, NonFinite::skipped, parsed);
    }
}

// One result's samples; its case name and mode are remembered to refuse a second result of
// the same name (JMH run with several modes, -bm thrpt,avgt: their scores cannot be one series).
void add_result(const nlohmann::json& result, std::size_t index,
                std::map<std::string, std::string>& modes, Parsed& parsed) {
    const std::string at = fmt::format("[{}]", index);
    if (!result.is_object()) {
        throw Bad{at, "a result is not an object"};
    }
    const std::string name = case_name(result, at);
    const auto mode = result.find("mode");
    if (mode == result.end() || !mode->is_string() ||
        (*mode != "thrpt" && *mode != "avgt" && *mode != "sample" && *mode != "ss")) {
        throw Bad{at + ".mode", "mode is not one of thrpt, avgt, sample, ss"};
    }
    const auto [earlier, inserted] = modes.emplace(name, mode->get<std::string>());
    if (!inserted) {
        throw Bad{at + ".mode", "\"" + name + "\" is reported twice (modes " + earlier->second +
                                    " and " + mode->get<std::string>() +
                                    "): run one mode per workload (-bm)"};
    }
    add_primary(result, name, *mode, at, parsed);
    add_secondaries(result, name, at, parsed);
}

} // namespace

ParseResult parse_jmh(std::istream& in) {
    Parsed parsed;
    std::optional<ParseError> failed;
    std::map<std::string, std::string> modes;
    const RowHandler on_row = [&](const nlohmann::json& result, std::size_t at) {
        try {
            add_result(result, at, modes, parsed);
            return true;
        } catch (const Bad& bad) {
            failed = ParseError{"not JMH JSON: " + bad.message, std::nullopt, bad.field};
        } catch (const nlohmann::json::exception& error) {
            failed = ParseError{std::string("not JMH JSON: ") + error.what(), std::nullopt,
                                "[" + std::to_string(at) + "]"};
        }
        return false;
    };
    const auto read = read_array_rows(in, on_row);
    if (const auto* error = std::get_if<JsonTextError>(&read)) {
        return ParseError{"not JMH JSON: " + error->message, error->offset, error->field};
    }
    if (failed) {
        return *failed;
    }
    if (!std::get<RowsRead>(read).found) {
        return ParseError{"not JMH JSON: the document is not an array of results", 0, ""};
    }
    if (modes.empty()) {
        return ParseError{"not JMH JSON: an empty array of results (did every benchmark fail?)", 0,
                          "[]"};
    }
    return parsed;
}

ParseResult parse_jmh(std::string_view text) {
    ViewStream in(text);
    return parse_jmh(in);
}

} // namespace abtool::runners::parsers
