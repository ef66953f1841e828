#include "src/core/config.hpp"

#include "abtool/edit_distance.hpp"
#include "abtool/error.hpp"

#include <charconv>
#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <map>
#include <set>
#include <span>
#include <sstream>
#include <type_traits>
#include <utility>

namespace abtool {

namespace {

using Keys = std::set<std::string, std::less<>>;

// Reads values out of one parsed document and turns every problem into an Error(config) that
// names the file, the line and the key.
class Reader {
public:
    explicit Reader(std::filesystem::path file) : m_file(std::move(file)) {}

    [[noreturn]] void fail(const toml::source_region& where, const std::string& message) const {
        if (where.begin.line > 0) {
            throw Error(ErrorKind::config,
                        fmt::format("{}:{}: {}", m_file.string(), where.begin.line, message));
        }
        throw Error(ErrorKind::config, fmt::format("{}: {}", m_file.string(), message));
    }

    void check_keys(const toml::table& table, const Keys& allowed,
                    const std::string& context) const {
        for (auto&& [key, value] : table) {
            if (allowed.count(key.str()) != 0) {
                continue;
            }
            std::string suggestion;
            std::size_t best = 3;
            for (const auto& candidate : allowed) {
                const std::size_t distance = edit_distance(key.str(), candidate);
                if (distance < best) {
                    best = distance;
                    suggestion = candidate;
                }
            }
            fail(key.source(), fmt::format("{}unknown key '{}'{}", context, key.str(),
                                           suggestion.empty()
                                               ? std::string()
                                               : fmt::format(" (did you mean '{}'?)", suggestion)));
        }
    }

    std::optional<std::string> string(const toml::table& table, std::string_view key,
                                      const std::string& context) const {
        const toml::node* node = table.get(key);
        if (node == nullptr) {
            return std::nullopt;
        }
        if (!node->is_string()) {
            fail(node->source(), fmt::format("{}'{}' must be a string", context, key));
        }
        return node->as_string()->get();
    }

    std::optional<std::vector<std::string>> argv(const toml::table& table, std::string_view key,
                                                 const std::string& context) const {
        const toml::node* node = table.get(key);
        if (node == nullptr) {
            return std::nullopt;
        }
        const toml::array* array = node->as_array();
        if (array == nullptr || array->empty()) {
            fail(node->source(),
                 fmt::format("{}'{}' must be a non-empty array of strings (argv, no shell), "
                             "e.g. {} = [\"./app\", \"--flag\"]",
                             context, key, key));
        }
        std::vector<std::string> result;
        for (const toml::node& element : *array) {
            if (!element.is_string()) {
                fail(element.source(),
                     fmt::format("{}'{}' must contain only strings", context, key));
            }
            result.push_back(element.as_string()->get());
        }
        if (result.front().empty() && (key == "command" || key == "server")) {
            // exec("") fails only after checkout and build, naming nothing.
            fail(array->get(0)->source(),
                 fmt::format("{}'{}' starts with an empty program name", context, key));
        }
        return result;
    }

    std::optional<std::int64_t> integer(const toml::table& table, std::string_view key,
                                        const std::string& context, std::int64_t min,
                                        std::int64_t max) const {
        const toml::node* node = table.get(key);
        if (node == nullptr) {
            return std::nullopt;
        }
        if (!node->is_integer()) {
            fail(node->source(), fmt::format("{}'{}' must be an integer", context, key));
        }
        const std::int64_t value = node->as_integer()->get();
        if (value < min || value > max) {
            fail(node->source(),
                 out_of_limit(CountLimit{key, min, max}, fmt::format("{}'{}'", context, key),
                              std::to_string(value)));
        }
        return value;
    }

    std::optional<std::int64_t> integer(const toml::table& table, const CountLimit& limit,
                                        const std::string& context) const {
        return integer(table, limit.key, context, limit.min, limit.max);
    }

    std::optional<double> number(const toml::table& table, std::string_view key,
                                 const std::string& context) const {
        const toml::node* node = table.get(key);
        if (node == nullptr) {
            return std::nullopt;
        }
        double value = 0;
        if (node->is_integer()) {
            value = static_cast<double>(node->as_integer()->get());
        } else if (node->is_floating_point()) {
            value = node->as_floating_point()->get();
        } else {
            fail(node->source(), fmt::format("{}'{}' must be a number", context, key));
        }
        if (!std::isfinite(value) || value < 0) {
            fail(node->source(), fmt::format("{}'{}' must be a finite number >= 0", context, key));
        }
        return value;
    }

    runners::Env env(const toml::table& table, const std::string& context) const {
        runners::Env result;
        const toml::node* node = table.get("env");
        if (node == nullptr) {
            return result;
        }
        const toml::table* env_table = node->as_table();
        if (env_table == nullptr) {
            fail(node->source(),
                 fmt::format("{}'env' must be a table of strings, e.g. env = {{ CC = \"gcc\" }}",
                             context));
        }
        for (auto&& [key, value] : *env_table) {
            if (!value.is_string()) {
                fail(value.source(), fmt::format("{}env.{} must be a string", context, key.str()));
            }
            result[std::string(key.str())] = value.as_string()->get();
        }
        return result;
    }

    template <typename Duration>
    std::optional<Duration> duration(const toml::table& table, std::string_view key,
                                     const std::string& context) const {
        const std::optional<std::string> text = string(table, key, context);
        if (!text) {
            return std::nullopt;
        }
        const auto parsed = parse_duration(*text);
        if (!parsed || parsed->count() <= 0) {
            fail(table.get(key)->source(),
                 fmt::format("{}'{}' = \"{}\" is not a duration (use e.g. \"500ms\", \"60s\", "
                             "\"15m\"; at most 366d)",
                             context, key, *text));
        }
        // A limit kept in whole seconds must not round "500ms" down to an immediate timeout.
        const auto converted = std::chrono::duration_cast<Duration>(*parsed);
        if (converted.count() <= 0) {
            fail(table.get(key)->source(),
                 fmt::format("{}'{}' = \"{}\" is too short: the smallest is 1{}", context, key,
                             *text, std::is_same_v<Duration, std::chrono::seconds> ? "s" : "ms"));
        }
        return converted;
    }

