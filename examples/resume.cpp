// A download that resumes: a body sink that keeps what it holds offers it with resume_from(), and
// the client asks only for the rest (Range + If-Range). Here the sink holds the body in memory; a
// downloader's would hold a partial file and keep its validators beside it.
//
// Usage: fxrates_example_resume
// It starts the built-in look-alike server, so it runs without a network.

#include <fxrates/body_sink.hpp>
#include <fxrates/client.hpp>
#include <fxrates/server/local_server.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace asio = boost::asio;

namespace {

// Keeps a download and the validators its bytes came with; offers them to continue from.
class resumable_body final : public fxrates::body_sink
{
public:
    resumable_body() = default;
    resumable_body(std::string held, std::string etag) : body_(std::move(held)), etag_(std::move(etag)) {}

    fxrates::error_code begin(const fxrates::body_head& head) override
    {
        holds_body_ = head.status / 100 == 2; // an error page is never continued
        if (head.offset == 0)                 // a whole answer: start over, with its validators
        {
            body_.clear();
            etag_ = head.etag;
            last_modified_ = head.last_modified;
        }
        return {}; // else head.offset == body_.size(): the rest follows
    }

    fxrates::error_code write(std::string_view data) override
    {
        body_.append(data);
        return {};
    }

    std::optional<fxrates::resume_point> resume_from() const override
    {
        if (body_.empty() || !holds_body_)
            return std::nullopt;
        return fxrates::resume_point{body_.size(), etag_, last_modified_};
    }

    const std::string& body() const noexcept { return body_; }
    const std::string& etag() const noexcept { return etag_; }

private:
    std::string body_;
    std::string etag_;
    std::string last_modified_;
    bool holds_body_ = true;
};

fxrates::fetch_outcome fetch(fxrates::client& api, asio::io_context& context, std::string url,
                             fxrates::body_sink& sink)
{
    auto done = api.async_fetch(fxrates::fetch_item{std::move(url), &sink, {}}, asio::use_future);
    context.restart();
    context.run();
    return done.get();
}

} // namespace

int main()
{
    fxrates::local_server server;
    fxrates::client_params params;
    params.api_url = server.base_url();
    params.ca_pem = server.certificate_pem();
    asio::io_context context;
    fxrates::client api(context, params);
    const std::string url = server.base_url() + "/bytes/100000";

    resumable_body whole;
    auto first = fetch(api, context, url, whole);
    // What an interrupted run would have left: the first 40000 bytes and the ETag they came with.
    resumable_body partial(whole.body().substr(0, 40000), whole.etag());
    auto rest = fetch(api, context, url, partial);

    std::cout << "whole:   " << first.status << ", " << first.bytes << " bytes\n"
              << "resumed: " << rest.status << ", " << rest.bytes - rest.resumed_from << " bytes after the "
              << rest.resumed_from << " held\n";
    if (!first.ok() || !rest.ok() || rest.resumed_from != 40000 || partial.body() != whole.body())
    {
        std::cout << "failed: the resumed body is not the whole one\n";
        return 1;
    }
    return 0;
}
