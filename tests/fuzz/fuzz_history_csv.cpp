// libFuzzer target: an ECB history file, as `fxrates serve --data` reads it. Parsing must either
// succeed or throw ecb_history_error naming the problem; never crash or throw anything else.

#include <fxrates/server/ecb_history.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try
    {
        auto history = fxrates::ecb_history::parse(text, "fuzz.csv");
        // A parsed history answers lookups for any day without failing.
        auto first = history.earliest().date();
        auto found = history.on_or_before(first);
        if (!found || history.size() == 0)
            __builtin_trap();
        for (auto code : history.currencies())
            (void)found->rate(code);
    }
    catch (const fxrates::ecb_history_error&)
    {
    }
    return 0;
}
