#pragma once

#include <string>
#include <utility>

namespace fxrates {

/// Details that go with an error code: our own explanation, kept apart from the text the server
/// sent, which is untrusted (it may come from a proxy or an attacker) and must be shown as such.
class diagnostics
{
public:
    /// Our explanation, e.g. "the field 'rates' is missing"; empty if there is none.
    const std::string& client_message() const noexcept { return client_message_; }

    /// The error text the server sent (`detail`, `error` or `message`), untrusted; empty if none.
    const std::string& server_message() const noexcept { return server_message_; }

    void set_client_message(std::string text) { client_message_ = std::move(text); }
    void set_server_message(std::string text) { server_message_ = std::move(text); }

    void clear() noexcept
    {
        client_message_.clear();
        server_message_.clear();
    }

    friend bool operator==(const diagnostics&, const diagnostics&) = default;

private:
    std::string client_message_;
    std::string server_message_;
};

} // namespace fxrates
