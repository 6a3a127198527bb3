// The messages between the process pool and its worker processes: what goes in comes out.

#include "lab/wire.hpp"
#include <fxrates/shared_pace.hpp>
#include "lab/described_settings.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

#include <doctest/doctest.h>

using namespace std::chrono_literals;
using fxrates::currency_code;

namespace {

// Walks the described fields of `T` (recursing into described members): each must be set by the
// test to something other than its default (or a field dropped on the wire would go unnoticed,
// decoded as that default), and must come back as it was sent.
template <class T>
void check_every_field(const T& sent, const T& defaults, const T& got, const std::string& path)
{
    boost::mp11::mp_for_each<fxrates::detail::described_fields<T>>([&](auto field) {
        using field_type = std::remove_cvref_t<decltype(sent.*field.pointer)>;
        std::string where = path + field.name;
        if constexpr (boost::describe::has_describe_members<field_type>::value)
            check_every_field(sent.*field.pointer, defaults.*field.pointer, got.*field.pointer, where + ".");
        else if constexpr (std::is_same_v<field_type, boost::asio::any_io_executor> ||
                           std::is_same_v<field_type, std::stop_token> ||
                           std::is_same_v<field_type, fxrates::outcome_observer> ||
                           std::is_same_v<field_type, std::shared_ptr<fxrates::retry_budget>> ||
                           std::is_same_v<field_type, std::shared_ptr<fxrates::shared_pace>>)
            return; // do not cross a process: checked below
        else
        {
            CAPTURE(where);
            CHECK_MESSAGE(!(sent.*field.pointer == defaults.*field.pointer), "the test must set " << where);
            CHECK_MESSAGE(got.*field.pointer == sent.*field.pointer, where << " did not survive the wire");
        }
    });
}

} // namespace

TEST_CASE("worker settings carry every field of the configuration, whatever is added to it")
{
    boost::asio::io_context context;
    std::stop_source stop;
    fxrates::strategy_params sent;
    auto& client = sent.client;
    client.api_url = "https://rates.example:8443/v1";
    client.use_system_trust = false;
    client.ca_file = "/tmp/ca.pem";
    client.ca_pem = "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n";
    client.insecure = true;
    client.resume_tls_sessions = false;
    client.connect_timeout = 1001ms;
    client.handshake_timeout = 1002ms;
    client.queue_timeout = 1003ms;
    client.first_byte_timeout = 1004ms;
    client.read_idle_timeout = 1005ms;
    client.request_timeout = 1006ms + 7ns; // exact, not rounded to milliseconds
    client.total_timeout = 1007ms;
    client.batch_timeout = 1008ms;
    client.idle_timeout = 1009ms;
    client.max_connections = 3;
    client.max_connections_per_origin = 2;
    client.max_handshakes = 5;
    client.body_limit = 4096;
    client.header_limit = 8192;
    client.max_redirects = 4;
    client.accept_compression = false;
    client.thread_safe = false;
    client.user_agent = "agent \"quoted\"";
    client.rate = 2.5;
    client.burst = 3;
    client.shared_pace = std::make_shared<fxrates::shared_pace>(2.5, 3);
    client.decode_executor = context.get_executor();
    client.retry.max_attempts = 7;
    client.retry.base_delay = 11ms;
    client.retry.max_delay = 12ms;
    client.retry.max_retry_after = 13ms;
    client.retry.budget_ratio = 0.5;
    client.retry.shared_budget = std::make_shared<fxrates::retry_budget>(0.5, 10);
    client.max_waiting_aside = 9;
    client.offload_decode_above = 77;
    sent.bases = {currency_code("USD"), currency_code("NOK")};
    sent.query.symbols = {currency_code("EUR")};
    sent.query.date = std::chrono::year{2020} / 2 / 29;
    sent.workers = 5;
    sent.throttle_rate = 2.5;
    sent.throttle_burst = 4;
    sent.worker_program = "/usr/bin/fxrates";
    sent.stop = stop.get_token();
    sent.on_outcome = [](std::size_t, const fxrates::rates_outcome&) {};

    auto line = fxrates::detail::encode_settings(sent);
    CHECK(line.back() == '\n');
    CHECK(line.find('\n') == line.size() - 1); // one line per message
    auto got = fxrates::detail::decode_settings(line);
    check_every_field(sent, fxrates::strategy_params{}, got, "");

    // An executor and a stop token belong to one process: the worker gets none, and the wire
    // says so (null) rather than leaving them out.
    CHECK(line.find("\"decode_executor\":null") != std::string::npos);
    CHECK(line.find("\"stop\":null") != std::string::npos);
    CHECK(line.find("\"on_outcome\":null") != std::string::npos);
    // A shared retry budget is one process's too: a pool worker gets its share in the header.
    CHECK(line.find("\"shared_budget\":null") != std::string::npos);
    CHECK_FALSE(got.client.retry.shared_budget);
    // So is a shared pace: the pool paces the jobs it sends.
    CHECK(line.find("\"shared_pace\":null") != std::string::npos);
    CHECK_FALSE(got.client.shared_pace);
    CHECK_FALSE(got.on_outcome);
    CHECK_FALSE(got.client.decode_executor);
    CHECK_FALSE(got.stop.stop_possible());
}

