#include "src/core/plan.hpp"

#include "abtool/error.hpp"
#include "abtool/short_commit.hpp"
#include "abtool/splitmix64.hpp"
#include "src/core/host.hpp"
#include "src/core/targets.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <set>
#include <utility>
#include <variant>

namespace abtool {

std::uint64_t SeededGenerator::next() {
    return splitmix64_next(m_state);
}

std::uint64_t SeededGenerator::below(std::uint64_t bound) {
    if (bound <= 1) {
        return 0;
    }
    // Reject the top partial stripe so every value is equally likely.
    const std::uint64_t limit = UINT64_MAX - (UINT64_MAX % bound);
    std::uint64_t value = next();
    while (value >= limit) {
        value = next();
    }
    return value % bound;
}

std::size_t whole_blocks(std::size_t rounds) {
    return rounds + rounds % 2;
}

namespace {
// The CPU swaps draw from their own stream, so that schedules of older runs (orders and workload
// shuffles from `seed` alone) replay unchanged.
constexpr std::uint64_t k_cpu_swap_stream = 0x9c5d5eedcafeULL;
} // namespace

std::vector<PlannedRound>
make_schedule(std::size_t rounds, const std::vector<std::string>& workloads, std::uint64_t seed) {
    SeededGenerator generator(seed);
    SeededGenerator cpu_generator(seed ^ k_cpu_swap_stream);
    std::vector<PlannedRound> schedule;
    schedule.reserve(whole_blocks(rounds));
    while (schedule.size() < rounds) {
        const stats::Order first = generator.below(2) == 0 ? stats::Order::ab : stats::Order::ba;
        const bool first_swapped = cpu_generator.below(2) == 1;
        for (int i = 0; i < 2; ++i) {
            PlannedRound round;
            round.index = schedule.size() + 1;
            round.swap_cpus = i == 0 ? first_swapped : !first_swapped;
            round.order =
                i == 0 ? first : (first == stats::Order::ab ? stats::Order::ba : stats::Order::ab);
            round.workloads = workloads;
            for (std::size_t j = round.workloads.size(); j > 1; --j) { // Fisher-Yates
                std::swap(round.workloads[j - 1], round.workloads[generator.below(j)]);
            }
            schedule.push_back(std::move(round));
        }
    }
    return schedule;
}

std::vector<PlannedRound> make_schedule(std::size_t rounds, const std::vector<std::string>& suite,
                                        const std::vector<std::string>& workloads,
                                        std::uint64_t seed) {
    std::vector<PlannedRound> schedule = make_schedule(rounds, suite, seed);
    for (PlannedRound& round : schedule) {
        std::erase_if(round.workloads, [&](const std::string& workload) {
            return std::find(workloads.begin(), workloads.end(), workload) == workloads.end();
        });
    }
    return schedule;
}

namespace {

// The plan's schedule: the whole suite's when it is a shard.
std::vector<PlannedRound> plan_schedule(const Plan& plan) {
    return make_schedule(plan.max_rounds, plan.shard ? plan.shard->suite : plan.workloads,
                         plan.workloads, plan.seed);
}

nlohmann::json shard_json(const Shard& shard) {
    nlohmann::json units = nlohmann::json::array();
    for (const ShardUnit& unit : shard.units) {
        units.push_back({{"workload", unit.workload}, {"cases", unit.cases}});
    }
    return {{"index", shard.index}, {"count", shard.count}, {"suite", shard.suite},
            {"units", units},       {"split", shard.split}, {"other_gated", shard.other_gated}};
}

Shard shard_from_json(const nlohmann::json& json) {
    Shard shard;
    shard.index = json.at("index").get<std::size_t>();
    shard.count = json.at("count").get<std::size_t>();
    shard.suite = json.at("suite").get<std::vector<std::string>>();
    for (const nlohmann::json& unit : json.at("units")) {
        shard.units.push_back({unit.at("workload").get<std::string>(),
                               unit.at("cases").get<std::vector<std::string>>()});
    }
    shard.split = json.at("split").get<std::vector<std::string>>();
    shard.other_gated = json.at("other_gated").get<std::size_t>();
    return shard;
}

nlohmann::json ref_json(const PlannedRef& ref) {
    return {{"name", ref.name},
            {"commit", ref.commit},
            {"content_id", ref.content_id},
            {"kind", ref.kind},
            {"worktree", ref.worktree}};
}

PlannedRef ref_from_json(const nlohmann::json& json) {
    PlannedRef ref;
    ref.name = json.at("name").get<std::string>();
    ref.commit = json.at("commit").get<std::string>();
    ref.content_id = json.at("content_id").get<std::string>();
    ref.kind = json.at("kind").get<std::string>();
    ref.worktree = json.at("worktree").get<std::string>();
    return ref;
}

nlohmann::json design_json(const WorkloadDesign& design) {
    nlohmann::json json{{"workload", design.workload},
                        {"schedule", to_string(design.schedule)},
                        {"repeat", design.repeat},
                        {"summary", design.summary ? nlohmann::json(to_string(*design.summary))
                                                   : nlohmann::json(nullptr)},
                        {"chosen_by", design.chosen_by},
                        {"reason", design.reason},
                        {"evidence", design.evidence},
                        {"duet_cpus", design.duet_cpus}};
    if (!design.counter_backend.empty()) {
        json["counter_backend"] = design.counter_backend;
        json["counter_reason"] = design.counter_reason;
    }
    return json;
}

WorkloadDesign design_from_json(const nlohmann::json& json, const std::string& source) {
    WorkloadDesign design;
    design.workload = json.at("workload").get<std::string>();
    const auto schedule = parse_schedule(json.at("schedule").get<std::string>());
    if (!schedule || *schedule == Schedule::automatic) {
        throw Error(ErrorKind::usage,
                    fmt::format("{}: not a valid abtool plan: a design's schedule must be "
                                "alternate or duet",
                                source));
    }
    design.schedule = *schedule;
    design.repeat = json.at("repeat").get<std::size_t>();
    if (json.contains("summary") && !json.at("summary").is_null()) {
        design.summary = parse_summary(json.at("summary").get<std::string>());
    }
    design.chosen_by = json.value("chosen_by", std::string("config"));
    design.reason = json.value("reason", std::string());
    design.evidence = json.value("evidence", std::vector<std::string>{});
    design.duet_cpus = json.value("duet_cpus", std::vector<std::vector<int>>{});
    design.counter_backend = json.value("counter_backend", std::string());
    design.counter_reason = json.value("counter_reason", std::string());
    return design;
}

} // namespace

std::string describe(const PlannedRef& ref) {
    if (ref.kind == "snapshot") {
        return fmt::format("ref '{}' (snapshot {} on {})", ref.name, short_commit(ref.content_id),
                           short_commit(ref.commit));
    }
    return fmt::format("ref '{}' ({})", ref.name, short_commit(ref.commit));
}

WorkloadDesign Plan::design_of(const std::string& workload) const {
    for (const WorkloadDesign& design : designs) {
        if (design.workload == workload) {
            return design;
        }
    }
    WorkloadDesign plain;
    plain.workload = workload;
    return plain;
}

nlohmann::json to_json(const Plan& plan) {
    nlohmann::json schedule = nlohmann::json::array();
    for (const PlannedRound& round : plan.schedule) {
        schedule.push_back({{"round", round.index},
                            {"order", round.order == stats::Order::ab ? "AB" : "BA"},
                            {"swap_cpus", round.swap_cpus},
                            {"workloads", round.workloads}});
    }
    nlohmann::json designs = nlohmann::json::array();
    for (const WorkloadDesign& design : plan.designs) {
        designs.push_back(design_json(design));
    }
    nlohmann::json json{{"format", "abtool-plan-1"},
                        {"run_id", plan.run_id},
                        {"timestamp", plan.timestamp},
                        {"abtool_version", plan.abtool_version},
                        {"host", plan.host},
                        {"mode", plan.mode},
                        {"a", ref_json(plan.a)},
                        {"b", ref_json(plan.b)},
                        {"config_file", plan.config_file},
                        {"config_text", plan.config_text},
                        {"workloads", plan.workloads},
                        {"rounds", plan.rounds},
                        {"max_rounds", plan.max_rounds},
                        {"rounds_requested", plan.rounds_requested},
                        {"max_rounds_requested", plan.max_rounds_requested},
                        {"warmup", plan.warmup},
                        {"seed", plan.seed},
                        {"generator", plan.generator},
                        {"threshold", plan.threshold},
                        {"confidence", plan.confidence},
                        {"cpus", plan.cpus},
                        {"nice", plan.nice},
                        {"env_padding", plan.env_padding},
                        {"warnings", plan.warnings},
                        {"notes", plan.notes},
                        {"pilot_rounds", plan.pilot_rounds},
                        {"designs", designs},
                        {"schedule", schedule}};
    if (plan.target_id != "local") {
        json["target_id"] = plan.target_id;
    }
    if (plan.shard) {
        json["shard"] = shard_json(*plan.shard);
    }
    if (!plan.merged_from.empty()) {
        json["merged_from"] = plan.merged_from;
    }
    return json;
}

Plan plan_from_json(const nlohmann::json& json, const std::string& source) {
    try {
        Plan plan;
        plan.run_id = json.at("run_id").get<std::string>();
        plan.timestamp = json.at("timestamp").get<std::string>();
        plan.abtool_version = json.at("abtool_version").get<std::string>();
        plan.host = json.at("host").get<std::string>();
        plan.mode = json.at("mode").get<std::string>();
        plan.a = ref_from_json(json.at("a"));
        plan.b = ref_from_json(json.at("b"));
        plan.config_file = json.at("config_file").get<std::string>();
        plan.config_text = json.at("config_text").get<std::string>();
        plan.workloads = json.at("workloads").get<std::vector<std::string>>();
        plan.rounds = json.at("rounds").get<std::size_t>();
        plan.max_rounds = json.at("max_rounds").get<std::size_t>();
        // Absent from plans written before odd counts were rounded up: nothing was rounded then.
        plan.rounds_requested = json.value("rounds_requested", plan.rounds);
        plan.max_rounds_requested = json.value("max_rounds_requested", plan.max_rounds);
        plan.warmup = json.at("warmup").get<std::size_t>();
        plan.seed = json.at("seed").get<std::uint64_t>();
        plan.generator = json.at("generator").get<std::string>();
        plan.threshold = json.at("threshold").get<double>();
        plan.confidence = json.at("confidence").get<double>();
        plan.cpus = json.at("cpus").get<std::vector<int>>();
        plan.nice = json.at("nice").get<int>();
        plan.env_padding = json.at("env_padding").get<bool>();
        plan.warnings = json.at("warnings").get<std::vector<std::string>>();
        for (const nlohmann::json& entry : json.at("schedule")) {
            PlannedRound round;
            round.index = entry.at("round").get<std::size_t>();
            round.order =
                entry.at("order").get<std::string>() == "AB" ? stats::Order::ab : stats::Order::ba;
            round.workloads = entry.at("workloads").get<std::vector<std::string>>();
            round.swap_cpus = entry.value("swap_cpus", false);
            plan.schedule.push_back(std::move(round));
        }
        // Absent from plans written before designs existed: every workload ran alternate rounds.
        plan.notes = json.value("notes", std::vector<std::string>{});
        plan.pilot_rounds = json.value("pilot_rounds", std::size_t{0});
        plan.target_id = json.value("target_id", std::string("local"));
        if (json.contains("shard")) {
            plan.shard = shard_from_json(json.at("shard"));
        }
        plan.merged_from = json.value("merged_from", std::vector<std::string>{});
        if (json.contains("designs")) {
            for (const nlohmann::json& entry : json.at("designs")) {
                plan.designs.push_back(design_from_json(entry, source));
            }
        }
        return plan;
    } catch (const nlohmann::json::exception& error) {
        throw Error(ErrorKind::usage,
                    fmt::format("{}: not a valid abtool plan: {}", source, error.what()));
    }
}

namespace {

// A counting workload's backend in its design; and a workload gated on counters alone needs no
// pilot: a count does not depend on how the rounds run, so auto is plain alternate rounds.
void design_counting(const WorkloadConfig& workload, WorkloadDesign& design) {
    const runners::Counting* counting = runners::counting_of(workload.workload);
    if (counting == nullptr || !counting->active()) {
        return;
    }
    design.counter_backend = runners::to_string(counting->backend);
    design.counter_reason = workload.counter_reason;
    const std::vector<std::string> gated = runners::gated_metrics(workload.workload);
    if (design.schedule == Schedule::automatic &&
        std::all_of(gated.begin(), gated.end(), [](const std::string& metric) {
            return runners::counter_named(metric).has_value();
        })) {
        design.schedule = Schedule::alternate;
        design.chosen_by = "counters";
        design.reason = "gated on counters only, which no design changes: no pilot";
    }
}

// The CPUs a duet splits between its sides: --cpus, else every CPU abtool may use. A command or
// hotpath side needs one CPU, a publish or stream side two (its server and its load generator).
std::vector<std::vector<int>> duet_cpu_sets(const WorkloadConfig& workload,
                                            const std::vector<int>& allowed) {
    const bool publish = workload.kind() == "publish" || workload.kind() == "stream";
    const std::size_t sets = publish ? 4 : 2;
    if (allowed.size() < sets) {
        return {};
    }
    // Contiguous, equal shares (a leftover CPU stays unused so that neither side has more).
    const std::size_t share = allowed.size() / sets;
    std::vector<std::vector<int>> result(sets);
    for (std::size_t i = 0; i < sets * share; ++i) {
        result[i / share].push_back(allowed[i]);
    }
    return result;
}

// Each workload's design as the flag, its [[workload]] table, [run] or the default say; auto
// stays auto until the pilot. An explicit duet the CPUs cannot hold is refused here, before
// anything is checked out.
std::vector<WorkloadDesign> configured_designs(const RunOptions& options, const Config& config,
                                               const std::vector<int>& allowed) {
    std::vector<WorkloadDesign> designs;
    for (const WorkloadConfig& workload : config.workloads) {
        WorkloadDesign design;
        design.workload = workload.workload.name;
        design.repeat = workload.design.repeat.value_or(config.run.design.repeat.value_or(1));
        design.summary =
            workload.design.summary ? workload.design.summary : config.run.design.summary;
        std::optional<Schedule> schedule;
        if (options.measurement.schedule) {
            schedule = parse_schedule(*options.measurement.schedule);
            if (!schedule) {
                throw Error(ErrorKind::usage,
                            fmt::format("--schedule '{}': use alternate, duet or auto",
                                        *options.measurement.schedule));
            }
        }
        design.chosen_by = "flag";
        if (!schedule) {
            schedule =
                workload.design.schedule ? workload.design.schedule : config.run.design.schedule;
            design.chosen_by = schedule ? "config" : "default";
        }
        design.schedule = schedule.value_or(Schedule::automatic);
        design_counting(workload, design);
        if (design.schedule != Schedule::alternate) {
            design.duet_cpus = duet_cpu_sets(workload, allowed);
        }
        if (design.schedule == Schedule::duet && design.duet_cpus.empty()) {
            const std::size_t needed =
                workload.kind() == "publish" || workload.kind() == "stream" ? 4 : 2;
            throw Error(
                ErrorKind::usage,
                fmt::format("workload '{}': schedule \"duet\" needs {} CPUs ({}), abtool "
                            "may use {}",
                            design.workload, needed,
                            needed == 4 ? "a server and a load generator per side" : "one per side",
                            allowed.size()),
                design.chosen_by == "flag"
                    ? "use --schedule alternate or auto, or allow more CPUs (--cpus)"
                    : fmt::format("set schedule = \"alternate\" or \"auto\" in {}",
                                  config.file.string()));
        }
        designs.push_back(std::move(design));
    }
    return designs;
}

// A workload whose cases are spread over several shards runs one design in all of them: auto
// would run a pilot in each, and each could choose another design for the same workload.
void fix_split_designs(const Shard& shard, std::vector<WorkloadDesign>& designs) {
    for (WorkloadDesign& design : designs) {
        if (design.schedule == Schedule::automatic &&
            std::find(shard.split.begin(), shard.split.end(), design.workload) !=
                shard.split.end()) {
            design.schedule = Schedule::alternate;
            design.duet_cpus.clear();
            design.chosen_by = "shard";
            design.reason = "its cases are split over several shards, and a pilot in each could "
                            "choose another design: alternate (set schedule to choose)";
        }
    }
}

} // namespace

void apply_counting(const Plan& plan, Config& config) {
    for (WorkloadConfig& workload : config.workloads) {
        runners::Counting* counting = runners::counting_of(workload.workload);
        if (counting == nullptr || !counting->active()) {
            continue;
        }
        const WorkloadDesign design = plan.design_of(workload.workload.name);
        for (const auto& [name, backend] : runners::k_counter_backends) {
            if (name == design.counter_backend) {
                counting->backend = backend;
            }
        }
        workload.counter_reason = design.counter_reason;
    }
}

Config config_of(const Plan& plan, const std::filesystem::path& file) {
    Config config = parse_config(plan.config_text, file);
    apply_counting(plan, config);
    std::erase_if(config.workloads, [&](const WorkloadConfig& workload) {
        return std::find(plan.workloads.begin(), plan.workloads.end(), workload.workload.name) ==
               plan.workloads.end();
    });
    return config;
}

std::size_t expected_gated(const Config& config) {
    std::size_t gated = 0;
    for (const WorkloadConfig& workload : config.workloads) {
        const std::size_t metrics =
            std::max<std::size_t>(1, runners::gated_metrics(workload.workload).size());
        // A {filter} hotpath's listed cases each report them (unless it counts: counters are the
        // whole program's, one case).
        const auto* hotpath = std::get_if<runners::HotpathWorkload>(&workload.workload.spec);
        const bool per_case = hotpath != nullptr && !hotpath->counting.active();
        gated += metrics * (per_case ? std::max<std::size_t>(1, hotpath->cases.size()) : 1);
    }
    return gated;
}

std::pair<std::size_t, std::size_t> parse_shard(std::string_view text) {
    std::size_t index = 0;
    std::size_t count = 0;
    const std::size_t slash = text.find('/');
    const auto number = [](std::string_view digits, std::size_t& value) {
        const auto [end, error] =
            std::from_chars(digits.data(), digits.data() + digits.size(), value);
        return error == std::errc() && end == digits.data() + digits.size() && !digits.empty();
    };
    if (slash == std::string_view::npos || !number(text.substr(0, slash), index) ||
        !number(text.substr(slash + 1), count) || count == 0 || count > 1000) {
        throw Error(ErrorKind::usage, fmt::format("--shard '{}': use K/N, e.g. --shard 2/4 "
                                                  "(the second of 4 shards, N at most 1000)",
                                                  text));
    }
    if (index < 1 || index > count) {
        throw Error(
            ErrorKind::usage,
            fmt::format("--shard {}: K must be 1 to {} (shards count from 1)", text, count));
    }
    return {index, count};
}

void select_shard(Config& config, std::size_t index, std::size_t count) {
    Shard shard;
    shard.index = index;
    shard.count = count;
    const std::size_t all_gated = expected_gated(config);
    std::size_t unit = 0;
    std::vector<WorkloadConfig> kept;
    for (WorkloadConfig& workload : config.workloads) {
        shard.suite.push_back(workload.workload.name);
        auto* hotpath = std::get_if<runners::HotpathWorkload>(&workload.workload.spec);
        const bool per_case =
            hotpath != nullptr && !hotpath->cases.empty() && !hotpath->counting.active();
        if (!per_case) {
            if (unit++ % count == index - 1) {
                shard.units.push_back({workload.workload.name, {}});
                kept.push_back(workload);
            }
            continue;
        }
        std::vector<std::string> mine;
        std::set<std::size_t> shards;
        for (const std::string& name : hotpath->cases) {
            shards.insert(unit % count);
            if (unit++ % count == index - 1) {
                mine.push_back(name);
            }
        }
        if (shards.size() > 1) {
            shard.split.push_back(workload.workload.name);
        }
        if (!mine.empty()) {
            hotpath->cases = mine;
            shard.units.push_back({workload.workload.name, mine});
            kept.push_back(workload);
        }
    }
    if (shard.units.empty()) {
        throw Error(ErrorKind::usage,
                    fmt::format("--shard {}/{}: the run has only {} unit(s) (workloads, and the "
                                "cases of a hotpath workload that takes {{filter}}), so shard {} "
                                "would run nothing",
                                index, count, unit, index),
                    fmt::format("use at most {} shards", unit));
    }
    config.workloads = std::move(kept);
    shard.other_gated = all_gated - expected_gated(config);
    config.shard = std::move(shard);
}

void plan_reachable_rounds(Plan& plan, const Config& config, std::size_t gated, Strict strict,
                           const char* basis) {
    stats::Options options;
    options.confidence = plan.confidence;
    options.multiplicity = config.run.multiplicity;
    const auto looks = [&](std::size_t rounds) {
        return plan.max_rounds > rounds
                   ? stats::planned_looks(stats::AdaptivePolicy{rounds, plan.max_rounds})
                   : 1;
    };
    options.looks = looks(plan.rounds);
    std::size_t needed = stats::rounds_for_significance(gated, options);
    // Raising the rounds can change the number of interim looks: settle on a fixed point.
    for (int i = 0; i < 4 && needed > plan.rounds; ++i) {
        options.looks = looks(needed);
        needed = std::max(needed, stats::rounds_for_significance(gated, options));
    }
    if (needed <= plan.rounds) {
        return;
    }
    const double smallest = static_cast<double>(gated) * stats::smallest_p_value(plan.rounds);
    const std::string why = fmt::format(
        "{} rounds cannot reach significance for {} gated metric(s) ({}) under {}: the smallest "
        "p-value they allow is {:.3g}, not below {:.3g}",
        plan.rounds, gated, basis,
        config.run.multiplicity == stats::Multiplicity::holm   ? "Holm"
        : config.run.multiplicity == stats::Multiplicity::none ? "no correction"
                                                               : "Benjamini-Hochberg",
        std::min(1.0, smallest), (1 - plan.confidence) / std::max(1, looks(plan.rounds)));
    if (strict == Strict::yes) {
        throw Error(
            ErrorKind::usage, why,
            fmt::format("--strict refuses a plan that cannot pass: use --rounds {}", needed));
    }
    const std::string raised = fmt::format("{}; rounds raised to {}", why, needed);
    std::fprintf(stderr, "abtool: note: %s\n", raised.c_str());
    plan.notes.push_back(raised);
    plan.rounds = needed;
    plan.max_rounds = std::max(plan.max_rounds, needed);
    plan.schedule = plan_schedule(plan);
}

Plan make_plan(const RunOptions& options, const Config& config,
               const std::vector<int>& allowed_cpus) {
    Plan plan;
    plan.designs = configured_designs(options, config, allowed_cpus);
    plan.run_id = options.run_id.value_or(new_run_id());
    plan.timestamp = utc_timestamp();
    plan.abtool_version = ABTOOL_VERSION;
    plan.host = host_name();
    if (options.as_target) {
        plan.target_id = *options.as_target;
    } else {
        const Target target =
            choose_target(options.measurement.target, options.measurement.targets, config.file);
        if (target.kind == "ssh") { // `abtool run` goes there before any plan (remote.hpp)
            throw Error(ErrorKind::usage,
                        fmt::format("--target '{}' is an ssh target: only `abtool run` runs on "
                                    "one in this version",
                                    target.id),
                        "calibrate and bisect on the target's host itself");
        }
        plan.target_id = target.id;
    }
    plan.mode = options.calibrate ? "calibrate" : "compare";
    plan.config_file = config.file.string();
    plan.config_text = config.text;
    for (const WorkloadConfig& workload : config.workloads) {
        plan.workloads.push_back(workload.workload.name);
    }
    plan.rounds_requested = config.run.rounds;
    plan.max_rounds_requested = config.run.max_rounds.value_or(config.run.rounds);
    plan.rounds = whole_blocks(plan.rounds_requested);
    plan.max_rounds = whole_blocks(plan.max_rounds_requested);
    const auto note_rounding = [](const char* key, std::size_t asked, std::size_t used) {
        if (asked != used) {
            std::fprintf(stderr,
                         "abtool: note: %s = %zu rounded up to %zu: rounds come in balanced "
                         "blocks of one AB and one BA round\n",
                         key, asked, used);
        }
    };
    note_rounding("rounds", plan.rounds_requested, plan.rounds);
    if (config.run.max_rounds) {
        note_rounding("max_rounds", plan.max_rounds_requested, plan.max_rounds);
    }
    plan.warmup = config.run.warmup;
    plan.seed = config.run.seed;
    plan.threshold = config.run.threshold;
    plan.confidence = config.run.confidence;
    plan.cpus = options.measurement.cpus;
    plan.nice = options.measurement.nice;
    plan.env_padding = options.measurement.env_padding;
    plan.warnings = hygiene_warnings(options.measurement.cpus);
    plan.shard = config.shard;
    if (plan.shard) {
        fix_split_designs(*plan.shard, plan.designs);
    }
    plan.schedule = plan_schedule(plan);
    plan.pilot_rounds = whole_blocks(config.run.pilot_rounds);
    if (!options.calibrate) { // an A/A calibration reaches no verdict: nothing to raise
        // What the config alone tells (a lower bound on the gated metrics), so that --strict
        // refuses before anything is built.
        plan_reachable_rounds(
            plan, config, expected_gated(config) + (plan.shard ? plan.shard->other_gated : 0),
            options.strict,
            plan.shard ? "counted from the config, every shard's" : "counted from the config");
    }
    return plan;
}

} // namespace abtool
