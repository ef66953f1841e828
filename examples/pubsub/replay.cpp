// A fixed replay: N messages published on the Bus and carried over the in-process transport, then
// the process exits. abtool counts the instructions it executes (a command workload with
// `metric = "instructions"`): the same work gives the same count on any machine, however busy,
// so a change of a fraction of a percent shows where its wall time would be lost in noise.
#include "bus.hpp"

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
    const long count = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 20000;
    pubsub::InprocQueue transport;
    pubsub::Bus bus;
    bus.subscribe("events",
                  [&transport](const pubsub::Message& message) { transport.send(message); });
    const pubsub::Message out{"events", std::string(256, 'x')};
    pubsub::Message in;
    std::size_t bytes = 0;
    for (long i = 0; i < count; ++i) {
        if (bus.publish(out) != 1 || !transport.receive(in)) {
            std::fprintf(stderr, "replay: message %ld lost\n", i);
            return 1;
        }
        bytes += in.payload.size();
    }
    std::printf("replayed %ld messages, %zu bytes\n", count, bytes);
    return 0;
}
