// chos.yaml parsing: the model, and the exact message for each bad input
// (docs/threat-model.md, classes G and J).
// checks: G J
#include "config/names.hpp"
#include "config/yaml_config.hpp"

#include "sample_config.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace chos::config;

namespace {

const char* minimal = "environments:\n  host: { path: / }\n";

// The messages of a config that must be refused ("" when it is accepted).
std::string problems(const std::string& text)
{
    try {
        (void)parse_config(text, "t.yaml");
        return "";
    } catch (const ConfigError& e) {
        return e.what();
    }
}

} // namespace

TEST_CASE("a full configuration becomes the model")
{
    const auto c = parse_config(full_config, "t.yaml");
    CHECK(c.default_environment == "bookworm");
    CHECK(c.user_file == ".chosrc");
    CHECK_FALSE(c.fail_to_default);
    CHECK(c.backend == Backend::fuse);
    CHECK(c.tree == "/srv/chos-tree");
    CHECK(c.run_dir == "/run/chos-x");
    CHECK(c.registry.type == RegistryType::cgroup1);
    CHECK(c.registry.name == "chos2");
    REQUIRE(c.environments.size() == 2);
    CHECK(c.environments[0].is_host());
    const auto* b = c.find("bullseye");
    REQUIRE(b != nullptr);
    CHECK(b->path == "/srv/chos/bullseye");
    CHECK(b->groups == std::vector<std::string>{"atlas", "star"});
    CHECK(b->users == std::vector<std::string>{"alice"});
    CHECK(b->personality == Personality::linux32);
    CHECK(b->hidden);
    CHECK_FALSE(c.environments[0].hidden);
    CHECK(b->rules.set.at("FOO") == "bar");
    CHECK(b->line == 11);
    CHECK(c.os_dirs == std::vector<std::string>{"bin", "etc", "lib", "usr"});
    REQUIRE(c.binds.size() == 3);
    CHECK(c.binds[0].target == "/home");
    CHECK_FALSE(c.binds[0].dev);
    CHECK(c.binds[1].dev); // /dev keeps its device nodes
    CHECK(c.binds[2].target == "/scratch");
    CHECK(c.binds[2].optional);
    CHECK_FALSE(c.binds[2].recursive);
    CHECK(c.local_suid);
    CHECK(c.shared_files == std::vector<std::string>{"/etc/passwd", "/etc/group"});
    CHECK(c.host_commands == std::vector<std::string>{"srun", "/opt/slurm/bin/sbatch"});
    REQUIRE(c.find_host_command("sbatch") != nullptr);
    CHECK(*c.find_host_command("sbatch") == "/opt/slurm/bin/sbatch");
    CHECK(c.find_host_command("squeue") == nullptr);
    REQUIRE(c.rules.keep.has_value());
    CHECK(c.rules.set.at("SITE") == "x");
}

TEST_CASE("defaults of an almost empty configuration")
{
    const auto c = parse_config(minimal, "t.yaml");
    CHECK(c.tree == "/chos");
    CHECK(c.user_file == ".chos");
    CHECK(c.fail_to_default);
    CHECK(c.backend == Backend::automatic);
    CHECK(c.registry.name == "chos");
    CHECK(c.registry.mount == "/sys/fs/cgroup/chos");
    CHECK(c.os_dirs == default_os_dirs());
    CHECK(c.default_environment.empty());
    CHECK(c.default_env() == nullptr);
}

