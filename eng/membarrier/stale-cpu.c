// Does membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) reach a CPU where a thread of this registered process runs?
// Counts CPU 1's function-call interrupts (/proc/interrupts, CAL) over 10,000 barriers sent from CPU 0.
//   mode 0: the thread spins on CPU 1 while the process registers (the kernel refreshes that CPU's state).
//   mode 1: the thread ran on CPU 1 and went to sleep before the registration; a new one spins there after it.
// On the 6.18 kernel of 2026-12-02: mode 0 reached CPU 1 10,000 times, mode 1 zero times (the per-CPU copy of the
// process's membarrier state stays stale while the idle CPU keeps the process's memory map lazily).
// Build and run: gcc -O2 -pthread -o /tmp/stale-cpu eng/membarrier/stale-cpu.c && /tmp/stale-cpu 0 && /tmp/stale-cpu 1
#define _GNU_SOURCE
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile int go, stop, started;

static long function_calls(int cpu)
{
    FILE *file = fopen("/proc/interrupts", "r");
    char line[4096];
    long count = -1;
    while (file && fgets(line, sizeof line, file)) {
        if (strstr(line, "Function call interrupts")) {
            long cpu0, cpu1;
            if (sscanf(strchr(line, ':') + 1, "%ld %ld", &cpu0, &cpu1) == 2) count = cpu ? cpu1 : cpu0;
        }
    }
    if (file) fclose(file);
    return count;
}

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
}

static void *spin_on_cpu1(void *unused)
{
    pin(1);
    while (!go) usleep(1000);
    started = 1;
    while (!stop) { }
    return unused;
}

static void *visit_cpu1(void *unused)
{
    pin(1);
    usleep(1000);
    return unused;
}

int main(int argc, char **argv)
{
    int mode = argc > 1 ? atoi(argv[1]) : 0;
    pthread_t spinner, visitor;
    pin(0);
    if (mode == 0) {
        pthread_create(&spinner, 0, spin_on_cpu1, 0);
        go = 1;
        while (!started) { }
    } else {
        pthread_create(&visitor, 0, visit_cpu1, 0);
        pthread_join(visitor, 0);
        pthread_create(&spinner, 0, spin_on_cpu1, 0);
    }
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0)) { perror("register"); return 1; }
    if (mode != 0) {
        usleep(100000);
        go = 1;
        while (!started) { }
    }
    usleep(10000);
    long before = function_calls(1);
    for (int i = 0; i < 10000; i++) syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0);
    printf("mode %d: CPU 1 took %ld function-call interrupts during 10,000 barriers\n", mode, function_calls(1) - before);
    stop = 1;
    pthread_join(spinner, 0);
    return 0;
}
