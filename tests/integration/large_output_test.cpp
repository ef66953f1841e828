// A workload's output is streamed, through the real binary: a hotpath program that prints a
// 50 MB Google Benchmark document (a huge context before one benchmark row) costs abtool no more
// memory than one that prints a few hundred bytes, the sample is still read, and the run
// directory keeps each run's stdout, cut to 4 MiB with a note. The benchmark row's value is fixed,
// so the verdict is deterministic.
#include "tests/support/shell.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_repo.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace abtool::testing {
namespace {

struct Measured {
    int status = -1;
    long peak_rss_kb = 0; // abtool's, or any of its children's if larger (wait4)
};

// Runs `command` through /bin/sh in `dir`, its output to `log`, and returns its exit status and
// the peak RSS the kernel reports for it.
Measured measure(const std::filesystem::path& dir, const std::string& command,
                 const std::filesystem::path& log) {
    const std::string line =
        "cd " + quote(dir.string()) + " && exec " + command + " >" + quote(log.string()) + " 2>&1";
    const pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", line.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    Measured measured;
    int status = 0;
    rusage usage{};
    if (pid > 0 && wait4(pid, &status, 0, &usage) == pid) {
        measured.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        measured.peak_rss_kb = usage.ru_maxrss;
    }
    return measured;
}

// Under AddressSanitizer (a Debug build at -O0) the reader runs about 10x slower and the
// quarantine keeps freed memory, so peak RSS says nothing about streaming there: the run checks
// what the output becomes (parsed, kept, cut) on 6 MB instead of 50.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool k_sanitized = true;
constexpr int k_lines = 60000;
#else
constexpr bool k_sanitized = false;
constexpr int k_lines = 500000;
#endif
// The document's bytes: its opening, 100 bytes a context line, and its 98-byte close.
constexpr long long k_document_bytes = 22 + 100LL * k_lines + 98;

std::string config(const std::string& context_lines) {
    // `yes` repeats one array element of 100 bytes with its newline; a 0 ends the array.
    return "[run]\nrounds = 6\nwarmup = 0\nschedule = \"alternate\"\n\n"
           "[[workload]]\nname = \"big\"\nkind = \"hotpath\"\nformat = \"gbench\"\n"
           "shell = \"printf '{\\\"context\\\": {\\\"junk\\\": ['; yes '\\\"" +
           std::string(96, 'a') + "\\\",' | head -n " + context_lines +
           "; printf '0]}, \\\"benchmarks\\\": [{\\\"name\\\": \\\"BM_x\\\", \\\"run_type\\\": "
           "\\\"iteration\\\", \\\"real_time\\\": 7, \\\"time_unit\\\": \\\"ns\\\"}]}'\"\n";
}

TEST(LargeOutput, FiftyMegabytesOfGbenchJson_MemoryStaysFlat_StdoutKeptAndCut) {
    TempDir dir;
    TestRepo repo(dir.path() / "repo");
    repo.write(".gitignore", "results.csv\nlog\n");
    const std::string abtool = quote(ABTOOL_BINARY) + " --ref-a HEAD --ref-b CURRENT";

    // The same document, with 3 context lines and with 500,000 (50 MB).
    repo.write("abtool.toml", config("3"));
    repo.commit("small");
    const Measured small = measure(repo.root(), "env CI=true " + abtool, dir.path() / "log");
    ASSERT_EQ(small.status, 0) << read_file(dir.path() / "log");

    repo.write("abtool.toml", config(std::to_string(k_lines)));
    repo.commit("big");
    const Measured big = measure(repo.root(), "env CI=true " + abtool, dir.path() / "log");
    const std::string log = read_file(dir.path() / "log");
    ASSERT_EQ(big.status, 0) << log;
    EXPECT_NE(log.find("gate passed: 0 regressed, 0 improved, 1 unchanged"), std::string::npos)
        << log;

    if (!k_sanitized) {
        // Held whole, the output alone would add 50 MB (and its DOM several times that: the
        // build before streaming peaked at 278 MB here).
        EXPECT_LT(big.peak_rss_kb, small.peak_rss_kb + 16 * 1024)
            << "small output: " << small.peak_rss_kb << " kB, large: " << big.peak_rss_kb << " kB";
        EXPECT_LT(big.peak_rss_kb, 32 * 1024) << big.peak_rss_kb << " kB";
    }

    // Every measured run's stdout is kept: the first 4 MiB, then a line saying how much there was.
    std::filesystem::path kept;
    for (const auto& entry :
         std::filesystem::recursive_directory_iterator(repo.root() / ".abtool" / "runs")) {
        if (entry.path().filename() == "r6-b.stdout" &&
            entry.path().parent_path().filename() == "big" &&
            std::filesystem::file_size(entry.path()) > 4u << 20) {
            kept = entry.path();
        }
    }
    ASSERT_FALSE(kept.empty()) << "no r6-b.stdout of the 50 MB run under .abtool/runs/*/output/big";
    const std::string text = read_file(kept);
    EXPECT_EQ(text.rfind("{\"context\": {\"junk\": [", 0), 0u);
    EXPECT_NE(text.find("[abtool: output cut here: the run printed " +
                        std::to_string(k_document_bytes) + " bytes, the first 4194304 are kept]"),
              std::string::npos)
        << text.substr(text.size() - 200);
}

} // namespace
} // namespace abtool::testing
