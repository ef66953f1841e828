#include "src/commands/bisect_log.hpp"

#include "abtool/atomic_file.hpp"
#include "abtool/error.hpp"

#include <fmt/format.h>

#include <cmath>
#include <fstream>

namespace abtool {

namespace {

using bisect::PairOutcome;
using nlohmann::json;

json number(double value) {
    return std::isfinite(value) ? json(value) : json(nullptr);
}
double number_of(const json& value) {
    return value.is_number() ? value.get<double>() : bisect::k_undefined;
}

json outcome_json(const PairOutcome& outcome) {
    return {
        {"a", outcome.a},
        {"b", outcome.b},
        {"threshold", outcome.threshold},
        {"rounds_kind", outcome.rounds_kind == bisect::Rounds::planned ? "planned" : "adaptive"},
        {"ran", outcome.ran},
        {"failure", outcome.failure},
        {"verdict", stats::to_string(outcome.verdict)},
        {"delta_pct", outcome.ran ? number(outcome.delta_pct) : json(nullptr)},
        {"ci_low_pct", outcome.ran ? number(outcome.ci_low_pct) : json(nullptr)},
        {"ci_high_pct", outcome.ran ? number(outcome.ci_high_pct) : json(nullptr)},
        {"rounds", outcome.rounds},
        {"run_dir", outcome.run_dir}};
}

stats::Verdict verdict_named(const std::string& name) {
    for (const stats::Verdict verdict :
         {stats::Verdict::regressed, stats::Verdict::improved, stats::Verdict::unchanged}) {
        if (stats::to_string(verdict) == name) {
            return verdict;
        }
    }
    return stats::Verdict::inconclusive;
}

PairOutcome outcome_from(const json& in) {
    PairOutcome outcome;
    outcome.a = in.at("a").get<std::string>();
    outcome.b = in.at("b").get<std::string>();
    outcome.threshold = in.at("threshold").get<double>();
    outcome.rounds_kind = in.value("rounds_kind", "") == "planned" ? bisect::Rounds::planned
                                                                   : bisect::Rounds::adaptive;
    outcome.ran = in.at("ran").get<bool>();
    outcome.failure = in.value("failure", "");
    outcome.verdict = verdict_named(in.value("verdict", ""));
    outcome.delta_pct = number_of(in.value("delta_pct", json()));
    outcome.ci_low_pct = number_of(in.value("ci_low_pct", json()));
    outcome.ci_high_pct = number_of(in.value("ci_high_pct", json()));
    outcome.rounds = in.value("rounds", std::size_t{0});
    outcome.run_dir = in.value("run_dir", "");
    return outcome;
}

json step_json(const BisectLog& log, const bisect::Step& step) {
    const worktrees::CommitInfo& last = log.commits[step.high];
    return {{"culprit", step.exact() ? last.commit : ""},
            {"first", log.commits[step.low + 1].commit},
            {"last", last.commit},
            {"parent", log.commits[step.low].commit},
            {"subject", step.exact() ? last.subject : ""},
            {"author", step.exact() ? last.author : ""},
            {"date", step.exact() ? last.date : ""},
            {"range_delta_pct", number(std::expm1(step.range_delta) * 100)},
            {"delta_pct", step.own.ran ? number(step.own.delta_pct) : json(nullptr)},
            {"ci_low_pct", step.own.ran ? number(step.own.ci_low_pct) : json(nullptr)},
            {"ci_high_pct", step.own.ran ? number(step.own.ci_high_pct) : json(nullptr)},
            {"verdict", step.own.ran ? json(stats::to_string(step.own.verdict)) : json(nullptr)},
            {"rounds", step.own.rounds},
            {"run_dir", step.own.run_dir}};
}

json probe_json(const BisectLog& log, const bisect::Probe& probe) {
    json run_dirs = json::array();
    for (const PairOutcome* outcome : {&probe.from_low, &probe.to_high}) {
        if (!outcome->run_dir.empty()) {
            run_dirs.push_back(outcome->run_dir);
        }
    }
    return {{"commit", log.commits[probe.index].commit},
            {"subject", log.commits[probe.index].subject},
            {"low", log.commits[probe.low].commit},
            {"high", log.commits[probe.high].commit},
            {"threshold_pct", probe.threshold * 100},
            {"share_pct", number(probe.share * 100)},
            {"share_low_pct", number(probe.share_low * 100)},
            {"share_high_pct", number(probe.share_high * 100)},
            {"rounds", probe.from_low.rounds + probe.to_high.rounds},
            {"verdict", std::string(bisect::to_string(probe.verdict))},
            {"run_dirs", run_dirs}};
}

std::filesystem::path log_file(worktrees::Repository& repo, const std::string& good,
                               const std::string& bad) {
    return repo.state_dir() / "bisect" /
           fmt::format("{}..{}.json", good.substr(0, 12), bad.substr(0, 12));
}

BisectRef resolve_endpoint(worktrees::Repository& repo, const std::string& ref, const char* flag) {
    if (ref.empty()) {
        throw Error(ErrorKind::usage, fmt::format("{} is required", flag),
                    "e.g. abtool bisect --good v1.4 --bad main");
    }
    if (ref == worktrees::k_current_ref) {
        throw Error(
            ErrorKind::usage,
            fmt::format("{} CURRENT: bisect walks commits, and the working tree is not one", flag),
            "commit the change first, or bisect up to HEAD");
    }
    return BisectRef{ref, repo.resolve(ref).commit};
}

// --resume: the log of the same endpoints, its comparisons to be reused.
void read_back(BisectLog& log, const BisectOptions& options) {
    std::ifstream in(log.file);
    if (!in) {
        throw Error(ErrorKind::usage,
                    fmt::format("--resume: no bisect log of {}..{} at {}", log.good.ref,
                                log.bad.ref, log.file.string()),
                    "run the bisect without --resume first");
    }
    json saved;
    try {
        saved = json::parse(in);
        log.selection = BisectSelection{saved.at("workload"), saved.at("case"), saved.at("metric"),
                                        saved.at("unit")};
        log.threshold = saved.at("threshold").get<double>();
        log.confirmation = outcome_from(saved.at("confirmation"));
        for (const json& comparison : saved.at("comparisons")) {
            log.comparisons.push_back(outcome_from(comparison));
        }
    } catch (const json::exception& error) {
        throw Error(ErrorKind::usage, fmt::format("--resume: {} is not a bisect log: {}",
                                                  log.file.string(), error.what()));
    }
    const bool other = (options.workload && *options.workload != log.selection.workload) ||
                       (options.case_name && *options.case_name != log.selection.case_name) ||
                       (options.metric && *options.metric != log.selection.metric);
    if (other || saved.value("state", "") == "no-regression") {
        throw Error(ErrorKind::usage,
                    fmt::format("--resume: {} bisects {} ({}), not what this command asks",
                                log.file.string(), describe(log.selection),
                                saved.value("state", "")),
                    "run it without --resume to start a new bisect");
    }
    log.resumed = true;
}

} // namespace

std::string describe(const BisectSelection& selection) {
    return selection.case_name.empty()
               ? fmt::format("workload '{}' metric '{}'", selection.workload, selection.metric)
               : fmt::format("workload '{}' case '{}' metric '{}'", selection.workload,
                             selection.case_name, selection.metric);
}

std::string describe(const BisectRef& ref) {
    return ref.ref == ref.commit || ref.ref == ref.commit.substr(0, ref.ref.size())
               ? ref.commit.substr(0, 12)
               : fmt::format("{} ({})", ref.ref, ref.commit.substr(0, 12));
}

std::string describe(const PairOutcome& outcome) {
    if (!outcome.ran) {
        return "did not run: " + outcome.failure;
    }
    return fmt::format("{:+.2f}% [{:+.2f}%, {:+.2f}%] {} at ±{:.3g}%, {} rounds", outcome.delta_pct,
                       outcome.ci_low_pct, outcome.ci_high_pct, stats::to_string(outcome.verdict),
                       outcome.threshold * 100, outcome.rounds);
}

std::vector<std::string> BisectLog::commit_ids() const {
    std::vector<std::string> ids;
    for (const worktrees::CommitInfo& commit : commits) {
        ids.push_back(commit.commit);
    }
    return ids;
}

const PairOutcome* BisectLog::find(const std::string& a, const std::string& b, double wanted,
                                   bisect::Rounds rounds) const {
    for (const PairOutcome& outcome : comparisons) {
        if (outcome.a == a && outcome.b == b && outcome.rounds_kind == rounds &&
            std::abs(outcome.threshold - wanted) <= 1e-9 * wanted) {
            return &outcome;
        }
    }
    return nullptr;
}

json BisectLog::to_json() const {
    json out{{"state", state},
             {"good", {{"ref", good.ref}, {"commit", good.commit}}},
             {"bad", {{"ref", bad.ref}, {"commit", bad.commit}}},
             {"workload", selection.workload},
             {"case", selection.case_name},
             {"metric", selection.metric},
             {"unit", selection.unit},
             {"threshold", threshold},
             {"delta_pct", confirmation.ran ? number(confirmation.delta_pct) : json(nullptr)},
             {"confirmation", outcome_json(confirmation)},
             {"rule",
              "each probe runs low->commit and commit->high, both judged at a third of "
              "the range's delta D; the commit's share of D = x / (x + y), its interval "
              "from both comparisons (MOVER): regressed both = between (a step each side), else "
              "share interval below 1/2 = good, above 1/2 = bad, else unsure (left out, "
              "as a build or workload failure is)"}};
    for (const worktrees::CommitInfo& commit : commits) {
        out["commits"].push_back({{"commit", commit.commit},
                                  {"subject", commit.subject},
                                  {"author", commit.author},
                                  {"date", commit.date}});
    }
    out["comparisons"] = json::array();
    for (const PairOutcome& outcome : comparisons) {
        out["comparisons"].push_back(outcome_json(outcome));
    }
    out["probes"] = json::array();
    for (const bisect::Probe& probe : search.probes) {
        out["probes"].push_back(probe_json(*this, probe));
    }
    out["steps"] = json::array();
    for (const bisect::Step& step : search.steps) {
        out["steps"].push_back(step_json(*this, step));
    }
    const bisect::Step* largest = bisect::largest_step(search);
    out["culprit"] = largest != nullptr ? step_json(*this, *largest) : json(nullptr);
    return out;
}

void BisectLog::write() const {
    std::filesystem::create_directories(file.parent_path());
    write_file_atomically(file, to_json().dump(2) + "\n");
}

BisectLog open_log(worktrees::Repository& repo, const BisectOptions& options) {
    BisectLog log;
    log.good = resolve_endpoint(repo, options.good, "--good");
    log.bad = resolve_endpoint(repo, options.bad, "--bad");
    const std::vector<worktrees::CommitInfo> range =
        repo.first_parent_range(log.good.commit, log.bad.commit);
    log.commits.push_back(repo.commit_info(log.good.commit));
    log.commits.insert(log.commits.end(), range.begin(), range.end());
    log.file = log_file(repo, log.good.commit, log.bad.commit);
    if (options.resume) {
        read_back(log, options);
    }
    return log;
}

[[noreturn]] void throw_no_row(const std::vector<BisectSelection>& measured,
                               const BisectOptions& options) {
    std::string known;
    for (const BisectSelection& selection : measured) {
        known += (known.empty() ? "" : "; ") + describe(selection);
    }
    throw Error(ErrorKind::usage,
                fmt::format("--workload/--case/--metric ({}{}{}) name nothing the confirming run "
                            "measured",
                            options.workload.value_or("*"), "/" + options.case_name.value_or("*"),
                            "/" + options.metric.value_or("*")),
                "measured: " + known);
}

} // namespace abtool
