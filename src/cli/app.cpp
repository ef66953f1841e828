#include "src/cli/app.hpp"

#include "abtool/error.hpp"
#include "abtool/runners.hpp"
#include "src/cli/cli.hpp"
#include "src/commands/commands.hpp"

#include <csignal>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <unistd.h>

namespace abtool {

namespace {

// The first SIGINT/SIGTERM/SIGHUP asks the running child to stop and the session to end cleanly
// (exit 130, samples kept). A second one means "now": the children lead their own process
// groups, so the terminal's Ctrl-C never reaches them; kill their groups, then exit 130 at once.
// GitHub Actions sends SIGINT, then SIGTERM 7.5 s later: the clean stop fits in between.
// One atomic exchange, not a check and then a set: two signals landing together (on two threads,
// or one interrupting the handler) must count as two, so exactly one of them takes the first path.
void on_stop_signal(int) {
    if (runners::request_stop()) {
        runners::kill_running_groups();
        _exit(130);
    }
}

void install_signal_handlers() {
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
    sigaction(SIGHUP, &action, nullptr); // the terminal or the ssh session that started us closed
}

int dispatch(const Command& command) {
    return std::visit(
        [](const auto& options) -> int {
            using Options = std::decay_t<decltype(options)>;
            if constexpr (std::is_same_v<Options, ShowedHelp>) {
                return 0;
            } else if constexpr (std::is_same_v<Options, RunOptions>) {
                return run_comparison(options);
            } else if constexpr (std::is_same_v<Options, AnalyzeOptions>) {
                return run_analyze(options);
            } else if constexpr (std::is_same_v<Options, CompareOptions>) {
                return run_compare(options);
            } else if constexpr (std::is_same_v<Options, HistoryOptions>) {
                return run_history(options);
            } else if constexpr (std::is_same_v<Options, CalibrateOptions>) {
                return run_calibrate(options);
            } else if constexpr (std::is_same_v<Options, DemoOptions>) {
                return run_demo(options);
            } else if constexpr (std::is_same_v<Options, GcCommandOptions>) {
                return run_gc(options);
            } else if constexpr (std::is_same_v<Options, BisectOptions>) {
                return run_bisect(options);
            } else {
                return run_merge(options);
            }
        },
        command);
}

} // namespace

int run(int argc, const char* const* argv) {
    try {
        install_signal_handlers();
        // A workload's orphans become abtool's children rather than init's, so that the sweep at
        // the end of each run reaps what it kills (runners::run_process).
        runners::become_subreaper();
        // Workloads run through abtool-exec where it is installed beside this binary, so that
        // their max_rss_kb is their own (runners/exec_helper.cpp); without it, directly.
        std::error_code ec;
        const std::filesystem::path helper =
            std::filesystem::read_symlink("/proc/self/exe", ec).parent_path() / "abtool-exec";
        if (!ec && access(helper.c_str(), X_OK) == 0) {
            runners::set_exec_helper(helper);
        }
        return dispatch(parse_command_line(argc, argv));
    } catch (const Error& error) {
        std::fflush(stdout);
        std::fprintf(stderr, "abtool: error: %s\n", error.what());
        if (!error.hint().empty()) {
            std::fprintf(stderr, "hint: %s\n", error.hint().c_str());
        }
        return exit_code_for(error.kind());
    } catch (const std::filesystem::filesystem_error& error) {
        std::fflush(stdout);
        std::fprintf(stderr, "abtool: error: %s\n", error.what());
        return exit_code_for(ErrorKind::io);
    } catch (const std::exception& error) {
        // A broken invariant, not a user error: say so plainly.
        std::fflush(stdout);
        std::fprintf(stderr, "abtool: internal error: %s\n", error.what());
        return 3;
    }
}

} // namespace abtool
