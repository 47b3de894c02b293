// Errors on the privileged path are values, not exceptions (docs/architecture.md
// "Conventions").
#pragma once

#include <cerrno>
#include <cstring>
#include <expected>
#include <string>
#include <utility>

namespace chos {

// What failed, the argument it failed on, and errno (0 when not a syscall failure).
// str() gives the "<what>: '<argument>': <reason>" part of a user-visible line.
struct Error {
    std::string what;
    std::string argument;
    int err = 0;
    std::string reason; // used instead of strerror(err) when set

    [[nodiscard]] std::string str() const
    {
        std::string s = what;
        if (!argument.empty())
            s += ": '" + argument + "'";
        if (!reason.empty())
            s += ": " + reason;
        else if (err != 0)
            s += std::string(": ") + std::strerror(err);
        return s;
    }
};

template <typename T = void>
using Result = std::expected<T, Error>;

// Build an unexpected Error from the current errno.
inline std::unexpected<Error> sys_error(std::string what, std::string argument = {})
{
    return std::unexpected(Error{std::move(what), std::move(argument), errno, {}});
}

inline std::unexpected<Error> error(std::string what, std::string argument, std::string reason)
{
    return std::unexpected(Error{std::move(what), std::move(argument), 0, std::move(reason)});
}

} // namespace chos
