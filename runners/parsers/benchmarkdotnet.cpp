// BenchmarkDotNet's full JSON export (--exporters json: *-report-full.json, or the same without
// indentation from JsonExporter.FullCompressed). Each Workload/Result measurement, the
// overhead-corrected iterations BenchmarkDotNet keeps after removing outliers, is one sample of
// "time", Nanoseconds / Operations in ns; these are exactly Statistics.OriginalValues, which stand
// in when an export leaves the measurements out (excludeMeasurements). The MemoryDiagnoser's
// bytes allocated per operation are an informational "bytes_per_op".
#include "runners/parsers/json_text.hpp"
#include "runners/parsers/parsers.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <optional>
#include <set>
#include <utility>

namespace abtool::runners::parsers {

namespace {

struct Bad {
    std::string field;
    std::string message;
};

double finite_number(const nlohmann::json& parent, const char* key, const std::string& field) {
    const auto it = parent.find(key);
    if (it == parent.end()) {
        throw Bad{field, std::string("no \"") + key + "\""};
    }
    if (!it->is_number() || !std::isfinite(it->get<double>())) {
        throw Bad{field, "not a finite number: " + it->dump()};
    }
    return it->get<double>();
}

std::string string_at(const nlohmann::json& parent, const char* key, const std::string& field) {
    const auto it = parent.find(key);
    if (it == parent.end() || !it->is_string()) {
        throw Bad{field, std::string("no \"") + key + "\" string"};
    }
    return it->get<std::string>();
}

// The Workload/Result measurements: one sample each, in ns per operation.
std::size_t add_measurements(const nlohmann::json& benchmark, const std::string& name,
                             const std::string& at, Parsed& parsed) {
    const auto measurements = benchmark.find("Measurements");
    if (measurements == benchmark.end() || measurements->is_null()) {
        return 0;
    }
    if (!measurements->is_array()) {
        throw Bad{at + ".Measurements", "Measurements is not an array"};
    }
    std::size_t added = 0;
    for (std::size_t i = 0; i < measurements->size(); ++i) {
        const nlohmann::json& m = (*measurements)[i];
        const std::string field = at + ".Measurements[" + std::to_string(i) + "]";
        if (!m.is_object()) {
            throw Bad{field, "a measurement is not an object"};
        }
        if (string_at(m, "IterationMode", field + ".IterationMode") != "Workload" ||
            string_at(m, "IterationStage", field + ".IterationStage") != "Result") {
            continue; // jitting, pilot, warmup, overhead and the uncorrected Actual iterations
        }
        const double operations = finite_number(m, "Operations", field + ".Operations");
        const double nanoseconds = finite_number(m, "Nanoseconds", field + ".Nanoseconds");
        if (operations <= 0 || nanoseconds < 0) {
            throw Bad{field, "Operations must be positive and Nanoseconds not negative"};
        }
        parsed.samples.push_back(
            {name, "time", nanoseconds / operations, "ns", Direction::lower, Gate::no});
        ++added;
    }
    return added;
}

// Statistics.OriginalValues, already ns per operation: the samples of an export without
// measurements.
std::size_t add_original_values(const nlohmann::json& statistics, const std::string& name,
                                const std::string& at, Parsed& parsed) {
    const auto values = statistics.find("OriginalValues");
    if (values == statistics.end() || values->is_null()) {
        return 0;
    }
    const std::string field = at + ".Statistics.OriginalValues";
    if (!values->is_array()) {
        throw Bad{field, "OriginalValues is not an array"};
    }
    for (std::size_t i = 0; i < values->size(); ++i) {
        const nlohmann::json& value = (*values)[i];
        if (!value.is_number() || !std::isfinite(value.get<double>())) {
            throw Bad{field + "[" + std::to_string(i) + "]",
                      "not a finite number: " + value.dump()};
        }
        parsed.samples.push_back(
            {name, "time", value.get<double>(), "ns", Direction::lower, Gate::no});
    }
    return values->size();
}

// Whether the MemoryDiagnoser ran: "Memory" is written either way, its numbers meaningful only
// when the diagnoser's "Allocated Memory" column is among the Metrics (exports older than
// 0.12.1 have no Metrics, and only the diagnoser filled Memory in).
bool memory_diagnosed(const nlohmann::json& benchmark) {
    const auto metrics = benchmark.find("Metrics");
    if (metrics == benchmark.end() || !metrics->is_array()) {
        return true;
    }
    for (const nlohmann::json& metric : *metrics) {
        if (metric.is_object() && metric.contains("Descriptor") &&
            metric["Descriptor"].is_object() &&
            metric["Descriptor"].value("Id", std::string()) == "Allocated Memory") {
            return true;
        }
    }
    return false;
}

void add_memory(const nlohmann::json& benchmark, const std::string& name, const std::string& at,
                Parsed& parsed) {
    const auto memory = benchmark.find("Memory");
    if (memory == benchmark.end() || !memory->is_object() || !memory_diagnosed(benchmark)) {
        return;
    }
    const auto bytes = memory->find("BytesAllocatedPerOperation");
    if (bytes == memory->end() || bytes->is_null()) {
        return;
    }
    const double value = finite_number(*memory, "BytesAllocatedPerOperation",
                                       at + ".Memory.BytesAllocatedPerOperation");
    parsed.samples.push_back({name, "bytes_per_op", value, "B", Direction::lower, Gate::no});
}

// One benchmark's samples, or its failure into parsed.errors. Cases are named by FullName
// ("Namespace.Type.Method(Param: value, ...)"), the name BenchmarkDotNet's own filters and
// reports use; the same FullName twice means several jobs (runtimes, configurations) in one
// export, whose times cannot be one series.
void add_benchmark(const nlohmann::json& benchmark, std::size_t index, std::set<std::string>& names,
                   Parsed& parsed) {
    const std::string at = "Benchmarks[" + std::to_string(index) + "]";
    if (!benchmark.is_object()) {
        throw Bad{at, "a benchmark is not an object"};
    }
    const std::string name = string_at(benchmark, "FullName", at + ".FullName");
    if (!names.insert(name).second) {
        throw Bad{at + ".FullName", "\"" + name +
                                        "\" is reported twice (several jobs?): run one job per "
                                        "workload (--job, --runtimes)"};
    }
    const auto statistics = benchmark.find("Statistics");
    if (statistics == benchmark.end()) {
        throw Bad{at + ".Statistics", "no \"Statistics\""};
    }
    if (statistics->is_null()) {
        // What BenchmarkDotNet writes for a benchmark that failed (its table says NA).
        parsed.errors.push_back(name + ": no result (BenchmarkDotNet wrote no Statistics: the "
                                       "benchmark failed, see its log)");
        return;
    }
    if (!statistics->is_object()) {
        throw Bad{at + ".Statistics", "Statistics is not an object"};
    }
    if (add_measurements(benchmark, name, at, parsed) == 0 &&
        add_original_values(*statistics, name, at, parsed) == 0) {
        throw Bad{at + ".Measurements",
                  "no Workload Result measurements and no Statistics.OriginalValues"};
    }
    add_memory(benchmark, name, at, parsed);
}

} // namespace

ParseResult parse_benchmarkdotnet(std::istream& in) {
    // BenchmarkDotNet before 0.12.1 wrote bare NaN (Skewness, Kurtosis and the confidence
    // interval of a benchmark with one iteration, dotnet/BenchmarkDotNet#1242).
    NonFiniteFilter filter(*in.rdbuf());
    std::istream filtered(&filter);
    Parsed parsed;
    std::optional<ParseError> failed;
    std::set<std::string> names;
    const RowHandler on_row = [&](const nlohmann::json& benchmark, std::size_t at) {
        try {
            add_benchmark(benchmark, at, names, parsed);
            return true;
        } catch (const Bad& bad) {
            failed =
                ParseError{"not BenchmarkDotNet JSON: " + bad.message, std::nullopt, bad.field};
        } catch (const nlohmann::json::exception& error) {
            failed = ParseError{std::string("not BenchmarkDotNet JSON: ") + error.what(),
                                std::nullopt, "Benchmarks[" + std::to_string(at) + "]"};
        }
        return false;
    };
    const auto read = read_rows(filtered, "Benchmarks", on_row);
    if (const auto* error = std::get_if<JsonTextError>(&read)) {
        return ParseError{"not BenchmarkDotNet JSON: " + error->message,
                          filter.original_offset(error->offset), error->field};
    }
    if (failed) {
        return *failed;
    }
    if (!std::get<RowsRead>(read).found) {
        return ParseError{"not BenchmarkDotNet JSON: no \"Benchmarks\" array", std::nullopt,
                          "Benchmarks"};
    }
    if (names.empty()) {
        return ParseError{"not BenchmarkDotNet JSON: an empty \"Benchmarks\" array", std::nullopt,
                          "Benchmarks"};
    }
    return parsed;
}

ParseResult parse_benchmarkdotnet(std::string_view text) {
    ViewStream in(text);
    return parse_benchmarkdotnet(in);
}

} // namespace abtool::runners::parsers