    // A string key that takes one of a few words; one message style for all of them.
    template <typename Enum>
    std::optional<Enum>
    choice(const toml::table& table, std::string_view key, const std::string& context,
           std::initializer_list<std::pair<std::string_view, Enum>> choices) const {
        return choice(
            table, key, context,
            std::span<const std::pair<std::string_view, Enum>>(choices.begin(), choices.size()));
    }
    template <typename Enum>
    std::optional<Enum> choice(const toml::table& table, std::string_view key,
                               const std::string& context,
                               std::span<const std::pair<std::string_view, Enum>> choices) const {
        const std::optional<std::string> text = string(table, key, context);
        if (!text) {
            return std::nullopt;
        }
        std::string names;
        for (const auto& [name, value] : choices) {
            if (name == *text) {
                return value;
            }
            names += fmt::format("{}{}", names.empty() ? "" : ", ", name);
        }
        fail(table.get(key)->source(),
             fmt::format("{}'{}' must be one of {}, not '{}'", context, key, names, *text));
    }

    const std::filesystem::path& file() const { return m_file; }

private:
    std::filesystem::path m_file;
};

const toml::table* sub_table(const Reader& reader, const toml::table& root, std::string_view key) {
    const toml::node* node = root.get(key);
    if (node == nullptr) {
        return nullptr;
    }
    if (!node->is_table()) {
        reader.fail(node->source(), fmt::format("'{}' must be a table ([{}])", key, key));
    }
    return node->as_table();
}

BuildConfig read_build(const Reader& reader, const toml::table& table) {
    const std::string context = "[build] ";
    reader.check_keys(table, {"command", "shell", "env", "timeout"}, context);
    BuildConfig build;
    if (auto argv = reader.argv(table, "command", context)) {
        build.argv = std::move(*argv);
    }
    build.shell = reader.string(table, "shell", context);
    if (!build.argv.empty() && build.shell) {
        reader.fail(table.source(), "[build] has both 'command' and 'shell': keep one");
    }
    build.env = reader.env(table, context);
    if (auto timeout = reader.duration<std::chrono::seconds>(table, "timeout", context)) {
        build.timeout = *timeout;
    }
    // A [build] table with only env or timeout would silently build nothing.
    if (!build.present()) {
        reader.fail(table.source(), "[build] needs 'command' (argv) or 'shell' (a string)");
    }
    return build;
}

template <typename Enum, std::size_t N>
using Names = std::array<std::pair<std::string_view, Enum>, N>;

// The words of the runners' choices, for reading them and for the primary key's parameters.
constexpr Names<runners::HotpathFormat, 10> k_hotpath_formats{{
    {"gbench", runners::HotpathFormat::gbench},
    {"hyperfine", runners::HotpathFormat::hyperfine},
    {"jsonl", runners::HotpathFormat::jsonl},
    {"catch2", runners::HotpathFormat::catch2},
    {"pytest-benchmark", runners::HotpathFormat::pytest_benchmark},
    {"go", runners::HotpathFormat::go},
    {"criterion", runners::HotpathFormat::criterion},
    {"jmh", runners::HotpathFormat::jmh},
    {"benchmarkdotnet", runners::HotpathFormat::benchmarkdotnet},
    {"bmf", runners::HotpathFormat::bmf},
}};
constexpr Names<runners::Protocol, 3> k_protocols{{
    {"http", runners::Protocol::http},
    {"http-keepalive", runners::Protocol::http_keepalive},
    {"tcp", runners::Protocol::tcp},
}};
constexpr Names<runners::StreamProtocol, 3> k_stream_protocols{{
    {"http-ndjson", runners::StreamProtocol::http_ndjson},
    {"sse", runners::StreamProtocol::sse},
    {"websocket", runners::StreamProtocol::websocket},
}};
constexpr Names<runners::PublishMode, 2> k_publish_modes{{
    {"burst", runners::PublishMode::burst},
    {"paced", runners::PublishMode::paced},
}};

template <typename Enum, std::size_t N>
std::string_view name_in(const Names<Enum, N>& names, Enum value) {
    for (const auto& [name, each] : names) {
        if (each == value) {
            return name;
        }
    }
    return "?";
}

// `threshold`: in [run] for the run, in a [[workload]] for its own cases (a deterministic
// counter gates a far smaller change than wall time).
std::optional<double> read_threshold(const Reader& reader, const toml::table& table,
                                     const std::string& context) {
    const toml::node* node = table.get("threshold");
    if (node == nullptr) {
        return std::nullopt;
    }
    std::optional<double> threshold;
    if (node->is_string()) {
        threshold = parse_threshold(node->as_string()->get());
    } else if (node->is_floating_point()) {
        const double value = node->as_floating_point()->get();
        threshold = value > 0 && value < 1 ? std::optional<double>(value) : std::nullopt;
    }
    if (!threshold) {
        reader.fail(node->source(), context + "'threshold' must be a percentage like \"2%\" or "
                                              "a fraction like \"0.02\" (between 0 and 100%)");
    }
    return threshold;
}

// schedule, repeat and summary: in [run] for every workload, in a [[workload]] for itself.
DesignConfig read_design(const Reader& reader, const toml::table& table,
                         const std::string& context) {
    DesignConfig design;
    design.schedule = reader.choice<Schedule>(table, "schedule", context,
                                              {{"auto", Schedule::automatic},
                                               {"alternate", Schedule::alternate},
                                               {"duet", Schedule::duet}});
    if (auto repeat = reader.integer(table, "repeat", context, 1, 100)) {
        design.repeat = static_cast<std::size_t>(*repeat);
    }
    design.summary = reader.choice<Summary>(table, "summary", context,
                                            {{"min", Summary::min}, {"median", Summary::median}});
    return design;
}

const Keys k_design_keys{"schedule", "repeat", "summary"};

Keys with_design_keys(Keys keys) {
    keys.insert(k_design_keys.begin(), k_design_keys.end());
    return keys;
}

RunConfig read_run(const Reader& reader, const toml::table& table) {
    const std::string context = "[run] ";
    reader.check_keys(table,
                      with_design_keys({"rounds", "warmup", "seed", "threshold", "confidence",
                                        "max_rounds", "multiplicity", "pilot_rounds"}),
                      context);
    RunConfig run;
    run.design = read_design(reader, table, context);
    if (auto pilot = reader.integer(table, "pilot_rounds", context, 4, 1000)) {
        run.pilot_rounds = static_cast<std::size_t>(*pilot);
    }
    if (auto rounds = reader.integer(table, k_rounds_limit, context)) {
        run.rounds = static_cast<std::size_t>(*rounds);
    }
    if (auto warmup = reader.integer(table, "warmup", context, 0, 1000)) {
        run.warmup = static_cast<std::size_t>(*warmup);
    }
    if (auto seed = reader.integer(table, k_seed_limit, context)) {
        run.seed = static_cast<std::uint64_t>(*seed);
    }
    if (auto threshold = read_threshold(reader, table, "[run] ")) {
        run.threshold = *threshold;
    }
    if (auto confidence = reader.number(table, "confidence", context)) {
        if (*confidence <= 0.5 || *confidence >= 1) {
            reader.fail(table.get("confidence")->source(),
                        "[run] 'confidence' must be between 0.5 and 1 (e.g. 0.95)");
        }
        run.confidence = *confidence;
    }
    if (auto max_rounds = reader.integer(table, k_max_rounds_limit, context)) {
        if (static_cast<std::size_t>(*max_rounds) < run.rounds) {
            reader.fail(table.get("max_rounds")->source(),
                        fmt::format("[run] 'max_rounds' ({}) must be at least 'rounds' ({})",
                                    *max_rounds, run.rounds));
        }
        run.max_rounds = static_cast<std::size_t>(*max_rounds);
    }
    if (auto multiplicity = reader.string(table, "multiplicity", context)) {
        if (*multiplicity == "holm") {
            run.multiplicity = stats::Multiplicity::holm;
        } else if (*multiplicity == "bh") {
            run.multiplicity = stats::Multiplicity::benjamini_hochberg;
        } else {
            reader.fail(table.get("multiplicity")->source(),
                        fmt::format("[run] 'multiplicity' = \"{}\": use \"holm\" (the default) or "
                                    "\"bh\" (Benjamini-Hochberg)",
                                    *multiplicity));
        }
    }
    return run;
}

// [workload.slo]: the limits a publish or a stream workload can set (`stream` picks which).
SloConfig read_slo(const Reader& reader, const toml::table& workload, const std::string& context,
                   bool stream) {
    SloConfig slo;
    const toml::node* node = workload.get("slo");
    if (stream) {
        slo.loss_max = 0; // zero tolerance unless the workload says otherwise
    }
    if (node == nullptr) {
        return slo;
    }
    const toml::table* table = node->as_table();
    if (table == nullptr) {
        reader.fail(node->source(), context + "'slo' must be a table ([workload.slo])");
    }
    const std::string slo_context = context + "slo: ";
    if (stream) {
        reader.check_keys(*table,
                          {"first_chunk_p95_ms", "overhead_ms_max", "jitter_p95_ms", "e2e_p95_ms",
                           "loss_max", "error_rate_max", "rss_growth_kb_per_min_max",
                           "latency_p99_drift_pct_max"},
                          slo_context);
        slo.first_chunk_p95_ms = reader.number(*table, "first_chunk_p95_ms", slo_context);
        slo.overhead_ms_max = reader.number(*table, "overhead_ms_max", slo_context);
        slo.jitter_p95_ms = reader.number(*table, "jitter_p95_ms", slo_context);
        slo.e2e_p95_ms = reader.number(*table, "e2e_p95_ms", slo_context);
        slo.loss_max = reader.number(*table, "loss_max", slo_context).value_or(0);
    } else {
        reader.check_keys(*table,
                          {"p99_ms", "p95_ms", "throughput_rps_min", "error_rate_max",
                           "rss_growth_kb_per_min_max", "latency_p99_drift_pct_max"},
                          slo_context);
        slo.p99_ms = reader.number(*table, "p99_ms", slo_context);
        slo.p95_ms = reader.number(*table, "p95_ms", slo_context);
        slo.throughput_rps_min = reader.number(*table, "throughput_rps_min", slo_context);
    }
    slo.error_rate_max = reader.number(*table, "error_rate_max", slo_context);
    slo.rss_growth_kb_per_min_max = reader.number(*table, "rss_growth_kb_per_min_max", slo_context);
    slo.latency_p99_drift_pct_max = reader.number(*table, "latency_p99_drift_pct_max", slo_context);
    if ((slo.rss_growth_kb_per_min_max || slo.latency_p99_drift_pct_max) &&
        !workload.contains("duration")) {
        const char* key = slo.rss_growth_kb_per_min_max ? "rss_growth_kb_per_min_max"
                                                        : "latency_p99_drift_pct_max";
        reader.fail(table->get(key)->source(),
                    fmt::format("{}'{}' judges a soak run: the workload needs a 'duration'",
                                slo_context, key));
    }
    return slo;
}

// The command or shell of a process workload: exactly one of them.
void read_process(const Reader& reader, const toml::table& table, const std::string& context,
                  std::vector<std::string>& argv, std::optional<std::string>& shell) {
    if (auto parsed = reader.argv(table, "command", context)) {
        argv = std::move(*parsed);
    }
    shell = reader.string(table, "shell", context);
    if (shell && shell->find_first_not_of(" \t\n") == std::string::npos) {
        reader.fail(table.get("shell")->source(), context + "'shell' is empty: nothing to run");
    }
    if (argv.empty() && !shell) {
        reader.fail(table.source(), context + "missing 'command' (an argv array) or 'shell'");
    }
    if (!argv.empty() && shell) {
        reader.fail(table.source(), context + "has both 'command' and 'shell': keep one");
    }
}

bool is_control(char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
}

// A NUL in a string cuts an argv element (exec reads up to it: "./app.sh\u0000--evil" ran
// ./app.sh) and writes a raw NUL into results.csv: rejected in every string and key, anywhere.
void reject_nul(const Reader& reader, const toml::node& node, const std::string& path) {
    const auto check = [&](std::string_view text, const toml::source_region& where,
                           const std::string& what) {
        if (text.find('\0') != std::string_view::npos) {
            reader.fail(where, fmt::format("{} contains a NUL character (\\u0000)", what));
        }
    };
    if (const toml::table* table = node.as_table()) {
        for (auto&& [key, value] : *table) {
            const std::string name =
                path.empty() ? std::string(key.str()) : path + "." + std::string(key.str());
            check(key.str(), key.source(), fmt::format("key '{}'", name));
            reject_nul(reader, value, name);
        }
    } else if (const toml::array* array = node.as_array()) {
        for (std::size_t i = 0; i < array->size(); ++i) {
            reject_nul(reader, *array->get(i), fmt::format("{}[{}]", path, i));
        }
    } else if (const auto* text = node.as_string()) {
        check(text->get(), node.source(), fmt::format("'{}'", path));
    }
}

// The keys every workload kind takes, besides its own and the design's.
const Keys k_common_workload_keys{"name", "kind", "env", "timeout", "threshold"};

Keys workload_keys(std::initializer_list<const char*> own) {
    Keys keys = k_common_workload_keys;
    keys.insert(own.begin(), own.end());
    return with_design_keys(std::move(keys));
}

// What a command and a hotpath workload share: argv or shell, env and timeout.
template <typename Spec>
void read_process_workload(const Reader& reader, const toml::table& table,
                           const std::string& context, const runners::Env& env, Spec& spec) {
    read_process(reader, table, context, spec.argv, spec.shell);
    spec.env = env;
    if (auto timeout = reader.duration<std::chrono::milliseconds>(table, "timeout", context)) {
        spec.timeout = *timeout;
    }
}

// `metric` or `metrics`: the gated metrics of a command or hotpath workload (none: the kind's
// default).
std::vector<std::string> read_metrics(const Reader& reader, const toml::table& table,
                                      const std::string& context) {
    std::vector<std::string> metrics;
    if (auto metric = reader.string(table, "metric", context)) {
        metrics.push_back(*metric);
    }
    if (auto list = reader.argv(table, "metrics", context)) {
        if (!metrics.empty()) {
            reader.fail(table.source(), context + "has both 'metric' and 'metrics'");
        }
        metrics = std::move(*list);
    }
    return metrics;
}

const Keys k_counting_keys{"counters", "counter_backend", "counter_kernel"};

std::string counter_names() {
    std::string names;
    for (const auto& [word, counter] : runners::k_counters) {
        names += fmt::format("{}{}", names.empty() ? "" : ", ", word);
    }
    return names;
}

// counters, counter_backend and counter_kernel; a gated metric that names a counter is counted
// even when `counters` leaves it out.
runners::Counting read_counting(const Reader& reader, const toml::table& table,
                                const std::string& context,
                                const std::vector<std::string>& metrics) {
    runners::Counting counting;
    const auto add = [&](runners::Counter counter) {
        if (std::find(counting.counters.begin(), counting.counters.end(), counter) ==
            counting.counters.end()) {
            counting.counters.push_back(counter);
        }
    };
    if (const toml::node* node = table.get("counters")) {
        const toml::array* array = node->as_array();
        if (array == nullptr || array->empty()) {
            reader.fail(node->source(), fmt::format("{}'counters' must be a non-empty array of "
                                                    "counter names ({})",
                                                    context, counter_names()));
        }
        for (const toml::node& element : *array) {
            const auto* name = element.as_string();
            const auto counter =
                name != nullptr ? runners::counter_named(name->get()) : std::nullopt;
            if (!counter) {
                reader.fail(
                    element.source(),
                    fmt::format("{}'counters' takes {}, not {}", context, counter_names(),
                                name != nullptr ? "'" + name->get() + "'" : "a non-string"));
            }
            add(*counter);
        }
    }
    for (const std::string& metric : metrics) {
        if (const auto counter = runners::counter_named(metric)) {
            add(*counter);
        }
    }
    counting.backend = reader
                           .choice<runners::CounterBackend>(table, "counter_backend", context,
                                                            std::span(runners::k_counter_backends))
                           .value_or(runners::CounterBackend::automatic);
    if (const toml::node* node = table.get("counter_kernel")) {
        if (!node->is_boolean()) {
            reader.fail(node->source(), context + "'counter_kernel' must be true or false");
        }
        counting.include_kernel = node->as_boolean()->get();
    }
    for (const char* key : {"counter_backend", "counter_kernel"}) {
        if (!counting.active() && table.contains(key)) {
            reader.fail(table.get(key)->source(),
                        fmt::format("{}'{}' without 'counters': nothing to count", context, key));
        }
    }
    return counting;
}

runners::CommandWorkload read_command(const Reader& reader, const toml::table& table,
                                      const std::string& context, const runners::Env& env) {
    Keys keys = workload_keys({"command", "shell", "metric", "metrics"});
    keys.insert(k_counting_keys.begin(), k_counting_keys.end());
    reader.check_keys(table, keys, context);
    runners::CommandWorkload spec;
    read_process_workload(reader, table, context, env, spec);
    spec.metrics = read_metrics(reader, table, context);
    spec.counting = read_counting(reader, table, context, spec.metrics);
    for (const std::string& metric : spec.metrics) {
        if (metric != "wall_ms" && metric != "user_ms" && metric != "sys_ms" &&
            metric != "max_rss_kb" && !runners::counter_named(metric)) {
            reader.fail(table.get(table.contains("metric") ? "metric" : "metrics")->source(),
                        fmt::format("{}a command workload measures wall_ms, user_ms, sys_ms, "
                                    "max_rss_kb and the counters ({}), not '{}'",
                                    context, counter_names(), metric));
        }
    }
    return spec;
}

// directions = { metric = "higher" }: a metric's direction over the reader's.
std::map<std::string, Direction, std::less<>>
read_directions(const Reader& reader, const toml::table& table, const std::string& context) {
    std::map<std::string, Direction, std::less<>> directions;
    const toml::node* node = table.get("directions");
    if (node == nullptr) {
        return directions;
    }
    const toml::table* entries = node->as_table();
    if (entries == nullptr) {
        reader.fail(node->source(), context + "'directions' must be a table of metric names, "
                                              "e.g. directions = { my_counter = \"higher\" }");
    }
    for (auto&& [metric, value] : *entries) {
        const auto* word = value.as_string();
        const auto direction = word != nullptr ? direction_from_string(word->get()) : std::nullopt;
        if (!direction) {
            reader.fail(value.source(),
                        fmt::format("{}'directions.{}' must be \"lower\" or \"higher\"", context,
                                    metric.str()));
        }
        directions[std::string(metric.str())] = *direction;
    }
    return directions;
}

// output = "{output}" and the {output} placeholder in the command: both or neither. Not with
// output_file, which names a file of the program's own choosing instead.
bool read_output_placeholder(const Reader& reader, const toml::table& table,
                             const std::string& context, const runners::HotpathWorkload& spec) {
    const std::optional<std::string> output = reader.string(table, "output", context);
    if (output && *output != "{output}") {
        reader.fail(table.get("output")->source(),
                    fmt::format("{}'output' must be \"{{output}}\" (a per-run path abtool passes "
                                "as {{output}} in the command), not '{}'",
                                context, *output));
    }
    const bool in_command =
        (spec.shell && spec.shell->find("{output}") != std::string::npos) ||
        std::any_of(spec.argv.begin(), spec.argv.end(), [](const std::string& arg) {
            return arg.find("{output}") != std::string::npos;
        });
    const char* command_key = spec.shell ? "shell" : "command";
    if (output && !in_command) {
        reader.fail(table.get("output")->source(),
                    fmt::format("{}'output' = \"{{output}}\" but '{}' has no {{output}}: the "
                                "program would not know where to write",
                                context, command_key));
    }
    if (!output && in_command) {
        reader.fail(table.get(command_key)->source(),
                    fmt::format("{}'{}' has {{output}} but the workload has no output = "
                                "\"{{output}}\" to read that file",
                                context, command_key));
    }
    if (output && spec.output_file) {
        reader.fail(table.get("output")->source(),
                    context + "has both 'output' and 'output_file': keep one");
    }
    return output.has_value();
}

// cases = [...] and the {filter} placeholder in the command: both or neither (the program must be
// told which cases to run, and abtool must know which ones it can ask for).
std::vector<std::string> read_cases(const Reader& reader, const toml::table& table,
                                    const std::string& context,
                                    const runners::HotpathWorkload& spec) {
    std::vector<std::string> cases =
        reader.argv(table, "cases", context).value_or(std::vector<std::string>{});
    const bool in_command =
        (spec.shell && spec.shell->find("{filter}") != std::string::npos) ||
        std::any_of(spec.argv.begin(), spec.argv.end(), [](const std::string& arg) {
            return arg.find("{filter}") != std::string::npos;
        });
    const char* command_key = spec.shell ? "shell" : "command";
    if (table.contains("cases") && !in_command) {
        reader.fail(table.get("cases")->source(),
                    fmt::format("{}'cases' names the cases to pass as {{filter}}, but '{}' has "
                                "no {{filter}}: the program would run every case anyway",
                                context, command_key));
    }
    if (in_command && cases.empty()) {
        reader.fail(table.get(table.contains("cases") ? "cases" : command_key)->source(),
                    fmt::format("{}'{}' has {{filter}} but the workload lists no 'cases' to pass "
                                "in it, e.g. cases = [\"BM_parse\", \"BM_encode\"]",
                                context, command_key));
    }
    for (std::size_t i = 0; i < cases.size(); ++i) {
        if (cases[i].empty() ||
            std::find(cases.begin(), cases.begin() + static_cast<std::ptrdiff_t>(i), cases[i]) !=
                cases.begin() + static_cast<std::ptrdiff_t>(i)) {
            reader.fail(table.get("cases")->source(),
                        fmt::format("{}'cases' has {} case name '{}'", context,
                                    cases[i].empty() ? "an empty" : "a repeated", cases[i]));
        }
    }
    return cases;
}

runners::HotpathWorkload read_hotpath(const Reader& reader, const toml::table& table,
                                      const std::string& context, const runners::Env& env) {
    Keys keys = workload_keys({"command", "shell", "format", "metric", "metrics", "output_file",
                               "output", "directions", "cases"});
    keys.insert(k_counting_keys.begin(), k_counting_keys.end());
    reader.check_keys(table, keys, context);
    runners::HotpathWorkload spec;
    read_process_workload(reader, table, context, env, spec);
    spec.format =
        reader
            .choice<runners::HotpathFormat>(table, "format", context, std::span(k_hotpath_formats))
            .value_or(runners::HotpathFormat::gbench);
    spec.metrics = read_metrics(reader, table, context);
    spec.counting = read_counting(reader, table, context, spec.metrics);
    spec.output_file = reader.string(table, "output_file", context);
    spec.output_placeholder = read_output_placeholder(reader, table, context, spec);
    spec.directions = read_directions(reader, table, context);
    spec.cases = read_cases(reader, table, context, spec);
    return spec;
}

// A soak's `duration`, which stands instead of `count_key`: not both.
std::optional<std::chrono::milliseconds> read_soak_duration(const Reader& reader,
                                                            const toml::table& table,
                                                            const std::string& context,
                                                            const char* count_key) {
    auto duration = reader.duration<std::chrono::milliseconds>(table, "duration", context);
    if (duration && table.contains(count_key)) {
        reader.fail(
            table.get("duration")->source(),
            fmt::format("{}has both 'duration' (a soak) and '{}': keep one", context, count_key));
    }
    return duration;
}

// The load's `timeout`. A soak's load lasts its duration, so its default (300 s) counts from the
// duration's end, and a timeout that would cut the soak short is an error.
std::chrono::milliseconds read_load_timeout(const Reader& reader, const toml::table& table,
                                            const std::string& context,
                                            std::optional<std::chrono::milliseconds> duration,
                                            std::chrono::milliseconds timeout) {
    const auto configured = reader.duration<std::chrono::milliseconds>(table, "timeout", context);
    if (!duration) {
        return configured.value_or(timeout);
    }
    if (configured && *configured <= *duration) {
        reader.fail(table.get("timeout")->source(),
                    context + "'timeout' would stop the soak before its 'duration' ends: leave it "
                              "out (the default is the duration plus 300 s) or make it longer");
    }
    return configured.value_or(*duration + timeout);
}

runners::PublishWorkload read_publish(const Reader& reader, const toml::table& table,
                                      const std::string& context, const runners::Env& env) {
    reader.check_keys(table,
                      workload_keys({"server", "protocol", "path", "payload", "mode", "count",
                                     "concurrency", "rate", "duration", "ready_path",
                                     "ready_timeout", "request_timeout", "slo"}),
                      context);
    runners::PublishWorkload spec;
    auto server = reader.argv(table, "server", context);
    if (!server) {
        reader.fail(table.source(), context + "missing 'server' (argv with {port})");
    }
    spec.server = std::move(*server);
    spec.env = env;
    spec.protocol =
        reader.choice<runners::Protocol>(table, "protocol", context, std::span(k_protocols))
            .value_or(runners::Protocol::http);
    spec.path = reader.string(table, "path", context).value_or(spec.path);
    spec.payload = reader.string(table, "payload", context).value_or(spec.payload);
    spec.mode =
        reader.choice<runners::PublishMode>(table, "mode", context, std::span(k_publish_modes))
            .value_or(runners::PublishMode::burst);
    if (auto count = reader.integer(table, "count", context, 1, 100000000)) {
        spec.count = static_cast<std::size_t>(*count);
    }
    if (auto concurrency = reader.integer(table, "concurrency", context, 1, 10000)) {
        spec.concurrency = static_cast<std::size_t>(*concurrency);
    }
    if (auto rate = reader.number(table, "rate", context)) {
        spec.rate = *rate;
    }
    if (spec.mode == runners::PublishMode::paced && spec.rate <= 0) {
        reader.fail(table.source(), context + "mode = \"paced\" needs 'rate' (messages/s)");
    }
    spec.duration = read_soak_duration(reader, table, context, "count");
    if (spec.duration && spec.mode != runners::PublishMode::paced) {
        reader.fail(table.get("duration")->source(),
                    context + "'duration' (a soak) needs mode = \"paced\" and a 'rate': a burst "
                              "has no pace to keep for a duration");
    }
    spec.ready_path = reader.string(table, "ready_path", context);
    if (auto t = reader.duration<std::chrono::milliseconds>(table, "ready_timeout", context)) {
        spec.ready_timeout = *t;
    }
    if (auto t = reader.duration<std::chrono::milliseconds>(table, "request_timeout", context)) {
        spec.request_timeout = *t;
    }
    spec.timeout = read_load_timeout(reader, table, context, spec.duration, spec.timeout);
    return spec;
}

runners::StreamWorkload read_stream(const Reader& reader, const toml::table& table,
                                    const std::string& context, const runners::Env& env) {
    reader.check_keys(
        table,
        workload_keys({"server", "protocol", "path", "payload", "expect_chunks", "period_ms",
                       "sessions", "session_count", "duration", "ready_path", "ready_timeout",
                       "request_timeout", "chunk_timeout", "slo"}),
        context);
    runners::StreamWorkload spec;
    auto server = reader.argv(table, "server", context);
    if (!server) {
        reader.fail(table.source(), context + "missing 'server' (argv with {port})");
    }
    spec.server = std::move(*server);
    spec.env = env;
    spec.protocol = reader
                        .choice<runners::StreamProtocol>(table, "protocol", context,
                                                         std::span(k_stream_protocols))
                        .value_or(runners::StreamProtocol::http_ndjson);
    spec.path = reader.string(table, "path", context).value_or(spec.path);
    spec.payload = reader.string(table, "payload", context).value_or(spec.payload);
    const auto expect = reader.integer(table, "expect_chunks", context, 1, 100000000);
    if (!expect) {
        reader.fail(table.source(), context + "missing 'expect_chunks' (the chunks each session "
                                              "should receive; fewer count as lost)");
    }
    spec.expect_chunks = static_cast<std::size_t>(*expect);
    if (table.contains("period_ms")) {
        spec.period_ms = reader.number(table, "period_ms", context);
    }
    if (auto sessions = reader.integer(table, "sessions", context, 1, 10000)) {
        spec.sessions = static_cast<std::size_t>(*sessions);
    }
    if (auto count = reader.integer(table, "session_count", context, 1, 100000000)) {
        spec.session_count = static_cast<std::size_t>(*count);
    }
    spec.duration = read_soak_duration(reader, table, context, "session_count");
    spec.ready_path = reader.string(table, "ready_path", context);
    if (auto t = reader.duration<std::chrono::milliseconds>(table, "ready_timeout", context)) {
        spec.ready_timeout = *t;
    }
    if (auto t = reader.duration<std::chrono::milliseconds>(table, "request_timeout", context)) {
        spec.request_timeout = *t;
    }
    if (auto t = reader.duration<std::chrono::milliseconds>(table, "chunk_timeout", context)) {
        spec.chunk_timeout = *t;
    }
    spec.timeout = read_load_timeout(reader, table, context, spec.duration, spec.timeout);
    return spec;
}

// The workload's name: present, not empty, no control character.
std::string read_workload_name(const Reader& reader, const toml::table& table,
                               const std::string& context) {
    const std::optional<std::string> name = reader.string(table, "name", context);
    if (!name || name->empty()) {
        reader.fail(table.source(), context + "missing 'name'");
    }
    if (const auto bad = std::find_if(name->begin(), name->end(), is_control); bad != name->end()) {
        reader.fail(table.get("name")->source(),
                    fmt::format("{}'name' contains control character 0x{:02x}: a workload's name "
                                "goes into results.csv and every report",
                                context, static_cast<unsigned char>(*bad)));
    }
    return *name;
}

enum class WorkloadKind { command, hotpath, publish, stream };

WorkloadConfig read_workload(const Reader& reader, const toml::table& table, std::size_t index) {
    WorkloadConfig config;
    config.workload.name =
        read_workload_name(reader, table, fmt::format("[[workload]] #{}: ", index + 1));
    const std::string context = fmt::format("[[workload]] '{}': ", config.workload.name);
    const std::optional<WorkloadKind> kind =
        reader.choice<WorkloadKind>(table, "kind", context,
                                    {{"command", WorkloadKind::command},
                                     {"hotpath", WorkloadKind::hotpath},
                                     {"publish", WorkloadKind::publish},
                                     {"stream", WorkloadKind::stream}});
    if (!kind) {
        reader.fail(table.source(),
                    context + "missing 'kind' (command, hotpath, publish or stream)");
    }
    config.line = static_cast<int>(table.source().begin.line);
    const runners::Env env = reader.env(table, context);
    if (const toml::node* slo = table.get("slo");
        slo != nullptr && *kind != WorkloadKind::publish && *kind != WorkloadKind::stream) {
        reader.fail(slo->source(), context + "'slo' applies to publish and stream workloads only");
    }
    switch (*kind) {
    case WorkloadKind::command:
        config.workload.spec = read_command(reader, table, context, env);
        break;
    case WorkloadKind::hotpath:
        config.workload.spec = read_hotpath(reader, table, context, env);
        break;
    case WorkloadKind::publish:
        config.workload.spec = read_publish(reader, table, context, env);
        config.slo = read_slo(reader, table, context, false);
        break;
    case WorkloadKind::stream:
        config.workload.spec = read_stream(reader, table, context, env);
        config.slo = read_slo(reader, table, context, true);
        break;
    }
    config.design = read_design(reader, table, context);
    config.threshold = read_threshold(reader, table, context);
    return config;
}

} // namespace

const WorkloadConfig* Config::workload(std::string_view name) const {
    const auto it = std::find_if(workloads.begin(), workloads.end(),
                                 [&](const WorkloadConfig& w) { return w.workload.name == name; });
    return it == workloads.end() ? nullptr : &*it;
}

std::string WorkloadConfig::describe(const std::filesystem::path& file) const {
    return fmt::format("workload '{}' ({}:{})", workload.name, file.string(), line);
}

std::string_view to_string(runners::HotpathFormat format) {
    return name_in(k_hotpath_formats, format);
}

std::string_view to_string(runners::Protocol protocol) {
    return name_in(k_protocols, protocol);
}

std::string_view to_string(runners::PublishMode mode) {
    return name_in(k_publish_modes, mode);
}

std::string_view to_string(runners::StreamProtocol protocol) {
    return name_in(k_stream_protocols, protocol);
}

std::string to_string(Schedule schedule) {
    switch (schedule) {
    case Schedule::alternate:
        return "alternate";
    case Schedule::duet:
        return "duet";
    case Schedule::automatic:
        break;
    }
    return "auto";
}

std::string to_string(Summary summary) {
    return summary == Summary::min ? "min" : "median";
}

std::string out_of_limit(const CountLimit& limit, std::string_view name, std::string_view value) {
    return fmt::format("{} must be between {} and {}, not {}", name, limit.min, limit.max, value);
}

std::optional<std::string> flag_count_error(const CountLimit& limit, std::string_view text) {
    std::int64_t value = 0;
    const char* end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data(), end, value);
    if (text.empty() || (error != std::errc() && error != std::errc::result_out_of_range) ||
        stop != end) {
        return fmt::format("must be a whole number, not '{}'", text);
    }
    if (error == std::errc::result_out_of_range || value < limit.min || value > limit.max) {
        std::string message = out_of_limit(limit, "", text);
        return message.substr(1); // without the name's space
    }
    return std::nullopt;
}

