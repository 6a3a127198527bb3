#include "lab/wire.hpp"

#include <fxrates/date.hpp>

#include <boost/asio/error.hpp>
#include <boost/json.hpp>

#include <stdexcept>

namespace fxrates::detail {

namespace json = boost::json;

namespace {

std::int64_t ticks(std::chrono::steady_clock::time_point t)
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

std::chrono::steady_clock::time_point from_ticks(const json::value& v)
{
    return std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::nanoseconds(v.to_number<std::int64_t>())));
}

// Categories a worker's error can be rebuilt in; the rest travel as text.
const boost::system::error_category* category_named(std::string_view name)
{
    const boost::system::error_category* known[] = {
        &client_category(),
        &http_category(),
        &boost::system::system_category(),
        &boost::system::generic_category(),
        &boost::asio::error::get_netdb_category(),
        &boost::asio::error::get_addrinfo_category(),
        &boost::asio::error::get_misc_category(),
    };
    for (auto* category : known)
        if (name == category->name())
            return category;
    return nullptr;
}

} // namespace

namespace {

using duration = std::chrono::steady_clock::duration;

// Every duration a worker's client needs, by its name on the wire (in milliseconds).
constexpr std::pair<const char*, duration client_params::*> client_durations[] = {
    {"connect_timeout_ms", &client_params::connect_timeout},
    {"handshake_timeout_ms", &client_params::handshake_timeout},
    {"queue_timeout_ms", &client_params::queue_timeout},
    {"first_byte_timeout_ms", &client_params::first_byte_timeout},
    {"read_idle_timeout_ms", &client_params::read_idle_timeout},
    {"request_timeout_ms", &client_params::request_timeout},
    {"total_timeout_ms", &client_params::total_timeout},
    {"batch_timeout_ms", &client_params::batch_timeout},
    {"idle_timeout_ms", &client_params::idle_timeout},
};

constexpr std::pair<const char*, duration retry_params::*> retry_durations[] = {
    {"retry_base_delay_ms", &retry_params::base_delay},
    {"retry_max_delay_ms", &retry_params::max_delay},
    {"retry_max_retry_after_ms", &retry_params::max_retry_after},
};

std::int64_t milliseconds(duration d)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

duration milliseconds_at(const json::object& settings, const char* name)
{
    return std::chrono::milliseconds(settings.at(name).to_number<std::int64_t>());
}

} // namespace

// The worker's whole client configuration goes along, so that a process-pool run behaves as an
// in-process one: the same timeouts, retries and limits.
std::string encode_settings(const strategy_params& params, std::string_view strategy)
{
    json::object settings;
    if (!strategy.empty())
        settings["strategy"] = strategy;
    const auto& client = params.client;
    settings["api_url"] = client.api_url;
    settings["use_system_trust"] = client.use_system_trust;
    settings["ca_file"] = client.ca_file;
    settings["ca_pem"] = client.ca_pem;
    settings["insecure"] = client.insecure;
    settings["resume_tls_sessions"] = client.resume_tls_sessions;
    for (auto [name, member] : client_durations)
        settings[name] = milliseconds(client.*member);
    for (auto [name, member] : retry_durations)
        settings[name] = milliseconds(client.retry.*member);
    settings["retry_max_attempts"] = client.retry.max_attempts;
    settings["retry_budget_ratio"] = client.retry.budget_ratio;
    settings["body_limit"] = client.body_limit;
    settings["user_agent"] = client.user_agent;
    settings["max_connections"] = client.max_connections;
    settings["max_handshakes"] = client.max_handshakes;
    settings["max_connections_per_origin"] = client.max_connections_per_origin;
    settings["header_limit"] = client.header_limit;
    settings["max_redirects"] = client.max_redirects;
    settings["accept_compression"] = client.accept_compression;
    settings["offload_decode_above"] = client.offload_decode_above;
    json::array symbols;
    for (auto code : params.query.symbols)
        symbols.emplace_back(code.view());
    settings["symbols"] = std::move(symbols);
    if (params.query.date)
        settings["date"] = to_iso_string(*params.query.date);
    json::array bases;
    for (auto code : params.bases)
        bases.emplace_back(code.view());
    settings["bases"] = std::move(bases);
    settings["workers"] = params.workers;
    settings["rate"] = params.rate;
    settings["burst"] = params.burst;
    settings["worker_program"] = params.worker_program;
    return json::serialize(settings) + "\n";
}

