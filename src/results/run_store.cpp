#include "src/results/run_store.hpp"

#include "abtool/atomic_file.hpp"

#include "abtool/error.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace abtool {

std::string to_string(Side side) {
    return side == Side::a ? "a" : "b";
}

SamplesWriter::SamplesWriter(const std::filesystem::path& file) : m_path(file) {
    m_file = std::fopen(file.c_str(), "ae");
    if (m_file == nullptr) {
        throw Error(ErrorKind::io,
                    fmt::format("cannot open {}: {}", file.string(), std::strerror(errno)));
    }
}

SamplesWriter::~SamplesWriter() {
    if (m_file != nullptr) {
        std::fclose(m_file);
    }
}

std::vector<SampleRecord> records_of(const RunKey& key, const runners::RunResult& result) {
    SampleRecord common;
    common.round = key.round;
    common.side = key.side;
    common.workload = key.workload;
    common.rep = key.rep;
    common.pilot = key.pilot;
    common.cpus = key.cpus;
    common.run_ms = result.wall_ms;
    common.start_unix_ns = result.start_unix_ns;
    std::vector<SampleRecord> records;
    for (const runners::Sample& sample : result.samples) {
        SampleRecord record = common;
        record.case_name = sample.case_name;
        record.metric = sample.metric;
        record.value = sample.value;
        record.unit = sample.unit;
        record.direction = sample.direction;
        record.gate = sample.gate;
        if (sample.case_name.empty() && runners::counter_named(sample.metric)) {
            record.counter_backend = key.counter_backend;
        }
        records.push_back(std::move(record));
    }
    if (result.error) {
        SampleRecord record = common;
        record.error = *result.error;
        records.push_back(std::move(record));
    }
    for (std::size_t i = 0; i < result.windows.size(); ++i) {
        SampleRecord record = common;
        record.window = result.windows[i];
        record.window_index = i + 1;
        records.push_back(std::move(record));
    }
    return records;
}

std::string sample_lines(const std::vector<SampleRecord>& records) {
    std::string lines;
    for (const SampleRecord& record : records) {
        nlohmann::json line{{"round", record.round},
                            {"ref", to_string(record.side)},
                            {"workload", record.workload},
                            {"start_ns", record.start_unix_ns},
                            {"run_ms", record.run_ms}};
        // Written only when they say something, so files of plain alternate runs keep their shape.
        if (record.rep > 0) {
            line["rep"] = record.rep;
        }
        if (record.pilot) {
            line["pilot"] = *record.pilot;
        }
        if (!record.cpus.empty()) {
            line["cpus"] = record.cpus;
        }
        if (record.window) {
            const runners::SoakWindow& window = *record.window;
            const auto optional = [](const auto& value) {
                return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
            };
            line["window"] = {{"index", record.window_index},
                              {"start_s", window.start_s},
                              {"end_s", window.end_s},
                              {"latency_p50_ms", optional(window.latency_p50_ms)},
                              {"latency_p99_ms", optional(window.latency_p99_ms)},
                              {"rss_kb", optional(window.rss_kb)},
                              {"errors", window.errors}};
        } else if (record.error) {
            line["error"] = *record.error;
        } else {
            line["case"] = record.case_name;
            line["metric"] = record.metric;
            line["value"] = record.value;
            line["unit"] = record.unit;
            line["direction"] = to_string(record.direction);
            line["gate"] = record.gate == runners::Gate::yes;
            if (!record.counter_backend.empty()) {
                line["counter_backend"] = record.counter_backend;
            }
        }
        lines += line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    }
    return lines;
}

void SamplesWriter::append(const std::vector<SampleRecord>& records) {
    const std::string lines = sample_lines(records);
    if (std::fwrite(lines.data(), 1, lines.size(), m_file) != lines.size() ||
        std::fflush(m_file) != 0) {
        throw Error(ErrorKind::io,
                    fmt::format("cannot write {}: {}", m_path.string(), std::strerror(errno)));
    }
}

