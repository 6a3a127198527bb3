#include "lab/wire.hpp"

#include "lab/described_settings.hpp"

#include <fxrates/date.hpp>
#include <fxrates/shared_pace.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
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
        // A refused certificate or a TLS failure stays one, not "the worker failed".
        &boost::asio::error::get_ssl_category(),
        &boost::asio::ssl::error::get_stream_category(),
        // A timeout is a timeout whatever the strategy (the process pool's said "the worker failed").
        &boost::beast::make_error_code(boost::beast::error::timeout).category(),
        &boost::beast::http::make_error_code(boost::beast::http::error::end_of_stream).category(),
    };
    for (auto* category : known)
        if (name == category->name())
            return category;
    return nullptr;
}

} // namespace

namespace {

// The settings codec: one overload per kind of field, and the described structs field by field
// (lab/described_settings.hpp). A field of a type without an overload here does not compile.
using duration = std::chrono::steady_clock::duration;

json::value to_json(const std::string& text) { return json::string(text); }
json::value to_json(bool flag) { return flag; }
json::value to_json(double number) { return number; }
json::value to_json(unsigned number) { return number; }
json::value to_json(std::size_t number) { return number; }
// Exact, in the clock's own ticks: a round trip changes nothing.
json::value to_json(duration d) { return static_cast<std::int64_t>(d.count()); }
json::value to_json(currency_code code) { return json::string(code.view()); }
json::value to_json(std::chrono::year_month_day day) { return json::string(to_iso_string(day)); }
// None of these crosses a process: a worker decodes on its own thread, is stopped by its parent
// (its input closes, or a signal), and its parent observes the outcomes it sends back. Written as null, so that the choice is on the wire, not hidden.
json::value to_json(const boost::asio::any_io_executor&) { return nullptr; }
json::value to_json(const std::stop_token&) { return nullptr; }
json::value to_json(const outcome_observer&) { return nullptr; }
// A pool worker gets the budget's retries with each job instead (encode_retry_grant).
json::value to_json(const std::shared_ptr<retry_budget>&) { return nullptr; }
// The pool paces the jobs it sends itself (a worker's client keeps no rate): a pace is one process's.
json::value to_json(const std::shared_ptr<shared_pace>&) { return nullptr; }

template <class T>
json::value to_json(const std::vector<T>& items);
template <class T>
json::value to_json(const std::optional<T>& item);
template <class T>
    requires boost::describe::has_describe_members<T>::value
json::value to_json(const T& object);

template <class T>
json::value to_json(const std::vector<T>& items)
{
    json::array array;
    for (const auto& item : items)
        array.push_back(to_json(item));
    return array;
}

template <class T>
json::value to_json(const std::optional<T>& item)
{
    return item ? to_json(*item) : json::value(nullptr);
}

template <class T>
    requires boost::describe::has_describe_members<T>::value
json::value to_json(const T& object)
{
    json::object fields;
    for_each_field(object, [&](const char* name, const auto& field) { fields[name] = to_json(field); });
    return fields;
}

void from_json(const json::value& v, std::string& text) { text = v.as_string(); }
void from_json(const json::value& v, bool& flag) { flag = v.as_bool(); }
void from_json(const json::value& v, double& number) { number = v.to_number<double>(); }
void from_json(const json::value& v, unsigned& number) { number = v.to_number<unsigned>(); }
void from_json(const json::value& v, std::size_t& number) { number = v.to_number<std::size_t>(); }
void from_json(const json::value& v, duration& d) { d = duration(v.to_number<std::int64_t>()); }
void from_json(const json::value& v, currency_code& code) { code = currency_code(std::string_view(v.as_string())); }
void from_json(const json::value& v, std::chrono::year_month_day& day)
{
    auto parsed = parse_iso_date(v.as_string());
    if (!parsed)
        throw std::invalid_argument("not a date: " + std::string(v.as_string()));
    day = *parsed;
}
void from_json(const json::value&, boost::asio::any_io_executor&) {}
void from_json(const json::value&, std::stop_token&) {}
void from_json(const json::value&, outcome_observer&) {}
void from_json(const json::value&, std::shared_ptr<retry_budget>&) {}
void from_json(const json::value&, std::shared_ptr<shared_pace>&) {}

template <class T>
void from_json(const json::value& v, std::vector<T>& items);
template <class T>
void from_json(const json::value& v, std::optional<T>& item);
template <class T>
    requires boost::describe::has_describe_members<T>::value
void from_json(const json::value& v, T& object);

template <class T>
void from_json(const json::value& v, std::vector<T>& items)
{
    items.clear();
    for (const auto& element : v.as_array())
        from_json(element, items.emplace_back());
}

template <class T>
void from_json(const json::value& v, std::optional<T>& item)
{
    if (v.is_null())
        item.reset();
    else
        from_json(v, item.emplace());
}

// Every field must be there: a worker of another version fails loudly instead of running with a
// default in place of the setting it was given.
template <class T>
    requires boost::describe::has_describe_members<T>::value
void from_json(const json::value& v, T& object)
{
    const auto& fields = v.as_object();
    for_each_field(object, [&](const char* name, auto& field) {
        const auto* value = fields.if_contains(name);
        if (!value)
            throw std::invalid_argument(std::string("no field '") + name + "'");
        try
        {
            from_json(*value, field);
        }
        catch (const std::exception& e)
        {
            throw std::invalid_argument(std::string("field '") + name + "': " + e.what());
        }
    });
}

} // namespace

