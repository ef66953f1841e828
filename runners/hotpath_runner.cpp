#include "runners/parsers/parsers.hpp"
#include "runners/workload_runners.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "abtool/error.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>

namespace abtool::runners {

namespace parsers {

ParseResult parse(HotpathFormat format, std::istream& in) {
    switch (format) {
    case HotpathFormat::gbench:
        return parse_gbench(in);
    case HotpathFormat::hyperfine:
        return parse_hyperfine(in);
    case HotpathFormat::jsonl:
        return parse_jsonl(in);
    case HotpathFormat::catch2:
        return parse_catch2(in);
    case HotpathFormat::pytest_benchmark:
        return parse_pytest_benchmark(in);
    case HotpathFormat::go:
        return parse_go(in);
    case HotpathFormat::criterion:
        return parse_criterion(in);
    case HotpathFormat::jmh:
        return parse_jmh(in);
    case HotpathFormat::benchmarkdotnet:
        return parse_benchmarkdotnet(in);
    case HotpathFormat::bmf:
        break;
    }
    return parse_bmf(in);
}

} // namespace parsers

namespace {

const char* format_name(HotpathFormat format) {
    switch (format) {
    case HotpathFormat::gbench:
        return "Google Benchmark JSON";
    case HotpathFormat::hyperfine:
        return "hyperfine JSON";
    case HotpathFormat::jsonl:
        return "JSON lines";
    case HotpathFormat::catch2:
        return "Catch2 output";
    case HotpathFormat::pytest_benchmark:
        return "pytest-benchmark JSON";
    case HotpathFormat::go:
        return "go test -bench output";
    case HotpathFormat::criterion:
        return "criterion output";
    case HotpathFormat::jmh:
        return "JMH JSON";
    case HotpathFormat::benchmarkdotnet:
        return "BenchmarkDotNet JSON";
    case HotpathFormat::bmf:
        break;
    }
    return "Bencher Metric Format JSON";
}

// Where a parse error is: "at byte 17 of stdout (17 bytes, kept in ...)", or the field it is in.
std::string parse_error_place(const parsers::ParseError& error, const std::string& source,
                              const std::filesystem::path& source_file, const std::string& kept) {
    std::error_code size_error;
    const std::uintmax_t size = std::filesystem::file_size(source_file, size_error);
    // A number out of range (1e999) has both: its byte and the field it was the value of.
    std::string where =
        error.offset ? fmt::format("at byte {} of {} ({} bytes{})", *error.offset, source,
                                   size_error ? 0 : size, kept.empty() ? "" : ", kept in " + kept)
                     : fmt::format("in {} of {}{}", error.field, source,
                                   kept.empty() ? "" : " (kept in " + kept + ")");
    if (error.offset && !error.field.empty()) {
        where += fmt::format(", field {}", error.field);
    }
    return where;
}

// Cases and metrics become results.csv fields, table cells and annotation titles: a control
// character (a NUL above all) in one would corrupt every one of them. The first one, described.
std::optional<std::string> control_character_in(const Sample& sample) {
    for (const std::string* field : {&sample.case_name, &sample.metric}) {
        const auto bad = std::find_if(field->begin(), field->end(), [](char c) {
            return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
        });
        if (bad != field->end()) {
            return fmt::format("the {} name {} contains control character 0x{:02x}",
                               field == &sample.case_name ? "case" : "metric",
                               nlohmann::json(*field).dump(-1, ' ', true),
                               static_cast<unsigned char>(*bad));
        }
    }
    return std::nullopt;
}

// The file behind a workload's {output}: beside the kept stdout in the run directory
// (<run>.output, kept for post-mortems like the stdout), or, when there is no run directory, in a
// fresh temporary directory removed afterwards. The path never exists before the run: a
// previous run's numbers are never read as this one's.
class PlaceholderOutput {
public:
    explicit PlaceholderOutput(const RunContext& context) {
        if (!context.stdout_file.empty()) {
            m_path = context.stdout_file;
            m_path.replace_extension(".output");
            std::filesystem::remove(m_path);
            return;
        }
        std::string dir =
            (std::filesystem::temp_directory_path() / "abtool-output-XXXXXX").string();
        if (mkdtemp(dir.data()) == nullptr) {
            throw Error(ErrorKind::io, fmt::format("cannot create a temporary directory in {}: {}",
                                                   std::filesystem::temp_directory_path().string(),
                                                   std::strerror(errno)));
        }
        m_temporary_dir = dir;
        m_path = m_temporary_dir / "output";
    }
    ~PlaceholderOutput() {
        std::error_code error;
        if (!m_temporary_dir.empty()) {
            std::filesystem::remove_all(m_temporary_dir, error);
        } else if (std::filesystem::file_size(m_path, error) == 0 && !error) {
            std::filesystem::remove(m_path, error);
        }
    }
    PlaceholderOutput(const PlaceholderOutput&) = delete;
    PlaceholderOutput& operator=(const PlaceholderOutput&) = delete;

