#include "runners/workload_runners.hpp"

#include "abtool/error.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <unistd.h>
#include <utility>

namespace abtool::runners {

std::vector<std::string> gated_metrics(const Workload& workload) {
    if (const auto* command = std::get_if<CommandWorkload>(&workload.spec)) {
        return command->metrics.empty() ? std::vector<std::string>{"wall_ms"} : command->metrics;
    }
    if (std::holds_alternative<PublishWorkload>(workload.spec)) {
        return {"latency_p50_ms", "throughput_rps"};
    }
    if (const auto* stream = std::get_if<StreamWorkload>(&workload.spec)) {
        if (stream->expect_chunks < 2) {
            return {"first_chunk_p50_ms"}; // no interval between chunks to gate
        }
        return {"first_chunk_p50_ms", "interval_mean_ms"};
    }
    const auto& hotpath = std::get<HotpathWorkload>(workload.spec);
    if (!hotpath.metrics.empty()) {
        return hotpath.metrics;
    }
    if (auto metric = default_gated_metric(hotpath.format)) {
        return {*metric};
    }
    return {};
}

const Counting* counting_of(const Workload& workload) {
    if (const auto* command = std::get_if<CommandWorkload>(&workload.spec)) {
        return &command->counting;
    }
    if (const auto* hotpath = std::get_if<HotpathWorkload>(&workload.spec)) {
        return &hotpath->counting;
    }
    return nullptr;
}

Counting* counting_of(Workload& workload) {
    return const_cast<Counting*>(counting_of(std::as_const(workload)));
}

std::string display_command(const std::vector<std::string>& argv,
                            const std::optional<std::string>& shell) {
    constexpr std::size_t k_shown = 200;
    std::string text = shell ? *shell : fmt::format("{}", fmt::join(argv, " "));
    if (text.size() <= k_shown + 40) {
        return text;
    }
    const std::size_t cut = text.size() - k_shown;
    text.resize(k_shown);
    return shell
               ? fmt::format("{}... ({} more bytes)", text, cut)
               : fmt::format("{}... ({} more bytes, {} arguments in all)", text, cut, argv.size());
}

std::string display_command(const Workload& workload) {
    return std::visit(
        [](const auto& spec) {
            using Spec = std::decay_t<decltype(spec)>;
            if constexpr (std::is_same_v<Spec, PublishWorkload> ||
                          std::is_same_v<Spec, StreamWorkload>) {
                return display_command(spec.server);
            } else {
                return display_command(spec.argv, spec.shell);
            }
        },
        workload.spec);
}

std::string shell_quote(std::string_view text) {
    std::string quoted = "'";
    for (const char c : text) {
        if (c == '\'') {
            quoted += "'\\''";
        } else {
            quoted += c;
        }
    }
    return quoted + "'";
}

Gate gate_of(const Workload& workload, std::string_view metric) {
    return std::visit([&](const auto& spec) { return gate_of(spec, metric); }, workload.spec);
}

std::string_view kind_name(const Workload& workload) {
    return std::visit(
        [](const auto& spec) -> std::string_view {
            using Spec = std::decay_t<decltype(spec)>;
            if constexpr (std::is_same_v<Spec, CommandWorkload>) {
                return "command";
            } else if constexpr (std::is_same_v<Spec, HotpathWorkload>) {
                return "hotpath";
            } else if constexpr (std::is_same_v<Spec, PublishWorkload>) {
                return "publish";
            } else {
                return "stream";
            }
        },
        workload.spec);
}

RunResult result_of(const ProcessResult& process) {
    RunResult result;
    result.start_unix_ns = process.start_unix_ns;
    result.wall_ms = process.wall_ms;
    result.interrupted = process.interrupted;
    result.strays = process.strays;
    result.pending_sweep = process.pending_sweep;
    if (!process.ok()) {
        result.error = process.describe_failure();
    }
    return result;
}

RunOutput::RunOutput(const RunContext& context)
    : m_path(context.stdout_file), m_temporary(context.stdout_file.empty()) {
    if (!m_temporary) {
        // Made by the first run that writes there (a publish workload has no stdout to keep).
        std::error_code error;
        std::filesystem::create_directories(m_path.parent_path(), error);
        if (error) {
            throw Error(ErrorKind::storage,
                        fmt::format("cannot create {}: {}", m_path.parent_path().string(),
                                    error.message()));
        }
        return;
    }
    std::string name = (std::filesystem::temp_directory_path() / "abtool-stdout-XXXXXX").string();
    const int fd = mkstemp(name.data());
    if (fd < 0) {
        throw Error(ErrorKind::io, fmt::format("cannot create a temporary file in {}: {}",
                                               std::filesystem::temp_directory_path().string(),
                                               std::strerror(errno)));
    }
    close(fd);
    m_path = name;
}

RunOutput::~RunOutput() {
    std::error_code error;
    const std::uintmax_t size = std::filesystem::file_size(m_path, error);
    if (m_temporary || error || size == 0) {
        std::filesystem::remove(m_path, error);
        return;
    }
    if (size <= k_kept_output_max) {
        return;
    }
    // The whole output was parsed already; what stays is its beginning and a line saying so.
    std::filesystem::resize_file(m_path, k_kept_output_max, error);
    if (std::FILE* file = std::fopen(m_path.c_str(), "ab")) {
        std::fprintf(file,
                     "\n[abtool: output cut here: the run printed %ju bytes, the first %ju "
                     "are kept]\n",
                     size, k_kept_output_max);
        std::fclose(file);
    }
}

RunResult run_workload(const Workload& workload, const RunContext& context) {
    return std::visit(
        [&](const auto& spec) {
            using Spec = std::decay_t<decltype(spec)>;
            if constexpr (std::is_same_v<Spec, CommandWorkload>) {
                return run_command(spec, context);
            } else if constexpr (std::is_same_v<Spec, HotpathWorkload>) {
                return run_hotpath(spec, workload.name, context);
            } else if constexpr (std::is_same_v<Spec, PublishWorkload>) {
                // Sets RunResult::interrupted itself: only it knows whether the load was cut
                // short or had finished before the stop request.
                return run_publish(spec, context);
            } else {
                return run_stream(spec, context); // the same
            }
        },
        workload.spec);
}

} // namespace abtool::runners
