// abtool merge RUN_DIR...: the shards of one comparison (abtool run --shard K/N, each a run
// directory that appended nothing) as one run. Everything is checked before anything is written:
// the shards must share refs, commits, config, seed, plan and shard count, and be complete (every
// K of N once, each with its planned rounds). The merged run is a normal run directory (plan.json
// with `merged_from`, every shard's samples.jsonl lines), analysed once: one multiplicity
// correction over all the shards' cases, one gate, one results.csv append, every report.
#include "src/commands/commands.hpp"

#include "abtool/error.hpp"
#include "abtool/worktrees.hpp"
#include "src/commands/conclude.hpp"
#include "src/core/host.hpp"
#include "src/experiment/analysis.hpp"
#include "src/experiment/scheduler.hpp"
#include "src/report/outputs.hpp"
#include "src/results/results_store.hpp"
#include "src/results/run_dir.hpp"
#include "src/results/run_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <utility>

namespace abtool {

namespace {

struct ShardRun {
    RunDir dir;
    Plan plan;
    SamplesFile samples;
    std::size_t rounds_done = 0;

    const Shard& shard() const { return *plan.shard; }
    std::string label() const {
        return fmt::format("shard {}/{} ({})", shard().index, shard().count, dir.path().string());
    }
};

ShardRun read_shard(const std::filesystem::path& path) {
    ShardRun run;
    run.dir = RunDir(std::filesystem::absolute(path));
    if (!run.dir.has_plan()) {
        throw Error(ErrorKind::usage,
                    fmt::format("{} is not an abtool run directory (no plan.json)", path.string()),
                    "abtool merge takes the run directories of `abtool run --shard K/N`");
    }
    run.plan = run.dir.read_plan();
    if (!run.plan.shard) {
        throw Error(ErrorKind::usage,
                    fmt::format("{}: run {} is not a shard (it ran without --shard)", path.string(),
                                run.plan.run_id),
                    "abtool merge takes the run directories of `abtool run --shard K/N`");
    }
    run.samples = read_samples(run.dir.samples_file());
    run.rounds_done = completed_rounds(run.plan, run.samples.records);
    if (run.rounds_done < run.plan.rounds) {
        throw Error(ErrorKind::usage,
                    fmt::format("{}: the shard completed {} of its {} rounds (interrupted, or a "
                                "workload failed)",
                                run.label(), run.rounds_done, run.plan.rounds),
                    "run that shard again, then merge");
    }
    return run;
}

// What every shard of one comparison shares, as messages show it.
struct SharedField {
    const char* what;
    std::function<std::string(const Plan&)> value;
};

const std::vector<SharedField>& shared_fields() {
    static const std::vector<SharedField> fields{
        {"ref A",
         [](const Plan& p) {
             return describe(p.a);
         }},
        {"ref B",
         [](const Plan& p) {
             return describe(p.b);
         }},
        {"the config",
         [](const Plan& p) {
             return p.config_text;
         }},
        {"the target",
         [](const Plan& p) {
             return p.target_id;
         }},
        {"the seed",
         [](const Plan& p) {
             return std::to_string(p.seed);
         }},
        {"the shard count",
         [](const Plan& p) {
             return std::to_string(p.shard->count);
         }},
        {"the workloads",
         [](const Plan& p) {
             return fmt::format("{}", fmt::join(p.shard->suite, ", "));
         }},
        {"the mode",
         [](const Plan& p) {
             return p.mode;
         }},
        {"the abtool version",
         [](const Plan& p) {
             return p.abtool_version;
         }},
        {"the threshold",
         [](const Plan& p) {
             return fmt::format("{}", p.threshold);
         }},
        {"the confidence",
         [](const Plan& p) {
             return fmt::format("{}", p.confidence);
         }},
        {"the rounds asked for",
         [](const Plan& p) {
             return fmt::format("{} (max {})", p.rounds_requested, p.max_rounds_requested);
         }},
    };
    return fields;
}

// The shards, in shard order, once each and all of them: Error(usage) naming the odd one.
void check_together(std::vector<ShardRun>& shards) {
    const ShardRun& first = shards.front();
    for (const ShardRun& shard : shards) {
        for (const SharedField& field : shared_fields()) {
            const std::string mine = field.value(shard.plan);
            const std::string theirs = field.value(first.plan);
            if (mine != theirs) {
                const bool long_text = mine.size() > 120 || theirs.size() > 120;
                throw Error(
                    ErrorKind::usage,
                    long_text ? fmt::format("{}: {} differs from {}'s", shard.label(), field.what,
                                            first.label())
                              : fmt::format("{}: {} is {}, but {} has {}", shard.label(),
                                            field.what, mine, first.label(), theirs),
                    "the shards of one comparison share refs, commits, config, seed, rounds and "
                    "shard count: run every shard with the same command line and --shard K/N");
            }
        }
    }
    std::sort(shards.begin(), shards.end(), [](const ShardRun& x, const ShardRun& y) {
        return x.shard().index < y.shard().index;
    });
    std::string missing;
    std::size_t next = 1;
    for (std::size_t i = 0; i < shards.size(); ++i) {
        if (i > 0 && shards[i].shard().index == shards[i - 1].shard().index) {
            throw Error(ErrorKind::usage,
                        fmt::format("{}: shard {} is given twice (also {})", shards[i].label(),
                                    shards[i].shard().index, shards[i - 1].dir.path().string()),
                        "pass each shard's run directory once");
        }
        for (; next < shards[i].shard().index; ++next) {
            missing += (missing.empty() ? "" : ", ") + std::to_string(next);
        }
        next = shards[i].shard().index + 1;
    }
    for (; next <= first.shard().count; ++next) {
        missing += (missing.empty() ? "" : ", ") + std::to_string(next);
    }
    if (!missing.empty()) {
        throw Error(ErrorKind::usage,
                    fmt::format("shard(s) {} of {} missing: a merge needs every shard of the "
                                "comparison",
                                missing, first.shard().count),
                    "pass every shard's run directory (abtool run --shard K/N for each K)");
    }
}

// Every measured (workload, case) in one shard only: a program that ignores {filter} runs every
// case in every shard, and the merged series would hold each case several times.
void check_disjoint(const std::vector<ShardRun>& shards) {
    std::map<std::pair<std::string, std::string>, const ShardRun*> owner;
    for (const ShardRun& shard : shards) {
        for (const SampleRecord& record : shard.samples.records) {
            if (record.round == 0 || record.pilot) {
                continue;
            }
            const auto [it, inserted] =
                owner.try_emplace({record.workload, record.case_name}, &shard);
            if (!inserted && it->second != &shard) {
                throw Error(ErrorKind::usage,
                            fmt::format("{}: workload '{}' case '{}' was measured by {} too",
                                        shard.label(), record.workload, record.case_name,
                                        it->second->label()),
                            "a hotpath workload split by case must pass {filter} to the program, "
                            "which must run only the cases it matches");
            }
        }
    }
}

// A workload's design in the merged plan: the shards that ran it must agree.
WorkloadDesign merged_design(const std::vector<ShardRun>& shards, const std::string& workload) {
    const ShardRun* chooser = nullptr;
    WorkloadDesign design;
    for (const ShardRun& shard : shards) {
        if (std::find(shard.plan.workloads.begin(), shard.plan.workloads.end(), workload) ==
            shard.plan.workloads.end()) {
            continue;
        }
        const WorkloadDesign mine = shard.plan.design_of(workload);
        if (chooser == nullptr) {
            chooser = &shard;
            design = mine;
        } else if (mine.schedule != design.schedule || mine.repeat != design.repeat ||
                   mine.summary != design.summary) {
            throw Error(ErrorKind::usage,
                        fmt::format("workload '{}' ran {} in {} but {} in {}", workload,
                                    pilot_label(mine), shard.label(), pilot_label(design),
                                    chooser->label()),
                        "set its schedule and repeat in abtool.toml, so that every shard runs "
                        "it alike");
        }
    }
    return design;
}

// Each shard's lines once, saying which shards had them: "shards 1, 3 of 3: ...".
std::vector<std::string> by_shard(const std::vector<ShardRun>& shards,
                                  std::vector<std::string> (*lines_of)(const ShardRun&)) {
    std::vector<std::pair<std::string, std::vector<std::size_t>>> seen;
    for (const ShardRun& shard : shards) {
        for (const std::string& line : lines_of(shard)) {
            auto it = std::find_if(seen.begin(), seen.end(),
                                   [&](const auto& entry) { return entry.first == line; });
            if (it == seen.end()) {
                it = seen.insert(seen.end(), {line, {}});
            }
            it->second.push_back(shard.shard().index);
        }
    }
    std::vector<std::string> result;
    for (const auto& [line, indexes] : seen) {
        result.push_back(fmt::format("shard{} {} of {}: {}", indexes.size() > 1 ? "s" : "",
                                     fmt::join(indexes, ", "), shards.front().shard().count, line));
    }
    return result;
}

// The plan of the merged run: the shards' common plan, every workload, each one's design, and a
// schedule whose round r holds the workloads of the shards that completed round r (an adaptive
// shard may have run more rounds than another: each series keeps all of its own).
Plan merged_plan(const std::vector<ShardRun>& shards) {
    Plan plan = shards.front().plan;
    const Shard suite = *plan.shard;
    plan.run_id = new_run_id();
    plan.timestamp = utc_timestamp();
    plan.shard.reset();
    plan.workloads.clear();
    plan.designs.clear();
    plan.notes = by_shard(shards, [](const ShardRun& shard) { return shard.plan.notes; });
    plan.warnings = by_shard(shards, [](const ShardRun& shard) { return shard.plan.warnings; });
    std::vector<std::string> hosts;
    for (const ShardRun& shard : shards) {
        // The fewest rounds a shard planned: every series has at least these pairs.
        plan.rounds = std::min(plan.rounds, shard.plan.rounds);
        plan.max_rounds = std::max(plan.max_rounds, shard.plan.max_rounds);
        plan.merged_from.push_back(shard.plan.run_id);
        if (std::find(hosts.begin(), hosts.end(), shard.plan.host) == hosts.end()) {
            hosts.push_back(shard.plan.host);
        }
    }
    plan.host = fmt::format("{}", fmt::join(hosts, "+"));
    for (const std::string& workload : suite.suite) {
        plan.workloads.push_back(workload);
        plan.designs.push_back(merged_design(shards, workload));
    }
    plan.schedule = make_schedule(plan.max_rounds, suite.suite, plan.workloads, plan.seed);
    for (PlannedRound& round : plan.schedule) {
        std::erase_if(round.workloads, [&](const std::string& workload) {
            return std::none_of(shards.begin(), shards.end(), [&](const ShardRun& shard) {
                return shard.rounds_done >= round.index &&
                       std::find(shard.plan.workloads.begin(), shard.plan.workloads.end(),
                                 workload) != shard.plan.workloads.end();
            });
        });
    }
    return plan;
}

// The config the shards ran, anchored where they read it when that path exists here (a CI merge
// job's checkout sits at the shard jobs' workspace path), else at this repository's root;
// --results over its results file.
Config merged_config(const Plan& plan, const worktrees::Repository& repo,
                     const MergeOptions& options) {
    const std::filesystem::path shards_file(plan.config_file);
    const std::filesystem::path file =
        std::filesystem::exists(shards_file) ? shards_file : repo.root() / shards_file.filename();
    Config config = config_of(plan, file);
    if (options.results) {
        config.results_file = std::filesystem::absolute(*options.results);
    }
    return config;
}

} // namespace

int run_merge(const MergeOptions& options) {
    std::vector<ShardRun> shards;
    for (const std::filesystem::path& path : options.run_dirs) {
        shards.push_back(read_shard(path));
    }
    check_together(shards);
    check_disjoint(shards);
    const Plan plan = merged_plan(shards);
    const worktrees::Repository repo = worktrees::Repository::open(std::filesystem::current_path());
    const Config config = merged_config(plan, repo, options);
    ResultsStore store(config.results_file);
    store.check_appendable();
    report::check_output_paths(options.outputs);

    // Checked: now the merged run directory, whole.
    std::vector<SampleRecord> records, windows;
    for (const ShardRun& shard : shards) {
        records.insert(records.end(), shard.samples.records.begin(), shard.samples.records.end());
        windows.insert(windows.end(), shard.samples.windows.begin(), shard.samples.windows.end());
    }
    const std::vector<std::string> warnings =
        by_shard(shards, [](const ShardRun& shard) { return shard.samples.warnings; });
    const RunDir run_dir = RunDir::create(repo.state_dir(), plan.run_id);
    run_dir.write_plan(plan);
    SamplesWriter merged(run_dir.samples_file());
    merged.append(records);
    merged.append(windows);
    std::fprintf(stderr, "abtool: merged %zu shards into run %s\n", shards.size(),
                 run_dir.path().c_str());

    const AnalysisSettings settings = settings_for(plan, config);
    report::Report report = analyze_records(plan, config, records, settings, windows);
    report.run_dir = run_dir.path().string();
    report.warnings.insert(report.warnings.end(), warnings.begin(), warnings.end());
    run_dir.write_summary(report, report.unmeasured.empty());
    const int code = conclude(report, options.outputs, options.strict, run_dir);
    const std::vector<ResultRow> rows = rows_from_report(report);
    store.append(rows);
    std::fprintf(stdout, "results: %zu row(s) appended to %s\nrun: %s\n", rows.size(),
                 store.file().string().c_str(), run_dir.path().string().c_str());
    return code;
}

} // namespace abtool
