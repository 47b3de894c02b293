// chos: the user's login shell, or a command, in the chosen environment (chos(1)).
#include "launcher/cli.hpp"

int main(int argc, char** argv)
{
    return chos::launcher::run(chos::launcher::Program::chos, argc, argv);
}
