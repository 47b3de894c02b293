// Step 10: run the command, searching PATH in the new root with the user's rights.
#include "enter/steps.hpp"

#include <cerrno>
#include <unistd.h>

namespace chos::enter {

namespace {

std::vector<char*> pointers(const std::vector<std::string>& strings)
{
    std::vector<char*> out;
    out.reserve(strings.size() + 1);
    for (const auto& s : strings)
        out.push_back(const_cast<char*>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

} // namespace

Error exec_command(const std::string& file, const std::vector<std::string>& argv,
                   const std::vector<std::string>& envp, const std::optional<std::string>& search_path)
{
    auto args = pointers(argv);
    auto env = pointers(envp);
    if (file.empty())
        return Error{"cannot run", "", ENOENT, {}};
    if (file.find('/') != std::string::npos) {
        ::execve(file.c_str(), args.data(), env.data());
        return Error{"cannot run", file, errno, {}};
    }
    // PATH from the child's environment, as execvpe() would (it is the user's own).
    std::string path = "/usr/local/bin:/usr/bin:/bin";
    for (const auto& e : envp)
        if (e.starts_with("PATH="))
            path = e.substr(5);
    if (search_path)
        path = *search_path;
    int saved = ENOENT;
    std::size_t start = 0;
    for (;;) {
        std::size_t end = path.find(':', start);
        std::string dir = path.substr(start, end == std::string::npos ? std::string::npos : end - start);
        std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + file;
        ::execve(candidate.c_str(), args.data(), env.data());
        // Keep looking after "not there"; remember "there but not runnable".
        if (errno == EACCES || errno == ENOEXEC || errno == ETXTBSY || errno == EISDIR)
            saved = errno;
        else if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP && errno != ENAMETOOLONG)
            saved = errno;
        if (end == std::string::npos)
            break;
        start = end + 1;
    }
    return Error{"cannot run", file, saved, {}};
}

} // namespace chos::enter
