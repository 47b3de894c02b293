// The one place chos-setup prints (see outcome.hpp).
#include "setup/outcome.hpp"

#include <iostream>

namespace chos::setup {

Outcome& Outcome::fail(const Error& error, int exit_status)
{
    return fail(error.str(), exit_status);
}

Outcome& Outcome::fail(std::string line, int exit_status)
{
    errors.push_back(std::move(line));
    status = exit_status;
    return *this;
}

int print(const Outcome& outcome, bool verbose)
{
    for (const auto& line : outcome.text)
        std::cout << line;
    if (verbose)
        for (const auto& note : outcome.notes)
            std::cout << "chos-setup: " << note << "\n";
    for (const auto& message : outcome.messages)
        std::cout << "chos-setup: " << message << "\n";
    std::cout.flush();
    for (const auto& line : outcome.diagnostics)
        std::cerr << line << "\n";
    for (const auto& warning : outcome.warnings)
        std::cerr << "chos-setup: warning: " << warning << "\n";
    for (const auto& error : outcome.errors)
        std::cerr << "chos-setup: " << error << "\n";
    return outcome.status;
}

} // namespace chos::setup
