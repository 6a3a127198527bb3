#include "server/rates_service.hpp"

#include "server/catalogue.hpp"

#include <fxrates/utf8.hpp>

#include <fxrates/date.hpp>
#include <fxrates/server/rebase.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <bitset>

namespace fxrates::detail {

namespace {

constexpr std::chrono::sys_days first_ecb_day{std::chrono::year{1999} / 1 / 4};

api_response error(unsigned status, std::string_view text)
{
    return {status, detail_body(text), {}};
}

std::string quoted_value(std::string_view value)
{
    return "'" + std::string(value) + "'";
}

// The query parameters the API reads. Like Starlette, a repeated parameter's last value wins.
struct rates_query
{
    std::optional<std::string> base, symbols, date;
};

std::optional<rates_query> read_query(std::string_view target)
{
    auto url = boost::urls::parse_origin_form(target);
    if (!url)
        return std::nullopt;
    rates_query query;
    for (auto param : url->params())
    {
        if (param.key == "base")
            query.base = param.value;
        else if (param.key == "symbols")
            query.symbols = param.value;
        else if (param.key == "date")
            query.date = param.value;
    }
    return query;
}

std::string_view path_of(std::string_view target)
{
    return target.substr(0, target.find('?'));
}

} // namespace

// Query values are echoed in error texts; bytes that are not UTF-8 become U+FFFD, as the real
// service's decoder does, so that every answer stays valid JSON.
std::string detail_body(std::string_view text)
{
    return "{\"detail\":" + boost::json::serialize(boost::json::string(valid_utf8(text))) + "}";
}

rates_service::rates_service(std::shared_ptr<const ecb_history> history) : history_(std::move(history))
{
    for (std::size_t i = 0; i < served_currencies.size(); ++i)
        if (auto code = currency_code::parse(served_currencies[i].code))
            columns_[i] = history_->column_of(*code);

    currencies_body_ = "{";
    for (const auto& currency : served_currencies)
    {
        if (currencies_body_.size() > 1)
            currencies_body_ += ',';
        currencies_body_ += "\"" + std::string(currency.code) + "\":{\"name\":\"" + std::string(currency.name) +
                            "\",\"symbol\":\"" + std::string(currency.code) + "\",\"numeric_code\":\"" +
                            std::string(currency.numeric_code) +
                            "\",\"decimal_places\":" + std::to_string(currency.decimal_places) + "}";
    }
    currencies_body_ += "}";
}

api_response rates_service::handle(std::string_view method, std::string_view target,
                                   std::chrono::sys_days today) const
{
    std::string_view path = path_of(target);
    if (!serves(path))
        return error(404, "Not Found");
    if (method != "GET" && method != "HEAD")
        return {405, detail_body("Method Not Allowed"), "GET, HEAD"};
    if (path == "/currencies")
        return {200, currencies_body_, {}};
    return rates(target, today);
}

api_response rates_service::rates(std::string_view target, std::chrono::sys_days today) const
{
    auto query = read_query(target);
    if (!query)
        return error(400, "Invalid query string.");

    // Validation order and texts follow the API contract: base, then symbols, then date.
    std::string base_text = query->base.value_or("EUR");
    auto base_index = served_index(base_text);
    if (!base_index)
        return error(400, "Base currency " + quoted_value(base_text) + " is not supported.");

    std::bitset<served_currencies.size()> wanted;
    bool filter = query->symbols && !query->symbols->empty();
    if (filter)
    {
        std::string_view list = *query->symbols;
        for (;;)
        {
            auto comma = list.find(',');
            std::string_view symbol = list.substr(0, comma);
            auto index = served_index(symbol);
            if (!index)
                return error(400, "Currency " + quoted_value(symbol) + " is not supported.");
            wanted.set(*index);
            if (comma == std::string_view::npos)
                break;
            list.remove_prefix(comma + 1);
        }
    }

    std::chrono::sys_days requested = today;
    if (query->date && !query->date->empty())
    {
        auto fields = parse_iso_date_fields(*query->date);
        if (!fields)
            return error(400, "Invalid date format: " + quoted_value(*query->date) +
                                  ". Expected format: YYYY-MM-DD");
        if (!fields->ok())
            return error(400, "Invalid date: " + quoted_value(*query->date) +
                                  ". Expected a valid date in YYYY-MM-DD format.");
        requested = std::chrono::sys_days{*fields};
    }
    auto day = requested < first_ecb_day ? std::nullopt : history_->on_or_before(requested);
    if (!day)
        return error(404, "No rate data available for the specified date.");

    // Values per 1 EUR for every served currency that has one that day; EUR is 1 by definition.
    std::array<std::optional<decimal>, served_currencies.size()> eur_rates{};
    eur_rates[0] = decimal{1, 0};
    for (std::size_t i = 1; i < served_currencies.size(); ++i)
        if (columns_[i])
            eur_rates[i] = day->rate_at(*columns_[i]);

    const auto& base_rate = eur_rates[*base_index];
    if (!base_rate)
        return error(400, "Base currency " + quoted_value(base_text) + " not available in current rates data");

    std::string body;
    body.reserve(64 + served_currencies.size() * 20);
    body += "{\"date\":\"";
    body += to_iso_string(std::chrono::year_month_day{day->date()});
    body += "\",\"base\":\"";
    body += base_text;
    body += "\",\"rates\":{";
    bool first = true;
    for (std::size_t i = 0; i < served_currencies.size(); ++i)
    {
        if (!eur_rates[i] || (filter && !wanted.test(i)))
            continue;
        // With base EUR the API passes the ECB's numbers through unrounded.
        decimal value = *base_index == 0 ? *eur_rates[i] : rebase_rate(*eur_rates[i], *base_rate);
        if (!first)
            body += ',';
        first = false;
        body += '"';
        body += served_currencies[i].code;
        body += "\":";
        body += value.to_string();
    }
    body += "}}";
    return {200, std::move(body), {}};
}

} // namespace fxrates::detail