    const std::filesystem::path& path() const { return m_path; }

private:
    std::filesystem::path m_path;
    std::filesystem::path m_temporary_dir;
};

// Every `placeholder` in the argv replaced by `value`, in a shell string by `value` as one quoted
// word.
void substitute(ProcessSpec& spec, std::string_view placeholder, const std::string& value) {
    const auto replace = [&](std::string& text, const std::string& with) {
        for (std::size_t at = text.find(placeholder); at != std::string::npos;
             at = text.find(placeholder, at + with.size())) {
            text.replace(at, placeholder.size(), with);
        }
    };
    for (std::string& arg : spec.argv) {
        replace(arg, value);
    }
    if (spec.shell) {
        replace(*spec.shell, shell_quote(value));
    }
}

// The file a run's numbers are read from: the {output} file, the fixed output_file, or stdout;
// and how messages name it.
struct Source {
    std::filesystem::path file;
    std::string name;
    bool is_stdout = false;
};

Source source_of(const HotpathWorkload& workload, const RunContext& context,
                 const RunOutput& output, const std::optional<PlaceholderOutput>& placeholder) {
    if (placeholder) {
        return {placeholder->path(), placeholder->path().string(), false};
    }
    if (workload.output_file) {
        const std::filesystem::path file =
            std::filesystem::path(*workload.output_file).is_absolute()
                ? std::filesystem::path(*workload.output_file)
                : context.worktree / *workload.output_file;
        return {file, file.string(), false};
    }
    return {output.path(), "stdout", true};
}

// The run's samples with their gate and the config's directions; an error for a name with a
// control character.
std::optional<std::string> stamp(const HotpathWorkload& workload, std::vector<Sample>& samples) {
    for (Sample& sample : samples) {
        sample.gate = gate_of(workload, sample.metric);
        if (const auto it = workload.directions.find(sample.metric);
            it != workload.directions.end()) {
            sample.direction = it->second;
        }
        if (auto bad = control_character_in(sample)) {
            return bad;
        }
    }
    return std::nullopt;
}

// What the program wrote, parsed: its stdout, the {output} file, the file at output_file or, for
// criterion, its results below the directory at output_file written since `started`. nullopt,
// with result.error set, when there is nothing to read (no file, or an empty {output} file).
std::optional<parsers::ParseResult> read_output(const HotpathWorkload& workload,
                                                const Source& source,
                                                std::filesystem::file_time_type started,
                                                const RunContext& context, RunResult& result) {
    std::error_code error;
    if (workload.output_file && std::filesystem::is_directory(source.file, error)) {
        if (workload.format != HotpathFormat::criterion) {
            result.error = fmt::format("output_file {} is a directory: only format = "
                                       "\"criterion\" reads one (target/criterion)",
                                       source.file.string());
            return std::nullopt;
        }
        // A file's time comes from the kernel's coarse clock, up to a tick (a few ms) behind the
        // one `started` was read from; a previous run's files are a whole criterion run older.
        return parsers::parse_criterion_directory(source.file,
                                                  started - std::chrono::milliseconds(100));
    }
    std::ifstream in(source.file, std::ios::binary);
    if (!in ||
        (workload.output_placeholder && std::filesystem::file_size(source.file, error) == 0)) {
        result.error = fmt::format("{} wrote no {}{}", context.label, source.file.string(),
                                   in ? " (the file is empty)" : "");
        return std::nullopt;
    }
    return parsers::parse(workload.format, in);
}

} // namespace

std::string case_filter(const std::vector<std::string>& cases) {
    static constexpr std::string_view k_special = R"(\^$.|?*+()[]{})";
    std::string pattern = "^(";
    for (std::size_t i = 0; i < cases.size(); ++i) {
        pattern += i == 0 ? "" : "|";
        for (const char c : cases[i]) {
            if (k_special.find(c) != std::string_view::npos) {
                pattern += '\\';
            }
            pattern += c;
        }
    }
    return pattern + ")$";
}

Gate gate_of(const HotpathWorkload& workload, std::string_view metric) {
    const bool counter = counter_named(metric).has_value() || metric == "iterations";
    if (!workload.metrics.empty() || counter) {
        return std::find(workload.metrics.begin(), workload.metrics.end(), metric) !=
                       workload.metrics.end()
                   ? Gate::yes
                   : Gate::no;
    }
    const std::optional<std::string> gated = default_gated_metric(workload.format);
    return !gated || metric == *gated ? Gate::yes : Gate::no;
}

std::optional<std::string> default_gated_metric(HotpathFormat format) {
    switch (format) {
    case HotpathFormat::gbench:
        return "real_time";
    case HotpathFormat::hyperfine:
        return "wall_ms";
    case HotpathFormat::jsonl:
        return std::nullopt;
    case HotpathFormat::catch2:
        return "mean"; // the one summary both reporters print (catch2.cpp: no per-sample times)
    case HotpathFormat::pytest_benchmark:
        return "time"; // each round's time per iteration (or the median), in ns
    case HotpathFormat::go:
        return "ns_per_op";
    case HotpathFormat::criterion:
        return "time"; // ns per iteration, from the text's lines or sample.json
    case HotpathFormat::jmh:
        return "score"; // the primary metric; secondary (profiler) metrics are informational
    case HotpathFormat::benchmarkdotnet:
        return "time"; // per-operation time; bytes_per_op is informational
    case HotpathFormat::bmf:
        break;
    }
    // Bencher Metric Format: a file's measures are whatever its author chose to track, as with
    // JSON lines; every one gates unless `metrics` names some.
    return std::nullopt;
}

RunResult run_hotpath(const HotpathWorkload& workload, std::string_view name,
                      const RunContext& context) {
    const RunOutput output(context);
    const CountedRun counted(workload.counting, output);
    ProcessSpec spec = process_spec_for(workload, context, output);
    std::optional<PlaceholderOutput> placeholder;
    if (workload.output_placeholder) {
        placeholder.emplace(context);
        substitute(spec, "{output}", placeholder->path().string());
    }
    if (!workload.cases.empty()) {
        substitute(spec, "{filter}", case_filter(workload.cases));
    }
    counted.prepare(spec);
    const Source source = source_of(workload, context, output, placeholder);
    if (workload.output_file) {
        // Never read a previous run's numbers. A directory (criterion's) is not emptied: only its
        // files written from now on are read.
        if (!std::filesystem::is_directory(source.file)) {
            std::filesystem::remove(source.file);
        }
    }
    const auto started = std::filesystem::file_time_type::clock::now();
    const ProcessResult process = run_process(spec);

    RunResult result = result_of(process);
    if (result.error) {
        return result;
    }
    // Read as a stream from the file the program wrote (its stdout is one too): the output may
    // be far larger than what it reports.
    std::optional<parsers::ParseResult> read =
        read_output(workload, source, started, context, result);
    if (!read) {
        return result;
    }
    const parsers::ParseResult& parsed = *read;
    const std::string what =
        fmt::format("{} of workload '{}' on {}", format_name(workload.format), name, context.label);
    if (const auto* error = std::get_if<parsers::ParseError>(&parsed)) {
        const std::string kept = source.is_stdout ? context.stdout_file.string() : "";
        result.error = fmt::format("{}: {} {}", what, error->message,
                                   parse_error_place(*error, source.name, source.file, kept));
        return result;
    }
    const auto& samples = std::get<parsers::Parsed>(parsed);
    if (!samples.errors.empty()) {
        result.error = fmt::format("{} reported failed benchmarks: {}", context.label,
                                   fmt::join(samples.errors, "; "));
    }
    result.samples = samples.samples;
    if (const auto bad = stamp(workload, result.samples)) {
        result.error = fmt::format("{}: {}", what, *bad);
        result.samples.clear();
        return result;
    }
    if (result.samples.empty() && !result.error) {
        result.error = fmt::format("{} printed no samples in its {} on {}",
                                   format_name(workload.format), source.name, context.label);
        return result;
    }
    const auto gate = [&](std::string_view metric) {
        return gate_of(workload, metric);
    };
    counted.collect(process, result, gate);
    if (workload.counting.active() && workload.format == HotpathFormat::gbench) {
        // Beside the whole program's counts: whether they can be compared at all (analysis warns
        // when this moves between runs).
        result.samples.push_back(
            {"", "iterations", samples.iterations, "count", Direction::lower, gate("iterations")});
    }
    return result;
}

} // namespace abtool::runners