strategy_params decode_settings(std::string_view line, std::string* strategy)
{
    try
    {
        auto settings = json::parse(line).as_object();
        if (strategy)
        {
            const auto* named = settings.if_contains("strategy");
            *strategy = named ? std::string(named->as_string()) : std::string();
        }
        strategy_params params;
        auto& client = params.client;
        client.api_url = settings.at("api_url").as_string();
        client.use_system_trust = settings.at("use_system_trust").as_bool();
        client.ca_file = settings.at("ca_file").as_string();
        client.ca_pem = settings.at("ca_pem").as_string();
        client.insecure = settings.at("insecure").as_bool();
        client.resume_tls_sessions = settings.at("resume_tls_sessions").as_bool();
        for (auto [name, member] : client_durations)
            client.*member = milliseconds_at(settings, name);
        for (auto [name, member] : retry_durations)
            client.retry.*member = milliseconds_at(settings, name);
        client.retry.max_attempts = settings.at("retry_max_attempts").to_number<unsigned>();
        client.retry.budget_ratio = settings.at("retry_budget_ratio").to_number<double>();
        client.body_limit = settings.at("body_limit").to_number<std::size_t>();
        client.user_agent = settings.at("user_agent").as_string();
        client.max_connections = settings.at("max_connections").to_number<std::size_t>();
        client.max_handshakes = settings.at("max_handshakes").to_number<std::size_t>();
        client.max_connections_per_origin = settings.at("max_connections_per_origin").to_number<std::size_t>();
        client.header_limit = settings.at("header_limit").to_number<std::size_t>();
        client.max_redirects = settings.at("max_redirects").to_number<unsigned>();
        client.accept_compression = settings.at("accept_compression").as_bool();
        client.offload_decode_above = settings.at("offload_decode_above").to_number<std::size_t>();
        for (const auto& symbol : settings.at("symbols").as_array())
            params.query.symbols.emplace_back(std::string_view(symbol.as_string()));
        if (auto it = settings.find("date"); it != settings.end())
            params.query.date = parse_iso_date(it->value().as_string());
        for (const auto& base : settings.at("bases").as_array())
            params.bases.emplace_back(std::string_view(base.as_string()));
        params.workers = settings.at("workers").to_number<std::size_t>();
        params.rate = settings.at("rate").to_number<double>();
        params.burst = settings.at("burst").to_number<double>();
        params.worker_program = settings.at("worker_program").as_string();
        return params;
    }
    catch (const std::exception& e)
    {
        throw std::invalid_argument(std::string("bad worker settings: ") + e.what());
    }
}

std::string encode_job(std::size_t index, currency_code base)
{
    json::object job{{"index", index}, {"base", base.view()}};
    return json::serialize(job) + "\n";
}

std::optional<std::pair<std::size_t, currency_code>> decode_job(std::string_view line)
{
    error_code ec;
    auto value = json::parse(line, ec);
    if (ec || !value.is_object())
        return std::nullopt;
    const auto& job = value.get_object();
    auto index = job.if_contains("index");
    auto base = job.if_contains("base");
    if (!index || !base || !index->is_number() || !base->is_string())
        return std::nullopt;
    auto code = currency_code::parse(base->get_string());
    if (!code)
        return std::nullopt;
    return std::pair{static_cast<std::size_t>(index->to_number<std::uint64_t>()), *code};
}

std::string encode_outcome(std::size_t index, const rates_outcome& outcome)
{
    json::object line;
    line["index"] = index;
    line["base"] = outcome.base.view();
    if (outcome.error)
    {
        line["error"] = json::object{{"category", outcome.error.category().name()},
                                     {"value", outcome.error.value()},
                                     {"message", outcome.error.message()}};
    }
    line["client_message"] = outcome.diag.client_message();
    line["server_message"] = outcome.diag.server_message();
    line["date"] = to_iso_string(outcome.value.date);
    line["value_base"] = outcome.value.base.view();
    json::object values;
    for (const auto& [code, rate] : outcome.value.values)
        values[code.view()] = rate;
    line["rates"] = std::move(values);
    const auto& t = outcome.timing;
    line["timing"] = json::array{ticks(t.queued),     ticks(t.granted), ticks(t.started), ticks(t.connected),
                                 ticks(t.tls_done),   ticks(t.first_byte), ticks(t.done)};
    line["reused"] = t.reused_connection;
    line["attempts"] = outcome.attempts;
    line["rate_limited"] = outcome.rate_limited;
    line["redirects"] = outcome.redirects;
    line["server_answered"] = outcome.server_answered;
    line["final_url"] = outcome.final_url;
    line["thread"] = t.thread_id;
    line["process"] = t.process_id;
    return json::serialize(line) + "\n";
}

