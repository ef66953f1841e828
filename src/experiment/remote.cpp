#include "src/experiment/remote.hpp"

#include "abtool/error.hpp"
#include "abtool/runners.hpp"
#include "abtool/worktrees.hpp"
#include "src/core/host.hpp"
#include "src/experiment/analysis.hpp"
#include "src/experiment/checkouts.hpp"
#include "src/report/outputs.hpp"
#include "src/results/results_store.hpp"
#include "src/results/run_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace abtool {

namespace {

std::string where(const Target& target) {
    return fmt::format("target '{}' ({}{}:{})", target.id,
                       target.user.empty() ? "" : target.user + "@", target.host, target.port);
}

std::string quoted_step(const std::vector<std::string>& words) {
    std::string step;
    for (const std::string& word : words) {
        // Appended in parts: GCC 12's -O3 warns (-Wrestrict, falsely) on `"" + string`.
        if (!step.empty()) {
            step += ' ';
        }
        step += runners::shell_quote(word);
    }
    return step;
}

// Why an ssh step failed, as an Error of the right kind. `result.err` is ssh's and the remote
// command's stderr (empty when it went to ours).
Error ssh_failure(const Target& target, const runners::ProcessResult& result,
                  const std::string& doing) {
    if (result.interrupted) {
        return Error(ErrorKind::interrupted, fmt::format("interrupted while {}", doing));
    }
    const std::string& err = result.err;
    const std::string tail = err.size() > 800 ? err.substr(err.size() - 800) : err;
    // ssh's own refusals end it with 255; a remote command's "Permission denied" is not a login.
    const bool by_ssh = !result.timed_out && result.signal == 0 && result.exit_code == 255;
    const auto says = [&](const char* text) {
        return by_ssh && err.find(text) != std::string::npos;
    };
    if (says("Host key verification failed") || says("HOST IDENTIFICATION HAS CHANGED") ||
        says("host key for") || says("No matching host key")) {
        const std::string file =
            target.known_hosts.empty() ? "~/.ssh/known_hosts" : target.known_hosts;
        return Error(ErrorKind::usage,
                     fmt::format("{}: ssh refused the host: its key is not in {}, or does not "
                                 "match the one there\n{}",
                                 where(target), file, tail),
                     fmt::format("check the host's key fingerprint with its administrator, then "
                                 "add it: ssh-keyscan -p {} {} >> {}",
                                 target.port, target.host, file));
    }
    if (says("Permission denied") || says("Too many authentication failures")) {
        return Error(ErrorKind::usage,
                     fmt::format("{}: the login was refused\n{}", where(target), tail),
                     "check the target's \"user\" and \"identity_file\" in the targets registry");
    }
    if (!result.timed_out && result.signal == 0 && result.exit_code == 127) {
        return Error(ErrorKind::usage,
                     fmt::format("{}: a program abtool needs is not on the target while {}\n{}",
                                 where(target), doing, tail),
                     "the target needs git, tar and abtool (its path is the target's \"abtool\")");
    }
    return Error(ErrorKind::workload, fmt::format("{}: {} failed: {}", where(target), doing,
                                                  result.timed_out ? std::string("timed out")
                                                                   : result.describe_failure()));
}

runners::ProcessResult run_ssh(const Target& target,
                               const std::vector<std::vector<std::string>>& steps,
                               runners::ProcessSpec spec, const std::string& doing) {
    spec.argv = ssh_argv(target, steps);
    runners::ProcessResult result = runners::run_process(spec);
    if (!result.ok() && !spec.stderr_to_ours) {
        throw ssh_failure(target, result, doing);
    }
    return result;
}

// One connection before anything is sent: the target's abtool answers and is this version (a plan
// and samples written by another version would be analysed here as this one reads them), and its
// repository (made when missing) lists the contents sent to it before.
std::vector<std::string> probe_target(const Target& target) {
    runners::ProcessSpec spec;
    spec.timeout = std::chrono::seconds(60);
    const std::string repository = remote_path(target, "repo");
    const runners::ProcessResult result = run_ssh(
        target,
        {{target.abtool, "--version"},
         {"mkdir", "-p", repository},
         {"git", "-C", repository, "init", "-q"},
         {"git", "-C", repository, "for-each-ref", "--format=%(objectname)", "refs/abtool/"}},
        spec, "checking its abtool and its repository");
    std::istringstream lines(result.out);
    std::string version;
    std::getline(lines, version);
    std::vector<std::string> have;
    for (std::string line; std::getline(lines, line);) {
        have.push_back(line);
    }
    const std::string ours = "abtool " ABTOOL_VERSION;
    if (version != ours) {
        throw Error(ErrorKind::usage,
                    fmt::format("{}: its abtool ({}) is '{}', this one is '{}'", where(target),
                                target.abtool, version, ours),
                    "install the same abtool version on the target");
    }
    return have;
}

// Both refs' contents, as parentless commits, fetched into <workdir>/repo on the target: only
// those it lacks, and of them only the objects that the contents it has (`have`) do not hold.
std::pair<std::string, std::string> send_refs(worktrees::Repository& repo, const Target& target,
                                              const worktrees::ResolvedRef& a,
                                              const worktrees::ResolvedRef& b,
                                              const std::vector<std::string>& have,
                                              const RunDir& run_dir, const std::string& run_id) {
    const std::string commit_a = repo.transfer_commit(a);
    const std::string commit_b = repo.transfer_commit(b);
    std::vector<worktrees::Repository::BundleRef> missing;
    for (const std::string& commit : {commit_a, commit_b}) {
        if (std::find(have.begin(), have.end(), commit) == have.end() &&
            (missing.empty() || missing.front().commit != commit)) {
            missing.push_back({"refs/abtool/" + commit, commit});
        }
    }
    if (missing.empty()) {
        std::fprintf(stderr, "abtool: both contents are on %s already\n", where(target).c_str());
        return {commit_a, commit_b};
    }
    const std::filesystem::path bundle = run_dir.path() / "target-refs.bundle";
    repo.write_bundle(missing, have, bundle);
    std::fprintf(stderr, "abtool: sending %zu content(s) to %s: %ju bytes\n", missing.size(),
                 where(target).c_str(),
                 static_cast<std::uintmax_t>(std::filesystem::file_size(bundle)));
    const std::string repository = remote_path(target, "repo");
    const std::string file = remote_path(target, "incoming/" + run_id + ".bundle");
    runners::ProcessSpec spec;
    spec.stdin_file = bundle;
    spec.timeout = std::chrono::hours(1);
    run_ssh(target,
            {{"mkdir", "-p", remote_path(target, "incoming")},
             {"cat", ">", file},
             {"git", "-C", repository, "fetch", "-q", "../incoming/" + run_id + ".bundle",
              "+refs/abtool/*:refs/abtool/*"},
             {"rm", "-f", file}},
            spec, "sending the refs");
    std::filesystem::remove(bundle);
    return {commit_a, commit_b};
}

// The remote `abtool run`: the same plan (config, flags, run id), the sent commits as refs.
std::vector<std::string> remote_run(const RunOptions& options, const Target& target,
                                    const std::string& commit_a, const std::string& commit_b,
                                    const std::string& run_id) {
    std::vector<std::string> words{
        target.abtool,  "run",
        "--ref-a",      commit_a,
        "--ref-b",      commit_b,
        "--config",     "../incoming/" + run_id + ".toml",
        "--as-target",  target.id,
        "--run-id",     run_id,
        "--ref-a-name", options.ref_a,
        "--ref-b-name", options.ref_b.empty() ? "CURRENT" : options.ref_b};
    for (const std::string& workload : options.workloads) {
        words.insert(words.end(), {"--workload", workload});
    }
    const auto add = [&](const char* flag, const auto& value) {
        if (value) {
            words.insert(words.end(), {flag, fmt::format("{}", *value)});
        }
    };
    add("--rounds", options.rounds);
    add("--max-rounds", options.max_rounds);
    add("--threshold", options.threshold);
    add("--shard", options.shard);
    add("--schedule", options.measurement.schedule);
    add("--seed", options.measurement.seed);
    if (!options.measurement.cpus.empty()) {
        words.insert(words.end(),
                     {"--cpus", fmt::format("{}", fmt::join(options.measurement.cpus, ","))});
    }
    if (options.measurement.nice != 0) {
        words.insert(words.end(), {"--nice", std::to_string(options.measurement.nice)});
    }
    if (!options.measurement.env_padding) {
        words.emplace_back("--no-env-padding");
    }
    if (options.strict == Strict::yes) {
        words.emplace_back("--strict");
    }
    if (options.rebuild == RebuildRefs::yes) {
        words.emplace_back("--rebuild");
    }
    return words;
}

// What the remote run streamed: its last plan.json and its sample lines (a torn last line, cut
// by a lost connection, left out).
struct Stream {
    std::optional<nlohmann::json> plan;
    std::string samples;
    bool ended = false; // the "run" line: the remote run finished
};

Stream read_stream(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    Stream stream;
    std::string line;
    while (std::getline(in, line)) {
        if (in.eof()) {
            break; // no newline: torn
        }
        const auto space = line.find(' ');
        const std::string kind = line.substr(0, space);
        const std::string rest = space == std::string::npos ? "" : line.substr(space + 1);
        if (kind == "plan") {
            try {
                stream.plan = nlohmann::json::parse(rest);
            } catch (const nlohmann::json::exception&) {
                throw Error(ErrorKind::workload,
                            fmt::format("{}: a plan line that is not JSON", file.string()));
            }
        } else if (kind == "sample") {
            stream.samples += rest + "\n";
        } else if (kind == "run") {
            stream.ended = true;
        }
    }
    return stream;
}

// The target's run directory (build and workload logs, kept outputs) into the local one, but
// for the files made here from the stream.
void copy_back(const Target& target, const std::string& run_id, const RunDir& run_dir) {
    const std::filesystem::path archive = run_dir.path() / "target-run.tar";
    runners::ProcessSpec spec;
    spec.stdout_file = archive;
    spec.timeout = std::chrono::hours(1);
    run_ssh(
        target,
        {{"rm", "-f", remote_path(target, "incoming/" + run_id + ".toml")},
         {"tar", "-C", remote_path(target, "repo/.abtool/runs/" + run_id), "-cf", "-",
          "--exclude=./plan.json", "--exclude=./samples.jsonl", "--exclude=./summary.json", "."}},
        spec, "copying its run directory back");
    runners::ProcessSpec untar;
    untar.argv = {"tar", "-C", run_dir.path().string(), "-xf", archive.string()};
    const runners::ProcessResult result = runners::run_process(untar);
    if (!result.ok()) {
        throw Error(ErrorKind::storage, fmt::format("unpacking {} failed: {}", archive.string(),
                                                    result.describe_failure()));
    }
    std::filesystem::remove(archive);
}

// The plan as this repository names its refs, with the target's id.
Plan local_plan(const nlohmann::json& json, const Target& target, const Config& config,
                const worktrees::ResolvedRef& a, const worktrees::ResolvedRef& b) {
    Plan plan = plan_from_json(json, where(target) + "'s plan");
    for (const auto& [planned, ref] : {std::pair{&plan.a, &a}, std::pair{&plan.b, &b}}) {
        if (planned->content_id != ref->content_id) {
            throw Error(ErrorKind::workload,
                        fmt::format("{} checked out {} for ref '{}', not the content sent ({})",
                                    where(target), planned->content_id, ref->name,
                                    ref->content_id));
        }
        planned->name = ref->name;
        planned->commit = ref->commit;
        planned->kind = ref->kind == worktrees::RefKind::snapshot ? "snapshot" : "commit";
    }
    plan.target_id = target.id;
    plan.config_file = config.file.string();
    return plan;
}

void write_text(const std::filesystem::path& file, const std::string& text) {
    std::ofstream out(file, std::ios::binary | std::ios::app);
    out << text;
    if (!out.flush()) {
        throw Error(ErrorKind::storage,
                    fmt::format("cannot write {}: {}", file.string(), std::strerror(errno)));
    }
}

// The run's config here, checked before anything is sent: the file the target gets, the
// results.csv this run appends to, the report paths.
Config local_config(const RunOptions& options, const worktrees::Repository& repo,
                    const std::filesystem::path& cwd) {
    Config config = load_config(run_config_file(options, repo, cwd));
    apply_run_flags(options, config);
    if (!options.shard) {
        ResultsStore(config.results_file).check_appendable();
    }
    report::check_output_paths(options.outputs);
    return config;
}

// Whether the run's ssh ended with the target's abtool's own exit status (not ssh's 255 for a
// lost connection, nor a signal, a timeout or an interrupt here).
bool target_answered(const runners::ProcessResult& result) {
    return !result.interrupted && !result.timed_out && result.signal == 0 &&
           result.exit_code != 255;
}

// A run on the target that did not end with its stream's last line; `kept` says what of it is
// here.
Error run_failure(const Target& target, const runners::ProcessResult& result,
                  const std::string& kept) {
    if (result.interrupted || (target_answered(result) && result.exit_code == 130)) {
        return Error(ErrorKind::interrupted, "interrupted: " + kept);
    }
    if (!target_answered(result) || result.exit_code == 0) {
        return Error(
            ErrorKind::workload,
            fmt::format("{}: the connection was lost during the run; {}", where(target), kept),
            "the target's abtool stops at its next write; run again");
    }
    // The target's abtool said why on stderr, which is ours: the exit code keeps its meaning.
    return Error(result.exit_code == 2 ? ErrorKind::usage : ErrorKind::workload,
                 fmt::format("{}: its abtool ended with {}, saying why above; {}", where(target),
                             result.describe_failure(), kept));
}

// The local run directory from the stream, then the analysis; a run that did not end is an
// error after its samples are kept.
void finish_run(Experiment& experiment, const Target& target, const Stream& stream,
                const runners::ProcessResult& result, const worktrees::ResolvedRef& a,
                const worktrees::ResolvedRef& b) {
    RunDir& run_dir = experiment.run_dir;
    if (!stream.plan) { // it stopped before its first run: refused, a build failed, no link
        throw run_failure(target, result,
                          "no samples were taken; what it left is in " + run_dir.path().string());
    }
    experiment.plan = local_plan(*stream.plan, target, experiment.config, a, b);
    const Plan& plan = experiment.plan;
    run_dir.write_plan(plan);
    write_text(run_dir.samples_file(), stream.samples);
    SamplesFile samples = read_samples(run_dir.samples_file());
    experiment.records = std::move(samples.records);
    if (!result.ok() || !stream.ended) {
        write_incomplete_summary(run_dir, plan, experiment.records);
        const std::size_t rounds = completed_rounds(plan, experiment.records);
        const std::string kept = fmt::format("the samples of {} complete round(s) are in {}",
                                             rounds, run_dir.samples_file().string());
        throw run_failure(target, result, kept);
    }
    const Config measured = [&] {
        Config config = config_of(plan, experiment.config.file);
        config.results_file = experiment.config.results_file;
        return config;
    }();
    experiment.settings = settings_for(plan, measured);
    experiment.report =
        analyze_records(plan, measured, experiment.records, experiment.settings, samples.windows);
    experiment.report.run_dir = run_dir.path().string();
    run_dir.write_summary(experiment.report, true);
    experiment.config = measured;
}

} // namespace

