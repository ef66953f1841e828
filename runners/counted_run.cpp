#include "runners/workload_runners.hpp"

#include "abtool/error.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace abtool::runners {

namespace {

// A fresh directory for one run's cachegrind files: beside its kept stdout (the run directory's
// output/..., where cg_annotate can read them later), else a temporary one.
std::filesystem::path cachegrind_dir_for(const RunOutput& output) {
    std::filesystem::path dir;
    if (output.temporary()) {
        std::string name = (std::filesystem::temp_directory_path() / "abtool-cg-XXXXXX").string();
        if (mkdtemp(name.data()) == nullptr) {
            throw Error(ErrorKind::io, fmt::format("cannot create a temporary directory in {}: {}",
                                                   std::filesystem::temp_directory_path().string(),
                                                   std::strerror(errno)));
        }
        return name;
    }
    dir = output.path();
    dir.replace_extension(".cachegrind");
    std::error_code error;
    std::filesystem::remove_all(dir, error); // never count a previous run's files
    std::filesystem::create_directories(dir, error);
    if (error) {
        throw Error(ErrorKind::storage,
                    fmt::format("cannot create {}: {}", dir.string(), error.message()));
    }
    return dir;
}

// The instructions (Ir) one cachegrind file counted: its `summary:` line's first event, which
// `events:` names Ir (--cache-sim=no --branch-sim=no: the only one). Nullopt when it has none
// (a process killed before valgrind wrote its totals).
std::optional<double> instructions_in(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::string line;
    bool ir_first = false;
    while (std::getline(in, line)) {
        if (line.rfind("events:", 0) == 0) {
            std::istringstream events(line.substr(7));
            std::string first;
            events >> first;
            ir_first = first == "Ir";
        } else if (line.rfind("summary:", 0) == 0 && ir_first) {
            char* end = nullptr;
            const double value = std::strtod(line.c_str() + 8, &end);
            if (end != line.c_str() + 8 && std::isfinite(value)) {
                return value;
            }
        }
    }
    return std::nullopt;
}

} // namespace

CountedRun::CountedRun(const Counting& counting, const RunOutput& output) : m_counting(counting) {
    if (m_counting.active() && m_counting.backend == CounterBackend::cachegrind) {
        m_temporary = output.temporary();
        m_cachegrind_dir = cachegrind_dir_for(output);
    }
}

CountedRun::~CountedRun() {
    if (m_temporary && !m_cachegrind_dir.empty()) {
        std::error_code error;
        std::filesystem::remove_all(m_cachegrind_dir, error);
    }
}

void CountedRun::prepare(ProcessSpec& spec) const {
    if (!m_counting.active()) {
        return;
    }
    if (m_counting.backend != CounterBackend::cachegrind) {
        spec.perf_counters = m_counting.counters;
        spec.perf_include_kernel = m_counting.include_kernel;
        return;
    }
    const std::optional<std::filesystem::path> valgrind = find_valgrind();
    if (!valgrind) {
        throw Error(ErrorKind::workload,
                    "counting instructions with cachegrind needs valgrind, which is not on PATH: "
                    "apt-get install valgrind");
    }
    // Every process the command runs, forked or exec'd, counts (--trace-children); each writes
    // its own file (%p). No cache or branch simulation: only Ir, at the lowest slowdown.
    std::vector<std::string> argv{valgrind->string(),
                                  "--tool=cachegrind",
                                  "--cache-sim=no",
                                  "--branch-sim=no",
                                  "--trace-children=yes",
                                  "--quiet",
                                  "--cachegrind-out-file=" +
                                      (m_cachegrind_dir / "cachegrind.out.%p").string()};
    if (spec.shell) {
        argv.insert(argv.end(), {"/bin/sh", "-c", *spec.shell});
        spec.shell.reset();
    } else {
        argv.insert(argv.end(), spec.argv.begin(), spec.argv.end());
    }
    spec.argv = std::move(argv);
}

void CountedRun::collect(const ProcessResult& process, RunResult& result,
                         const std::function<Gate(std::string_view)>& gate) const {
    if (!m_counting.active()) {
        return;
    }
    if (m_counting.backend != CounterBackend::cachegrind) {
        for (const auto& [counter, value] : process.counts) {
            if (!std::isfinite(value)) {
                result.error = fmt::format("{} could not be counted: {}", to_string(counter),
                                           process.counts_note);
                return;
            }
            result.samples.push_back({"", std::string(to_string(counter)), value, "count",
                                      Direction::lower, gate(to_string(counter))});
        }
        return;
    }
    double total = 0;
    std::size_t files = 0;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(m_cachegrind_dir, error)) {
        const std::optional<double> counted = instructions_in(entry.path());
        if (!counted) {
            result.error =
                fmt::format("cachegrind wrote no instruction count in {}", entry.path().string());
            return;
        }
        total += *counted;
        ++files;
    }
    if (files == 0) {
        result.error = fmt::format("cachegrind wrote no counts in {}", m_cachegrind_dir.string());
        return;
    }
    result.samples.push_back(
        {"", "instructions", total, "count", Direction::lower, gate("instructions")});
}

} // namespace abtool::runners
