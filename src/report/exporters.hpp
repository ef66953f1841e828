// The output formats, each one Exporter over the same Report (hyperfine's export/ module), and
// the table builder that the terminal and Markdown share.
#pragma once

#include "src/report/report.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace abtool::report {

struct Table {
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> cells; // one row per report row, worst first
    std::vector<const Row*> rows;                // the report rows behind them
};
Table verdict_table(const Report& report);

std::string format_number(double value);  // 4 significant digits, no exponent for usual sizes
std::string format_percent(double value); // +12.3%
// A value with its unit as a table shows it: "1.82 ms"; a count (unit "count") whole, its
// thousands grouped: "12,132,049".
std::string format_value(double value, const std::string& unit);
// The report's threshold, and each workload's own where one sets it: "5% (loop: 0.2%)".
std::string threshold_text(const Report& report);
std::string row_name(const Row& row);            // workload[/case]/metric
std::string escape_xml(const std::string& text); // & < > " as entities (HTML and XML)

// A workload's design after its name, as the terminal, Markdown and HTML all state it:
// "duet (pilot): <reason>; launch skew median 12 us, max 80 us" (the skew only when measured).
std::string design_summary(const DesignReport& design);
// Whether a report lists the pilot's evidence under the design: only when the pilot chose it
// (or fell back for want of information), which is when the reader needs the comparison.
bool shows_evidence(const DesignReport& design);

class JsonExporter final : public Exporter {
public:
    std::string serialize(const Report& report) const override;
};
class MarkdownExporter final : public Exporter {
public:
    std::string serialize(const Report& report) const override;
};
class HtmlExporter final : public Exporter {
public:
    std::string serialize(const Report& report) const override;
};
class JunitExporter final : public Exporter {
public:
    std::string serialize(const Report& report) const override;
};
class BencherExporter final : public Exporter {
public:
    std::string serialize(const Report& report) const override;
};
// benchstat's input: Go benchmark lines from one side's raw per-round values.
class BenchstatExporter final : public Exporter {
public:
    enum class Side { a, b };
    explicit BenchstatExporter(Side side) : m_side(side) {}
    std::string serialize(const Report& report) const override;

private:
    Side m_side;
};
// github-action-benchmark's custom JSON, for one direction (it wants one file per direction).
class GhaBenchmarkExporter final : public Exporter {
public:
    explicit GhaBenchmarkExporter(stats::Direction direction) : m_direction(direction) {}
    std::string serialize(const Report& report) const override;

private:
    stats::Direction m_direction;
};

} // namespace abtool::report
