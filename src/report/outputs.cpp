#include "src/report/outputs.hpp"

#include "abtool/atomic_file.hpp"

#include "abtool/error.hpp"
#include "src/report/exporters.hpp"

#include <fmt/format.h>

#include <fstream>
#include <functional>
#include <string_view>
#include <unistd.h>
#include <utility>
#include <vector>

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

using Serialize = std::function<std::string(const Report&)>;

// One --export format: its default file in the run directory, and the files it writes there or
// at =PATH (one, or one per side or direction, each PATH with a suffix).
struct ExportFormat {
    std::string_view name;
    std::string_view default_file;
    std::vector<std::pair<std::string_view, Serialize>> files; // suffix, serializer
};

const std::vector<ExportFormat>& export_formats() {
    static const std::vector<ExportFormat> formats{
        {"gha-benchmark",
         "gha-benchmark.json",
         {{"-smaller-is-better",
           [](const Report& r) {
               return GhaBenchmarkExporter(stats::Direction::lower).serialize(r);
           }},
          {"-bigger-is-better",
           [](const Report& r) {
               return GhaBenchmarkExporter(stats::Direction::higher).serialize(r);
           }}}},
        {"bencher",
         "bencher.json",
         {{"",
           [](const Report& r) {
               return BencherExporter().serialize(r);
           }}}},
        // Two files, one per side: `benchstat a.txt b.txt`.
        {"benchstat",
         "benchstat.txt",
         {{"-a",
           [](const Report& r) {
               return BenchstatExporter(BenchstatExporter::Side::a).serialize(r);
           }},
          {"-b",
           [](const Report& r) {
               return BenchstatExporter(BenchstatExporter::Side::b).serialize(r);
           }}}},
        {"junit",
         "junit.xml",
         {{"",
           [](const Report& r) {
               return JunitExporter().serialize(r);
           }}}},
    };
    return formats;
}

const ExportFormat* find_export_format(std::string_view name) {
    for (const ExportFormat& format : export_formats()) {
        if (format.name == name) {
            return &format;
        }
    }
    return nullptr;
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
    write_file_atomically(path, text); // a full disk leaves no empty report behind
}

// "a.json" -> "a-lower.json"
std::filesystem::path with_suffix(const std::filesystem::path& path, const std::string& suffix) {
    return path.parent_path() / (path.stem().string() + suffix + path.extension().string());
}

} // namespace

std::string export_format_names() {
    std::string names;
    for (const ExportFormat& format : export_formats()) {
        names += fmt::format("{}{}", names.empty() ? "" : ", ", format.name);
    }
    return names;
}

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
        if (find_export_format(spec.format) == nullptr) {
            throw Error(ErrorKind::usage,
                        fmt::format("--export {}: unknown format '{}'", text, spec.format),
                        "formats: " + export_format_names());
        }
        if (spec.path) {
            check_writable("--export", *spec.path);
        }
    }
}

namespace {

// One file write_outputs writes. output_files lists the same plan, so the names abtool writes
// and the names a run keeps as HEAD has them in CURRENT cannot drift apart.
struct PlannedFile {
    std::filesystem::path path;
    std::function<std::string(const Report&)> serialize;
    bool in_run_dir = false; // an --export without a path
};

std::vector<PlannedFile> plan_files(const OutputOptions& outputs,
                                    const std::filesystem::path& run_dir) {
    std::vector<PlannedFile> files;
    if (outputs.json) {
        files.push_back({*outputs.json, [](const Report& r) {
                             return JsonExporter().serialize(r);
                         }});
    }
    if (outputs.markdown) {
        files.push_back({*outputs.markdown, [](const Report& r) {
                             return MarkdownExporter().serialize(r);
                         }});
    }
    if (outputs.html) {
        files.push_back({*outputs.html, [](const Report& r) {
                             return HtmlExporter().serialize(r);
                         }});
    }
    for (const std::string& text : outputs.exports) {
        const ExportSpec spec = parse_export(text);
        const ExportFormat* format = find_export_format(spec.format);
        if (format == nullptr) {
            continue; // check_output_paths refused it
        }
        const std::filesystem::path base = spec.path.value_or(run_dir / format->default_file);
        for (const auto& [suffix, serialize] : format->files) {
            files.push_back(
                {with_suffix(base, std::string(suffix)), serialize, !spec.path.has_value()});
        }
    }
    return files;
}

} // namespace

std::vector<std::filesystem::path> output_files(const OutputOptions& outputs) {
    std::vector<std::filesystem::path> paths;
    for (const PlannedFile& file : plan_files(outputs, {})) {
        if (!file.in_run_dir) {
            paths.push_back(file.path);
        }
    }
    return paths;
}

void write_outputs(const Report& report, const OutputOptions& outputs,
                   const std::filesystem::path& run_dir) {
    for (const PlannedFile& file : plan_files(outputs, run_dir)) {
        write_file(file.path, file.serialize(report));
    }
}

} // namespace abtool::report
