#pragma once

// A scripted stand-in for the transport seam: each request is recorded and answered by the test's
// `respond` function (a status, fields and body, or an error), posted like a real completion, with
// no socket and no clock. Tests drive the layers above it (fetcher, client logic) on virtual time.

#include "client/http/transport.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/post.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace fxrates::test {

/// What the fake answers to one request.
struct fake_reply
{
    error_code error;                                         ///< a transport error instead of an answer
    unsigned status = 200;
    std::vector<std::pair<std::string, std::string>> fields;  ///< e.g. {"Retry-After", "2"}
    std::string body;
    bool got_answer = true;                                   ///< with an error: the server had begun to answer
    std::string message;                                      ///< with an error: the transport's explanation
    bool cut = false;                                         ///< with an error: the head and `body` came first
    bool unanswered_on_reused = false;                        ///< with an error: a reused connection closed unanswered

    static fake_reply ok(std::string body) { return {{}, 200, {}, std::move(body), true, {}}; }
    static fake_reply answer(unsigned status, std::vector<std::pair<std::string, std::string>> fields = {},
                             std::string body = {})
    {
        return {{}, status, std::move(fields), std::move(body), true, {}};
    }
    /// An answer cut mid-body: its head and the first part of its body reach the sink, then `error`.
    static fake_reply cut_after(std::string partial_body, std::vector<std::pair<std::string, std::string>> fields = {},
                                unsigned status = 200, error_code error = errc::truncated_answer)
    {
        fake_reply reply{error, status, std::move(fields), std::move(partial_body), true, "cut mid-body"};
        reply.cut = true;
        return reply;
    }
    static fake_reply failure(error_code error, std::string message = {})
    {
        fake_reply reply;
        reply.error = error;
        reply.got_answer = false;
        reply.message = std::move(message);
        return reply;
    }
};

class fake_transport final : public detail::transport
{
public:
    explicit fake_transport(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}

    /// Answers each request; the default answers 200 with an empty body.
    std::function<fake_reply(const detail::http_request&)> respond = [](const detail::http_request&) {
        return fake_reply::ok("");
    };

    /// Every request sent, in order.
    std::vector<detail::http_request> requests;
    bool closed = false;

    void async_send(detail::http_request request, handler_type handler) override
    {
        requests.push_back(request);
        auto reply = respond(request);
        detail::http_response response;
        response.head.status = reply.error && !reply.cut ? 0 : reply.status;
        for (const auto& [name, value] : reply.fields)
            response.head.add_field(name, value);
        response.got_answer = reply.error ? reply.got_answer : true;
        response.unanswered_on_reused = reply.error && reply.unanswered_on_reused;
        response.diag.set_client_message(reply.message);
        if (request.sink && (!reply.error || reply.cut))
        {
            // As the parser does: a sink's refusal stops the answer and is its error.
            error_code refused = request.sink->begin(detail::describe_body(response.head));
            if (!refused)
                refused = request.sink->write(reply.body);
            if (refused)
                reply.error = refused;
        }
        else
            response.body = std::move(reply.body);
        if (reply.error)
            response.head = {}; // a failed exchange has no head
        // Posted, never inline; the handler still runs on its own associated executor.
        boost::asio::post(executor_, boost::asio::append(std::move(handler), reply.error, std::move(response)));
    }

    void close() override { closed = true; }

    /// The URL of request `i`, for assertions.
    std::string url(std::size_t i) const { return requests.at(i).origin.text() + requests.at(i).target; }

private:
    boost::asio::any_io_executor executor_;
};

} // namespace fxrates::test