TEST_CASE("class G: bad environment names are refused with a pointer to chos.yaml(5)")
{
    const std::string tail = " (names are 1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit; see chos.yaml(5))";
    CHECK(problems("environments:\n  \"\": { path: / }\n") ==
          "t.yaml:2:3: environment name '' is empty" + tail);
    CHECK(problems("environments:\n  \".\": { path: / }\n") ==
          "t.yaml:2:3: environment name '.' does not start with a letter or digit" + tail);
    CHECK(problems("environments:\n  \"..\": { path: / }\n") ==
          "t.yaml:2:3: environment name '..' does not start with a letter or digit" + tail);
    CHECK(problems("environments:\n  a/b: { path: / }\n") == "t.yaml:2:3: environment name 'a/b' contains '/'" + tail);
    CHECK(problems("environments:\n  -o: { path: / }\n") ==
          "t.yaml:2:3: environment name '-o' does not start with a letter or digit" + tail);
    CHECK(problems("environments:\n  .hidden: { path: / }\n") ==
          "t.yaml:2:3: environment name '.hidden' does not start with a letter or digit" + tail);
    // (YAML itself limits a plain key to 1024 characters; 4 KiB names are refused by
    // the choice, see test_choice.cpp.)
    CHECK(problems("environments:\n  " + std::string(100, 'a') + ": { path: / }\n") ==
          "t.yaml:2:3: environment name '" + std::string(64, 'a') + "...' is longer than 64 characters" + tail);
    // Cyrillic 'а' (U+0430) looks like 'a'.
    CHECK(problems("environments:\n  b\xd0\xb0se: { path: / }\n") ==
          "t.yaml:2:3: environment name 'b\\xd0\\xb0se' contains a character other than A-Z a-z 0-9 . _ -" + tail);
}

TEST_CASE("names and paths: the rules themselves")
{
    CHECK(is_valid_environment_name("bullseye"));
    CHECK(is_valid_environment_name("rh7.3_x-86"));
    CHECK_FALSE(is_valid_environment_name("with space"));
    CHECK_FALSE(is_valid_environment_name("%n%s"));
    CHECK_FALSE(is_valid_environment_name("a\nb"));
    CHECK_FALSE(absolute_path_problem("/"));
    CHECK_FALSE(absolute_path_problem("/srv/chos/a"));
    CHECK(*absolute_path_problem("srv") == "is not absolute");
    CHECK(*absolute_path_problem("/srv/../etc") == "contains '..'");
    CHECK(*absolute_path_problem("/srv/./etc") == "contains '.'");
    CHECK(*absolute_path_problem("/srv//etc") == "contains '//'");
    CHECK(*absolute_path_problem("/srv/") == "ends with '/'");
    CHECK(*absolute_path_problem("/a\nb") == "contains a control character");
    CHECK(quote_for_message("%n%s\n") == "\\x25n\\x25s\\x0a");
}

