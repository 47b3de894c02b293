// The launcher's parse of chos.yaml (config::parse_config, when no snapshot is current),
// in a loop: `parse_loop FILE ITERATIONS` prints the median ns per parse of 5 batches.
#include "config/yaml_config.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

int main(int argc, char** argv)
{
    if (argc != 3) {
        std::fprintf(stderr, "usage: parse_loop FILE ITERATIONS\n");
        return 2;
    }
    std::ifstream in(argv[1]);
    std::ostringstream text;
    text << in.rdbuf();
    const std::string yaml = text.str();
    const long iterations = std::atol(argv[2]);
    std::vector<double> batches;
    std::size_t environments = 0;
    for (int batch = 0; batch < 5; ++batch) {
        const auto start = std::chrono::steady_clock::now();
        for (long i = 0; i < iterations; ++i)
            environments += chos::config::parse_config(yaml, argv[1]).environments.size();
        const std::chrono::duration<double, std::nano> took = std::chrono::steady_clock::now() - start;
        batches.push_back(took.count() / static_cast<double>(iterations));
    }
    std::sort(batches.begin(), batches.end());
    std::printf("%.0f\n", batches[2]);
    return environments == 0;
}
