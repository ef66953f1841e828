/* The floor under a paced load generator's send-time error on this machine: a bare thread that
 * sleeps to absolute deadlines at 1 kHz (clock_nanosleep, timer slack 1 ns, as abtool's paced
 * generator asks for) and records how late it woke. bench/publish_bench.sh runs it beside each
 * paced measurement, so the generator's p99 is read against what the kernel and the VM allow.
 * Prints one JSON object: {"p50_us": ..., "p99_us": ..., "max_us": ...}. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>

enum { k_count = 2000 };

static int compare(const void* a, const void* b) {
    const double x = *(const double*)a, y = *(const double*)b;
    return x < y ? -1 : x > y;
}

int main(void) {
    static double lag_us[k_count];
    struct timespec start, due, now;
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 0; i < k_count; ++i) {
        const long long ns =
            (long long)start.tv_sec * 1000000000LL + start.tv_nsec + (long long)(i + 1) * 1000000LL;
        due.tv_sec = ns / 1000000000LL;
        due.tv_nsec = ns % 1000000000LL;
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL);
        clock_gettime(CLOCK_MONOTONIC, &now);
        lag_us[i] =
            ((double)(now.tv_sec - due.tv_sec) * 1e9 + (double)(now.tv_nsec - due.tv_nsec)) /
            1000.0;
    }
    qsort(lag_us, k_count, sizeof lag_us[0], compare);
    printf("{\"p50_us\": %.1f, \"p99_us\": %.1f, \"max_us\": %.1f}\n", lag_us[k_count / 2],
           lag_us[k_count * 99 / 100], lag_us[k_count - 1]);
    return 0;
}