// The worker's whole configuration goes along, so that a process-pool run behaves as an
// in-process one: the same timeouts, retries and limits.
std::string encode_settings(const strategy_params& params, const settings_header& header)
{
    json::object line;
    if (!header.strategy.empty())
        line["strategy"] = header.strategy;
    if (!header.job.empty())
        line["job"] = header.job;
    if (!header.urls.empty())
        line["urls"] = to_json(header.urls);
    line["settings"] = to_json(params);
    return json::serialize(line) + "\n";
}

strategy_params decode_settings(std::string_view line, settings_header* header)
{
    try
    {
        auto message = json::parse(line).as_object();
        if (header)
        {
            const auto* named = message.if_contains("strategy");
            header->strategy = named ? std::string(named->as_string()) : std::string();
            const auto* job = message.if_contains("job");
            header->job = job ? std::string(job->as_string()) : std::string();
            header->urls.clear();
            if (const auto* urls = message.if_contains("urls"))
                from_json(*urls, header->urls);
        }
        strategy_params params;
        from_json(message.at("settings"), params);
        return params;
    }
    catch (const std::exception& e)
    {
        throw std::invalid_argument(std::string("bad worker settings: ") + e.what());
    }
}

std::string encode_ready()
{
    return "{\"ready\":true}\n";
}

bool is_ready_line(std::string_view line)
{
    return line == "{\"ready\":true}";
}

namespace {

// A line `{"KEY":N}`; nothing for any other line (a job or a frame: not parsed twice).
std::optional<std::size_t> decode_count_line(std::string_view line, std::string_view key)
{
    const std::string prefix = "{\"" + std::string(key) + "\":";
    if (!line.starts_with(prefix))
        return std::nullopt;
    error_code ec;
    auto value = json::parse(line, ec);
    if (ec || !value.is_object())
        return std::nullopt;
    const auto* count = value.get_object().if_contains(key);
    if (!count || !(count->is_uint64() || (count->is_int64() && count->as_int64() >= 0)))
        return std::nullopt;
    return count->is_uint64() ? count->as_uint64() : static_cast<std::uint64_t>(count->as_int64());
}

} // namespace

std::string encode_retry_grant(std::size_t retries)
{
    return json::serialize(json::object{{"retries", retries}}) + "\n";
}

