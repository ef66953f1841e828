// abtool-exec: a small, statically linked program that a workload's process runs through, so
// that the workload's peak RSS is its own. A child forked from abtool starts with a copy of
// abtool's memory, and the kernel keeps that copy's resident size as the process's peak across
// exec (exec_mmap: setmax_mm_hiwater_rss): /bin/true read 3,000 kB, and 25-44 MB after abtool
// had held a large output. abtool's child execs this program instead; its own child, forked
// from a process of a few hundred kB, execs the workload; it waits for it and reports the
// workload's own wait status and rusage.
//
//   abtool-exec STATUS_FD REPORT_FD PROGRAM [ARGS...]
//
// STATUS_FD: abtool's exec status pipe: the workload's exec time (CLOCK_MONOTONIC) just before
// its exec, or why it could not exec (runners/process.cpp's ExecMessage). REPORT_FD: one
// HelperReport when the workload has ended. The environment, working directory, CPU affinity,
// niceness and process group are abtool's child's, inherited unchanged.
#include "runners/exec_helper.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

void write_all(int fd, const void* data, std::size_t size) {
    const auto* bytes = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t n = write(fd, bytes, size);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;
        }
        bytes += n;
        size -= static_cast<std::size_t>(n);
    }
}

std::int64_t monotonic_ns() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec * 1'000'000'000LL + now.tv_nsec;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        return 126;
    }
    const int status_fd = std::atoi(argv[1]);
    const int report_fd = std::atoi(argv[2]);
    // Neither pipe reaches the workload.
    fcntl(status_fd, F_SETFD, FD_CLOEXEC);
    fcntl(report_fd, F_SETFD, FD_CLOEXEC);
    // A signal abtool sends the group (timeout: SIGTERM, then SIGKILL) reaches the workload too;
    // this process keeps the default actions, so it ends as the workload would.
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid < 0) {
        const abtool::runners::ExecMessage failure{-1, errno};
        write_all(status_fd, &failure, sizeof failure);
        return 127;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) {
            _exit(127);
        }
        const abtool::runners::ExecMessage started{monotonic_ns(), 0};
        write_all(status_fd, &started, sizeof started);
        execvp(argv[3], argv + 3);
        const abtool::runners::ExecMessage failure{-1, errno};
        write_all(status_fd, &failure, sizeof failure);
        _exit(127);
    }
    close(status_fd); // abtool sees EOF once the workload has exec'd (or failed to)
    abtool::runners::HelperReport report{};
    rusage usage{};
    while (wait4(pid, &report.wait_status, 0, &usage) < 0) {
        if (errno != EINTR) {
            return 126;
        }
    }
    report.end_ns = monotonic_ns();
    report.user_us = usage.ru_utime.tv_sec * 1'000'000LL + usage.ru_utime.tv_usec;
    report.sys_us = usage.ru_stime.tv_sec * 1'000'000LL + usage.ru_stime.tv_usec;
    report.max_rss_kb = usage.ru_maxrss;
    report.valid = 1;
    write_all(report_fd, &report, sizeof report);
    return 0;
}
