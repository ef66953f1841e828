// A program whose counts are known, for counters_test.cpp:
//   plain   touches 64 MiB of fresh memory, one write per page: a page fault each
//   thread  the same, then another 64 MiB in a second thread
//   fork    the same, then another 64 MiB in a forked child that it waits for
//   loop    a fixed loop: the same instructions every run
// The memory is kept from transparent huge pages, where one fault would map 512 pages.
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <sys/mman.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace {

constexpr std::size_t k_touched_bytes = std::size_t{64} << 20;

bool touch_fresh_memory() {
    void* memory =
        mmap(nullptr, k_touched_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) {
        std::perror("mmap");
        return false;
    }
    madvise(memory, k_touched_bytes, MADV_NOHUGEPAGE);
    auto* bytes = static_cast<volatile char*>(memory);
    const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    for (std::size_t at = 0; at < k_touched_bytes; at += page) {
        bytes[at] = 1;
    }
    munmap(memory, k_touched_bytes);
    return true;
}

int in_a_thread() {
    bool ok = false;
    std::thread thread([&ok] { ok = touch_fresh_memory(); });
    thread.join();
    return ok ? 0 : 1;
}

int in_a_child() {
    const pid_t pid = fork();
    if (pid < 0) {
        std::perror("fork");
        return 1;
    }
    if (pid == 0) {
        _exit(touch_fresh_memory() ? 0 : 1);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return 1;
    }
    return 0;
}

int fixed_loop() {
    unsigned long sum = 0;
    for (unsigned long i = 0; i < 50'000'000; ++i) {
        sum += i;
        asm volatile("" : "+r"(sum)); // kept as written at any optimisation level
    }
    return sum == 0 ? 1 : 0;
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: counters_fixture plain|thread|fork|loop\n");
        return 2;
    }
    const char* mode = argv[1];
    if (std::strcmp(mode, "loop") == 0) {
        return fixed_loop();
    }
    if (!touch_fresh_memory()) {
        return 1;
    }
    if (std::strcmp(mode, "thread") == 0) {
        return in_a_thread();
    }
    if (std::strcmp(mode, "fork") == 0) {
        return in_a_child();
    }
    return std::strcmp(mode, "plain") == 0 ? 0 : 2;
}