std::optional<std::size_t> decode_retry_grant(std::string_view line)
{
    return decode_count_line(line, "retries");
}

std::string encode_retries_left(std::size_t retries)
{
    return json::serialize(json::object{{"retries_left", retries}}) + "\n";
}

std::optional<std::size_t> decode_retries_left(std::string_view line)
{
    return decode_count_line(line, "retries_left");
}

std::string encode_not_before(std::chrono::steady_clock::time_point at)
{
    return json::serialize(json::object{{"not_before", ticks(at)}}) + "\n";
}

std::optional<std::chrono::steady_clock::time_point> decode_not_before(std::string_view line)
{
    if (!line.starts_with("{\"not_before\":")) // a job line: not parsed twice
        return std::nullopt;
    error_code ec;
    auto value = json::parse(line, ec);
    if (ec || !value.is_object())
        return std::nullopt;
    auto at = value.get_object().if_contains("not_before");
    if (!at || !at->is_int64())
        return std::nullopt;
    return from_ticks(*at);
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

namespace {

// The fields every outcome has, of either job: its error, diagnostics, timing and counters.
template <class Outcome>
void encode_common(json::object& line, const Outcome& outcome)
{
    if (outcome.error)
    {
        line["error"] = json::object{{"category", outcome.error.category().name()},
                                     {"value", outcome.error.value()},
                                     {"message", outcome.error.message()}};
    }
    line["client_message"] = outcome.diag.client_message();
    line["server_message"] = outcome.diag.server_message();
    const auto& t = outcome.timing;
    line["timing"] = json::array{ticks(t.queued),     ticks(t.granted), ticks(t.started), ticks(t.connected),
                                 ticks(t.tls_done),   ticks(t.first_byte), ticks(t.done)};
    line["reused"] = t.reused_connection;
    line["attempts"] = outcome.attempts;
    line["rate_limited"] = outcome.rate_limited;
    line["redirects"] = outcome.redirects;
    line["resent"] = outcome.resent;
    line["server_answered"] = outcome.server_answered;
    line["final_url"] = outcome.final_url;
    line["thread"] = t.thread_id;
    line["process"] = t.process_id;
}

// Throws on a missing or mistyped field.
template <class Outcome>
void decode_common(const json::object& message, Outcome& outcome)
{
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
    outcome.resent = message.at("resent").to_number<unsigned>();
    outcome.server_answered = message.at("server_answered").as_bool();
    outcome.final_url = message.at("final_url").as_string();
    timing.thread_id = message.at("thread").to_number<std::uint64_t>();
    timing.process_id = message.at("process").to_number<int>();
}

// An outcome line: its index, the fields every outcome has, and the job's own (`decode_own`,
// which throws on a missing or mistyped field). Empty if the line is not one.
template <class Outcome, class DecodeOwn>
std::optional<std::pair<std::size_t, Outcome>> decode_outcome_line(std::string_view line, DecodeOwn decode_own)
{
    try
    {
        auto value = json::parse(line);
        const auto& message = value.as_object();
        Outcome outcome;
        std::size_t index = message.at("index").to_number<std::size_t>();
        decode_own(message, outcome);
        decode_common(message, outcome);
        return std::pair{index, std::move(outcome)};
    }
    catch (const std::exception&)
    {
        return std::nullopt;
    }
}

} // namespace

std::string encode_outcome(std::size_t index, const rates_outcome& outcome)
{
    json::object line;
    line["index"] = index;
    line["base"] = outcome.base.view();
    line["date"] = to_iso_string(outcome.value.date);
    line["value_base"] = outcome.value.base.view();
    json::object values;
    for (const auto& [code, rate] : outcome.value.values)
        values[code.view()] = rate;
    line["rates"] = std::move(values);
    encode_common(line, outcome);
    return json::serialize(line) + "\n";
}

std::optional<std::pair<std::size_t, rates_outcome>> decode_outcome(std::string_view line)
{
    return decode_outcome_line<rates_outcome>(line, [](const json::object& message, rates_outcome& outcome) {
        outcome.base = currency_code(std::string_view(message.at("base").as_string()));
        if (auto date = parse_iso_date(message.at("date").as_string()))
            outcome.value.date = *date;
        outcome.value.base = currency_code(std::string_view(message.at("value_base").as_string()));
        for (const auto& [code, rate] : message.at("rates").as_object())
            outcome.value.values[currency_code(std::string_view(code))] = rate.to_number<double>();
    });
}

std::string encode_fetch_job(std::size_t index, const fetch_item& item)
{
    json::array fields;
    for (const auto& [name, value] : item.fields)
        fields.push_back(json::array{json::string(name), json::string(value)});
    json::object job{{"index", index}, {"url", item.url}, {"fields", std::move(fields)}};
    return json::serialize(job) + "\n";
}

std::optional<std::pair<std::size_t, fetch_item>> decode_fetch_job(std::string_view line)
{
    try
    {
        auto value = json::parse(line);
        const auto& job = value.as_object();
        fetch_item item;
        item.url = job.at("url").as_string();
        for (const auto& field : job.at("fields").as_array())
        {
            const auto& pair = field.as_array();
            item.fields.emplace_back(std::string(pair.at(0).as_string()), std::string(pair.at(1).as_string()));
        }
        return std::pair{job.at("index").to_number<std::size_t>(), std::move(item)};
    }
    catch (const std::exception&)
    {
        return std::nullopt;
    }
}

std::string encode_outcome(std::size_t index, const fetch_outcome& outcome)
{
    json::object line;
    line["index"] = index;
    line["url"] = outcome.url;
    line["status"] = outcome.status;
    line["content_type"] = outcome.content_type;
    line["etag"] = outcome.etag;
    line["last_modified"] = outcome.last_modified;
    line["bytes"] = outcome.bytes;
    encode_common(line, outcome);
    return json::serialize(line) + "\n";
}

std::optional<std::pair<std::size_t, fetch_outcome>> decode_fetch_outcome(std::string_view line)
{
    return decode_outcome_line<fetch_outcome>(line, [](const json::object& message, fetch_outcome& outcome) {
        outcome.url = message.at("url").as_string();
        outcome.status = message.at("status").to_number<unsigned>();
        outcome.content_type = message.at("content_type").as_string();
        outcome.etag = message.at("etag").as_string();
        outcome.last_modified = message.at("last_modified").as_string();
        outcome.bytes = message.at("bytes").to_number<std::uint64_t>();
    });
}

namespace {

template <class Outcome>
std::string encode_any_report(const basic_run_report<Outcome>& report)
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

// `decode_line` is decode_outcome or decode_fetch_outcome.
template <class Outcome, class DecodeLine>
std::optional<basic_run_report<Outcome>> decode_any_report(std::string_view text, DecodeLine decode_line)
{
    try
    {
        auto newline = text.find('\n');
        auto head = json::parse(text.substr(0, newline)).as_object();
        basic_run_report<Outcome> report;
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
            auto outcome = decode_line(text.substr(start, newline == std::string_view::npos ? newline : newline - start));
            // Every item once: a repeated one would leave another's outcome unset.
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

} // namespace

std::string encode_report(const run_report& report)
{
    return encode_any_report(report);
}

std::string encode_report(const fetch_run_report& report)
{
    return encode_any_report(report);
}

std::optional<run_report> decode_report(std::string_view text)
{
    return decode_any_report<rates_outcome>(text, [](std::string_view line) { return decode_outcome(line); });
}

std::optional<fetch_run_report> decode_fetch_report(std::string_view text)
{
    return decode_any_report<fetch_outcome>(text, [](std::string_view line) { return decode_fetch_outcome(line); });
}

} // namespace fxrates::detail