TEST_CASE("class J: relative paths, '..', wrong types, unknown and duplicate keys")
{
    CHECK(problems("environments:\n  a: { path: srv/a }\n") ==
          "t.yaml:2:14: 'path' path 'srv/a' is not absolute (paths must be absolute and normalized)");
    CHECK(problems("environments:\n  a: { path: /srv/../etc }\n") ==
          "t.yaml:2:14: 'path' path '/srv/../etc' contains '..' (paths must be absolute and normalized)");
    CHECK(problems("environments:\n  a: { path: [/x] }\n") == "t.yaml:2:14: 'path' must be a string");
    CHECK(problems(std::string(minimal) + "fail_to_default: maybe\n") ==
          "t.yaml:3:18: 'fail_to_default' must be true or false");
    CHECK(problems(std::string(minimal) + "backend: nfs\n") ==
          "t.yaml:3:10: 'backend' must be one of auto, fuse, kmod, namespace, not 'nfs'");
    CHECK(problems(std::string(minimal) + "colour: blue\n") == "t.yaml:3:1: unknown key 'colour' (see chos.yaml(5))");
    CHECK(problems("environments:\n  a: { path: /, colour: x }\n") ==
          "t.yaml:2:17: unknown key 'colour' in environment 'a' (see chos.yaml(5))");
    CHECK(problems(std::string(minimal) + "tree: /a\ntree: /b\n") ==
          "t.yaml:4:1: duplicate key 'tree' (first at line 3)");
    CHECK(problems("environments:\n  a: { path: / }\n  a: { path: /srv }\n") ==
          "t.yaml:3:3: duplicate key 'a' in 'environments' (first at line 2)");
    CHECK(problems("default: nope\n" + std::string(minimal)) ==
          "t.yaml:1:10: 'default' names environment 'nope', which is not defined under 'environments'");
    CHECK(problems("tree: /chos\n") == "t.yaml:1:1: missing key 'environments': at least one environment must be defined");
    CHECK(problems("") == "t.yaml: the file is empty: it must define at least 'environments'");
    CHECK(problems("- a\n- b\n") == "t.yaml:1:1: the top level must be a map of keys (see chos.yaml(5))");
    CHECK(problems("environments:\n  a: { path: /x\n") != "");
    CHECK(problems(std::string(minimal) + "environment: { set: { CHOS: x } }\n") ==
          "t.yaml:3:23: CHOS is always set to the environment's name and cannot be changed here");
    CHECK(problems(std::string(minimal) + "bind: [/bin/x]\n") ==
          "t.yaml:3:8: bind target '/bin/x' lies under '/bin', which CHOS manages (os_dirs, chos, local, .chos)");
    CHECK(problems("environments:\n  a: { path: /chos/x }\n") ==
          "t.yaml:2:14: environment 'a' path '/chos/x' lies inside the tree '/chos'");
    CHECK(problems(std::string(minimal) + "registry: { name: \"a,b\" }\n") ==
          "t.yaml:3:19: 'name' must be 1-32 characters of A-Z a-z 0-9 _ -");
    CHECK(problems("environments:\n  a: { path: /, hidden: maybe }\n") ==
          "t.yaml:2:25: 'hidden' must be true or false");
    CHECK(problems(std::string(minimal) + "host_commands: [chos-run]\n") ==
          "t.yaml:3:17: host_commands entry 'chos-run': the name 'chos-run' is a launcher's own name");
    CHECK(problems(std::string(minimal) + "host_commands: [../srun]\n") ==
          "t.yaml:3:17: host_commands entry '../srun' is neither a command name nor an absolute path");
    CHECK(problems(std::string(minimal) + "host_commands: [/usr/bin/../srun]\n") ==
          "t.yaml:3:17: host_commands entry '/usr/bin/../srun' contains '..'");
    CHECK(problems(std::string(minimal) + "host_commands: [srun, /opt/bin/srun]\n") ==
          "t.yaml:3:23: host_commands entry '/opt/bin/srun': the name 'srun' is listed twice");
    CHECK(problems(std::string(minimal) + "host_commands: [.x]\n") ==
          "t.yaml:3:17: host_commands entry '.x': the name '.x' must start with a letter, a digit or '_'");
    CHECK(problems(std::string(minimal) + "user_file: ../x\n") ==
          "t.yaml:3:12: 'user_file' must be a plain file name in the user's home directory, e.g. .chos");
}

TEST_CASE("three independent mistakes give three lines")
{
    const std::string text = "default: host\nbackend: nfs\nenvironments:\n  host: { path: / }\n  bad/name: { path: /x }\n  b: { path: rel }\n";
    const std::string out = problems(text);
    CHECK(out == "t.yaml:2:10: 'backend' must be one of auto, fuse, kmod, namespace, not 'nfs'\n"
                 "t.yaml:5:3: environment name 'bad/name' contains '/' (names are 1-64 of A-Z a-z 0-9 . _ -, starting "
                 "with a letter or digit; see chos.yaml(5))\n"
                 "t.yaml:6:14: 'path' path 'rel' is not absolute (paths must be absolute and normalized)");
}

