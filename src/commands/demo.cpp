// abtool demo, first slice: until the example project of issue 6 exists, the demo builds a
// scratch repository holding a tiny C program, with a second commit that does 1.5 times the
// work, and runs the whole pipeline on it. It passes when the known regression is found.
#include "src/commands.hpp"

#include "abtool/error.hpp"
#include "abtool/runners.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace abtool {

namespace {

std::string program(long iterations) {
    return fmt::format(R"(#include <stdio.h>

/* The demo's workload: a loop of known cost. Commit v2 runs it {} times as long. */
int main(void) {{
    volatile unsigned long x = 0;
    for (long i = 0; i < {}L; ++i) {{
        x += (unsigned long)i * 2654435761UL;
    }}
    printf("%lu\n", (unsigned long)x);
    return 0;
}}
)",
                       iterations == 60'000'000 ? "1.5" : "1", iterations);
}

constexpr const char* k_config =
    R"(# The demo's abtool.toml: build the program, time it in paired rounds.
[build]
command = ["cc", "-O1", "-o", "spin", "spin.c"]

[run]
rounds = 12
warmup = 1
seed = 1
threshold = "5%"

[[workload]]
name = "spin"
kind = "command"
command = ["./spin"]
)";

void write(const std::filesystem::path& file, const std::string& text) {
    std::ofstream out(file, std::ios::trunc);
    out << text;
    if (!out) {
        throw Error(ErrorKind::io, "cannot write " + file.string());
    }
}

void git(const std::filesystem::path& repo, std::vector<std::string> args) {
    runners::ProcessSpec spec;
    spec.argv = {"git"};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.cwd = repo;
    spec.env = {{"GIT_AUTHOR_NAME", "abtool demo"},
                {"GIT_AUTHOR_EMAIL", "demo@abtool.invalid"},
                {"GIT_COMMITTER_NAME", "abtool demo"},
                {"GIT_COMMITTER_EMAIL", "demo@abtool.invalid"}};
    const runners::ProcessResult result = runners::run_process(spec);
    if (!result.ok()) {
        throw Error(ErrorKind::workload,
                    fmt::format("demo: `git {}` failed: {}", fmt::join(args, " "),
                                result.describe_failure()));
    }
}

} // namespace

int run_demo(const DemoOptions& options) {
    std::filesystem::path dir;
    if (options.dir) {
        dir = std::filesystem::absolute(*options.dir);
        std::filesystem::create_directories(dir);
    } else {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "abtool-demo-XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr) {
            throw Error(ErrorKind::io, "demo: cannot create a scratch directory");
        }
        dir = pattern;
    }
    const std::filesystem::path repo = dir / "repo";
    if (std::filesystem::exists(repo)) {
        throw Error(ErrorKind::usage, fmt::format("demo: {} exists already", repo.string()),
                    "give --dir an empty or new directory");
    }
    std::filesystem::create_directories(repo);
    std::fprintf(stderr, "abtool demo: scratch repository %s\n", repo.string().c_str());
    git(repo, {"init", "-q", "-b", "main"});
    write(repo / ".gitignore", "spin\nresults.csv\n");
    write(repo / "abtool.toml", k_config);
    write(repo / "spin.c", program(40'000'000));
    git(repo, {"add", "-A"});
    git(repo, {"commit", "-q", "-m", "v1: baseline"});
    git(repo, {"tag", "v1"});
    write(repo / "spin.c", program(60'000'000));
    git(repo, {"commit", "-q", "-am", "v2: the loop runs 1.5 times as long (a known regression)"});
    git(repo, {"tag", "v2"});

    RunOptions run;
    run.ref_a = "v1";
    run.ref_b = "v2";
    run.cwd = repo;
    run.outputs.markdown = dir / "report.md";
    run.outputs.html = dir / "report.html";
    run.outputs.json = dir / "report.json";
    const int code = run_comparison(run);
    std::fprintf(
        stdout,
        "\ndemo: expected `spin wall_ms` regressed by about +50%% (the loop's share of the run).\n"
        "reports: %s, %s, %s\nhistory: %s\n",
        run.outputs.markdown->string().c_str(), run.outputs.html->string().c_str(),
        run.outputs.json->string().c_str(), (repo / "results.csv").string().c_str());
    if (code == 1) {
        std::fprintf(stdout, "demo: the known regression was found (abtool exited 1, as a CI "
                             "gate would fail).\n");
        return 0;
    }
    std::fprintf(stdout, "demo: the known regression was NOT found (abtool would exit %d)\n", code);
    return 1;
}

} // namespace abtool
