// The --json report of `abtool` (run), `analyze` or `compare`, read back for assertions: a test
// finds a row by workload, case and metric and reads its verdict and numbers from the document
// abtool wrote (src/report/json.cpp lists its fields), never from the terminal table, whose
// columns are laid out for people and move with their widths and wording. Needs nlohmann_json
// (integration_tests links it).
//
// A report or a row that is not there fails the test: the failure is recorded first (so that a
// TempDir keeps its data), then an exception ends the test as an ASSERT would, its message
// naming the file and listing the rows there are.
#pragma once

#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <limits>
#include <stdexcept>
#include <string>

namespace abtool::testing {

class JsonReport {
public:
    // Reads `file`; fails the test when it is missing, not JSON or not an abtool report.
    explicit JsonReport(const std::filesystem::path& file) : m_file(file) {
        if (!std::filesystem::is_regular_file(file)) {
            fail("no --json report at " + file.string());
        }
        try {
            m_json = nlohmann::json::parse(read_file(file));
        } catch (const nlohmann::json::exception& error) {
            fail("--json report " + file.string() + ": " + error.what());
        }
        if (!m_json.is_object() || m_json.value("format", "") != "abtool-report-1" ||
            !m_json.contains("rows") || !m_json.contains("gate")) {
            fail("--json report " + file.string() + ": not an \"abtool-report-1\" document");
        }
    }

    const nlohmann::json& json() const { return m_json; }
    const nlohmann::json& gate() const { return m_json.at("gate"); }
    const nlohmann::json& rows() const { return m_json.at("rows"); }

    // Whether the report has exactly one row for workload/case/metric (case "" for a workload
    // without cases, which the terminal table shows as "-").
    bool has_row(const std::string& workload, const std::string& case_name,
                 const std::string& metric) const {
        return matching(workload, case_name, metric) == 1;
    }

    // The row for workload/case/metric; fails the test when there is not exactly one.
    const nlohmann::json& row(const std::string& workload, const std::string& case_name,
                              const std::string& metric) const {
        const nlohmann::json* found = nullptr;
        const std::size_t count = matching(workload, case_name, metric, &found);
        if (count != 1) {
            fail(std::to_string(count) + " rows " + workload + "/" + case_name + "/" + metric +
                 " in " + m_file.string() + "; its rows:\n" + summary());
        }
        return *found;
    }

    // The row's verdict: "regressed", "improved", "unchanged", "inconclusive" or "slo-violated"
    // (the table's "(info)" is `gated` false, its "no value on B" is the row's empty side).
    std::string verdict(const std::string& workload, const std::string& case_name,
                        const std::string& metric) const {
        return row(workload, case_name, metric).at("verdict").get<std::string>();
    }

    // Whether a regression of the row's metric fails the gate.
    bool gated(const std::string& workload, const std::string& case_name,
               const std::string& metric) const {
        return row(workload, case_name, metric).at("gated").get<bool>();
    }

    // The rows as "workload/case/metric: verdict" lines, for a failure message.
    std::string summary() const {
        std::string text;
        for (const nlohmann::json& each : rows()) {
            text += each.value("workload", "?") + "/" + each.value("case", "?") + "/" +
                    each.value("metric", "?") + ": " + each.value("verdict", "?") + "\n";
        }
        return text;
    }

    // A number of the report (json.cpp writes null for one that is not finite, such as the
    // interval of a row without one): NaN then, which every comparison an EXPECT makes fails.
    static double number(const nlohmann::json& value) {
        return value.is_null() ? std::numeric_limits<double>::quiet_NaN() : value.get<double>();
    }

private:
    [[noreturn]] static void fail(const std::string& message) {
        ADD_FAILURE() << message;
        throw std::runtime_error(message);
    }

    std::size_t matching(const std::string& workload, const std::string& case_name,
                         const std::string& metric, const nlohmann::json** found = nullptr) const {
        std::size_t count = 0;
        for (const nlohmann::json& each : rows()) {
            if (each.at("workload") == workload && each.at("case") == case_name &&
                each.at("metric") == metric) {
                ++count;
                if (found != nullptr) {
                    *found = &each;
                }
            }
        }
        return count;
    }

    std::filesystem::path m_file;
    nlohmann::json m_json;
};

} // namespace abtool::testing
