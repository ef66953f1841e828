// criterion.rs' results, in the two places it leaves them.
//
// stdout, with `cargo bench -- --output-format bencher` (and libtest's own `cargo bench`, whose
// lines criterion's bencher format copies): `test <name> ... bench: 1,234 ns/iter (+/- 56)`,
// optionally ` = 12 MB/s`. One "time" sample per line, in ns: libtest's figure is the median of
// its own samples, criterion's its point estimate; "(+/- x)" is a spread (libtest: max - min),
// not a sample, and is not recorded. MB/s becomes "throughput", higher is better.
//
// Files: criterion writes each benchmark's measurements to target/criterion/<id>/new/: sample.json
// (the iteration count and total time of each of its samples, by default 100) and estimates.json
// (its bootstrap estimates). A workload points `output_file` at the target/criterion directory
// (or at one file): the per-iteration times, times[i] / iters[i] in ns, are the run's samples,
// as criterion's own analysis takes them; estimates.json's mean stands in only where sample.json
// is missing. A directory rather than a list of files: criterion picks the <id> folders (the
// benchmark's group/function/parameter, sanitised), so the directory is what a user can name
// before the first run, and a new benchmark is read without a config change. The case is
// benchmark.json's "full_id" (the name criterion prints) where that file exists, else the <id>
// path. Only files written during this run are read: criterion never deletes a benchmark's
// folder, so one removed from the code would otherwise be read again from an earlier run.
// criterion's files are "private implementation details" (its book, CSV output): this reads
// both layouts seen so far, 0.3+'s {"sampling_mode", "iters", "times"} and 0.2's
// [[iters], [times]], and says which field it did not find otherwise.
#include "runners/parsers/json_text.hpp"
#include "runners/parsers/parsers.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace abtool::runners::parsers {

namespace {

// ---- bencher / libtest text ----------------------------------------------------------------

// "1,234" or "1,234.56" (libtest groups thousands with commas) as a double.
std::optional<double> grouped_number(std::string_view text) {
    std::string digits;
    for (const char c : text) {
        if (c != ',') {
            digits += c;
        }
    }
    if (text.empty() || text.front() == ',' || text.back() == ',' ||
        digits.find_first_not_of("0123456789.") != std::string::npos) {
        return std::nullopt;
    }
    return to_double(digits);
}

std::string_view after_spaces(std::string_view text) {
    const std::size_t at = text.find_first_not_of(' ');
    return at == std::string_view::npos ? std::string_view() : text.substr(at);
}

// What follows "bench:" on a line: its samples into `parsed`, or what is wrong, without the place.
std::optional<std::string> add_bench(std::string_view rest, const std::string& name,
                                     Parsed& parsed) {
    rest = after_spaces(rest);
    const std::size_t space = rest.find(' ');
    const std::optional<double> ns = grouped_number(rest.substr(0, space));
    if (!ns) {
        return "expected a number after \"bench:\", not \"" + std::string(rest.substr(0, space)) +
               "\"";
    }
    rest = after_spaces(space == std::string_view::npos ? std::string_view() : rest.substr(space));
    if (!rest.starts_with("ns/iter")) {
        return "expected the unit ns/iter after the number, not \"" +
               std::string(rest.substr(0, rest.find(' '))) + "\"";
    }
    parsed.samples.push_back({name, "time", *ns, "ns", Direction::lower, Gate::no});
    const std::size_t equals = rest.find(" = ");
    if (equals != std::string_view::npos) {
        const std::string_view rate = after_spaces(rest.substr(equals + 3));
        const std::optional<double> mb_s = grouped_number(rate.substr(0, rate.find(' ')));
        if (!mb_s || !rate.substr(rate.find(' ') + 1).starts_with("MB/s")) {
            return "expected \"= <number> MB/s\" after the time, not \"" + std::string(rate) + "\"";
        }
        parsed.samples.push_back({name, "throughput", *mb_s, "MB/s", Direction::higher, Gate::no});
    }
    return std::nullopt;
}

// One line: a benchmark's result, a failed test, or anything else (skipped: cargo's and
// libtest's other lines, criterion's progress).
std::optional<ParseError> add_line(std::string_view line, std::size_t number, std::size_t offset,
                                   Parsed& parsed) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
        line.remove_suffix(1);
    }
    const std::string_view text = after_spaces(line);
    const std::size_t dots = text.find(" ... ");
    if (!text.starts_with("test ") || dots == std::string_view::npos) {
        return std::nullopt;
    }
    // libtest pads the names to one width: "test parse_large  ... bench:".
    std::string_view padded = after_spaces(text.substr(5, dots - 5));
    while (!padded.empty() && padded.back() == ' ') {
        padded.remove_suffix(1);
    }
    const std::string name(padded);
    const std::string_view outcome = after_spaces(text.substr(dots + 5));
    if (outcome.starts_with("FAILED")) {
        parsed.errors.push_back(name + ": FAILED");
    } else if (outcome.starts_with("bench:")) {
        if (auto error = add_bench(outcome.substr(6), name, parsed)) {
            return ParseError{"not bencher output: line " + std::to_string(number) + " (" + name +
                                  "): " + *error,
                              offset, "line " + std::to_string(number)};
        }
    }
    return std::nullopt;
}

