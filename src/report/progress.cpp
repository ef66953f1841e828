#include "src/report/progress.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

namespace abtool::report {

namespace {

std::string format_duration(double seconds) {
    const auto total = static_cast<long long>(seconds + 0.5);
    return total >= 3600 ? fmt::format("{}:{:02}:{:02}", total / 3600, total / 60 % 60, total % 60)
                         : fmt::format("{}:{:02}", total / 60, total % 60);
}

} // namespace

TerminalProgress::TerminalProgress()
    : m_start(std::chrono::steady_clock::now()),
      m_live(isatty(STDERR_FILENO) != 0 && std::getenv("CI") == nullptr) {}

void TerminalProgress::running(std::size_t round, const std::string& what) {
    if (m_live) {
        std::fprintf(stderr, "\r\033[K%s  %s", status(round - 1).c_str(), what.c_str());
        std::fflush(stderr);
    }
}

void TerminalProgress::round_done(std::size_t round) {
    if (!m_live) {
        std::fprintf(stderr, "%s\n", status(round).c_str());
    }
}

void TerminalProgress::finished() {
    if (m_live) {
        std::fprintf(stderr, "\r\033[K");
    }
    std::fprintf(stderr, "rounds done in %s\n", format_duration(elapsed_s()).c_str());
}

double TerminalProgress::elapsed_s() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
}

std::string TerminalProgress::status(std::size_t done) const {
    std::string remaining = "?";
    if (done > 0) {
        remaining = format_duration(elapsed_s() / static_cast<double>(done) *
                                    static_cast<double>(m_rounds - std::min(done, m_rounds)));
    }
    return fmt::format("round {}/{}  {} elapsed, ~{} left", done, m_rounds,
                       format_duration(elapsed_s()), remaining);
}

BuildProgress::BuildProgress()
    : m_live(isatty(STDERR_FILENO) != 0 && std::getenv("CI") == nullptr) {}

std::chrono::milliseconds BuildProgress::every() const {
    return m_live ? std::chrono::seconds(1) : std::chrono::seconds(10);
}

void BuildProgress::update(const std::string& label, double elapsed_s, std::string_view last_line) {
    std::string line = fmt::format("abtool: building {}: {:.0f} s", label, elapsed_s);
    if (!last_line.empty()) {
        line += fmt::format(": {}", last_line);
    }
    // One line: short enough for a terminal, or for a CI log's reader.
    const std::size_t width = m_live ? 100 : 300;
    if (line.size() > width) {
        line = line.substr(0, width - 3) + "...";
    }
    if (m_live) {
        std::fprintf(stderr, "\r\033[K%s", line.c_str());
    } else {
        std::fprintf(stderr, "%s\n", line.c_str());
    }
    std::fflush(stderr);
}

void BuildProgress::clear() {
    if (m_live) {
        std::fputs("\r\033[K", stderr);
    }
}

} // namespace abtool::report
