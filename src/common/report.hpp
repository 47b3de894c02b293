// What a step did and what it could not do, for the one place that prints (library
// code never prints: docs/architecture.md "Layering"). chos-setup's commands and the
// link backends' setup steps fill one; chos-setup's main prints it.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace chos {

struct Report {
    std::vector<std::string> notes;    // what was done: printed with --verbose
    std::vector<std::string> messages; // what the admin must know happened: always printed
    std::vector<std::string> warnings; // what was skipped or refused: always printed

    void note(std::string text) { notes.push_back(std::move(text)); }
    void say(std::string text) { messages.push_back(std::move(text)); }
    void warn(std::string text) { warnings.push_back(std::move(text)); }
    void merge(Report other)
    {
        for (auto& n : other.notes)
            notes.push_back(std::move(n));
        for (auto& m : other.messages)
            messages.push_back(std::move(m));
        for (auto& w : other.warnings)
            warnings.push_back(std::move(w));
    }
};

} // namespace chos
