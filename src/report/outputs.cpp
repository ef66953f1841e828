#include "src/report/outputs.hpp"

#include "abtool/error.hpp"
#include "src/report/exporters.hpp"

#include <fmt/format.h>

#include <fstream>
#include <unistd.h>

namespace abtool::report {

namespace {

struct ExportSpec {
    std::string format;
    std::optional<std::filesystem::path> path;
};

ExportSpec parse_export(const std::string& text) {
    const auto equals = text.find('=');
    ExportSpec spec{text.substr(0, equals), std::nullopt};
    if (equals != std::string::npos) {
        spec.path = text.substr(equals + 1);
    }
    return spec;
}

bool known_format(const std::string& format) {
    return format == "gha-benchmark" || format == "bencher" || format == "benchstat" ||
           format == "junit";
}

void check_writable(const std::string& flag, const std::filesystem::path& path) {
    const std::filesystem::path dir =
        path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
    if (!std::filesystem::is_directory(dir) || access(dir.c_str(), W_OK) != 0) {
        throw Error(ErrorKind::usage, fmt::format("{} {}: directory {} does not exist or is not "
                                                  "writable",
                                                  flag, path.string(), dir.string()));
    }
}

void write_file(const std::filesystem::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) {
        throw Error(ErrorKind::io, fmt::format("cannot write {}", path.string()));
    }
}

// "a.json" -> "a-lower.json"
std::filesystem::path with_suffix(const std::filesystem::path& path, const std::string& suffix) {
    return path.parent_path() / (path.stem().string() + suffix + path.extension().string());
}

} // namespace

void check_output_paths(const OutputOptions& outputs) {
    if (outputs.json) {
        check_writable("--json", *outputs.json);
    }
    if (outputs.markdown) {
        check_writable("--markdown", *outputs.markdown);
    }
    if (outputs.html) {
        check_writable("--html", *outputs.html);
    }
    for (const std::string& text : outputs.exports) {
        const ExportSpec spec = parse_export(text);
        if (!known_format(spec.format)) {
            throw Error(ErrorKind::usage,
                        fmt::format("--export {}: unknown format '{}'", text, spec.format),
                        "formats: gha-benchmark, bencher, benchstat, junit");
        }
        if (spec.path) {
            check_writable("--export", *spec.path);
        }
    }
}

void write_outputs(const Report& report, const OutputOptions& outputs,
                   const std::filesystem::path& run_dir) {
    if (outputs.json) {
        write_file(*outputs.json, JsonExporter().serialize(report));
    }
    if (outputs.markdown) {
        write_file(*outputs.markdown, MarkdownExporter().serialize(report));
    }
    if (outputs.html) {
        write_file(*outputs.html, HtmlExporter().serialize(report));
    }
    for (const std::string& text : outputs.exports) {
        const ExportSpec spec = parse_export(text);
        if (spec.format == "junit") {
            write_file(spec.path.value_or(run_dir / "junit.xml"),
                       JunitExporter().serialize(report));
        } else if (spec.format == "bencher") {
            write_file(spec.path.value_or(run_dir / "bencher.json"),
                       BencherExporter().serialize(report));
        } else if (spec.format == "benchstat") {
            // Two files, one per side: `benchstat a.txt b.txt`.
            const std::filesystem::path base = spec.path.value_or(run_dir / "benchstat.txt");
            write_file(with_suffix(base, "-a"),
                       BenchstatExporter(BenchstatExporter::Side::a).serialize(report));
            write_file(with_suffix(base, "-b"),
                       BenchstatExporter(BenchstatExporter::Side::b).serialize(report));
        } else if (spec.format == "gha-benchmark") {
            const std::filesystem::path base = spec.path.value_or(run_dir / "gha-benchmark.json");
            write_file(with_suffix(base, "-smaller-is-better"),
                       GhaBenchmarkExporter(stats::Direction::lower).serialize(report));
            write_file(with_suffix(base, "-bigger-is-better"),
                       GhaBenchmarkExporter(stats::Direction::higher).serialize(report));
        }
    }
}

} // namespace abtool::report