std::optional<Target> ssh_target(const RunOptions& options) {
    if (!options.measurement.target || options.as_target) {
        return std::nullopt;
    }
    const std::filesystem::path cwd =
        options.cwd.empty() ? std::filesystem::current_path() : options.cwd;
    const worktrees::Repository repo = worktrees::Repository::open(cwd);
    Target target = choose_target(options.measurement.target, options.measurement.targets,
                                  run_config_file(options, repo, cwd));
    if (target.kind != "ssh") {
        return std::nullopt;
    }
    return target;
}

std::string remote_path(const Target& target, const std::string& relative) {
    std::string workdir = target.workdir;
    if (workdir == "~") {
        workdir = ".";
    } else if (workdir.starts_with("~/")) {
        workdir = workdir.substr(2);
    }
    return relative.empty() ? workdir : workdir + "/" + relative;
}

std::vector<std::string> ssh_argv(const Target& target,
                                  const std::vector<std::vector<std::string>>& steps) {
    std::vector<std::string> argv{"ssh",
                                  "-o",
                                  "BatchMode=yes",
                                  "-o",
                                  "StrictHostKeyChecking=yes",
                                  "-o",
                                  "ConnectTimeout=20",
                                  "-o",
                                  "ServerAliveInterval=5",
                                  "-o",
                                  "ServerAliveCountMax=3",
                                  "-p",
                                  std::to_string(target.port)};
    if (!target.identity_file.empty()) {
        argv.insert(argv.end(), {"-i", target.identity_file, "-o", "IdentitiesOnly=yes"});
    }
    if (!target.known_hosts.empty()) {
        argv.insert(argv.end(), {"-o", "UserKnownHostsFile=" + target.known_hosts});
    }
    if (!target.user.empty()) {
        argv.insert(argv.end(), {"-l", target.user});
    }
    std::string command;
    for (const std::vector<std::string>& step : steps) {
        // {"cat", ">", file}: stdin into the file, the one redirection abtool writes.
        const bool upload = step.size() == 3 && step[0] == "cat" && step[1] == ">";
        const std::string text =
            upload ? "cat > " + runners::shell_quote(step[2]) : quoted_step(step);
        if (!command.empty()) {
            command += " && ";
        }
        command += text;
    }
    argv.insert(argv.end(), {"--", target.host, command});
    return argv;
}

