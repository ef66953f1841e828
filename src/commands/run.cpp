#include "src/commands/commands.hpp"

#include "src/commands/conclude.hpp"
#include "src/experiment/remote.hpp"
#include "src/experiment/session.hpp"
#include "src/results/results_store.hpp"

#include <fmt/format.h>

#include <csignal>
#include <cstdio>

namespace abtool {

int run_comparison(const RunOptions& options) {
    if (options.as_target) {
        // The caller at the other end of ssh analyses, gates and appends (remote.hpp). A write
        // to a connection that is gone fails (EPIPE) and stops the run, instead of killing
        // abtool before it stops its children.
        std::signal(SIGPIPE, SIG_IGN);
        const Experiment experiment = run_experiment(options);
        stream_to_caller("run", experiment.run_dir.path().string());
        return 0;
    }
    const std::optional<Target> target = ssh_target(options);
    const Experiment experiment =
        target ? run_on_target(options, *target) : run_experiment(options);
    if (const std::optional<Shard>& shard = experiment.plan.shard) {
        // A shard's verdicts are corrected over its own cases only: abtool merge of all of them
        // gives the gate and the results.csv rows.
        const std::string label = fmt::format("shard {}/{}", shard->index, shard->count);
        const int code =
            conclude(experiment.report, options.outputs, options.strict, experiment.run_dir, label);
        std::fprintf(stdout,
                     "%s: nothing appended to results.csv; `abtool merge` of all %zu shards' run "
                     "directories gives the gate\nrun: %s\n",
                     label.c_str(), shard->count, experiment.run_dir.path().string().c_str());
        return code;
    }
    if (!experiment.report.unmeasured.empty()) {
        // A gated metric without a comparable value: the verdict table says why, then exit 3;
        // results.csv gets nothing from a run that did not measure what it gates.
        return conclude(experiment.report, options.outputs, options.strict, experiment.run_dir);
    }
    // The verdicts first: a results.csv that cannot take the rows (a full disk) must not hide
    // them. Only a complete run reaches this line, so results.csv never holds a partial run.
    const int code =
        conclude(experiment.report, options.outputs, options.strict, experiment.run_dir);
    const std::vector<ResultRow> rows = rows_from_report(experiment.report);
    ResultsStore store(experiment.config.results_file);
    store.append(rows);
    std::fprintf(stdout, "results: %zu row(s) appended to %s\nrun: %s\n", rows.size(),
                 store.file().string().c_str(), experiment.run_dir.path().string().c_str());
    return code;
}

} // namespace abtool
