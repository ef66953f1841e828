#include "runners/parsers/json_text.hpp"
#include "runners/parsers/parsers.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <utility>

namespace abtool::runners::parsers {

std::size_t NonFiniteReplaced::original_offset(std::size_t offset) const {
    const auto grown_before =
        std::upper_bound(grown_at.begin(), grown_at.end(), offset) - grown_at.begin();
    return offset - static_cast<std::size_t>(grown_before);
}

NonFiniteReplaced replace_non_finite(std::string_view text) {
    NonFiniteReplaced replaced;
    std::string& result = replaced.text;
    result.reserve(text.size());
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            result += c;
            if (c == '\\' && i + 1 < text.size()) {
                result += text[++i];
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
            result += c;
            continue;
        }
        bool matched = false;
        for (std::string_view word :
             {"-Infinity", "Infinity", "-NaN", "NaN", "-nan", "nan", "-inf", "inf"}) {
            if (text.substr(i, word.size()) == word) {
                // Padded to the word's length where it is longer than "null", so later offsets
                // still point into the original; a 3-letter word grows the text by one byte.
                result += "null";
                if (word.size() > 4) {
                    result.append(word.size() - 4, ' ');
                } else if (word.size() == 3) {
                    replaced.grown_at.push_back(result.size());
                }
                i += word.size() - 1;
                matched = true;
                break;
            }
        }
        if (!matched) {
            result += c;
        }
    }
    return replaced;
}

namespace {

const std::set<std::string> k_not_metrics{"name",
                                          "family_index",
                                          "per_family_instance_index",
                                          "run_name",
                                          "run_type",
                                          "repetitions",
                                          "repetition_index",
                                          "threads",
                                          "iterations",
                                          "real_time",
                                          "cpu_time",
                                          "time_unit",
                                          "aggregate_name",
                                          "aggregate_unit",
                                          "label",
                                          "error_occurred",
                                          "error_message",
                                          "big_o",
                                          "rms"};

// Google Benchmark's time units (benchmark::TimeUnit); 0 for anything else.
double nanoseconds_per(const std::string& unit) {
    return unit == "s" ? 1e9 : unit == "ms" ? 1e6 : unit == "us" ? 1e3 : unit == "ns" ? 1 : 0;
}

std::string run_name(const nlohmann::json& row) {
    return row.value("run_name", row.value("name", std::string()));
}

// One row's samples: real_time and cpu_time in ns, then every numeric counter.
void add_samples(const nlohmann::json& row, const std::string& name, double to_ns, Parsed& parsed) {
    for (const char* metric : {"real_time", "cpu_time"}) {
        if (row.contains(metric) && row[metric].is_number()) {
            parsed.samples.push_back({name, metric, row[metric].get<double>() * to_ns, "ns",
                                      Direction::lower, Gate::no});
        }
    }
    for (const auto& [key, value] : row.items()) {
        if (k_not_metrics.count(key) != 0 || !value.is_number()) {
            continue;
        }
        // Rates are better higher; other user counters are recorded lower-is-better (a count of
        // allocations, bytes, misses) and gated only when the config names them.
        const bool rate = key.size() > 11 && key.ends_with("_per_second");
        // Google Benchmark's own rates say what they count; a user's rate is "per second".
        const std::string rate_unit = key == "bytes_per_second"   ? "B/s"
                                      : key == "items_per_second" ? "items/s"
                                      : rate                      ? "1/s"
                                                                  : "";
        parsed.samples.push_back({name, key, value.get<double>(), rate_unit,
                                  rate ? Direction::higher : Direction::lower, Gate::no});
    }
}

} // namespace

ParseResult parse_gbench(std::string_view text) {
    const NonFiniteReplaced replaced = replace_non_finite(text);
    auto parsed_text = parse_json_text(replaced.text);
    if (auto* error = std::get_if<JsonTextError>(&parsed_text)) {
        return ParseError{"not Google Benchmark JSON: " + error->message,
                          replaced.original_offset(error->offset), std::move(error->field)};
    }
    const nlohmann::json json = std::move(std::get<nlohmann::json>(parsed_text));
    if (!json.is_object() || !json.contains("benchmarks") || !json["benchmarks"].is_array()) {
        return ParseError{"not Google Benchmark JSON: no \"benchmarks\" array", std::nullopt,
                          "benchmarks"};
    }
    const nlohmann::json& rows = json["benchmarks"];
    // Well-formed JSON of the wrong shape (a row that is not an object, a string where a number
    // belongs) surfaces as a type error from nlohmann: name the row it came from.
    std::size_t at = 0;
    try {
        // Aggregates (mean, median, stddev, cv) summarize the iteration rows: counting them too
        // would count every repetition twice. They stand in only for a benchmark that printed
        // no iteration rows (aggregates-only output): its median, else its mean.
        std::set<std::string> has_iterations;
        std::map<std::string, std::size_t> stand_in; // run name -> row index
        for (at = 0; at < rows.size(); ++at) {
            const nlohmann::json& row = rows[at];
            if (!row.is_object()) {
                return ParseError{"not Google Benchmark JSON: a benchmark row is not an object",
                                  std::nullopt, "benchmarks[" + std::to_string(at) + "]"};
            }
            const std::string name = run_name(row);
            const std::string run_type = row.value("run_type", std::string("iteration"));
            if (run_type == "iteration") {
                has_iterations.insert(name);
                continue;
            }
            const std::string aggregate = row.value("aggregate_name", std::string());
            if (aggregate == "median" ||
                (aggregate == "mean" && stand_in.find(name) == stand_in.end())) {
                stand_in[name] = at;
            }
        }
        Parsed parsed;
        for (at = 0; at < rows.size(); ++at) {
            const nlohmann::json& row = rows[at];
            const std::string name = run_name(row);
            if (row.value("run_type", std::string("iteration")) != "iteration") {
                const auto chosen = stand_in.find(name);
                if (has_iterations.count(name) != 0 || chosen == stand_in.end() ||
                    chosen->second != at) {
                    continue;
                }
            }
            if (row.value("error_occurred", false)) {
                parsed.errors.push_back(name + ": " + row.value("error_message", std::string()));
                continue;
            }
            const std::string unit = row.value("time_unit", std::string("ns"));
            const double to_ns = nanoseconds_per(unit);
            if (to_ns == 0) {
                return ParseError{"not Google Benchmark JSON: unknown time_unit \"" + unit +
                                      "\" (expected ns, us, ms or s)",
                                  std::nullopt, "benchmarks[" + std::to_string(at) + "].time_unit"};
            }
            add_samples(row, name, to_ns, parsed);
        }
        return parsed;
    } catch (const nlohmann::json::exception& error) {
        return ParseError{std::string("not Google Benchmark JSON: ") + error.what(), std::nullopt,
                          "benchmarks[" + std::to_string(at) + "]"};
    }
}

} // namespace abtool::runners::parsers
