#include <fxrates/date.hpp>
#include <fxrates/decode.hpp>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cmath>

namespace fxrates {

namespace json = boost::json;

namespace {

constexpr std::size_t max_error_text = 512;

error_code fail(diagnostics& diag, std::string message)
{
    diag.set_client_message(std::move(message));
    return errc::bad_response;
}

// Parses with every allocation in `resource`. (Assigning the result to an existing value would
// deep-copy it into that value's heap storage: the document must be constructed from it.)
json::value parse_document(std::string_view body, json::monotonic_resource& resource, error_code& ec,
                           diagnostics& diag)
{
    json::value document = json::parse(body, ec, &resource);
    if (ec)
    {
        fail(diag, "the body is not JSON (" + ec.message() + ")");
        ec = errc::bad_response;
    }
    return document;
}

std::optional<double> positive_number(const json::value& value)
{
    double number = 0;
    if (value.is_double())
        number = value.get_double();
    else if (value.is_int64())
        number = static_cast<double>(value.get_int64());
    else if (value.is_uint64())
        number = static_cast<double>(value.get_uint64());
    else
        return std::nullopt;
    if (!std::isfinite(number) || number <= 0)
        return std::nullopt;
    return number;
}

const json::string* string_field(const json::object& object, std::string_view key)
{
    auto it = object.find(key);
    return it != object.end() && it->value().is_string() ? &it->value().get_string() : nullptr;
}

std::string clipped(std::string_view text)
{
    if (text.size() <= max_error_text)
        return std::string(text);
    // Cut before a UTF-8 continuation byte never splits a character.
    std::size_t end = max_error_text;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80)
        --end;
    return std::string(text.substr(0, end));
}

// The text of one element of a validation error list (`{"loc": [...], "msg": "..."}`) or of a
// nested error object.
std::string message_of(const json::value& value)
{
    if (value.is_string())
        return clipped(value.get_string());
    if (!value.is_object())
        return {};
    for (std::string_view key : {"msg", "message", "detail", "error"})
        if (auto text = string_field(value.get_object(), key))
            return clipped(*text);
    return {};
}

} // namespace

error_code decode_rates(std::string_view body, rates& out, diagnostics& diag)
{
    diag.clear();
    unsigned char buffer[4096];
    json::monotonic_resource resource(buffer, sizeof buffer);
    error_code ec;
    json::value document = parse_document(body, resource, ec, diag);
    if (ec)
        return ec;
    if (!document.is_object())
        return fail(diag, "the body is not a JSON object");
    const auto& object = document.get_object();

    auto date_text = string_field(object, "date");
    if (!date_text)
        return fail(diag, "the field 'date' is missing or not a string");
    auto date = parse_iso_date(*date_text);
    if (!date)
        return fail(diag, "the field 'date' is not a YYYY-MM-DD date: '" + clipped(*date_text) + "'");

    auto base_text = string_field(object, "base");
    if (!base_text)
        return fail(diag, "the field 'base' is missing or not a string");
    auto base = currency_code::parse(*base_text);
    if (!base)
        return fail(diag, "the field 'base' is not a currency code: '" + clipped(*base_text) + "'");

    auto rates_it = object.find("rates");
    if (rates_it == object.end())
        return fail(diag, "the field 'rates' is missing");
    if (!rates_it->value().is_object())
        return fail(diag, "the field 'rates' is not an object");

    out.date = *date;
    out.base = *base;
    out.values.clear();
    out.values.reserve(rates_it->value().get_object().size());
    for (const auto& entry : rates_it->value().get_object())
    {
        auto code = currency_code::parse(entry.key());
        if (!code)
            return fail(diag, "a key of 'rates' is not a currency code: '" + clipped(entry.key()) + "'");
        auto rate = positive_number(entry.value());
        if (!rate)
            return fail(diag, "the rate for " + code->str() + " is not a positive number");
        out.values.insert_or_assign(*code, *rate);
    }
    return {};
}

error_code check_rates_answer(rates& answer, currency_code base, const rates_query& query, diagnostics& diag)
{
    if (answer.base != base)
        return fail(diag, "the answer is for base " + answer.base.str() + ", not " + base.str() +
                              " (a server or cache that ignores the query?)");
    if (query.date && std::chrono::sys_days(answer.date) > std::chrono::sys_days(*query.date))
        return fail(diag, "the answer is for " + to_iso_string(answer.date) + ", later than the day asked for, " +
                              to_iso_string(*query.date) + " (a server or cache that ignores the query?)");
    if (!query.symbols.empty())
        answer.values.erase(std::remove_if(answer.values.begin(), answer.values.end(),
                                           [&](const auto& entry) {
                                               return std::find(query.symbols.begin(), query.symbols.end(),
                                                                entry.first) == query.symbols.end();
                                           }),
                            answer.values.end());
    return {};
}

error_code decode_currencies(std::string_view body, currency_list& out, diagnostics& diag)
{
    diag.clear();
    json::monotonic_resource resource;
    error_code ec;
    json::value document = parse_document(body, resource, ec, diag);
    if (ec)
        return ec;
    if (!document.is_object())
        return fail(diag, "the body is not a JSON object");

    out.clear();
    for (const auto& entry : document.get_object())
    {
        auto code = currency_code::parse(entry.key());
        if (!code)
            return fail(diag, "a key is not a currency code: '" + clipped(entry.key()) + "'");
        if (!entry.value().is_object())
            return fail(diag, "the entry for " + code->str() + " is not an object");
        const auto& fields = entry.value().get_object();
        currency_info info;
        info.code = *code;
        auto name = string_field(fields, "name");
        if (!name)
            return fail(diag, "the entry for " + code->str() + " has no 'name'");
        info.name = *name;
        if (auto symbol = string_field(fields, "symbol"))
            info.symbol = *symbol;
        if (auto numeric = string_field(fields, "numeric_code"))
            info.numeric_code = *numeric;
        if (auto places = fields.find("decimal_places"); places != fields.end())
        {
            if (!places->value().is_int64() || places->value().get_int64() < 0 ||
                places->value().get_int64() > 18)
                return fail(diag, "the entry for " + code->str() + " has a bad 'decimal_places'");
            info.decimal_places = static_cast<int>(places->value().get_int64());
        }
        out.push_back(std::move(info));
    }
    return {};
}

std::string extract_error_message(std::string_view body)
{
    unsigned char buffer[2048];
    json::monotonic_resource resource(buffer, sizeof buffer);
    error_code ec;
    json::value document = json::parse(body, ec, &resource);
    if (ec || !document.is_object())
        return {};
    const auto& object = document.get_object();
    for (std::string_view key : {"detail", "error", "message"})
    {
        auto it = object.find(key);
        if (it == object.end())
            continue;
        if (it->value().is_array())
        {
            std::string joined;
            for (const auto& item : it->value().get_array())
            {
                auto text = message_of(item);
                if (text.empty())
                    continue;
                joined += joined.empty() ? text : "; " + text;
                if (joined.size() >= max_error_text)
                    return clipped(joined);
            }
            if (!joined.empty())
                return joined;
        }
        else if (auto text = message_of(it->value()); !text.empty())
            return text;
    }
    return {};
}

} // namespace fxrates
