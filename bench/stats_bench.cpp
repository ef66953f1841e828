// How long the statistics take (issue 4's goals: one case with 200 rounds and 10,000 bootstrap
// resamples under 20 ms; 100 such cases under 1 s). Build with -DABTOOL_BUILD_BENCHMARKS=ON and
// run build/bench/stats_bench.
#include "abtool/stats.hpp"

#include <benchmark/benchmark.h>

#include <cmath>
#include <random>

namespace {

abtool::stats::PairedInput make_case(std::size_t rounds, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> noise(0, 0.05);
    abtool::stats::PairedInput input;
    for (std::size_t k = 0; k < rounds; ++k) {
        input.a.push_back(100 * std::exp(noise(rng)));
        input.b.push_back(102 * std::exp(noise(rng)));
        input.order.push_back(k % 2 == 0 ? abtool::stats::Order::ab : abtool::stats::Order::ba);
    }
    return input;
}

void BM_OneCase(benchmark::State& state) {
    const auto input = make_case(static_cast<std::size_t>(state.range(0)), 1);
    abtool::stats::Options options; // 10,000 resamples
    for (auto _ : state) {
        benchmark::DoNotOptimize(abtool::stats::compare_paired(input, options));
    }
}
BENCHMARK(BM_OneCase)->Arg(20)->Arg(200)->Unit(benchmark::kMillisecond);

void BM_HundredCases(benchmark::State& state) {
    std::vector<abtool::stats::PairedInput> inputs;
    for (std::uint64_t i = 0; i < 100; ++i) {
        inputs.push_back(make_case(200, i));
    }
    abtool::stats::Options options;
    for (auto _ : state) {
        benchmark::DoNotOptimize(abtool::stats::compare_paired_all(inputs, options));
    }
}
// Cases run on all cores: the Time column is wall time, the CPU column every thread's CPU time
// (on a loaded machine wall time grows with the load, CPU time does not).
BENCHMARK(BM_HundredCases)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

} // namespace

BENCHMARK_MAIN();
