// Publish workloads through the real abtool binary: a temporary git repository holds a small C
// HTTP server that its [build] compiles; a second commit adds work to every request, and abtool
// starts each ref's server per run, publishes to it and finds the slower one regressed on
// latency and throughput. An SLO on B fails the gate; a server that never gets ready stops the
// run with exit 3 and its output.
#include "tests/support/shell.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_repo.hpp"

#include <gtest/gtest.h>

namespace abtool::testing {
namespace {

// An iterative HTTP server: one connection at a time, one request per connection (abtool's
// `http` protocol), with `delay_us` of busy work per request.
std::string server_source(int delay_us) {
    return R"(#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void work(long us) {
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    do {
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while ((now.tv_sec - start.tv_sec) * 1000000L + (now.tv_nsec - start.tv_nsec) / 1000 < us);
}

int main(int argc, char **argv) {
    if (argc != 3 || strcmp(argv[1], "--port") != 0) {
        fprintf(stderr, "usage: server --port N\n");
        return 2;
    }
    int listener = socket(AF_INET, SOCK_STREAM, 0), yes = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    struct sockaddr_in address = {0};
    address.sin_family = AF_INET;
    address.sin_port = htons((unsigned short)atoi(argv[2]));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, (struct sockaddr *)&address, sizeof address) || listen(listener, 64)) {
        perror("server: listen");
        return 1;
    }
    printf("server: listening on %s\n", argv[2]);
    fflush(stdout);
    for (;;) {
        int client = accept(listener, 0, 0);
        if (client < 0) continue;
        char request[8192];
        size_t got = 0;
        char *end = 0;
        while (got < sizeof request - 1) {
            ssize_t n = read(client, request + got, sizeof request - 1 - got);
            if (n <= 0) break;
            got += (size_t)n;
            request[got] = 0;
            end = strstr(request, "\r\n\r\n");
            if (end) {
                char *length = strstr(request, "Content-Length: ");
                size_t body = length ? (size_t)atol(length + 16) : 0;
                if (got >= (size_t)(end + 4 - request) + body) break;
            }
        }
        work()" +
           std::to_string(delay_us) +
           R"();
        static const char reply[] =
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
        if (write(client, reply, sizeof reply - 1) < 0) perror("server: write");
        close(client);
    }
}
)";
}

std::string config(const std::string& server, const std::string& extra = "") {
    return "[build]\n"
           "command = [\"cc\", \"-O1\", \"-o\", \"server\", \"server.c\"]\n"
           "[run]\n"
           "rounds = 8\n"
           "warmup = 1\n"
           "threshold = \"5%\"\n"
           "[[workload]]\n"
           "name = \"publish\"\n"
           "kind = \"publish\"\n"
           "server = " +
           server +
           "\n"
           "protocol = \"http\"\n"
           "count = 150\n"
           "concurrency = 1\n"
           "ready_timeout = \"2s\"\n" +
           extra;
}

class PublishEndToEnd : public ::testing::Test {
protected:
    PublishEndToEnd() : m_repo(m_dir / "repo") {
        m_repo.write(".gitignore", "server\nresults.csv\n");
        m_repo.write("server.c", server_source(0));
        m_repo.write("abtool.toml", config(R"(["./server", "--port", "{port}"])"));
        m_repo.commit("v1: the server");
        m_repo.tag("v1");
    }

    ShellResult abtool(const std::string& args) const {
        return shell("cd " + quote(m_repo.root().string()) + " && CI=true " + quote(ABTOOL_BINARY) +
                     " " + args);
    }

    // The verdict column of the first results.csv row for `metric`.
    std::string verdict_of(const std::string& metric) const {
        const std::string csv = read_file(m_repo.root() / "results.csv");
        const auto at = csv.find("," + metric + ",");
        if (at == std::string::npos) {
            return "";
        }
        const auto line_end = csv.find('\n', at);
        const std::string line = csv.substr(0, line_end);
        // verdict is the 26th of 30 columns: the 5th field counted from the end.
        std::size_t from = line.size();
        for (int commas = 0; commas < 5; ++commas) {
            from = line.rfind(',', from - 1);
        }
        const auto next = line.find(',', from + 1);
        return line.substr(from + 1, next - from - 1);
    }

    TempDir m_dir;
    TestRepo m_repo;
};

TEST_F(PublishEndToEnd, SlowerServer_IsRegressedOnLatencyAndThroughput_Exit1) {
    // 3 ms of work per request against well under 1 ms: clear even on a loaded CI machine.
    m_repo.write("server.c", server_source(3000));
    m_repo.commit("v2: slower publish path");
    m_repo.tag("v2");

    const ShellResult result = abtool("--ref-a v1 --ref-b v2");
    EXPECT_EQ(result.status, 1) << result.output;
    EXPECT_EQ(verdict_of("latency_p50_ms"), "regressed") << result.output;
    EXPECT_EQ(verdict_of("throughput_rps"), "regressed") << result.output;
    for (const std::string metric :
         {"latency_p99_ms", "bytes_out", "bytes_in", "success", "errors"}) {
        EXPECT_NE(verdict_of(metric), "") << metric << " is recorded";
    }
}

TEST_F(PublishEndToEnd, SloViolatedOnB_FailsTheGate) {
    m_repo.write("abtool.toml", config(R"(["./server", "--port", "{port}"])",
                                       "[workload.slo]\np99_ms = 0.0001\n"));
    m_repo.commit("an SLO no server meets");
    m_repo.tag("v1-slo");

    const ShellResult result = abtool("--ref-a v1-slo --ref-b v1-slo --rounds 2");
    EXPECT_EQ(result.status, 1) << result.output;
    EXPECT_NE(result.output.find("slo-violated"), std::string::npos) << result.output;
    EXPECT_EQ(verdict_of("latency_p99_ms"), "slo-violated") << result.output;
}

TEST_F(PublishEndToEnd, ServerNeverReady_Exit3_NamesRefAndShowsItsOutput) {
    m_repo.write("abtool.toml",
                 config(R"(["sh", "-c", "echo still warming up; sleep 60", "{port}"])"));
    m_repo.commit("a server that never listens");
    m_repo.tag("v1-never");

    const ShellResult result = abtool("--ref-a v1-never --ref-b v1-never --rounds 2");
    EXPECT_EQ(result.status, 3) << result.output;
    EXPECT_NE(result.output.find("not ready after 2 s"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find("still warming up"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find("ref 'v1-never'"), std::string::npos) << result.output;
    EXPECT_FALSE(std::filesystem::exists(m_repo.root() / "results.csv"));
}

} // namespace
} // namespace abtool::testing
