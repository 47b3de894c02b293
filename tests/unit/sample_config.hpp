// A configuration with every key of chos.yaml(5) set, most to a value other than its
// default (test_config checks the model of it, test_snapshot its round trip).
#pragma once

#include <string>

inline const std::string full_config = R"(default: bookworm
user_file: .chosrc
fail_to_default: false
backend: fuse
tree: /srv/chos-tree
run_dir: /run/chos-x
local: true
registry: { type: cgroup1, name: chos2, mount: /sys/fs/cgroup/chos2 }
environments:
  bookworm: { path: /, description: "host OS" }
  bullseye:
    path: /srv/chos/bullseye
    description: Debian 11
    groups: [atlas, star]
    users: [alice]
    personality: linux32
    hidden: true
    environment: { keep: [HOME], set: { FOO: bar, EMPTY: "" }, unset: [LD_PRELOAD] }
os_dirs: [bin, etc, lib, usr]
bind: [/home, /dev, {source: /global/scratch, target: /scratch, optional: true, recursive: false}]
shared_files: [/etc/passwd, /etc/group]
host_commands: [srun, /opt/slurm/bin/sbatch]
environment: { keep: [HOME, PATH], unset: [LD_LIBRARY_PATH], set: { SITE: x } }
local_suid: true
)";