void stream_to_caller(const std::string& kind, const std::string& lines) {
    std::string text;
    std::istringstream in(lines);
    for (std::string line; std::getline(in, line);) {
        text += kind + " " + line + "\n";
    }
    if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() ||
        std::fflush(stdout) != 0) {
        runners::request_stop(); // nobody reads what this run measures any more
    }
}

Experiment run_on_target(const RunOptions& options, const Target& target) {
    const std::filesystem::path cwd =
        options.cwd.empty() ? std::filesystem::current_path() : options.cwd;
    worktrees::Repository repo = worktrees::Repository::open(cwd);
    Experiment experiment;
    experiment.config = local_config(options, repo, cwd);
    const auto [ref_a, ref_b] = resolve_refs(repo, options, experiment.config);
    const std::vector<std::string> have = probe_target(target);

    const std::string run_id = new_run_id();
    experiment.run_dir = RunDir::create(repo.state_dir(), run_id);
    const RunDir& run_dir = experiment.run_dir;
    std::fprintf(stderr, "abtool: A = %s, B = %s on %s\nabtool: run %s\n",
                 describe_ref(ref_a).c_str(), describe_ref(ref_b).c_str(), where(target).c_str(),
                 run_dir.path().c_str());
    const auto [commit_a, commit_b] = send_refs(repo, target, ref_a, ref_b, have, run_dir, run_id);
    runners::ProcessSpec upload;
    upload.stdin_file = experiment.config.file;
    run_ssh(target,
            {{"mkdir", "-p", remote_path(target, "incoming")},
             {"cat", ">", remote_path(target, "incoming/" + run_id + ".toml")}},
            upload, "sending the config");
    runners::ProcessSpec spec;
    spec.stdout_file = run_dir.path() / "target-stream.txt";
    spec.stderr_to_ours = true;
    spec.timeout = std::chrono::hours(24 * 7);
    const runners::ProcessResult result =
        run_ssh(target,
                {{"cd", remote_path(target, "repo")},
                 remote_run(options, target, commit_a, commit_b, run_id)},
                spec, "the run");
    const Stream stream = read_stream(*spec.stdout_file);
    if (target_answered(result) && result.exit_code != 2) {
        // The build and workload logs, which the report's and an error's paths name. The
        // samples are here already: a copy that fails costs the logs only.
        try {
            copy_back(target, run_id, run_dir);
        } catch (const Error& error) {
            std::fprintf(stderr, "abtool: warning: %s: its run directory was not copied back: %s\n",
                         where(target).c_str(), error.what());
        }
    }
    finish_run(experiment, target, stream, result, ref_a, ref_b);
    return experiment;
}

} // namespace abtool
