// The command line, parsed by CLI11 (this is the only file that sees it) into one of the plain
// option structs of options.hpp.
#pragma once

#include "src/core/options.hpp"

#include <variant>

namespace abtool {

struct ShowedHelp {}; // --help or --version was printed: exit 0

using Command =
    std::variant<ShowedHelp, RunOptions, AnalyzeOptions, CompareOptions, HistoryOptions,
                 CalibrateOptions, DemoOptions, GcCommandOptions, BisectOptions, MergeOptions>;

// Throws Error(usage) naming the flag on bad input.
Command parse_command_line(int argc, const char* const* argv);

} // namespace abtool
