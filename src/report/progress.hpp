// The terminal's view of the measured rounds while they run: round i of n, elapsed and remaining
// time, and what runs now: a rewritten line on a terminal, one line per round otherwise (CI logs,
// pipes), on stderr.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace abtool {

// What the measured rounds tell a person while they run: the scheduler (experiment/) calls it,
// TerminalProgress below draws it.
class ScheduleObserver {
public:
    virtual ~ScheduleObserver() = default;
    virtual void rounds_planned(std::size_t rounds) = 0;
    virtual void running(std::size_t round, const std::string& what) = 0;
    virtual void round_done(std::size_t round) = 0;
    virtual void finished() = 0;
};

} // namespace abtool

namespace abtool::report {

class TerminalProgress : public ScheduleObserver {
public:
    TerminalProgress();

    void rounds_planned(std::size_t rounds) override { m_rounds = rounds; }
    void running(std::size_t round, const std::string& what) override;
    void round_done(std::size_t round) override;
    void finished() override;

private:
    double elapsed_s() const;
    std::string status(std::size_t done) const;

    std::size_t m_rounds = 0;
    std::chrono::steady_clock::time_point m_start;
    bool m_live;
};

// A build's view while it runs: "abtool: building ref 'x' (3f2a1c9): 12 s: <its last output
// line>", rewritten every second on a terminal, a line every 10 s otherwise (CI logs, pipes).
class BuildProgress {
public:
    BuildProgress();

    // How often update() should be called.
    std::chrono::milliseconds every() const;
    void update(const std::string& label, double elapsed_s, std::string_view last_line);
    // The live line gives way to what comes next (the build's result, or an error).
    void clear();

private:
    bool m_live;
};

} // namespace abtool::report
