// abtool::run: the whole program behind main(). Parses the command line, runs one command,
// and is the one place that catches abtool::Error, prints it and maps it to an exit code.
#pragma once

namespace abtool {

int run(int argc, const char* const* argv);

} // namespace abtool