std::optional<Schedule> parse_schedule(std::string_view text) {
    for (Schedule schedule : {Schedule::alternate, Schedule::duet, Schedule::automatic}) {
        if (text == to_string(schedule)) {
            return schedule;
        }
    }
    return std::nullopt;
}

std::optional<Summary> parse_summary(std::string_view text) {
    for (Summary summary : {Summary::min, Summary::median}) {
        if (text == to_string(summary)) {
            return summary;
        }
    }
    return std::nullopt;
}

std::optional<double> parse_threshold(std::string_view text) {
    std::string trimmed;
    for (char c : text) {
        if (!std::isspace(static_cast<unsigned char>(c))) {
            trimmed += c;
        }
    }
    bool percent = false;
    if (!trimmed.empty() && trimmed.back() == '%') {
        percent = true;
        trimmed.pop_back();
    }
    if (trimmed.empty()) {
        return std::nullopt;
    }
    std::istringstream in(trimmed);
    double value = 0;
    in >> value;
    if (in.fail() || !in.eof() || !std::isfinite(value)) {
        return std::nullopt;
    }
    if (percent) {
        value /= 100;
    }
    if (value <= 0 || value >= 1) {
        return std::nullopt;
    }
    return value;
}

double threshold_from_flag(std::string_view text) {
    const auto threshold = parse_threshold(text);
    if (!threshold) {
        throw Error(ErrorKind::usage, fmt::format("--threshold '{}' is not a percentage like 2% or "
                                                  "a fraction like 0.02 (between 0 and 100%)",
                                                  text));
    }
    return *threshold;
}

