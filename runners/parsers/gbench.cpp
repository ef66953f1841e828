#include "runners/parsers/json_text.hpp"
#include "runners/parsers/parsers.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <utility>

namespace abtool::runners::parsers {

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

// One row the reader kept, for a benchmark that may turn out to have no iteration rows: its
// samples and errors, and where they go among the others (where the row was).
struct StandIn {
    std::size_t row = 0;
    std::size_t sample_at = 0, error_at = 0;
    Parsed parsed;
    std::optional<ParseError> failed;
};

// An iteration row (or a stand-in): its samples, or its error message, into `parsed`.
std::optional<ParseError> add_row(const nlohmann::json& row, const std::string& name,
                                  std::size_t at, Parsed& parsed) {
    if (row.value("error_occurred", false)) {
        parsed.errors.push_back(name + ": " + row.value("error_message", std::string()));
        return std::nullopt;
    }
    const std::string unit = row.value("time_unit", std::string("ns"));
    const double to_ns = nanoseconds_per(unit);
    if (to_ns == 0) {
        return ParseError{"not Google Benchmark JSON: unknown time_unit \"" + unit +
                              "\" (expected ns, us, ms or s)",
                          std::nullopt, "benchmarks[" + std::to_string(at) + "].time_unit"};
    }
    add_samples(row, name, to_ns, parsed);
    return std::nullopt;
}

// The iteration rows with the stand-in of each benchmark that printed none, where its row was
// (or the first such stand-in's error).
ParseResult with_stand_ins(const Parsed& parsed, const std::set<std::string>& has_iterations,
                           const std::map<std::string, StandIn>& stand_ins) {
    std::vector<const StandIn*> needed;
    for (const auto& [name, stand_in] : stand_ins) {
        if (has_iterations.count(name) == 0) {
            needed.push_back(&stand_in);
        }
    }
    std::sort(needed.begin(), needed.end(),
              [](const StandIn* x, const StandIn* y) { return x->row < y->row; });
    for (const StandIn* stand_in : needed) {
        if (stand_in->failed) {
            return *stand_in->failed;
        }
    }
    // Each stand-in goes where its row was: one linear merge (positions never decrease in row
    // order; several at one position keep their rows' order).
    Parsed merged;
    merged.iterations = parsed.iterations;
    std::size_t sample_from = 0, error_from = 0;
    const auto copy_up_to = [&](std::size_t sample_to, std::size_t error_to) {
        merged.samples.insert(merged.samples.end(),
                              parsed.samples.begin() + static_cast<std::ptrdiff_t>(sample_from),
                              parsed.samples.begin() + static_cast<std::ptrdiff_t>(sample_to));
        merged.errors.insert(merged.errors.end(),
                             parsed.errors.begin() + static_cast<std::ptrdiff_t>(error_from),
                             parsed.errors.begin() + static_cast<std::ptrdiff_t>(error_to));
        sample_from = sample_to;
        error_from = error_to;
    };
    for (const StandIn* stand_in : needed) {
        copy_up_to(stand_in->sample_at, stand_in->error_at);
        merged.samples.insert(merged.samples.end(), stand_in->parsed.samples.begin(),
                              stand_in->parsed.samples.end());
        merged.errors.insert(merged.errors.end(), stand_in->parsed.errors.begin(),
                             stand_in->parsed.errors.end());
    }
    copy_up_to(parsed.samples.size(), parsed.errors.size());
    return merged;
}

} // namespace

ParseResult parse_gbench(std::istream& in) {
    NonFiniteFilter filter(*in.rdbuf());
    std::istream filtered(&filter);
    // Aggregates (mean, median, stddev, cv) summarize the iteration rows: counting them too would
    // count every repetition twice. They stand in only for a benchmark that printed no iteration
    // rows (aggregates-only output): its last median, else its first mean. Rows stream past
    // once, so a stand-in is kept aside until the end tells whether it is needed.
    Parsed parsed;
    std::optional<ParseError> failed;
    std::set<std::string> has_iterations;
    std::map<std::string, StandIn> stand_ins;
    const RowHandler on_row = [&](const nlohmann::json& row, std::size_t at) {
        // Well-formed JSON of the wrong shape (a row that is not an object, a string where a
        // number belongs) surfaces as a type error from nlohmann: name the row it came from.
        try {
            if (!row.is_object()) {
                failed = ParseError{"not Google Benchmark JSON: a benchmark row is not an object",
                                    std::nullopt, "benchmarks[" + std::to_string(at) + "]"};
                return false;
            }
            const std::string name = run_name(row);
            if (row.value("run_type", std::string("iteration")) == "iteration") {
                has_iterations.insert(name);
                if (const auto it = row.find("iterations"); it != row.end() && it->is_number()) {
                    parsed.iterations += it->get<double>();
                }
                failed = add_row(row, name, at, parsed);
                return !failed;
            }
            const std::string aggregate = row.value("aggregate_name", std::string());
            if (aggregate == "median" ||
                (aggregate == "mean" && stand_ins.find(name) == stand_ins.end())) {
                StandIn stand_in{at, parsed.samples.size(), parsed.errors.size(), {}, {}};
                stand_in.failed = add_row(row, name, at, stand_in.parsed);
                stand_ins[name] = std::move(stand_in);
            }
            return true;
        } catch (const nlohmann::json::exception& error) {
            failed = ParseError{std::string("not Google Benchmark JSON: ") + error.what(),
                                std::nullopt, "benchmarks[" + std::to_string(at) + "]"};
            return false;
        }
    };
    const auto read = read_rows(filtered, "benchmarks", on_row);
    if (const auto* error = std::get_if<JsonTextError>(&read)) {
        return ParseError{"not Google Benchmark JSON: " + error->message,
                          filter.original_offset(error->offset), error->field};
    }
    if (failed) {
        return *failed;
    }
    if (!std::get<RowsRead>(read).found) {
        return ParseError{"not Google Benchmark JSON: no \"benchmarks\" array", std::nullopt,
                          "benchmarks"};
    }
    return with_stand_ins(parsed, has_iterations, stand_ins);
}

ParseResult parse_gbench(std::string_view text) {
    ViewStream in(text);
    return parse_gbench(in);
}

} // namespace abtool::runners::parsers
