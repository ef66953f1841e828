// The abtool commands (DESIGN.md "Commands"). Each takes its option struct and returns the exit
// code; errors are thrown as abtool::Error and reported once by abtool::run.
#pragma once

#include "src/core/options.hpp"

namespace abtool {

int run_comparison(const RunOptions& options);      // abtool [run]      commands/run.cpp
int run_analyze(const AnalyzeOptions& options);     // abtool analyze    commands/analyze.cpp
int run_compare(const CompareOptions& options);     // abtool compare    commands/compare.cpp
int run_history(const HistoryOptions& options);     // abtool history    commands/history.cpp
int run_calibrate(const CalibrateOptions& options); // abtool calibrate  commands/calibrate.cpp
int run_demo(const DemoOptions& options);           // abtool demo       commands/demo.cpp
int run_gc(const GcCommandOptions& options);        // abtool gc         commands/gc.cpp
int run_bisect(const BisectOptions& options);       // abtool bisect     commands/bisect.cpp
int run_merge(const MergeOptions& options);         // abtool merge      commands/merge.cpp

} // namespace abtool