namespace {

// A record that is JSON but not a sample record, besides the type errors nlohmann throws.
class NotARecord : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// An integer field. nlohmann's get<Integer>() converts a float by a plain cast, which is undefined
// behaviour out of range ({"round": 79378888888880000001} is a double; found by
// fuzz_samples_jsonl), and wraps a negative number into a size_t: both are refused.
template <typename Integer>
Integer integer_field(const nlohmann::json& value, std::string_view key) {
    if (value.is_number_unsigned()) {
        const auto number = value.get<std::uint64_t>();
        if (std::in_range<Integer>(number)) {
            return static_cast<Integer>(number);
        }
    } else if (value.is_number_integer()) {
        const auto number = value.get<std::int64_t>();
        if (std::in_range<Integer>(number)) {
            return static_cast<Integer>(number);
        }
    }
    throw NotARecord(fmt::format("\"{}\" is not an integer in range: {}", key, value.dump()));
}

template <typename Integer>
Integer integer_field(const nlohmann::json& json, std::string_view key, Integer absent) {
    const auto found = json.find(key);
    return found == json.end() ? absent : integer_field<Integer>(*found, key);
}

std::vector<int> cpus_field(const nlohmann::json& json) {
    const auto found = json.find("cpus");
    if (found == json.end()) {
        return {};
    }
    if (!found->is_array()) {
        throw NotARecord(fmt::format("\"cpus\" is not an array: {}", found->dump()));
    }
    std::vector<int> cpus;
    for (const nlohmann::json& cpu : *found) {
        cpus.push_back(integer_field<int>(cpu, "cpus"));
    }
    return cpus;
}

// Whether the string field `key` is `first` (true) or `second` (false); anything else is not a
// record (a damaged "ref" must not silently become B).
bool one_of(const nlohmann::json& json, const char* key, const char* first, const char* second) {
    const std::string value = json.at(key).get<std::string>();
    if (value != first && value != second) {
        throw NotARecord(
            fmt::format("\"{}\" is \"{}\", not \"{}\" or \"{}\"", key, value, first, second));
    }
    return value == first;
}

// A number that may be null (a soak window without latencies or RSS samples).
template <typename T>
std::optional<T> nullable(const nlohmann::json& json, const char* key) {
    const nlohmann::json& value = json.at(key);
    return value.is_null() ? std::nullopt : std::optional<T>(value.get<T>());
}

// One line's record; nlohmann's exceptions or NotARecord when it is not one.

SampleRecord record_from(const nlohmann::json& json) {
    SampleRecord record;
    record.round = integer_field<std::size_t>(json.at("round"), "round");
    record.side = one_of(json, "ref", "a", "b") ? Side::a : Side::b;
    record.workload = json.at("workload").get<std::string>();
    record.start_unix_ns = integer_field(json, "start_ns", std::int64_t{0});
    // Absent from files written before repeat, duet and the pilot existed.
    record.run_ms = json.value("run_ms", 0.0);
    record.rep = integer_field(json, "rep", std::size_t{0});
    if (json.contains("pilot")) {
        record.pilot = json.at("pilot").get<std::string>();
    }
    record.cpus = cpus_field(json);
    if (json.contains("window")) {
        const nlohmann::json& window = json.at("window");
        record.window_index = integer_field<std::size_t>(window.at("index"), "index");
        record.window = runners::SoakWindow{
            window.at("start_s").get<double>(),         window.at("end_s").get<double>(),
            nullable<double>(window, "latency_p50_ms"), nullable<double>(window, "latency_p99_ms"),
            nullable<std::int64_t>(window, "rss_kb"),   window.at("errors").get<std::size_t>()};
    } else if (json.contains("error")) {
        record.error = json.at("error").get<std::string>();
    } else {
        record.case_name = json.at("case").get<std::string>();
        record.metric = json.at("metric").get<std::string>();
        record.value = json.at("value").is_null() ? std::nan("") : json.at("value").get<double>();
        record.unit = json.at("unit").get<std::string>();
        record.counter_backend = json.value("counter_backend", std::string());
        record.direction = one_of(json, "direction", "lower", "higher")
                               ? runners::Direction::lower
                               : runners::Direction::higher;
        record.gate = json.at("gate").get<bool>() ? runners::Gate::yes : runners::Gate::no;
    }
    return record;
}

} // namespace

SamplesFile read_samples(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw Error(ErrorKind::usage, fmt::format("cannot read {}", file.string()));
    }
    SamplesFile result;
    std::string line;
    std::size_t number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (line.empty()) {
            continue;
        }
        std::string problem;
        try {
            SampleRecord record = record_from(nlohmann::json::parse(line));
            (record.window ? result.windows : result.records).push_back(std::move(record));
            continue;
        } catch (const nlohmann::json::exception& error) {
            problem = error.what();
        } catch (const NotARecord& error) {
            problem = error.what();
        }
        if (in.peek() == std::char_traits<char>::eof()) {
            // An interrupted run may leave its last line half written: keep the rest.
            result.warnings.push_back(
                fmt::format("{}:{}: incomplete last line skipped", file.string(), number));
            break;
        }
        throw Error(ErrorKind::usage,
                    fmt::format("{}:{}: not a sample record: {}", file.string(), number, problem));
    }
    return result;
}

void write_json_file(const std::filesystem::path& file, const nlohmann::json& json) {
    // Readers never see half a file, and a full disk leaves the old one.
    write_file_atomically(file, json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
                                    '\n');
}

nlohmann::json read_json_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw Error(ErrorKind::usage, fmt::format("cannot read {}", file.string()));
    }
    try {
        return nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& error) {
        throw Error(ErrorKind::usage,
                    fmt::format("{} is not valid JSON: {}", file.string(), error.what()));
    }
}

} // namespace abtool
