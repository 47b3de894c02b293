// A private directory (0755, ours) in /tmp for one test, removed at its end.
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

struct TempDir {
    std::string path;
    TempDir()
    {
        char templ[] = "/tmp/chos-unit.XXXXXX";
        REQUIRE(::mkdtemp(templ) != nullptr);
        path = templ;
        ::chmod(path.c_str(), 0755);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    // Write (or overwrite) a file in it, with this mode; returns its path.
    std::string write(const std::string& name, const std::string& text, mode_t mode = 0644) const
    {
        std::string p = path + "/" + name;
        std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
        ::chmod(p.c_str(), mode);
        return p;
    }
};
