#include "fuse-linkfs/log.hpp"

#include <array>
#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <syslog.h>

namespace chos::linkfs::log {

namespace {

bool to_syslog = false;
bool debug_on = false;

// Per-uid budget: `burst` messages per `window` seconds. 64 slots hashed by uid:
// two users sharing a slot share a budget, which bounds memory and still keeps a
// flooding user from silencing everyone else.
constexpr unsigned burst = 5;
constexpr std::time_t window = 10;

struct Slot {
    uid_t uid = 0;
    bool used = false;
    std::time_t start = 0;
    unsigned count = 0;
    unsigned long suppressed = 0;
};
std::array<Slot, 64> slots{};

std::time_t now() noexcept
{
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return ts.tv_sec;
}

void emit(int priority, const char* format, va_list args) noexcept
{
    char line[1024];
    std::vsnprintf(line, sizeof line, format, args);
    if (to_syslog)
        ::syslog(priority, "%s", line);
    else
        std::fprintf(stderr, "chos-linkfs: %s\n", line);
}

} // namespace

void init(bool debug) noexcept
{
    debug_on = debug;
    to_syslog = false;
}

void use_syslog() noexcept
{
    ::openlog("chos-linkfs", LOG_PID | LOG_NDELAY, LOG_DAEMON);
    to_syslog = true;
}

bool debug_enabled() noexcept
{
    return debug_on;
}

void error(const char* format, ...) noexcept
{
    va_list args;
    va_start(args, format);
    emit(LOG_ERR, format, args);
    va_end(args);
}

void notice(const char* format, ...) noexcept
{
    va_list args;
    va_start(args, format);
    emit(LOG_NOTICE, format, args);
    va_end(args);
}

void debug(const char* format, ...) noexcept
{
    if (!debug_on)
        return;
    va_list args;
    va_start(args, format);
    emit(LOG_DEBUG, format, args);
    va_end(args);
}

void caller_notice(uid_t uid, const char* format, ...) noexcept
{
    Slot& slot = slots[uid % slots.size()];
    const std::time_t t = now();
    if (!slot.used || slot.uid != uid || t - slot.start >= window) {
        if (slot.used && slot.suppressed != 0)
            notice("%lu messages about requests of uid %u suppressed", slot.suppressed,
                   static_cast<unsigned>(slot.uid));
        slot = Slot{uid, true, t, 0, 0};
    }
    // --debug shows everything: it is for looking at one problem, not production.
    if (slot.count >= burst && !debug_on) {
        ++slot.suppressed;
        return;
    }
    ++slot.count;
    va_list args;
    va_start(args, format);
    emit(LOG_NOTICE, format, args);
    va_end(args);
}

} // namespace chos::linkfs::log
