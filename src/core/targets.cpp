#include "src/core/targets.hpp"

#include "abtool/error.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <iterator>

namespace abtool {

namespace {

// A string field of an entry: absent -> `fallback`; present and not a string -> Error(usage).
std::string text_field(const nlohmann::json& entry, const char* key, const std::string& where,
                       const std::string& fallback = "") {
    if (!entry.contains(key)) {
        return fallback;
    }
    if (!entry.at(key).is_string() || entry.at(key).get<std::string>().empty()) {
        throw Error(ErrorKind::usage,
                    fmt::format("{}: '{}' must be a non-empty string", where, key));
    }
    return entry.at(key).get<std::string>();
}

Target target_of(const nlohmann::json& entry, const std::string& where) {
    if (!entry.is_object()) {
        throw Error(ErrorKind::usage, where + ": not an object");
    }
    Target target;
    target.id = text_field(entry, "id", where);
    if (target.id.empty()) {
        throw Error(ErrorKind::usage, where + ": no \"id\"");
    }
    const std::string named = fmt::format("{} ('{}')", where, target.id);
    target.kind = text_field(entry, "kind", named, "local");
    target.description = text_field(entry, "description", named);
    if (target.kind != "local" && target.kind != "ssh") {
        throw Error(ErrorKind::usage,
                    fmt::format("{}: kind '{}' is not local or ssh", named, target.kind));
    }
    if (target.kind == "ssh") {
        target.host = text_field(entry, "host", named);
        target.workdir = text_field(entry, "workdir", named);
        if (target.host.empty() || target.workdir.empty()) {
            throw Error(ErrorKind::usage,
                        fmt::format("{}: an ssh target needs \"host\" and \"workdir\"", named));
        }
        target.user = text_field(entry, "user", named);
        target.identity_file = text_field(entry, "identity_file", named);
        target.known_hosts = text_field(entry, "known_hosts", named);
        for (const auto& [key, value] : {std::pair{"host", &target.host}, {"user", &target.user}}) {
            // ssh would read a leading '-' as an option, and a space or control character has
            // no place in a host or user name.
            if (value->starts_with('-') || std::any_of(value->begin(), value->end(), [](char c) {
                    return static_cast<unsigned char>(c) <= ' ';
                })) {
                throw Error(ErrorKind::usage, fmt::format("{}: '{}' value '{}' is not a {} name",
                                                          named, key, *value, key));
            }
        }
        target.abtool = text_field(entry, "abtool", named, target.abtool);
        if (entry.contains("port")) {
            const nlohmann::json& port = entry.at("port");
            if (!port.is_number_integer() || port.get<long long>() < 1 ||
                port.get<long long>() > 65535) {
                throw Error(ErrorKind::usage,
                            fmt::format("{}: 'port' must be an integer from 1 to 65535", named));
            }
            target.port = port.get<int>();
        }
    }
    return target;
}

} // namespace

std::vector<Target> load_targets(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw Error(ErrorKind::usage, fmt::format("cannot read targets file {}", file.string()));
    }
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    nlohmann::json json;
    try {
        json = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& error) {
        throw Error(ErrorKind::usage, fmt::format("{}: not JSON: {}", file.string(), error.what()));
    }
    if (!json.is_object() || !json.contains("targets") || !json.at("targets").is_array()) {
        throw Error(ErrorKind::usage, fmt::format("{}: no \"targets\" array", file.string()),
                    "the format: {\"targets\": [{\"id\": \"...\", \"kind\": \"local\"}]} "
                    "(reference/targets.json)");
    }
    std::vector<Target> targets;
    const nlohmann::json& entries = json.at("targets");
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const std::string where = fmt::format("{}: target {}", file.string(), i + 1);
        Target target = target_of(entries[i], where);
        if (std::any_of(targets.begin(), targets.end(),
                        [&](const Target& other) { return other.id == target.id; })) {
            throw Error(ErrorKind::usage,
                        fmt::format("{}: id '{}' is used by an earlier target", where, target.id));
        }
        if (target.id == "local" && target.kind != "local") {
            throw Error(ErrorKind::usage,
                        where + ": id 'local' is this machine: its kind must be local");
        }
        targets.push_back(std::move(target));
    }
    return targets;
}

Target choose_target(const std::optional<std::string>& id,
                     const std::optional<std::filesystem::path>& registry,
                     const std::filesystem::path& config_file) {
    const std::string wanted = id.value_or("local");
    std::optional<std::filesystem::path> file = registry;
    if (!file && std::filesystem::exists(config_file.parent_path() / "targets.json")) {
        file = config_file.parent_path() / "targets.json";
    }
    const std::vector<Target> targets = file ? load_targets(*file) : std::vector<Target>{};
    const auto it = std::find_if(targets.begin(), targets.end(),
                                 [&](const Target& target) { return target.id == wanted; });
    if (it == targets.end()) {
        if (wanted == "local") {
            return Target{};
        }
        std::string ids = "local";
        for (const Target& target : targets) {
            ids += target.id == "local" ? "" : ", " + target.id;
        }
        throw Error(ErrorKind::usage,
                    file ? fmt::format("--target '{}' is not in {}", wanted, file->string())
                         : fmt::format("--target '{}': no targets.json beside {} (nor --targets)",
                                       wanted, config_file.string()),
                    "targets: " + ids);
    }
    return *it;
}

} // namespace abtool
