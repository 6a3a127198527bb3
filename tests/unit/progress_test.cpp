// The progress line's text: counts, elapsed time and the estimate of what is left.

#include "cli/progress.hpp"

#include <doctest/doctest.h>

using namespace std::chrono_literals;
using fxrates::cli::progress_text;

TEST_CASE("the progress line counts, times and estimates")
{
    CHECK(progress_text(0, 0, 33, 0ms) == "0/33 done, 0.0 s");
    // 11 of 33 in 2 s: 22 more at the same pace take 4 s.
    CHECK(progress_text(11, 0, 33, 2s) == "11/33 done, 2.0 s, about 4.0 s left");
    CHECK(progress_text(11, 1, 0, 2s) == "11 done, 1 failed, 2.0 s"); // a list read as it goes: no total yet
    CHECK(progress_text(12, 1, 33, 3s) == "12/33 done, 1 failed, 3.0 s, about 5.2 s left");
    // Done: no estimate.
    CHECK(progress_text(33, 2, 33, 7500ms) == "33/33 done, 2 failed, 7.5 s");
    // Past a minute, minutes and seconds.
    CHECK(progress_text(1, 0, 3, 100s) == "1/3 done, 1 min 40 s, about 3 min 20 s left");
}
