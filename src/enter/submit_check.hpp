// What srun, sbatch and salloc can say before a job is submitted (spank_chos(8),
// "At submission"): whether --chos=NAME names an environment the submitting user may
// use, by the submit host's own configuration and the same rule every entry point
// applies (config::choose), with the user's own credentials -- what `chos --list`
// shows the user there. Advisory only: the node decides again in the task, with its own
// configuration; this only spares the user a job that would be refused, and its
// queue wait, and says why in one line before Slurm says anything.
#pragma once

#include <optional>
#include <string>

namespace chos::enter {

// The refusal (one line, without "chos: ") when the configuration at `config_path`
// refuses `name` for the calling process's user, naming the environments it allows
// instead; nullopt when it allows it, or when there is no configuration to ask (a
// submit host without CHOS, a submitter inside an environment, a file the launcher
// would not trust).
[[nodiscard]] std::optional<std::string> refusal_at_submit(const std::string& name, const std::string& config_path);

} // namespace chos::enter
