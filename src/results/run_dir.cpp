#include "src/results/run_dir.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cstdint>

namespace abtool {

namespace {

// `name` as one file name: letters, digits, '.', '-' and '_' stay, anything else becomes '_'
// (with a hash of the original after it, so that "a/b" and "a_b" stay apart), and a leading '.'
// too (never "." or "..").
std::string file_name_for(const std::string& name) {
    std::string file = name;
    for (char& c : file) {
        const bool plain =
            std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == '_';
        if (!plain) {
            c = '_';
        }
    }
    if (file.empty() || file.front() == '.') {
        file.insert(file.begin(), '_');
    }
    if (file != name) {
        std::uint32_t hash = 2166136261u; // FNV-1a
        for (const char c : name) {
            hash = (hash ^ static_cast<unsigned char>(c)) * 16777619u;
        }
        file += fmt::format("-{:08x}", hash);
    }
    return file;
}

} // namespace

RunDir RunDir::create(const std::filesystem::path& state_dir, const std::string& run_id) {
    RunDir dir = in(state_dir, run_id);
    std::filesystem::create_directories(dir.path());
    return dir;
}

std::filesystem::path RunDir::build_log(Side side) const {
    return m_path / fmt::format("build-{}.log", to_string(side));
}

std::filesystem::path RunDir::stdout_file(const std::string& workload,
                                          const std::string& run) const {
    return m_path / "output" / file_name_for(workload) / (file_name_for(run) + ".stdout");
}

bool RunDir::has_plan() const {
    return std::filesystem::is_regular_file(plan_file());
}

void RunDir::write_plan(const Plan& plan) const {
    write_json_file(plan_file(), to_json(plan));
}

Plan RunDir::read_plan() const {
    return plan_from_json(read_json_file(plan_file()), plan_file().string());
}

void RunDir::write_summary(const report::Report& report, bool complete) const {
    nlohmann::json rows = nlohmann::json::array();
    for (const report::Row& row : report.rows) {
        rows.push_back({{"primary_key", row.primary_key},
                        {"workload", row.workload},
                        {"case", row.case_name},
                        {"metric", row.metric},
                        {"verdict", report::to_string(row.verdict)},
                        {"delta_pct", row.comparison.delta_pct},
                        {"ci_low_pct", row.comparison.ci_low_pct},
                        {"ci_high_pct", row.comparison.ci_high_pct},
                        {"p_value", row.comparison.p_adjusted},
                        {"n", row.comparison.n}});
    }
    write_json_file(summary_file(), {{"run_id", report.run_id},
                                     {"complete", complete},
                                     {"rounds_completed", report.rounds},
                                     {"threshold_pct", report.threshold_pct},
                                     {"warnings", report.warnings},
                                     {"rows", rows}});
}

} // namespace abtool
