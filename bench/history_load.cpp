// How long loading the ECB history takes: the whole file from disk (read + parse) and the copy
// built into the binary (parse only). Target (issue 2): all 6,983 days in under 50 ms.
//
// Usage: fxrates_bench_history_load [PATH/TO/eurofxref-hist.csv] [RUNS]

#include <fxrates/server/ecb_history.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace {

template <class Load>
void measure(const char* label, int runs, Load load)
{
    std::vector<double> ms;
    std::size_t days = 0;
    for (int i = 0; i < runs; ++i)
    {
        auto start = std::chrono::steady_clock::now();
        days = load();
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(ms.begin(), ms.end());
    std::printf("%-28s %5zu days  median %7.2f ms  min %7.2f ms  max %7.2f ms  (%d runs)\n", label, days,
                ms[ms.size() / 2], ms.front(), ms.back(), runs);
}

} // namespace

int main(int argc, char** argv)
{
    std::string path = argc > 1 ? argv[1] : FXRATES_HISTORY_CSV;
    int runs = argc > 2 ? std::stoi(argv[2]) : 21;
    try
    {
        measure("load_file (read + parse)", runs, [&] { return fxrates::ecb_history::load_file(path).size(); });
        // The first call parses; the figure of interest is that first call, so time one process-wide
        // call separately from repeated parses of the same text.
        auto start = std::chrono::steady_clock::now();
        auto days = fxrates::ecb_history::embedded()->size();
        std::printf("%-28s %5zu days  first call %7.2f ms\n", "embedded (parse once)", days,
                    std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    catch (const std::exception& e)
    {
        std::fprintf(stderr, "fxrates_bench_history_load: %s\n", e.what());
        return 1;
    }
    return 0;
}
