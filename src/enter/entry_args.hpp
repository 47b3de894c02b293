// The arguments of pam_chos (its pam.d line) and spank_chos (its plugstack.conf line),
// parsed by one parser with one policy (pam_chos(8), spank_chos(8)):
//
//   debug                 per-phase timings to the log            (pam_chos, spank_chos)
//   fail_to_default=BOOL  overrides the config's fail_to_default  (pam_chos, spank_chos)
//   user_file=NAME        overrides the config's user_file; empty: read none
//                         (the config's rule: a plain file name in the home directory)
//   root=BOOL             switch root's sessions too (default no)  (pam_chos)
//   submit_check=BOOL     srun/sbatch/salloc check --chos against the submit host's
//                         configuration before submitting (default yes) (spank_chos)
//
// BOOL is yes|true|1 or no|false|0. Anything else -- an unknown argument, one meant
// for the other module, a malformed value -- is refused with a message naming it: an
// administrator's typo must not silently change who lands where.
#pragma once

#include "common/error.hpp"
#include "enter/enter.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chos::enter {

struct EntryArguments {
    std::optional<bool> fail_to_default;  // unset: the config's fail_to_default
    std::optional<std::string> user_file; // unset: the config's user_file; "": none
    bool root = false;                    // pam_chos: switch root's sessions too
    bool submit_check = true;             // spank_chos: refuse --chos at submission too
    bool debug = false;                   // per-phase timings to the log
};

// `entry` is pam or spank: which arguments exist and how messages name them
// ("module argument ..." / "plugin argument ..."). The error's str() is the whole
// message, e.g. "unknown module argument 'frobnicate' (see pam_chos(8))".
[[nodiscard]] Result<EntryArguments> parse_entry_arguments(EntryPoint entry, const std::vector<std::string_view>& args);

} // namespace chos::enter