std::optional<std::pair<std::size_t, rates_outcome>> decode_outcome(std::string_view line)
{
    try
    {
        auto value = json::parse(line);
        const auto& message = value.as_object();
        rates_outcome outcome;
        std::size_t index = message.at("index").to_number<std::size_t>();
        outcome.base = currency_code(std::string_view(message.at("base").as_string()));
        outcome.diag.set_client_message(std::string(message.at("client_message").as_string()));
        outcome.diag.set_server_message(std::string(message.at("server_message").as_string()));
        if (auto error = message.if_contains("error"))
        {
            const auto& fields = error->as_object();
            auto* category = category_named(fields.at("category").as_string());
            if (category)
                outcome.error = error_code(fields.at("value").to_number<int>(), *category);
            else
            {
                outcome.error = errc::worker_failed;
                outcome.diag.set_client_message(std::string(fields.at("message").as_string()) +
                                                (outcome.diag.client_message().empty() ? "" : "; ") +
                                                outcome.diag.client_message());
            }
        }
        if (auto date = parse_iso_date(message.at("date").as_string()))
            outcome.value.date = *date;
        outcome.value.base = currency_code(std::string_view(message.at("value_base").as_string()));
        for (const auto& [code, rate] : message.at("rates").as_object())
            outcome.value.values[currency_code(std::string_view(code))] = rate.to_number<double>();
        const auto& t = message.at("timing").as_array();
        auto& timing = outcome.timing;
        timing.queued = from_ticks(t.at(0));
        timing.granted = from_ticks(t.at(1));
        timing.started = from_ticks(t.at(2));
        timing.connected = from_ticks(t.at(3));
        timing.tls_done = from_ticks(t.at(4));
        timing.first_byte = from_ticks(t.at(5));
        timing.done = from_ticks(t.at(6));
        timing.reused_connection = message.at("reused").as_bool();
        outcome.attempts = message.at("attempts").to_number<unsigned>();
        outcome.rate_limited = message.at("rate_limited").to_number<unsigned>();
        outcome.redirects = message.at("redirects").to_number<unsigned>();
        outcome.server_answered = message.at("server_answered").as_bool();
        outcome.final_url = message.at("final_url").as_string();
        timing.thread_id = message.at("thread").to_number<std::uint64_t>();
        timing.process_id = message.at("process").to_number<int>();
        return std::pair{index, std::move(outcome)};
    }
    catch (const std::exception&)
    {
        return std::nullopt;
    }
}

std::string encode_report(const run_report& report)
{
    json::object head{{"strategy", to_string(report.kind)},
                      {"started", ticks(report.started)},
                      {"wall_seconds", report.wall_seconds},
                      {"cpu_seconds", report.cpu_seconds},
                      {"peak_threads", report.peak_threads},
                      {"peak_rss_kib", report.peak_rss_kib},
                      {"outcomes", report.outcomes.size()}};
    std::string text = json::serialize(head) + "\n";
    for (std::size_t i = 0; i < report.outcomes.size(); ++i)
        text += encode_outcome(i, report.outcomes[i]);
    return text;
}

std::optional<run_report> decode_report(std::string_view text)
{
    try
    {
        auto newline = text.find('\n');
        auto head = json::parse(text.substr(0, newline)).as_object();
        run_report report;
        auto kind = parse_strategy(head.at("strategy").as_string());
        if (!kind)
            return std::nullopt;
        report.kind = *kind;
        report.started = from_ticks(head.at("started"));
        report.wall_seconds = head.at("wall_seconds").to_number<double>();
        report.cpu_seconds = head.at("cpu_seconds").to_number<double>();
        report.peak_threads = head.at("peak_threads").to_number<std::size_t>();
        report.peak_rss_kib = head.at("peak_rss_kib").to_number<long>();
        report.outcomes.resize(head.at("outcomes").to_number<std::size_t>());
        std::size_t filled = 0;
        std::vector<bool> seen(report.outcomes.size(), false);
        while (newline != std::string_view::npos && newline + 1 < text.size())
        {
            auto start = newline + 1;
            newline = text.find('\n', start);
            auto outcome = decode_outcome(text.substr(start, newline == std::string_view::npos ? newline : newline - start));
            // Every base once: a repeated one would leave another's outcome unset.
            if (!outcome || outcome->first >= report.outcomes.size() || seen[outcome->first])
                return std::nullopt;
            seen[outcome->first] = true;
            report.outcomes[outcome->first] = std::move(outcome->second);
            ++filled;
        }
        if (filled != report.outcomes.size())
            return std::nullopt;
        return report;
    }
    catch (const std::exception&)
    {
        return std::nullopt;
    }
}

} // namespace fxrates::detail
