// The namespace backend's record (src/link/ns_record.hpp): what the holder writes
// reads back the same; anything else is refused, never half-believed (P8 in
// docs/properties.md), and a holder that is not the record's process is "not running"
// (class T in docs/threat-model.md).
// checks: P8 T
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "link/ns_record.hpp"

#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace chos::link;

TEST_CASE("a record reads back as written")
{
    NsRecord record;
    record.pid = 4242;
    record.start_time = 123456;
    record.host = {3, 4026531841ULL};
    record.environments["bullseye"] = {4, 4026532177ULL};
    record.environments["trixie"] = {5, 4026532178ULL};
    auto back = decode_ns_record(encode(record));
    REQUIRE(back);
    CHECK(back->pid == 4242);
    CHECK(back->start_time == 123456);
    CHECK(back->host.fd == 3);
    CHECK(back->host.inode == 4026531841ULL);
    REQUIRE(back->environments.size() == 2);
    CHECK(back->environments.at("trixie").fd == 5);
    CHECK(back->environments.at("bullseye").inode == 4026532177ULL);
}

TEST_CASE("a malformed record is refused")
{
    const std::string good = "holder 42 7\nhost 3 99\nenv a 4 100\n";
    CHECK(decode_ns_record(good));
    for (const char* bad : {"", "holder 42 7\n", "host 3 99\nenv a 4 100\n", "holder 1 7\nhost 3 99\n",
                            "holder 42 7\nhost -3 99\n", "holder 42 7\nhost 3 99\nenv a 4\n",
                            "holder 42 7\nhost 3 99\nenv  4 100\n", "holder 42 7 8\nhost 3 99\n",
                            "holder 42x 7\nhost 3 99\n", "holder 42 7\nhost 3 99\nother 1 2\n"}) {
        CAPTURE(bad);
        CHECK_FALSE(decode_ns_record(bad));
    }
}

TEST_CASE("a holder that is not the record's process is not running")
{
    // Our own process with a wrong start time: a reused pid.
    NsRecord record;
    record.pid = ::getpid();
    record.start_time = 1;
    struct stat st {};
    REQUIRE(::stat("/proc/self/ns/mnt", &st) == 0);
    record.host = {0, st.st_ino};
    auto opened = open_held(record, record.host, "the host");
    REQUIRE_FALSE(opened);
    CHECK(opened.error().str() == "chos-nsd is not running (see 'chos-setup status')");
    // A pid that does not exist.
    record.pid = 0x3ffffffe;
    CHECK_FALSE(open_held(record, record.host, "the host"));
}
