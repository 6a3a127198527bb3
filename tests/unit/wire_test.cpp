// The messages between the process pool and its worker processes: what goes in comes out.

#include "lab/wire.hpp"

#include <doctest/doctest.h>

using namespace std::chrono_literals;
using fxrates::currency_code;

TEST_CASE("worker settings carry the whole client configuration")
{
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
    client.request_timeout = 1006ms;
    client.total_timeout = 1007ms;
    client.batch_timeout = 1008ms;
    client.idle_timeout = 1009ms;
    client.retry.max_attempts = 7;
    client.retry.base_delay = 11ms;
    client.retry.max_delay = 12ms;
    client.retry.max_retry_after = 13ms;
    client.retry.budget_ratio = 0.5;
    client.body_limit = 4096;
    client.user_agent = "agent \"quoted\"";
    client.max_connections = 3;
    client.max_handshakes = 5;
    sent.bases = {currency_code("USD"), currency_code("NOK")};
    sent.query.symbols = {currency_code("EUR")};
    sent.query.date = std::chrono::year{2020} / 2 / 29;
    sent.workers = 5;
    sent.rate = 2.5;
    sent.burst = 4;
    sent.worker_program = "/usr/bin/fxrates";

    auto line = fxrates::detail::encode_settings(sent);
    CHECK(line.back() == '\n');
    CHECK(line.find('\n') == line.size() - 1); // one line per message
    auto got = fxrates::detail::decode_settings(line);
    const auto& c = got.client;
    CHECK(c.api_url == client.api_url);
    CHECK(c.use_system_trust == false);
    CHECK(c.ca_file == client.ca_file);
    CHECK(c.ca_pem == client.ca_pem);
    CHECK(c.insecure == true);
    CHECK(c.resume_tls_sessions == false);
    CHECK(c.connect_timeout == 1001ms);
    CHECK(c.handshake_timeout == 1002ms);
    CHECK(c.queue_timeout == 1003ms);
    CHECK(c.first_byte_timeout == 1004ms);
    CHECK(c.read_idle_timeout == 1005ms);
    CHECK(c.request_timeout == 1006ms);
    CHECK(c.total_timeout == 1007ms);
    CHECK(c.batch_timeout == 1008ms);
    CHECK(c.idle_timeout == 1009ms);
    CHECK(c.retry.max_attempts == 7);
    CHECK(c.retry.base_delay == 11ms);
    CHECK(c.retry.max_delay == 12ms);
    CHECK(c.retry.max_retry_after == 13ms);
    CHECK(c.retry.budget_ratio == 0.5);
    CHECK(c.body_limit == 4096);
    CHECK(c.user_agent == client.user_agent);
    CHECK(c.max_connections == 3);
    CHECK(c.max_handshakes == 5);
    CHECK(got.bases == sent.bases);
    CHECK(got.query.symbols == sent.query.symbols);
    CHECK(got.query.date == sent.query.date);
    CHECK(got.workers == 5);
    CHECK(got.rate == 2.5);
    CHECK(got.burst == 4);
    CHECK(got.worker_program == sent.worker_program);
}

TEST_CASE("bad worker settings are an error that says so")
{
    CHECK_THROWS_WITH_AS(fxrates::detail::decode_settings("{\"api_url\": 1}"),
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
    auto line = fxrates::detail::encode_settings(sent, "thread-pool");
    CHECK(line.find("\"strategy\":\"thread-pool\"") != std::string::npos);
    CHECK(line.back() == '\n');
    auto got = fxrates::detail::decode_settings(line);
    CHECK(got.bases == sent.bases);
    CHECK(fxrates::detail::encode_settings(sent).find("\"strategy\"") == std::string::npos);
}
