// What `abtool bisect` shows: the terminal's header, probe table, steps and culprit, and the same
// as Markdown (--markdown) and JSON (--json, the log's own text).
#include "src/commands/bisect_log.hpp"

#include "abtool/atomic_file.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>

namespace abtool {

namespace {

std::string percent(double value) {
    return std::isfinite(value) ? fmt::format("{:.0f}%", value * 100) : "—";
}

std::string share_text(const bisect::Probe& probe) {
    if (!std::isfinite(probe.share)) {
        return "—";
    }
    return fmt::format("{} [{}, {}]", percent(probe.share), percent(probe.share_low),
                       percent(probe.share_high));
}

std::string step_text(const BisectLog& log, const bisect::Step& step) {
    const worktrees::CommitInfo& last = log.commits[step.high];
    if (!step.exact()) {
        return fmt::format("somewhere in {}..{} ({} commits after {}, each skipped or unsure; "
                           "{:+.1f}% over the range)",
                           log.commits[step.low + 1].commit.substr(0, 12),
                           last.commit.substr(0, 12), step.high - step.low,
                           log.commits[step.low].commit.substr(0, 12),
                           std::expm1(step.range_delta) * 100);
    }
    return fmt::format("{} {} ({}, {})\n  against its parent {}: {}{}", last.commit.substr(0, 12),
                       last.subject, last.date, last.author,
                       log.commits[step.low].commit.substr(0, 12), describe(step.own),
                       step.own.run_dir.empty() ? "" : "\n  run " + step.own.run_dir);
}

std::string markdown(const BisectLog& log) {
    std::string out =
        fmt::format("## abtool bisect: {}\n\nFrom {} to {}: {}\n\n", describe(log.selection),
                    describe(log.good), describe(log.bad), describe(log.confirmation));
    out += "| probe | commit | subject | share of D | rounds | verdict |\n"
           "|---|---|---|---|---|---|\n";
    std::size_t number = 0;
    for (const bisect::Probe& probe : log.search.probes) {
        const worktrees::CommitInfo& commit = log.commits[probe.index];
        out += fmt::format("| {} | `{}` | {} | {} | {} | {} |\n", ++number,
                           commit.commit.substr(0, 12), commit.subject, share_text(probe),
                           probe.from_low.rounds + probe.to_high.rounds,
                           bisect::to_string(probe.verdict));
    }
    out += "\n";
    for (const bisect::Step& step : log.search.steps) {
        out +=
            fmt::format("- **{}** {}\n", step.exact() ? "culprit" : "range", step_text(log, step));
    }
    if (log.search.steps.size() > 1) {
        out += fmt::format("\n{} step changes: the endpoints' delta is not one commit's.\n",
                           log.search.steps.size());
    }
    return out;
}

} // namespace

void print_header(const BisectLog& log) {
    std::fprintf(stdout,
                 "bisect: %s, %s to %s: %s\n"
                 "bisect: %zu first-parent commits to search; rule: %s\n",
                 describe(log.selection).c_str(), describe(log.good).c_str(),
                 describe(log.bad).c_str(), describe(log.confirmation).c_str(),
                 log.commits.size() - 1, log.to_json()["rule"].get<std::string>().c_str());
    std::fflush(stdout);
}

void print_result(const BisectLog& log) {
    std::fprintf(stdout, "\n%-5s %-12s %-24s %6s  %-8s %s\n", "probe", "commit",
                 "share of D [interval]", "rounds", "verdict", "subject");
    std::size_t number = 0;
    for (const bisect::Probe& probe : log.search.probes) {
        const worktrees::CommitInfo& commit = log.commits[probe.index];
        std::fprintf(stdout, "%-5zu %-12s %-24s %6zu  %-8s %s\n", ++number,
                     commit.commit.substr(0, 12).c_str(), share_text(probe).c_str(),
                     probe.from_low.rounds + probe.to_high.rounds,
                     std::string(bisect::to_string(probe.verdict)).c_str(), commit.subject.c_str());
    }
    const std::vector<bisect::Step>& steps = log.search.steps;
    if (steps.size() > 1) {
        std::fprintf(stdout,
                     "\n%zu step changes: the endpoints' delta is not explained by one commit\n",
                     steps.size());
        for (const bisect::Step& step : steps) {
            std::fprintf(stdout, "  step: %s\n", step_text(log, step).c_str());
        }
    }
    if (const bisect::Step* largest = bisect::largest_step(log.search)) {
        std::fprintf(stdout, "\n%s%s: %s\nlog: %s\n", steps.size() > 1 ? "largest " : "",
                     largest->exact() ? "culprit" : "range", step_text(log, *largest).c_str(),
                     log.file.c_str());
    }
}

void write_bisect_outputs(const BisectLog& log, const BisectOptions& options) {
    if (options.json) {
        write_file_atomically(*options.json, log.to_json().dump(2) + "\n");
    }
    if (options.markdown) {
        write_file_atomically(*options.markdown, markdown(log));
    }
}

} // namespace abtool
