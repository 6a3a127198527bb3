#include <fxrates/date.hpp>
#include <fxrates/server/ecb_history.hpp>
#include <fxrates/server/rebase.hpp>

#include "server/catalogue.hpp"

#include <algorithm>
#include <fstream>
#include <numeric>
#include <sstream>

namespace fxrates {

namespace {

// Splits off the next comma-separated field of `line`.
std::string_view next_field(std::string_view& line)
{
    auto comma = line.find(',');
    std::string_view field = line.substr(0, comma);
    line.remove_prefix(comma == std::string_view::npos ? line.size() : comma + 1);
    return field;
}

std::string quoted(std::string_view text)
{
    return "'" + std::string(text.substr(0, 40)) + (text.size() > 40 ? "...'" : "'");
}

} // namespace

ecb_history ecb_history::parse(std::string_view csv, std::string source_name)
{
    ecb_history history;
    std::vector<std::pair<std::chrono::sys_days, std::size_t>> order; // date, row as read
    std::size_t line_number = 0;
    bool header_seen = false;
    std::vector<bool> served_column; // per column: a currency the server rebases (not EUR)

    while (!csv.empty())
    {
        auto newline = csv.find('\n');
        std::string_view line = csv.substr(0, newline);
        csv.remove_prefix(newline == std::string_view::npos ? csv.size() : newline + 1);
        ++line_number;
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (line.empty())
            continue;

        auto fail = [&](const std::string& problem) { return ecb_history_error(source_name, line_number, problem); };

        if (!header_seen)
        {
            if (next_field(line) != "Date")
                throw fail("expected the ECB header 'Date,USD,JPY,...'");
            while (!line.empty())
            {
                auto field = next_field(line);
                if (field.empty() && line.empty())
                    break; // the ECB ends every line with a comma
                auto code = currency_code::parse(field);
                if (!code)
                    throw fail("column " + quoted(field) + " is not a currency code");
                if (history.column_of(*code))
                    throw fail("currency " + code->str() + " appears twice in the header");
                history.codes_.push_back(*code);
            }
            if (history.codes_.empty())
                throw fail("the header names no currency");
            for (auto code : history.codes_)
            {
                auto index = detail::served_index(code.str());
                served_column.push_back(index && *index != 0); // an EUR column is never read
            }
            header_seen = true;
            auto rows = static_cast<std::size_t>(std::count(csv.begin(), csv.end(), '\n')) + 1;
            history.dates_.reserve(rows);
            history.cells_.reserve(rows * history.codes_.size());
            order.reserve(rows);
            continue;
        }

        auto date_field = next_field(line);
        auto date = parse_iso_date(date_field);
        if (!date)
            throw fail("the date " + quoted(date_field) + " is not a YYYY-MM-DD calendar date");
        std::size_t row = history.dates_.size();
        history.dates_.push_back(std::chrono::sys_days{*date});
        order.emplace_back(history.dates_.back(), row);

        // The day's smallest and largest served rate, EUR's 1 included: the smallest rebased rate
        // is their quotient, and it must not round to 0 at the places the API serves.
        decimal smallest{1, 0}, largest{1, 0};
        std::string smallest_code = "EUR", largest_code = "EUR";
        for (std::size_t column = 0; column < history.codes_.size(); ++column)
        {
            if (line.empty() && column + 1 <= history.codes_.size())
                throw fail("expected " + std::to_string(history.codes_.size()) + " rates, found " +
                           std::to_string(column));
            auto field = next_field(line);
            decimal value{};
            if (field != "N/A" && !field.empty())
            {
                auto parsed = decimal::parse(field);
                if (!parsed || parsed->units() <= 0)
                    throw fail("the " + history.codes_[column].str() + " rate " + quoted(field) +
                               " is not a positive decimal number or N/A");
                if (*parsed < ecb_history::min_rate || *parsed > ecb_history::max_rate)
                    throw fail("the " + history.codes_[column].str() + " rate " + quoted(field) +
                               " is outside the range served, " + ecb_history::min_rate.to_string() + " to " +
                               ecb_history::max_rate.to_string());
                value = *parsed;
                if (served_column[column] && value < smallest)
                {
                    smallest = value;
                    smallest_code = history.codes_[column].str();
                }
                if (served_column[column] && value > largest)
                {
                    largest = value;
                    largest_code = history.codes_[column].str();
                }
            }
            history.cells_.push_back(value);
        }
        if (!line.empty())
            throw fail("more fields than the header's " + std::to_string(history.codes_.size()) + " currencies");
        if (rebase_rate(smallest, largest).units() == 0)
        {
            auto rate = [](const std::string& code, decimal value) {
                return code == "EUR" ? std::string("EUR's 1") : "the " + code + " rate " + value.to_string();
            };
            throw fail(rate(smallest_code, smallest) + " and " + rate(largest_code, largest) +
                       " are too far apart: " + smallest_code + " against " + largest_code +
                       " would be served as 0 at the API's " + std::to_string(rebased_rate_places) +
                       " decimal places; the rates of one day, with EUR's 1, must be less than 2000000 times apart");
        }
    }

    if (!header_seen)
        throw ecb_history_error(source_name, 0, "the file is empty; expected the ECB header and rows");
    if (history.dates_.empty())
        throw ecb_history_error(source_name, 0, "the file has a header but no rates");

    // The ECB writes newest first; lookups want ascending dates. Reorder rows only if needed.
    std::size_t columns = history.codes_.size();
    std::sort(order.begin(), order.end());
    for (std::size_t i = 1; i < order.size(); ++i)
        if (order[i].first == order[i - 1].first)
            throw ecb_history_error(source_name, 0,
                                    "the date " + to_iso_string(std::chrono::year_month_day{order[i].first}) +
                                        " appears twice");
    bool already_ascending = std::is_sorted(history.dates_.begin(), history.dates_.end());
    if (!already_ascending)
    {
        std::vector<decimal> cells;
        cells.reserve(history.cells_.size());
        for (auto& [date, row] : order)
        {
            auto first = history.cells_.begin() + static_cast<std::ptrdiff_t>(row * columns);
            cells.insert(cells.end(), first, first + static_cast<std::ptrdiff_t>(columns));
        }
        history.cells_ = std::move(cells);
        std::transform(order.begin(), order.end(), history.dates_.begin(), [](auto& entry) { return entry.first; });
    }
    return history;
}

ecb_history ecb_history::load_file(const std::filesystem::path& path)
{
    auto too_large = [&] {
        return ecb_history_error(path.string(), 0,
                                 "the file is larger than " + std::to_string(max_file_size >> 20) +
                                     " MiB; the ECB's whole history is about 2 MiB");
    };
    // A regular file tells its size: refuse a big one before reading any of it.
    std::error_code size_error;
    if (std::filesystem::is_regular_file(path, size_error))
    {
        auto size = std::filesystem::file_size(path, size_error);
        if (!size_error && size > max_file_size)
            throw too_large();
    }
    std::ifstream file(path, std::ios::binary);
    if (!file)
        throw ecb_history_error(path.string(), 0, "cannot open the file (does it exist and is it readable?)");
    // Read in blocks with a cap (a FIFO or a device has no size to check first), and look at the
    // header as soon as the first block is in: a big file that is not the ECB's is not read whole.
    std::string text;
    char block[64 * 1024];
    while (file.read(block, sizeof block) || file.gcount() > 0)
    {
        bool first = text.empty();
        text.append(block, static_cast<std::size_t>(file.gcount()));
        if (first && !text.starts_with("Date,") && !text.starts_with("\n") && !text.starts_with("\r\n"))
            throw ecb_history_error(path.string(), 1, "expected the ECB header 'Date,USD,JPY,...'");
        if (text.size() > max_file_size)
            throw too_large(); // grew while read, or not a regular file
    }
    if (file.bad())
        throw ecb_history_error(path.string(), 0, "cannot read the file");
    return parse(text, path.string());
}

std::optional<std::size_t> ecb_history::column_of(currency_code code) const noexcept
{
    auto it = std::find(codes_.begin(), codes_.end(), code);
    if (it == codes_.end())
        return std::nullopt;
    return static_cast<std::size_t>(it - codes_.begin());
}

std::optional<ecb_history::day> ecb_history::on_or_before(std::chrono::sys_days date) const noexcept
{
    auto after = std::upper_bound(dates_.begin(), dates_.end(), date);
    if (after == dates_.begin())
        return std::nullopt;
    return day(this, static_cast<std::size_t>(after - dates_.begin()) - 1);
}

} // namespace fxrates