TEST_CASE("a job's retry grant goes with it and what it left comes back, as lines no job or frame is taken for")
{
    auto grant = fxrates::detail::encode_retry_grant(3);
    CHECK(fxrates::detail::decode_retry_grant(grant) == std::optional<std::size_t>(3));
    CHECK_FALSE(fxrates::detail::decode_retries_left(grant));
    CHECK_FALSE(fxrates::detail::decode_job(grant));
    auto left = fxrates::detail::encode_retries_left(0);
    CHECK(fxrates::detail::decode_retries_left(left) == std::optional<std::size_t>(0));
    CHECK_FALSE(fxrates::detail::decode_retry_grant(left));
    CHECK_FALSE(fxrates::detail::decode_outcome(left));
    CHECK_FALSE(fxrates::detail::decode_retry_grant(fxrates::detail::encode_job(41, currency_code("CZK"))));
    CHECK_FALSE(fxrates::detail::decode_retry_grant("{\"retries\":-1}"));
    CHECK_FALSE(fxrates::detail::decode_retries_left("{\"retries_left\":\"all\"}"));
}

TEST_CASE("settings from a worker of another version, without a field, are refused naming it")
{
    fxrates::strategy_params sent;
    auto line = fxrates::detail::encode_settings(sent);
    auto at = line.find("\"header_limit\":");
    REQUIRE(at != std::string::npos);
    line.replace(at, line.find(',', at) + 1 - at, "");
    CHECK_THROWS_WITH_AS(fxrates::detail::decode_settings(line), doctest::Contains("'header_limit'"),
                         std::invalid_argument);
}

TEST_CASE("bad worker settings are an error that says so")
{
    CHECK_THROWS_WITH_AS(fxrates::detail::decode_settings("{\"settings\": {\"client\": 1}}"),
                         doctest::Contains("bad worker settings"), std::invalid_argument);
    CHECK_THROWS_AS(fxrates::detail::decode_settings("not json"), std::invalid_argument);
}

TEST_CASE("jobs go to workers and come back by index")
{
    auto job = fxrates::detail::decode_job(fxrates::detail::encode_job(41, currency_code("CZK")));
    REQUIRE(job);
    CHECK(job->first == 41);
    CHECK(job->second == currency_code("CZK"));
    CHECK_FALSE(fxrates::detail::decode_job("{\"index\": \"x\"}"));
    CHECK_FALSE(fxrates::detail::decode_job("garbage"));
}

TEST_CASE("a job's time to go travels as its own line, which no job line is taken for")
{
    const auto at = std::chrono::steady_clock::time_point(std::chrono::nanoseconds(123456789012345));
    auto line = fxrates::detail::encode_not_before(at);
    auto decoded = fxrates::detail::decode_not_before(line);
    REQUIRE(decoded);
    CHECK(*decoded == at);
    CHECK_FALSE(fxrates::detail::decode_job(line));
    CHECK_FALSE(fxrates::detail::decode_not_before(fxrates::detail::encode_job(41, currency_code("CZK"))));
    CHECK_FALSE(fxrates::detail::decode_not_before("{\"not_before\":\"soon\"}"));
}

TEST_CASE("a report comes back whole, and one with a base twice (another one missing) is refused")
{
    fxrates::run_report report;
    report.kind = fxrates::strategy::async;
    report.started = std::chrono::steady_clock::now();
    for (const char* code : {"USD", "EUR", "PLN"})
    {
        fxrates::rates_outcome outcome;
        outcome.base = currency_code(code);
        outcome.error = fxrates::errc::batch_deadline;
        report.outcomes.push_back(outcome);
    }
    std::string text = fxrates::detail::encode_report(report);
    auto back = fxrates::detail::decode_report(text);
    REQUIRE(back);
    REQUIRE(back->outcomes.size() == 3);
    CHECK(back->outcomes[2].base == currency_code("PLN"));

    // The line of the first base written again in place of the second's.
    std::vector<std::string> lines;
    for (std::size_t start = 0, end; start < text.size(); start = end + 1)
    {
        end = text.find('\n', start);
        if (end == std::string::npos)
            end = text.size();
        lines.push_back(text.substr(start, end - start));
    }
    REQUIRE(lines.size() == 4);
    std::string twice = lines[0] + "\n" + lines[1] + "\n" + lines[1] + "\n" + lines[3] + "\n";
    CHECK_FALSE(fxrates::detail::decode_report(twice));
}

