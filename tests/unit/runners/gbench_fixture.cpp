// A real Google Benchmark program for the parser tests: repetitions, a user counter and
// items_per_second, so the JSON has iteration rows, aggregate rows and flattened counters; the
// same work reported in milliseconds and in seconds, for the time_unit normalization.
#include <benchmark/benchmark.h>

#include <vector>

static void BM_Sum(benchmark::State& state) {
    std::vector<int> values(static_cast<std::size_t>(state.range(0)), 1);
    for (auto _ : state) {
        long sum = 0;
        for (int value : values) {
            sum += value;
        }
        benchmark::DoNotOptimize(sum);
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
    state.counters["elements"] = static_cast<double>(state.range(0));
}
BENCHMARK(BM_Sum)->Arg(64)->Arg(1024);
BENCHMARK(BM_Sum)->Name("BM_Sum_ms")->Arg(64)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sum)->Name("BM_Sum_s")->Arg(64)->Unit(benchmark::kSecond);

static void BM_Fails(benchmark::State& state) {
    for (auto _ : state) {
        state.SkipWithError("this case reports an error");
        break;
    }
}
BENCHMARK(BM_Fails);

BENCHMARK_MAIN();
