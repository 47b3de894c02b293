// What a failing start/reload must take back (issue: "no partial state on failure
// of start"). Steps run in reverse order when the log is destroyed without commit().
#pragma once

#include <functional>
#include <utility>
#include <vector>

namespace chos::setup {

class UndoLog {
public:
    UndoLog() = default;
    UndoLog(const UndoLog&) = delete;
    UndoLog& operator=(const UndoLog&) = delete;
    ~UndoLog() { rollback(); }

    void add(std::function<void()> step) { steps_.push_back(std::move(step)); }
    // Everything succeeded: keep it.
    void commit() noexcept { steps_.clear(); }
    void rollback() noexcept
    {
        while (!steps_.empty()) {
            auto step = std::move(steps_.back());
            steps_.pop_back();
            try {
                step();
            } catch (...) {
                // Undo is best effort; one failing step must not stop the others.
            }
        }
    }

private:
    std::vector<std::function<void()>> steps_;
};

} // namespace chos::setup