constexpr double k_longest_duration_ms = 366.0 * 86400e3;

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
    std::size_t digits = 0;
    while (digits < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.')) {
        ++digits;
    }
    if (digits == 0) {
        return std::nullopt;
    }
    std::istringstream in{std::string(text.substr(0, digits))};
    double value = 0;
    in >> value;
    if (in.fail() || !in.eof()) {
        return std::nullopt;
    }
    const std::string_view unit = text.substr(digits);
    double factor_ms = 0;
    if (unit == "ms") {
        factor_ms = 1;
    } else if (unit == "s") {
        factor_ms = 1e3;
    } else if (unit == "m") {
        factor_ms = 60e3;
    } else if (unit == "h") {
        factor_ms = 3600e3;
    } else if (unit == "d") {
        factor_ms = 86400e3;
    } else {
        return std::nullopt;
    }
    // Past a year a duration is a typo, and far past it the conversion to the steady clock's
    // nanoseconds overflows into an instant timeout.
    if (!(value * factor_ms <= k_longest_duration_ms)) {
        return std::nullopt;
    }
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(value * factor_ms)));
}

Config parse_config(std::string_view text, const std::filesystem::path& source) {
    const Reader reader(source);
    toml::table root;
    try {
        root = toml::parse(text, source.string());
    } catch (const toml::parse_error& error) {
        reader.fail(error.source(), std::string(error.description()));
    }
    reader.check_keys(root, {"build", "run", "results", "workload"}, "");
    reject_nul(reader, root, "");

    Config config;
    config.file = source;
    config.text = std::string(text);
    if (const toml::table* build = sub_table(reader, root, "build")) {
        config.build = read_build(reader, *build);
    }
    if (const toml::table* run = sub_table(reader, root, "run")) {
        config.run = read_run(reader, *run);
    }
    std::filesystem::path results = "results.csv";
    if (const toml::table* table = sub_table(reader, root, "results")) {
        reader.check_keys(*table, {"file"}, "[results] ");
        if (auto file = reader.string(*table, "file", "[results] ")) {
            if (file->empty()) {
                reader.fail(table->get("file")->source(), "[results] 'file' must not be empty");
            }
            results = *file;
        }
    }
    config.results_file = results.is_absolute() ? results : source.parent_path() / results;

    const toml::node* workloads = root.get("workload");
    if (workloads == nullptr) {
        reader.fail(root.source(), "no [[workload]] defined: add at least one");
    }
    const toml::array* array = workloads->as_array();
    if (array != nullptr && array->empty()) {
        reader.fail(workloads->source(), "no [[workload]] defined: add at least one");
    }
    if (array == nullptr || !array->is_array_of_tables()) {
        reader.fail(workloads->source(), "'workload' must be an array of tables ([[workload]])");
    }
    std::set<std::string> names;
    for (std::size_t i = 0; i < array->size(); ++i) {
        const toml::table& table = *array->get(i)->as_table();
        WorkloadConfig workload = read_workload(reader, table, i);
        if (!names.insert(workload.workload.name).second) {
            reader.fail(table.source(),
                        fmt::format("duplicate workload name '{}'", workload.workload.name));
        }
        config.workloads.push_back(std::move(workload));
    }
    return config;
}