ParseResult parse_text(std::string_view text) {
    Parsed parsed;
    std::size_t at = 0, number = 1;
    while (at < text.size()) {
        const std::size_t end = std::min(text.find('\n', at), text.size());
        if (auto error = add_line(text.substr(at, end - at), number, at, parsed)) {
            return *error;
        }
        at = end + 1;
        ++number;
    }
    return parsed;
}

// ---- criterion's files ---------------------------------------------------------------------

ParseError shape_error(const std::string& what, const std::string& field) {
    return ParseError{"not criterion's sample.json or estimates.json: " + what, std::nullopt,
                      field};
}

// Per-iteration times from the iteration counts and total times of each sample.
ParseResult add_iterations(const nlohmann::json& iters, const nlohmann::json& times,
                           const std::string& iters_field, const std::string& times_field,
                           const std::string& name) {
    if (!iters.is_array() || !times.is_array()) {
        return shape_error(iters_field + " and " + times_field + " must be arrays", iters_field);
    }
    if (iters.size() != times.size()) {
        return shape_error(std::to_string(iters.size()) + " iteration counts but " +
                               std::to_string(times.size()) + " times",
                           times_field);
    }
    Parsed parsed;
    for (std::size_t i = 0; i < iters.size(); ++i) {
        // serde_json writes a NaN or an infinity as null: no time to compare, no sample.
        if (iters[i].is_null() || times[i].is_null()) {
            continue;
        }
        const std::string at = "[" + std::to_string(i) + "]";
        if (!iters[i].is_number() || !times[i].is_number()) {
            return shape_error("a count or time that is not a number",
                               (iters[i].is_number() ? times_field : iters_field) + at);
        }
        const double count = iters[i].get<double>(), total = times[i].get<double>();
        if (!(count > 0) || !std::isfinite(total / count)) {
            return shape_error("an iteration count that is not positive", iters_field + at);
        }
        parsed.samples.push_back({name, "time", total / count, "ns", Direction::lower, Gate::no});
    }
    return parsed;
}

// estimates.json: its mean, one sample standing in for the samples it summarises.
ParseResult add_estimate(const nlohmann::json& document, const std::string& name) {
    // 0.2 wrote "Mean", 0.3+ "mean".
    const char* key = document.contains("mean") ? "mean" : "Mean";
    const auto mean = document.find(key);
    if (mean == document.end() || !mean->is_object() || !mean->contains("point_estimate") ||
        !(*mean)["point_estimate"].is_number()) {
        return shape_error("no iters and times (sample.json), nor a numeric mean.point_estimate "
                           "(estimates.json)",
                           std::string(key) + ".point_estimate");
    }
    Parsed parsed;
    parsed.samples.push_back(
        {name, "time", (*mean)["point_estimate"].get<double>(), "ns", Direction::lower, Gate::no});
    return parsed;
}

ParseResult parse_file_text(std::string_view text, const std::string& name) {
    auto read = parse_json_text(text);
    if (auto* error = std::get_if<JsonTextError>(&read)) {
        return ParseError{"not criterion JSON: " + error->message, error->offset, error->field};
    }
    const nlohmann::json document = std::move(std::get<nlohmann::json>(read));
    if (document.is_array()) { // criterion 0.2: [[iters], [times]]
        if (document.size() != 2) {
            return shape_error("an array that is not [[iters], [times]]", "");
        }
        return add_iterations(document[0], document[1], "[0]", "[1]", name);
    }
    if (!document.is_object()) {
        return shape_error("neither an object nor an array", "");
    }
    if (document.contains("iters") || document.contains("times")) {
        return add_iterations(document.value("iters", nlohmann::json()),
                              document.value("times", nlohmann::json()), "iters", "times", name);
    }
    return add_estimate(document, name);
}

