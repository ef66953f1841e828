// The hot path: one message published on the Bus and received again on the other side of a
// transport, for each of the three transports. abtool runs this with --benchmark_format=json and
// compares each case between two refs.
#include "bus.hpp"

#include <benchmark/benchmark.h>

namespace {

// One round trip as a publisher and a remote subscriber see it: Bus::publish finds the topic's
// subscriber, which forwards the message over the transport, and the far side receives it. The
// Bus (its lock, topic lookup and dispatch) is timed with the transport, so a change to either
// shows.
template <typename T>
void round_trip(benchmark::State& state) {
    T transport;
    pubsub::Bus bus;
    bus.subscribe("events",
                  [&transport](const pubsub::Message& message) { transport.send(message); });
    const pubsub::Message out{"events", std::string(256, 'x')};
    pubsub::Message in;
    for (auto _ : state) {
        if (bus.publish(out) != 1 || !transport.receive(in)) {
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