Config load_config(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw Error(ErrorKind::usage, fmt::format("cannot read config file {}", file.string()),
                    "abtool reads abtool.toml at the repository root; pass --config FILE to use "
                    "another");
    }
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    return parse_config(text, file);
}

namespace {
// --workload: the named workloads only, in the order named.
void select_workloads(const std::vector<std::string>& names, Config& config) {
    if (!names.empty()) {
        std::vector<WorkloadConfig> selected;
        for (const std::string& name : names) {
            auto it =
                std::find_if(config.workloads.begin(), config.workloads.end(),
                             [&](const WorkloadConfig& w) { return w.workload.name == name; });
            if (it == config.workloads.end()) {
                std::string known;
                for (const WorkloadConfig& workload : config.workloads) {
                    known += (known.empty() ? "" : ", ") + workload.workload.name;
                }
                throw Error(ErrorKind::usage,
                            fmt::format("--workload '{}' is not in {}", name, config.file.string()),
                            "workloads: " + known);
            }
            selected.push_back(*it);
        }
        config.workloads = std::move(selected);
    }
}
} // namespace

void apply_run_flags(const RunOptions& options, Config& config) {
    // The counts are within the limits of the keys they override: cli.cpp checked them.
    if (options.rounds) {
        config.run.rounds = static_cast<std::size_t>(*options.rounds);
        if (config.run.max_rounds && *config.run.max_rounds < config.run.rounds) {
            config.run.max_rounds = config.run.rounds;
        }
    }
    if (options.max_rounds) {
        const auto max_rounds = static_cast<std::size_t>(*options.max_rounds);
        if (max_rounds < config.run.rounds) {
            throw Error(ErrorKind::usage,
                        fmt::format("--max-rounds ({}) must be at least the rounds ({})",
                                    max_rounds, config.run.rounds));
        }
        config.run.max_rounds = max_rounds;
    }
    if (!config.run.max_rounds && options.default_max_rounds_factor > 0) {
        config.run.max_rounds = config.run.rounds * options.default_max_rounds_factor;
    }
    if (!options.adaptive) {
        config.run.max_rounds.reset();
    }
    if (options.measurement.seed) {
        config.run.seed = static_cast<std::uint64_t>(*options.measurement.seed);
    }
    if (options.threshold) {
        config.run.threshold = threshold_from_flag(*options.threshold);
        if (options.threshold_everywhere) {
            for (WorkloadConfig& workload : config.workloads) {
                workload.threshold.reset();
            }
        }
    }
    if (options.results) {
        config.results_file = std::filesystem::absolute(*options.results);
    }
    select_workloads(options.workloads, config);
}

} // namespace abtool
