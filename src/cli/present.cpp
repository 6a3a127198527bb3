#include "cli/present.hpp"

#include "cli/json_text.hpp"

#include <fxrates/date.hpp>
#include <fxrates/utf8.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>
#include <vector>

namespace fxrates {

namespace {

// The book's `format(x, "7.03")`.
constexpr std::size_t seed_width = 7;
constexpr int seed_precision = 3;

// What the table shows for a symbol the API gave no rate for, in a number's width.
constexpr std::string_view missing_number = "    n/a";

// Python's default float presentation (no type letter) with `precision` significant digits.
std::string python_general(double x, int precision)
{
    if (std::isnan(x))
        return "nan"; // Python drops the sign of a NaN
    if (std::isinf(x))
        return x < 0 ? "-inf" : "inf";

    // Python chooses the notation from the exponent *after* rounding (9.9996 -> 10.0, 99.96 ->
    // 1e+02), so round first: to_chars rounds correctly, ties to even, like Python's dtoa.
    char buffer[64];
    auto end =
        std::to_chars(buffer, buffer + sizeof buffer, x, std::chars_format::scientific, precision - 1).ptr;
    std::string_view text(buffer, static_cast<std::size_t>(end - buffer)); // [-]d.dde[+-]XX
    std::string result;
    if (text.front() == '-')
    {
        result = "-";
        text.remove_prefix(1);
    }
    auto e = text.find('e');
    std::string_view exponent_text = text.substr(e);
    std::string digits(1, text[0]);
    if (e > 1)
        digits.append(text.substr(2, e - 2));
    int exponent = 0;
    std::from_chars(exponent_text.data() + 2, exponent_text.data() + exponent_text.size(), exponent);
    if (exponent_text[1] == '-')
        exponent = -exponent;

    if (exponent < -4 || exponent >= precision - 1)
    {
        // Scientific: trailing zeros go, and the point with them; the exponent keeps at least two
        // digits, which is also what to_chars writes.
        auto last = digits.find_last_not_of('0');
        result += digits[0];
        if (last != std::string::npos && last > 0)
        {
            result += '.';
            result.append(digits, 1, last);
        }
        result.append(exponent_text);
        return result;
    }

    // Fixed: at least one digit after the point, however many trailing zeros that keeps.
    std::string fixed;
    if (exponent >= 0)
    {
        auto integral = static_cast<std::size_t>(exponent) + 1;
        fixed = digits.substr(0, integral) + '.' + digits.substr(integral);
    }
    else
        fixed = "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
    auto point = fixed.find('.');
    auto last = std::max(fixed.find_last_not_of('0'), point + 1);
    fixed.resize(last + 1);
    return result + fixed;
}

// The shortest text that reads back as `x`, looking like a floating-point number ("1.0", never
// "1"), so that consumers typing values by their first row do not take every rate for an integer.
std::string shortest_number(double x)
{
    if (std::isnan(x))
        return "nan";
    char buffer[64];
    auto end = std::to_chars(buffer, buffer + sizeof buffer, x).ptr;
    std::string text(buffer, end);
    if (std::isfinite(x) && text.find_first_of(".e") == std::string::npos)
        text += ".0";
    return text;
}

// The rate shown for `symbol`: the book sets `rates[base] = 1.` after decoding, so the base's own
// rate is 1.0 whether the API sent it, sent something else, or left it out.
std::optional<double> rate_of(const rates_outcome& outcome, const currency_code& symbol)
{
    if (symbol == outcome.base)
        return 1.0;
    auto it = outcome.value.values.find(symbol);
    if (it == outcome.value.values.end())
        return std::nullopt;
    return it->second;
}

// Ends `text` as a sentence, so that the next part of a failure line reads as a new one. Messages
// from Asio or the OS ("Connection refused") have no full stop; ours do.
std::string as_sentence(std::string text)
{
    if (!text.empty() && text.back() != '.' && text.back() != '!' && text.back() != '?')
        text += '.';
    return text;
}

// describe_failure without the base: also the CSV error cell, whose row already names the base.
template <class Outcome>
std::string failure_text(const Outcome& outcome)
{
    std::string text = as_sentence(outcome.error.message());
    if (!outcome.diag.client_message().empty())
        text += " Details: " + as_sentence(escape_untrusted(outcome.diag.client_message(), false));
    if (!outcome.diag.server_message().empty())
        text += " Server says: \"" + escape_untrusted(outcome.diag.server_message()) + '"';
    return text;
}

using cli::append_json_string;

void append_json_number(std::string& out, double x)
{
    out += std::isfinite(x) ? shortest_number(x) : "null";
}

std::string csv_cell(std::string_view text)
{
    if (text.find_first_of(",\"\r\n") == std::string_view::npos)
        return std::string(text);
    std::string out = "\"";
    for (char c : text)
    {
        if (c == '"')
            out += '"';
        out += c;
    }
    out += '"';
    return out;
}

} // namespace

std::optional<output_format> parse_output_format(std::string_view name) noexcept
{
    for (auto format : {output_format::table, output_format::json, output_format::csv, output_format::ndjson})
        if (name == to_string(format))
            return format;
    return std::nullopt;
}

std::string_view to_string(output_format format) noexcept
{
    switch (format)
    {
    case output_format::table:
        return "table";
    case output_format::json:
        return "json";
    case output_format::csv:
        return "csv";
    case output_format::ndjson:
        return "ndjson";
    }
    return "table";
}

std::string format_seed_number(double x)
{
    std::string text = python_general(x, seed_precision);
    if (text.size() < seed_width)
        text.insert(0, seed_width - text.size(), ' ');
    return text;
}

std::string render_table(std::span<const rates_outcome> outcomes, std::span<const currency_code> symbols,
                         double elapsed_seconds)
{
    std::string out;
    for (const auto& outcome : outcomes)
    {
        if (!outcome.ok())
            continue;
        out += "1 ";
        out += outcome.base.view();
        out += " = ";
        bool first = true;
        for (const auto& symbol : symbols)
        {
            if (!first)
                out += ", ";
            first = false;
            auto rate = rate_of(outcome, symbol);
            out += rate ? format_seed_number(*rate) : std::string(missing_number);
            out += ' ';
            out += symbol.view();
        }
        out += '\n';
    }
    // Python's "{:.2f}": correctly rounded, ties to even, as to_chars does.
    char buffer[64];
    auto end =
        std::to_chars(buffer, buffer + sizeof buffer, elapsed_seconds, std::chars_format::fixed, 2).ptr;
    out += "\ntime elapsed: ";
    out.append(buffer, end);
    out += "s\n";
    return out;
}

std::string json_record(const rates_outcome& outcome, std::span<const currency_code> symbols)
{
    std::string out = "{\"base\":";
    append_json_string(out, outcome.base.view());
    if (!outcome.ok())
    {
        out += ",\"error\":{\"category\":";
        append_json_string(out, outcome.error.category().name());
        out += ",\"code\":" + std::to_string(outcome.error.value());
        out += ",\"message\":";
        append_json_string(out, outcome.error.message());
        out += ",\"detail\":";
        append_json_string(out, outcome.diag.client_message());
        out += ",\"server_text\":";
        append_json_string(out, outcome.diag.server_message());
        out += "}}";
        return out;
    }
    out += ",\"date\":";
    append_json_string(out, to_iso_string(outcome.value.date));
    out += ",\"rates\":{";
    bool first_rate = true;
    for (std::size_t i = 0; i < symbols.size(); ++i)
    {
        // Duplicate keys are legal JSON but read differently by different parsers: keep the first.
        if (std::find(symbols.begin(), symbols.begin() + static_cast<std::ptrdiff_t>(i), symbols[i]) !=
            symbols.begin() + static_cast<std::ptrdiff_t>(i))
            continue;
        auto rate = rate_of(outcome, symbols[i]);
        if (!rate)
            continue;
        if (!first_rate)
            out += ',';
        first_rate = false;
        append_json_string(out, symbols[i].view());
        out += ':';
        append_json_number(out, *rate);
    }
    out += "}}";
    return out;
}

std::string render_json(std::span<const rates_outcome> outcomes, std::span<const currency_code> symbols,
                        double elapsed_seconds)
{
    std::string out = "{\"schema\":";
    append_json_string(out, rates_json_schema);
    out += ",\"results\":[";
    bool first_result = true;
    for (const auto& outcome : outcomes)
    {
        if (!first_result)
            out += ',';
        first_result = false;
        out += json_record(outcome, symbols);
    }
    out += "],\"elapsed_seconds\":";
    append_json_number(out, elapsed_seconds);
    out += "}\n";
    return out;
}

std::string render_csv(std::span<const rates_outcome> outcomes, std::span<const currency_code> symbols,
                       double /* elapsed_seconds: not data, so not a column */)
{
    std::string out = "base,date";
    for (const auto& symbol : symbols)
    {
        out += ',';
        out += symbol.view();
    }
    out += ",error\n";
    for (const auto& outcome : outcomes)
    {
        out += outcome.base.view();
        out += ',';
        if (outcome.ok())
            out += to_iso_string(outcome.value.date);
        for (const auto& symbol : symbols)
        {
            out += ',';
            if (!outcome.ok())
                continue;
            if (auto rate = rate_of(outcome, symbol))
                out += shortest_number(*rate);
        }
        out += ',';
        if (!outcome.ok())
            out += csv_cell(failure_text(outcome));
        out += '\n';
    }
    return out;
}

std::string render(output_format format, std::span<const rates_outcome> outcomes,
                   std::span<const currency_code> symbols, double elapsed_seconds)
{
    switch (format)
    {
    case output_format::json:
        return render_json(outcomes, symbols, elapsed_seconds);
    case output_format::csv:
        return render_csv(outcomes, symbols, elapsed_seconds);
    case output_format::ndjson:
    {
        // As streamed, but in input order: for a caller that has every outcome at once.
        std::string out;
        for (std::size_t i = 0; i < outcomes.size(); ++i)
            out += ndjson_line(i, outcomes[i], symbols);
        return out;
    }
    case output_format::table:
        break;
    }
    return render_table(outcomes, symbols, elapsed_seconds);
}

std::string ndjson_line(std::size_t index, const rates_outcome& outcome, std::span<const currency_code> symbols)
{
    std::string line = "{\"schema\":\"" + std::string(rates_json_schema) + "\",\"index\":" + std::to_string(index) + ",";
    line += std::string_view(json_record(outcome, symbols)).substr(1); // past the record's own '{'
    line += '\n';
    return line;
}

std::string render_comparison_table(const comparison& table)
{
    // One line of the table; its fields are ours (names, numbers), so 256 bytes hold it.
    auto line = [](const char* format, auto... args)
    {
        char text[256];
        int length = std::snprintf(text, sizeof text, format, args...);
        return std::string(
            text, static_cast<std::size_t>(std::clamp(length, 0, static_cast<int>(sizeof text) - 1)));
    };
    std::string where = table.api.empty() ? line("the built-in server, %g ms latency", table.latency_ms)
                                          : escape_untrusted(table.api, false);
    std::string out =
        std::to_string(table.requests_per_strategy) + " requests per strategy against " + where + "\n\n";
    out += line("%-22s %9s %9s %8s %11s %9s\n", "strategy", "wall", "CPU", "threads", "peak RSS", "speed-up");
    for (const auto& row : table.rows)
    {
        std::string speedup = row.speedup ? line("%.1fx", *row.speedup) : "-";
        std::string rss = line("%.1f MiB", static_cast<double>(row.peak_rss_kib) / 1024.0);
        out += line("%-22s %7.3f s %7.3f s %8zu %11s %9s%s\n", row.strategy.c_str(), row.wall_seconds,
                    row.cpu_seconds, row.peak_threads, rss.c_str(), speedup.c_str(),
                    row.interrupted ? "  (interrupted)" : row.failed == 0 ? "" : "  (some requests failed)");
    }
    return out;
}

std::string render_comparison_json(const comparison& table)
{
    std::string out = "{\"schema\":";
    append_json_string(out, compare_json_schema);
    out += ",\"requests_per_strategy\":" + std::to_string(table.requests_per_strategy);
    out += ",\"api\":";
    if (table.api.empty())
        out += "null";
    else
        append_json_string(out, table.api);
    out += ",\"latency_ms\":";
    if (table.api.empty())
        append_json_number(out, table.latency_ms);
    else
        out += "null";
    out += ",\"strategies\":[";
    bool first = true;
    for (const auto& row : table.rows)
    {
        if (!first)
            out += ',';
        first = false;
        out += "{\"strategy\":";
        append_json_string(out, row.strategy);
        out += ",\"wall_seconds\":";
        append_json_number(out, row.wall_seconds);
        out += ",\"cpu_seconds\":";
        append_json_number(out, row.cpu_seconds);
        out += ",\"peak_threads\":" + std::to_string(row.peak_threads);
        out += ",\"peak_rss_kib\":" + std::to_string(row.peak_rss_kib);
        out += ",\"speedup\":";
        if (row.speedup)
            append_json_number(out, *row.speedup);
        else
            out += "null";
        out += ",\"requests\":" + std::to_string(row.requests);
        out += ",\"failed\":" + std::to_string(row.failed);
        out += std::string(",\"interrupted\":") + (row.interrupted ? "true" : "false") + "}";
    }
    out += "]}\n";
    return out;
}

std::string render_comparison_csv(const comparison& table)
{
    std::string out = "strategy,wall_seconds,cpu_seconds,peak_threads,peak_rss_kib,speedup,requests,failed,interrupted\n";
    for (const auto& row : table.rows)
    {
        out += csv_cell(row.strategy);
        out += ',' + shortest_number(row.wall_seconds);
        out += ',' + shortest_number(row.cpu_seconds);
        out += ',' + std::to_string(row.peak_threads);
        out += ',' + std::to_string(row.peak_rss_kib);
        out += ',';
        if (row.speedup)
            out += shortest_number(*row.speedup);
        out += ',' + std::to_string(row.requests);
        out += ',' + std::to_string(row.failed);
        out += row.interrupted ? ",true\n" : ",false\n";
    }
    return out;
}

std::string render_comparison(output_format format, const comparison& table)
{
    switch (format)
    {
    case output_format::json:
        return render_comparison_json(table);
    case output_format::csv:
        return render_comparison_csv(table);
    case output_format::ndjson: // not offered by compare: a table is not a stream
    case output_format::table:
        break;
    }
    return render_comparison_table(table);
}

std::string describe_failure(const rates_outcome& outcome)
{
    return std::string(outcome.base.view()) + ": " + failure_text(outcome);
}

std::string describe_failure(const fetch_outcome& outcome)
{
    return escape_untrusted(outcome.url, false) + ": " + failure_text(outcome);
}

} // namespace fxrates
