// chos and chos-run: thin binaries over libchos_enter (as schroot is over its library).
#pragma once

namespace chos::launcher {

enum class Program { chos, chos_run };

// The whole program; returns the exit status (or never returns: exec).
int run(Program program, int argc, char** argv);

} // namespace chos::launcher