TEST_CASE("YAML syntax errors in words an admin can act on (issue 14, item 9)")
{
    CHECK(problems("default: a\nenvironments:\n  a:\n    path: /srv/a\n   description: x\n") ==
          "t.yaml:5:4: this line is not indented like the keys above it (a key of a map starts in the same "
          "column as the other keys of that map; a value's keys are indented further) [end of map not found]");
    CHECK(problems("default: a\nenvironments:\n  a:\n\tpath: /srv/a\n") ==
          "t.yaml:4:1: a tab in the indentation: YAML indents with spaces only [end of map not found]");
    CHECK(problems("default: a\nenvironments:\n  a:\n    path: /srv/a\n    users: [a, b\n") ==
          "t.yaml:6:1: a '[' list is not closed with ']' [end of sequence flow not found]");
}

TEST_CASE("class J: a YAML alias bomb is refused before anything expands")
{
    std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n";
    for (char c = 'b'; c <= 'j'; ++c)
        bomb += std::string(1, c) + ": &" + c + " [*" + char(c - 1) + ", *" + char(c - 1) + ", *" + char(c - 1) +
                ", *" + char(c - 1) + ", *" + char(c - 1) + "]\n";
    const std::string out = problems(bomb + minimal);
    CHECK(out.starts_with("t.yaml:1:4: anchors (&name) are not allowed in chos.yaml\n"));
    CHECK(out.find("aliases (*name) are not allowed in chos.yaml") != std::string::npos);
}

TEST_CASE("class J: oversized, binary and multi-document input")
{
    CHECK(problems(std::string(max_config_size + 1, '#')) == "t.yaml: larger than 1048576 bytes");
    CHECK(problems(std::string("environments: {}\0", 17)) == "t.yaml: contains a NUL byte: not a text file");
    CHECK(problems(std::string(minimal) + "---\n" + minimal) == "t.yaml: more than one YAML document");
    std::string deep;
    for (int i = 0; i < 40; ++i)
        deep += "[";
    CHECK(problems("x: " + deep + "\n").find("nested deeper than 32 levels") != std::string::npos);
}

TEST_CASE("image: an environment from an image file, exclusive with path:, and image_dirs:")
{
    const Config config = parse_config("image_dirs: [/srv/images]\nenvironments:\n"
                                       "  b: { image: /srv/images/b.sqfs, users: [alice] }\n",
                                       "t.yaml");
    REQUIRE(config.environments.size() == 1);
    CHECK(config.environments[0].image == "/srv/images/b.sqfs");
    CHECK(config.environments[0].path.empty());
    CHECK(config.environments[0].is_image());
    CHECK(!config.environments[0].is_host());
    CHECK(config.environments[0].source() == "/srv/images/b.sqfs");
    CHECK(config.environments[0].path_line == 3);
    CHECK(config.image_dirs == std::vector<std::string>{"/srv/images"});
    CHECK(problems("environments:\n  a: { path: /srv/a, image: /srv/a.sqfs }\n") ==
          "t.yaml:2:3: environment 'a' has both 'path' and 'image' (give one: a directory tree or an image file)");
    CHECK(problems("environments:\n  a: { description: x }\n") ==
          "t.yaml:2:3: environment 'a' has neither 'path' nor 'image'");
    CHECK(problems("environments:\n  a: { image: / }\n") == "t.yaml:2:15: 'image' cannot be '/'");
    CHECK(problems("environments:\n  a: { image: x.sqfs }\n") ==
          "t.yaml:2:15: 'image' path 'x.sqfs' is not absolute (paths must be absolute and normalized)");
    CHECK(problems("environments:\n  a: { image: /chos/a.sqfs }\n") ==
          "t.yaml:2:15: environment 'a' image '/chos/a.sqfs' lies inside the tree '/chos'");
    CHECK(problems(std::string(minimal) + "image_dirs: [rel]\n") ==
          "t.yaml:3:14: image_dirs entry 'rel' is not absolute");
    CHECK(problems(std::string(minimal) + "image_dirs: [/]\n") ==
          "t.yaml:3:14: image_dirs entry cannot be '/' (name the directory that holds the images)");
    CHECK(problems(std::string(minimal) + "image_dirs: [/a, /a]\n") ==
          "t.yaml:3:18: duplicate image_dirs entry '/a'");
}
