#include "enter/user_db.hpp"

#include "enter/as_user.hpp"

#include <cstdio>
#include <fcntl.h>
#include <grp.h>
#include <memory>
#include <pwd.h>
#include <unistd.h>

namespace chos::enter {

namespace {

constexpr const char* getent_path = "/usr/bin/getent";
constexpr std::size_t max_answer = 64 * 1024;
constexpr int getent_timeout_ms = 5000;
// Room for one entry (a group with many members can be long). Left uninitialised: only
// the pages an entry uses are ever touched (a zeroed 64 KB cost 16 page faults).
constexpr std::size_t entry_buffer = 64 * 1024;

std::unique_ptr<char[]> entry_storage()
{
    return std::make_unique_for_overwrite<char[]>(entry_buffer);
}

struct File {
    explicit File(FILE* f) : f_(f) {}
    ~File()
    {
        if (f_)
            std::fclose(f_);
    }
    File(const File&) = delete;
    File& operator=(const File&) = delete;
    FILE* get() const { return f_; }

private:
    FILE* f_;
};

// The first entry of a passwd-format stream with this uid (glibc's parser).
std::optional<PasswdEntry> find_passwd(FILE* stream, uid_t uid)
{
    if (!stream)
        return std::nullopt;
    const auto buf = entry_storage();
    struct passwd pw {};
    struct passwd* found = nullptr;
    while (::fgetpwent_r(stream, &pw, buf.get(), entry_buffer, &found) == 0 && found) {
        if (pw.pw_uid == uid)
            return PasswdEntry{pw.pw_name ? pw.pw_name : "", pw.pw_gid, pw.pw_dir ? pw.pw_dir : "",
                               pw.pw_shell ? pw.pw_shell : ""};
    }
    return std::nullopt;
}

std::optional<gid_t> find_group(FILE* stream, const std::string& name)
{
    if (!stream)
        return std::nullopt;
    const auto buf = entry_storage();
    struct group gr {};
    struct group* found = nullptr;
    while (::fgetgrent_r(stream, &gr, buf.get(), entry_buffer, &found) == 0 && found) {
        if (gr.gr_name && name == gr.gr_name)
            return gr.gr_gid;
    }
    return std::nullopt;
}

struct GetentQuery {
    const char* database;
    const char* key;
};

// In the child, root out of the caller's reach (as_user.hpp): getent with nothing of
// ours or the caller's (no environment, stdin and stderr on /dev/null, stdout the pipe).
void exec_getent(int out, const void* arg) noexcept
{
    const auto* query = static_cast<const GetentQuery*>(arg);
    const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0 || ::dup2(null, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(null, 2) < 0)
        return;
    char* argv[] = {const_cast<char*>("getent"), const_cast<char*>(query->database),
                    const_cast<char*>(query->key), nullptr};
    char* envp[] = {nullptr};
    ::execve(getent_path, argv, envp);
}

// getent's answer, or "" (not found, failed, too slow, too much). getent runs as root
// apart, never as the caller: a child of the caller's uid is the caller's to trace and
// rewrite, and this answer decides the allow-list and names the user in the audit line
// (docs/threat-model.md, class P).
std::string getent(const char* database, const std::string& key)
{
    GetentQuery query{database, key.c_str()};
    ChildOutput out = run_as_root_apart(exec_getent, &query, max_answer, getent_timeout_ms);
    if (!out.complete(max_answer))
        return {};
    return out.data;
}

// A string as a stream for glibc's entry parsers.
File memory_stream(std::string& text)
{
    return File(text.empty() ? nullptr : ::fmemopen(text.data(), text.size(), "r"));
}

std::optional<PasswdEntry> nss_passwd(uid_t uid)
{
    struct passwd pw {};
    struct passwd* found = nullptr;
    const auto buf = entry_storage();
    if (::getpwuid_r(uid, &pw, buf.get(), entry_buffer, &found) != 0 || found == nullptr)
        return std::nullopt;
    return PasswdEntry{pw.pw_name ? pw.pw_name : "", pw.pw_gid, pw.pw_dir ? pw.pw_dir : "",
                       pw.pw_shell ? pw.pw_shell : ""};
}

std::optional<gid_t> nss_group(const std::string& name)
{
    struct group gr {};
    struct group* found = nullptr;
    const auto buf = entry_storage();
    if (::getgrnam_r(name.c_str(), &gr, buf.get(), entry_buffer, &found) != 0 || found == nullptr)
        return std::nullopt;
    return gr.gr_gid;
}

} // namespace

std::optional<PasswdEntry> passwd_by_uid(uid_t uid, UserDbAccess access)
{
    if (access == UserDbAccess::nss)
        return nss_passwd(uid);
    {
        File passwd(std::fopen("/etc/passwd", "re"));
        if (auto entry = find_passwd(passwd.get(), uid))
            return entry;
    }
    std::string answer = getent("passwd", std::to_string(uid));
    File stream = memory_stream(answer);
    return find_passwd(stream.get(), uid);
}

config::GroupResolver group_resolver(UserDbAccess access)
{
    if (access == UserDbAccess::nss)
        return nss_group;
    return [](const std::string& name) -> std::optional<gid_t> {
        {
            File group(std::fopen("/etc/group", "re"));
            if (auto gid = find_group(group.get(), name))
                return gid;
        }
        // (getent takes a number as a gid; find_group matches the name only.)
        std::string answer = getent("group", name);
        File stream = memory_stream(answer);
        return find_group(stream.get(), name);
    };
}

} // namespace chos::enter
