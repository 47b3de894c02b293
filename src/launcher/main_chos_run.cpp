// chos-run: a command in the chosen environment (chos-run(1)).
#include "launcher/cli.hpp"

int main(int argc, char** argv)
{
    return chos::launcher::run(chos::launcher::Program::chos_run, argc, argv);
}
