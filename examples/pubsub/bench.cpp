// The hot path: one message published and received again, over each transport. abtool runs this
// with --benchmark_format=json and compares each case between two refs.
#include "bus.hpp"

#include <benchmark/benchmark.h>

namespace {

template <typename T>
void round_trip(benchmark::State& state) {
    T transport;
    const pubsub::Message out{"events", std::string(256, 'x')};
    pubsub::Message in;
    for (auto _ : state) {
        transport.send(out);
        if (!transport.receive(in)) {
            state.SkipWithError("message lost");
            break;
        }
        benchmark::DoNotOptimize(in.payload.data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                            static_cast<std::int64_t>(out.payload.size()));
}

} // namespace

int main(int argc, char** argv) {
    benchmark::RegisterBenchmark("BM_RoundTrip/inproc", round_trip<pubsub::InprocQueue>);
    benchmark::RegisterBenchmark("BM_RoundTrip/shm", round_trip<pubsub::ShmRing>);
    benchmark::RegisterBenchmark("BM_RoundTrip/tcp", round_trip<pubsub::TcpLoopback>);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        return 1;
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