// benchmark.json's full_id, or nullopt.
std::optional<std::string> full_id(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::string text;
    if (!in || !read_whole(in, k_document_max, text)) {
        return std::nullopt;
    }
    auto read = parse_json_text(text);
    const auto* document = std::get_if<nlohmann::json>(&read);
    if (!document || !document->is_object() || !document->contains("full_id") ||
        !(*document)["full_id"].is_string()) {
        return std::nullopt;
    }
    return (*document)["full_id"].get<std::string>();
}

} // namespace

ParseResult parse_criterion(std::istream& in) {
    std::string text;
    if (!read_whole(in, k_document_max, text)) {
        return ParseError{"criterion output longer than 64 MiB", k_document_max, {}};
    }
    const std::size_t first = text.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && (text[first] == '{' || text[first] == '[')) {
        return parse_file_text(text, "");
    }
    return parse_text(text);
}

ParseResult parse_criterion(std::string_view text) {
    ViewStream in(text);
    return parse_criterion(in);
}

namespace {

// One <id>/new folder's samples: sample.json, else estimates.json; errors name the file.
std::optional<ParseResult> read_new(const std::filesystem::path& root,
                                    const std::filesystem::path& new_dir,
                                    std::filesystem::file_time_type not_before) {
    std::filesystem::path file = new_dir / "sample.json";
    std::error_code error;
    if (!std::filesystem::is_regular_file(file, error)) {
        file = new_dir / "estimates.json";
    }
    const auto written = std::filesystem::last_write_time(file, error);
    if (error || written < not_before) {
        return std::nullopt; // none, or a previous run's
    }
    const std::filesystem::path id = new_dir.parent_path();
    const std::string name =
        full_id(new_dir / "benchmark.json").value_or(id.lexically_relative(root).generic_string());
    const std::string where = file.lexically_relative(root).generic_string();
    std::ifstream in(file, std::ios::binary);
    std::string text;
    if (!in || !read_whole(in, k_document_max, text)) {
        return ParseError{"cannot read " + where + " (or it is longer than 64 MiB)", std::nullopt,
                          where};
    }
    ParseResult parsed = parse_file_text(text, name);
    if (auto* failed = std::get_if<ParseError>(&parsed)) {
        failed->field = where + (failed->offset ? ", byte " + std::to_string(*failed->offset)
                                 : failed->field.empty() ? ""
                                                         : ": " + failed->field);
        failed->offset.reset();
    }
    return parsed;
}

} // namespace

ParseResult parse_criterion_directory(const std::filesystem::path& root,
                                      std::filesystem::file_time_type not_before) {
    std::vector<std::filesystem::path> new_dirs;
    std::error_code error;
    for (auto it = std::filesystem::recursive_directory_iterator(root, error);
         !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
        // <id>/new holds the results; a benchmark may itself be called "new" (Vec/new/new/).
        const std::filesystem::path& path = it->path();
        if (path.filename() == "new" && it.depth() > 0 &&
            (std::filesystem::exists(path / "sample.json", error) ||
             std::filesystem::exists(path / "estimates.json", error))) {
            new_dirs.push_back(path);
            it.disable_recursion_pending();
        }
    }
    if (error) {
        return ParseError{"cannot list " + root.string() + ": " + error.message(), std::nullopt,
                          ""};
    }
    std::sort(new_dirs.begin(), new_dirs.end()); // the same order every run
    Parsed parsed;
    for (const std::filesystem::path& new_dir : new_dirs) {
        std::optional<ParseResult> one = read_new(root, new_dir, not_before);
        if (!one) {
            continue;
        }
        if (auto* failed = std::get_if<ParseError>(&*one)) {
            return *failed;
        }
        auto& samples = std::get<Parsed>(*one).samples;
        parsed.samples.insert(parsed.samples.end(), samples.begin(), samples.end());
    }
    return parsed;
}

} // namespace abtool::runners::parsers
