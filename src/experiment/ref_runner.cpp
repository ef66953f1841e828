#include "src/experiment/ref_runner.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cstdint>

#include <exception>
#include <thread>
#include <type_traits>
#include <variant>

namespace abtool {

namespace {

// ABTOOL_ENV_PADDING's length is drawn from [0, k_env_padding_max) per run, from its own seeded
// stream so that the schedule's draws do not depend on it.
constexpr std::uint64_t k_env_padding_max = 4096;
constexpr std::uint64_t k_env_padding_stream = 0xabf00d5eedULL;

runners::Workload with_worktree(const runners::Workload& workload,
                                const std::filesystem::path& worktree) {
    // {worktree} placeholders name the ref's own checkout: as it is in an argv element, as one
    // quoted shell word in a shell string (a checkout path holding $(...) stays a path).
    runners::Workload copy = workload;
    const auto substitute = [](std::string& text, const std::string& value) {
        for (std::size_t at = text.find("{worktree}"); at != std::string::npos;
             at = text.find("{worktree}", at)) {
            text.replace(at, 10, value);
            at += value.size();
        }
    };
    const std::string quoted = runners::shell_quote(worktree.string());
    std::visit(
        [&](auto& spec) {
            using Spec = std::decay_t<decltype(spec)>;
            std::vector<std::string>* argv = nullptr;
            if constexpr (std::is_same_v<Spec, runners::PublishWorkload> ||
                          std::is_same_v<Spec, runners::StreamWorkload>) {
                argv = &spec.server;
            } else {
                argv = &spec.argv;
                if (spec.shell) {
                    substitute(*spec.shell, quoted);
                }
            }
            for (std::string& arg : *argv) {
                substitute(arg, worktree.string());
            }
        },
        copy.spec);
    return copy;
}

runners::RunResult run_with(const RunRequest& request, const runners::RunContext& context) {
    return runners::run_workload(with_worktree(request.workload->workload, context.worktree),
                                 context);
}

} // namespace

RefRunner::RefRunner(const RefSide& a, const RefSide& b, const RunOptions& options,
                     std::uint64_t seed, RunDir run_dir)
    : m_a(a), m_b(b), m_options(options), m_padding(seed ^ k_env_padding_stream),
      m_run_dir(std::move(run_dir)) {}

runners::RunResult RefRunner::run(const RunRequest& request) {
    return run_with(request, context(request, nullptr));
}

std::pair<runners::RunResult, runners::RunResult>
RefRunner::run_together(const RunRequest& first, const RunRequest& second) {
    const auto gate = std::make_shared<runners::StartGate>(2);
    // Contexts (and their padding draws) are made here, in one order, before any thread.
    const runners::RunContext context_first = context(first, gate);
    const runners::RunContext context_second = context(second, gate);
    runners::RunResult result_second;
    std::exception_ptr error_second;
    std::thread thread([&] {
        try {
            result_second = run_with(second, context_second);
        } catch (...) {
            error_second = std::current_exception();
        }
    });
    runners::RunResult result_first;
    std::exception_ptr error_first;
    try {
        result_first = run_with(first, context_first);
    } catch (...) {
        error_first = std::current_exception();
    }
    thread.join();
    // Both runs are over: now the processes they left behind can be looked for without taking
    // CPU from a run still being measured.
    for (runners::RunResult* result : {&result_first, &result_second}) {
        if (!result->pending_sweep.empty()) {
            result->strays = runners::sweep_strays(result->pending_sweep);
            result->pending_sweep.clear();
        }
    }
    for (const std::exception_ptr& error : {error_first, error_second}) {
        if (error) {
            std::rethrow_exception(error);
        }
    }
    return {std::move(result_first), std::move(result_second)};
}

runners::RunContext RefRunner::context(const RunRequest& request,
                                       std::shared_ptr<runners::StartGate> gate) {
    runners::RunContext context;
    context.worktree = side(request.side).worktree->path();
    context.cpus = request.cpus;
    context.load_cpus = request.load_cpus;
    context.nice = m_options.measurement.nice;
    context.label = side(request.side).label;
    context.start_gate = std::move(gate);
    if (!request.output_name.empty()) {
        context.stdout_file =
            m_run_dir.stdout_file(request.workload->workload.name, request.output_name);
    }
    if (m_options.measurement.env_padding) {
        // A random-length variable moves the stack's alignment from run to run, so neither ref
        // keeps a lucky or unlucky layout (Mytkowicz et al., ASPLOS 2009; hyperfine).
        context.env["ABTOOL_ENV_PADDING"] = std::string(m_padding.below(k_env_padding_max), 'x');
    }
    return context;
}

} // namespace abtool