TEST_CASE("settings for a strategy-worker name the strategy, and read back the same")
{
    fxrates::strategy_params sent;
    sent.bases = {currency_code("USD"), currency_code("EUR")};
    fxrates::detail::settings_header named;
    named.strategy = "thread-pool";
    auto line = fxrates::detail::encode_settings(sent, named);
    CHECK(line.find("\"strategy\":\"thread-pool\"") != std::string::npos);
    CHECK(line.back() == '\n');
    auto got = fxrates::detail::decode_settings(line);
    CHECK(got.bases == sent.bases);
    CHECK(fxrates::detail::encode_settings(sent).find("\"strategy\"") == std::string::npos);
}

TEST_CASE("settings for the URL job name the job and carry the URLs, and read back the same")
{
    fxrates::strategy_params sent;
    fxrates::detail::settings_header header;
    header.strategy = "process-pool";
    header.job = "fetch";
    header.urls = {"https://a.test/x", "http://b.test/y?z=1"};
    auto line = fxrates::detail::encode_settings(sent, header);
    fxrates::detail::settings_header got;
    fxrates::detail::decode_settings(line, &got);
    CHECK(got.strategy == "process-pool");
    CHECK(got.job == "fetch");
    CHECK(got.urls == header.urls);
    fxrates::detail::decode_settings(fxrates::detail::encode_settings(sent), &got);
    CHECK(got.job.empty());
    CHECK(got.urls.empty());
}

TEST_CASE("a URL job and a URL outcome read back the same, without the body")
{
    fxrates::fetch_item item{"https://a.test/f.bin", nullptr, {{"Range", "bytes=0-9"}}};
    auto job = fxrates::detail::decode_fetch_job(fxrates::detail::encode_fetch_job(7, item));
    REQUIRE(job);
    CHECK(job->first == 7);
    CHECK(job->second.url == item.url);
    CHECK(job->second.fields == item.fields);
    CHECK_FALSE(fxrates::detail::decode_fetch_job("{\"index\": 1}"));

    fxrates::fetch_outcome outcome;
    outcome.url = item.url;
    outcome.status = 404;
    outcome.error = fxrates::error_code(404, fxrates::http_category());
    outcome.diag.set_client_message("not there");
    outcome.bytes = 12;
    outcome.content_type = "text/plain";
    outcome.body = "not sent";
    outcome.attempts = 2;
    outcome.resent = 1;
    auto back = fxrates::detail::decode_fetch_outcome(fxrates::detail::encode_outcome(3, outcome));
    REQUIRE(back);
    CHECK(back->first == 3);
    CHECK(back->second.url == outcome.url);
    CHECK(back->second.status == 404);
    CHECK(back->second.error == outcome.error);
    CHECK(back->second.diag.client_message() == "not there");
    CHECK(back->second.bytes == 12);
    CHECK(back->second.content_type == "text/plain");
    CHECK(back->second.attempts == 2);
    CHECK(back->second.resent == 1);
    CHECK(back->second.body.empty());
}

TEST_CASE("a worker's TLS failure comes back as one, not as 'the worker failed'")
{
    fxrates::rates_outcome outcome;
    outcome.base = currency_code("USD");
    outcome.error = fxrates::error_code(static_cast<int>(boost::asio::ssl::error::stream_truncated),
                                        boost::asio::ssl::error::get_stream_category());
    auto back = fxrates::detail::decode_outcome(fxrates::detail::encode_outcome(0, outcome));
    REQUIRE(back);
    CHECK(back->second.error == outcome.error);

    outcome.error = fxrates::error_code(0x0A000086, boost::asio::error::get_ssl_category()); // certificate verify failed
    back = fxrates::detail::decode_outcome(fxrates::detail::encode_outcome(0, outcome));
    REQUIRE(back);
    CHECK(back->second.error == outcome.error);
}

TEST_CASE("a worker's timeout and HTTP framing errors come back as such, not as 'the worker failed'")
{
    for (auto error : {fxrates::error_code(boost::beast::error::timeout),
                       fxrates::error_code(boost::beast::http::error::partial_message)})
    {
        CAPTURE(error.message());
        fxrates::fetch_outcome outcome;
        outcome.error = error;
        outcome.diag.set_client_message("the answer stalled");
        auto back = fxrates::detail::decode_fetch_outcome(fxrates::detail::encode_outcome(0, outcome));
        REQUIRE(back);
        CHECK(back->second.error == error);
        CHECK(back->second.diag.client_message() == "the answer stalled");
    }
}
