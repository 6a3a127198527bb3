#include <fxrates/server/ecb_history.hpp>


// The ECB history is linked into the binary, so that `fxrates serve` and `--local` work from any
// directory and never depend on a data file being installed. `.incbin` costs nothing at compile
// time, unlike a 1.9 MB array initialiser. FXRATES_HISTORY_CSV is set by CMake.
__asm__(".section .rodata\n"
        ".global fxrates_history_csv_begin\n"
        ".type fxrates_history_csv_begin, @object\n"
        "fxrates_history_csv_begin:\n"
        ".incbin \"" FXRATES_HISTORY_CSV "\"\n"
        ".global fxrates_history_csv_end\n"
        ".type fxrates_history_csv_end, @object\n"
        "fxrates_history_csv_end:\n"
        ".previous\n");

extern "C" const char fxrates_history_csv_begin[];
extern "C" const char fxrates_history_csv_end[];

namespace fxrates {

std::shared_ptr<const ecb_history> ecb_history::embedded()
{
    static const std::shared_ptr<const ecb_history> history = std::make_shared<const ecb_history>(
        parse(std::string_view(fxrates_history_csv_begin,
                               static_cast<std::size_t>(fxrates_history_csv_end - fxrates_history_csv_begin)),
              "embedded eurofxref-hist.csv"));
    return history;
}

} // namespace fxrates
