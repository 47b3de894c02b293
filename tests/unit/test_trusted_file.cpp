// Reading /etc/chos.yaml: the file checks of class J (docs/threat-model.md).
// checks: J
#include "config/yaml_config.hpp"

#include "temp_dir.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace chos::config;
namespace fs = std::filesystem;

namespace {

const FileTrust me{::getuid()};
const std::string good = "environments:\n  host: { path: / }\n";

std::string refusal(const std::string& path, FileTrust trust = me)
{
    try {
        (void)load_config(path, trust);
        return "";
    } catch (const ConfigError& e) {
        return e.what();
    }
}

} // namespace

TEST_CASE("a regular file owned by the trusted owner is read")
{
    TempDir dir;
    const auto p = dir.write("chos.yaml", good);
    CHECK(load_config(p, me).environments.size() == 1);
}

TEST_CASE("a symlink, a FIFO and a directory are refused")
{
    TempDir dir;
    const auto target = dir.write("real.yaml", good);
    const auto link = dir.path + "/link.yaml";
    REQUIRE(::symlink(target.c_str(), link.c_str()) == 0);
    CHECK(refusal(link) == link + ": is a symbolic link (refused: it must be a regular file)");

    const auto fifo = dir.path + "/fifo.yaml";
    REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
    CHECK(refusal(fifo) == fifo + ": is a FIFO, not a regular file"); // and it did not hang

    const auto sub = dir.path + "/dir.yaml";
    REQUIRE(::mkdir(sub.c_str(), 0755) == 0);
    CHECK(refusal(sub) == sub + ": is a directory, not a regular file");
}

TEST_CASE("a directory on the way that is a symlink is refused")
{
    TempDir dir;
    REQUIRE(::mkdir((dir.path + "/real").c_str(), 0755) == 0);
    dir.write("real/chos.yaml", good);
    REQUIRE(::symlink("real", (dir.path + "/via").c_str()) == 0);
    CHECK(refusal(dir.path + "/via/chos.yaml") == dir.path + "/via/chos.yaml: '" + dir.path +
                                                      "/via' is a symbolic link (refused: the path must not pass "
                                                      "through links)");
}

TEST_CASE("writable by group or others, in the file or a parent")
{
    TempDir dir;
    const auto p = dir.write("chos.yaml", good, 0664);
    CHECK(refusal(p) == p + ": is writable by group or others");
    REQUIRE(::mkdir((dir.path + "/grp").c_str(), 0755) == 0);
    ::chmod((dir.path + "/grp").c_str(), 0775);
    const auto q = dir.write("grp/chos.yaml", good);
    CHECK(refusal(q) == q + ": directory '" + dir.path + "/grp' is writable by group or others");
}

TEST_CASE("not owned by the trusted owner")
{
    // Directly in /tmp (root's, sticky: the one directory any user may write and the
    // check still accepts), so the file itself is what is refused -- as root (the file
    // given to nobody) and as any other user (the file is that user's).
    char templ[] = "/tmp/chos-unit-owner.XXXXXX";
    const int fd = ::mkstemp(templ);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, good.data(), good.size()) == static_cast<ssize_t>(good.size()));
    ::close(fd);
    const std::string p = templ;
    REQUIRE(::chmod(p.c_str(), 0644) == 0);
    uid_t owner = ::getuid();
    if (owner == 0) {
        REQUIRE(::chown(p.c_str(), 65534, 65534) == 0);
        owner = 65534;
    }
    CHECK(refusal(p, FileTrust{0}) == p + ": is owned by uid " + std::to_string(owner) + ", not root");
    ::unlink(p.c_str());
}

TEST_CASE("a 100 MiB file is refused without being read")
{
    TempDir dir;
    const auto p = dir.write("big.yaml", "");
    REQUIRE(::truncate(p.c_str(), 100L * 1024 * 1024) == 0);
    CHECK(refusal(p) == p + ": is larger than 1048576 bytes");
}

TEST_CASE("a missing file and a relative path")
{
    TempDir dir;
    CHECK(refusal(dir.path + "/none.yaml") == dir.path + "/none.yaml: cannot open: No such file or directory");
    CHECK(refusal("etc/chos.yaml") == "etc/chos.yaml: the configuration path must be an absolute normalized file path");
}
