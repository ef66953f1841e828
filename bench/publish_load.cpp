// Drives abtool's publish load generator alone against a server that is already running, for
// bench/publish_bench.sh (which compares it with wrk on the same server).
//   publish_load PORT burst|paced COUNT CONCURRENCY [RATE] [http|http-keepalive|tcp]
// Prints one JSON object: requests/s, errors, latency p50/p99 and, when paced, the p99 of how
// late messages left after their due time (the generator's own timing error).
#include "abtool/stats.hpp"
#include "runners/publish/load_generator.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
    using namespace abtool::runners;
    if (argc < 5) {
        std::fprintf(stderr, "usage: publish_load PORT burst|paced COUNT CONCURRENCY [RATE] "
                             "[http|http-keepalive|tcp]\n");
        return 2;
    }
    publish::LoadSpec spec;
    spec.port = static_cast<std::uint16_t>(std::atoi(argv[1]));
    spec.mode = std::string(argv[2]) == "paced" ? PublishMode::paced : PublishMode::burst;
    spec.count = std::strtoul(argv[3], nullptr, 10);
    spec.concurrency = std::strtoul(argv[4], nullptr, 10);
    spec.rate = argc > 5 ? std::atof(argv[5]) : 0;
    const std::string protocol = argc > 6 ? argv[6] : "http-keepalive";
    spec.protocol = protocol == "http"  ? Protocol::http
                    : protocol == "tcp" ? Protocol::tcp
                                        : Protocol::http_keepalive;
    spec.payload = R"({"seq": {seq}})";
    const publish::LoadResult load = publish::generate_load(spec);
    const auto latency = abtool::stats::describe(load.latency_ms);
    const double lag_p99_ms =
        load.send_lag_ms.empty() ? 0 : abtool::stats::describe(load.send_lag_ms).p99;
    std::printf("{\"rps\": %.1f, \"success\": %zu, \"errors\": %zu, \"p50_ms\": %.4f, "
                "\"p99_ms\": %.4f, \"send_lag_p99_us\": %.1f}\n",
                static_cast<double>(load.success) / load.duration_s, load.success, load.errors(),
                latency.p50, latency.p99, lag_p99_ms * 1000);
    return load.errors() == 0 ? 0 : 1;
}
