#pragma once

#include <fxrates/server/ecb_history.hpp>

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace fxrates::detail {

/// What the API answers: status and JSON body (every answer, errors included, is JSON).
struct api_response
{
    unsigned status = 200;
    std::string body;
    /// Set on 405: the methods the path allows.
    std::string_view allow;
};

/// The rates API of api-contract.md as a pure function of the request: no sockets, no clock
/// (the caller passes "today"). Thread-safe: it holds only immutable data.
class rates_service
{
public:
    explicit rates_service(std::shared_ptr<const ecb_history> history);

    /// Answers one request. `method` is the HTTP method as sent, `target` the request target
    /// (`/rates?base=USD`). HEAD is answered like GET; the caller drops the body.
    api_response handle(std::string_view method, std::string_view target, std::chrono::sys_days today) const;

    /// Whether `path` (without query) is one of the API's: `/rates` or `/currencies`.
    static bool serves(std::string_view path) noexcept { return path == "/rates" || path == "/currencies"; }

    const ecb_history& history() const noexcept { return *history_; }

private:
    api_response rates(std::string_view query, std::chrono::sys_days today) const;

    std::shared_ptr<const ecb_history> history_;
    // The history column of each served currency (EUR has none).
    std::array<std::optional<std::size_t>, 33> columns_{};
    std::string currencies_body_;
};

/// `{"detail": text}`, with `text` escaped as JSON.
std::string detail_body(std::string_view text);

} // namespace fxrates::detail
