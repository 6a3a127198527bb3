#pragma once

// Diagnostics that survive `co_await`. An operation that completes with `void(error_code, T)` and
// is awaited throws a bare `system_error` on failure: the explanation and the server's text in
// `diagnostics` are lost. `with_diagnostics(token)` turns the signature into
// `void(std::exception_ptr, T)`, the exception an `error_with_diagnostics` that carries them, as
// Boost.MySQL does. The client's single-request operations use `with_diagnostics(use_awaitable)`
// by default, so that
//
//     try { auto usd = co_await api.async_get_rates(currency_code("USD")); }
//     catch (const fxrates::error_with_diagnostics& e) { std::cerr << e.what(); } // says why
//
// and `e.code()` and `e.get_diagnostics()` give the parts. Any other token (callbacks,
// `as_tuple`, `use_future`, `redirect_error`) keeps the error_code signature.

#include <fxrates/diagnostics.hpp>
#include <fxrates/error.hpp>

#include <boost/asio/associator.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <exception>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

namespace fxrates {

/// A `system_error` with the operation's diagnostics; `what()` includes our explanation.
class error_with_diagnostics : public boost::system::system_error
{
public:
    error_with_diagnostics(error_code code, diagnostics diag)
        : boost::system::system_error(code, diag.client_message()), diag_(std::move(diag))
    {
    }

    /// Our explanation and the server's (untrusted) text.
    const diagnostics& get_diagnostics() const noexcept { return diag_; }

private:
    diagnostics diag_;
};

/// A completion token adapter: see the top of this file.
template <class CompletionToken>
struct with_diagnostics_t
{
    CompletionToken token;
};

/// Wraps `token` so that a failure completes with an `error_with_diagnostics` exception.
template <class CompletionToken>
with_diagnostics_t<std::decay_t<CompletionToken>> with_diagnostics(CompletionToken&& token)
{
    return {std::forward<CompletionToken>(token)};
}

/// The client's default token: `co_await` throws `error_with_diagnostics`. It is built on
/// `use_awaitable`, not `deferred`: Boost 1.81 cannot `co_await` a deferred operation whose
/// signature starts with an exception_ptr (awaitable_async_op_handler::resume dereferences the
/// wrong member; fixed in later versions).
using default_token_t = with_diagnostics_t<boost::asio::use_awaitable_t<>>;

namespace detail {

// The handler `with_diagnostics` gives the operation: makes the exception from the code and the
// diagnostics the operation filled in, and keeps the inner handler's executor, allocator and
// cancellation slot (see the associator below).
template <class Handler>
struct diagnostics_handler
{
    Handler inner;
    std::unique_ptr<diagnostics> owned; // when the caller gave none
    diagnostics* diag;

    template <class T>
    void operator()(error_code code, T value)
    {
        std::exception_ptr failure;
        if (code)
            failure = std::make_exception_ptr(error_with_diagnostics(code, *diag));
        std::move(inner)(std::move(failure), std::move(value));
    }
};

// Whether the last of `Args` is a `diagnostics*` (false for none).
template <class... Args>
constexpr bool last_is_diagnostics_pointer = false;
template <class First, class... Rest>
constexpr bool last_is_diagnostics_pointer<First, Rest...> =
    sizeof...(Rest) == 0 ? std::is_same_v<std::decay_t<First>, diagnostics*> : last_is_diagnostics_pointer<Rest...>;

} // namespace detail
} // namespace fxrates

namespace boost::asio {

template <class CompletionToken, class T>
struct async_result<fxrates::with_diagnostics_t<CompletionToken>, void(fxrates::error_code, T)>
{
    // The operation's initiation takes the handler and its arguments; when its last argument is a
    // `diagnostics*` (null: the caller gave none), it is pointed at the diagnostics the exception
    // will carry.
    template <class Initiation, class RawToken, class... Args>
    static auto initiate(Initiation&& initiation, RawToken&& token, Args&&... args)
    {
        return async_initiate<CompletionToken, void(std::exception_ptr, T)>(
            [initiation = std::forward<Initiation>(initiation)](auto handler, auto&&... inner_args) mutable {
                using handler_type = fxrates::detail::diagnostics_handler<std::decay_t<decltype(handler)>>;
                auto arguments = std::forward_as_tuple(std::forward<decltype(inner_args)>(inner_args)...);
                constexpr std::size_t count = sizeof...(inner_args);
                if constexpr (fxrates::detail::last_is_diagnostics_pointer<decltype(inner_args)...>)
                {
                    fxrates::diagnostics* given = std::get<count - 1>(arguments);
                    auto owned = given ? nullptr : std::make_unique<fxrates::diagnostics>();
                    fxrates::diagnostics* target = given ? given : owned.get();
                    handler_type wrapped{std::move(handler), std::move(owned), target};
                    std::get<count - 1>(arguments) = target;
                    std::apply([&](auto&&... a) { std::move(initiation)(std::move(wrapped), std::forward<decltype(a)>(a)...); },
                               std::move(arguments));
                }
                else
                {
                    auto owned = std::make_unique<fxrates::diagnostics>();
                    fxrates::diagnostics* target = owned.get();
                    std::move(initiation)(handler_type{std::move(handler), std::move(owned), target},
                                          std::forward<decltype(inner_args)>(inner_args)...);
                }
            },
            token.token, std::forward<Args>(args)...);
    }
};

template <template <class, class> class Associator, class Handler, class DefaultCandidate>
struct associator<Associator, fxrates::detail::diagnostics_handler<Handler>, DefaultCandidate>
    : Associator<Handler, DefaultCandidate>
{
    static typename Associator<Handler, DefaultCandidate>::type
    get(const fxrates::detail::diagnostics_handler<Handler>& h) noexcept
    {
        return Associator<Handler, DefaultCandidate>::get(h.inner);
    }

    static auto get(const fxrates::detail::diagnostics_handler<Handler>& h, const DefaultCandidate& c) noexcept
        -> decltype(Associator<Handler, DefaultCandidate>::get(h.inner, c))
    {
        return Associator<Handler, DefaultCandidate>::get(h.inner, c);
    }
};

} // namespace boost::asio
