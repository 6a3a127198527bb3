// libFuzzer target: the API's JSON as it may arrive from any server or proxy. Decoding must never
// crash, hang or throw: it returns a value or errc::bad_response with a message.

#include <fxrates/decode.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view body(reinterpret_cast<const char*>(data), size);
    fxrates::rates value;
    fxrates::diagnostics diag;
    auto ec = fxrates::decode_rates(body, value, diag);
    if (ec && ec != fxrates::errc::bad_response)
        __builtin_trap(); // the only error decoding may report
    fxrates::currency_list currencies;
    (void)fxrates::decode_currencies(body, currencies, diag);
    auto message = fxrates::extract_error_message(body);
    if (message.size() > 512)
        __builtin_trap(); // the documented bound on untrusted text
    return 0;
}
