#include "runners/parsers/parsers.hpp"

#include <nlohmann/json.hpp>

#include <set>

namespace abtool::runners::parsers {

std::string replace_non_finite(std::string_view text) {
    std::string result;
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
        bool replaced = false;
        for (std::string_view word :
             {"-Infinity", "Infinity", "-NaN", "NaN", "-nan", "nan", "-inf", "inf"}) {
            if (text.substr(i, word.size()) == word) {
                // Padded to the word's length where it is longer than "null", so later byte
                // offsets still point into the original; after a 3-letter NaN or inf they are
                // one byte further on.
                result += "null";
                if (word.size() > 4) {
                    result.append(word.size() - 4, ' ');
                }
                i += word.size() - 1;
                replaced = true;
                break;
            }
        }
        if (!replaced) {
            result += c;
        }
    }
    return result;
}

ParseResult parse_gbench(std::string_view text) {
    nlohmann::json json;
    try {
        json = nlohmann::json::parse(replace_non_finite(text));
    } catch (const nlohmann::json::parse_error& error) {
        // nlohmann counts bytes from 1; abtool reports 0-based offsets.
        return ParseError{std::string("not Google Benchmark JSON: ") + error.what(),
                          error.byte > 0 ? error.byte - 1 : 0};
    }
    if (!json.is_object() || !json.contains("benchmarks") || !json["benchmarks"].is_array()) {
        return ParseError{"not Google Benchmark JSON: no \"benchmarks\" array", 0};
    }
    static const std::set<std::string> k_not_metrics{"name",
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
    Parsed parsed;
    for (const nlohmann::json& row : json["benchmarks"]) {
        // Aggregates (mean, median, stddev, cv) summarize the iteration rows: counting them
        // too would count every repetition twice.
        if (row.value("run_type", std::string("iteration")) != "iteration") {
            continue;
        }
        const std::string name = row.value("run_name", row.value("name", std::string()));
        if (row.value("error_occurred", false)) {
            parsed.errors.push_back(name + ": " + row.value("error_message", std::string()));
            continue;
        }
        const std::string unit = row.value("time_unit", std::string("ns"));
        const double to_ns = unit == "s" ? 1e9 : unit == "ms" ? 1e6 : unit == "us" ? 1e3 : 1;
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
            // Rates are better higher; other user counters are recorded lower-is-better (a
            // count of allocations, bytes, misses) and gated only when the config names them.
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
    return parsed;
}

} // namespace abtool::runners::parsers
