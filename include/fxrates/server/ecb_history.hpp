#pragma once

#include <fxrates/currency.hpp>
#include <fxrates/server/decimal.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace fxrates {

/// A rates history file that could not be read, naming the file and the line.
class ecb_history_error : public std::runtime_error
{
public:
    ecb_history_error(std::string source, std::size_t line, const std::string& problem)
        : std::runtime_error(source + (line ? ":" + std::to_string(line) : std::string()) + ": " + problem),
          source_(std::move(source)), line_(line)
    {
    }

    const std::string& source() const noexcept { return source_; }
    /// 1-based line number, or 0 when the problem is with the file as a whole.
    std::size_t line() const noexcept { return line_; }

private:
    std::string source_;
    std::size_t line_;
};

/// The European Central Bank's euro reference rates, one row of rates per business day, in the
/// layout of the ECB's `eurofxref-hist.csv` (`Date,USD,JPY,...,` with `N/A` for no value).
///
/// Immutable after loading, so one instance can be shared by any number of threads.
class ecb_history
{
public:
    /// One business day's rates, as units of each currency per 1 EUR. A view into the history.
    class day
    {
    public:
        std::chrono::sys_days date() const noexcept { return history_->dates_[row_]; }

        /// The rate in column `column` (see `ecb_history::column_of`), if the ECB published one.
        std::optional<decimal> rate_at(std::size_t column) const noexcept
        {
            decimal value = history_->cells_[row_ * history_->codes_.size() + column];
            if (value.units() == 0)
                return std::nullopt;
            return value;
        }

        /// The rate of `code`, if the file has that currency and a value for it that day.
        std::optional<decimal> rate(currency_code code) const noexcept
        {
            auto column = history_->column_of(code);
            return column ? rate_at(*column) : std::nullopt;
        }

    private:
        friend class ecb_history;
        day(const ecb_history* history, std::size_t row) noexcept : history_(history), row_(row) {}
        const ecb_history* history_;
        std::size_t row_;
    };

    /// The rates served, per 1 EUR: a rate outside is an error when loading. With both ends the
    /// rebased rates (6 places) stay within the 18 digits of `decimal`.
    static constexpr decimal min_rate{1, 4};         // 0.0001
    static constexpr decimal max_rate{100000000, 0}; // 1e8

    /// The largest file `load_file` reads (the ECB's whole history is about 2 MiB).
    static constexpr std::uintmax_t max_file_size = 64u << 20;

    /// Parses the CSV text; `source_name` names it in errors. Throws `ecb_history_error`.
    static ecb_history parse(std::string_view csv, std::string source_name);

    /// Reads and parses a file: its first line must be the ECB header, and it must be at most
    /// `max_file_size` bytes (both checked before the rest is read). Throws `ecb_history_error`
    /// naming the file (and line).
    static ecb_history load_file(const std::filesystem::path& path);

    /// The ECB history shipped inside fxrates (1999-01-04 to 2026-04-13), parsed on first use.
    static std::shared_ptr<const ecb_history> embedded();

    /// Number of business days.
    std::size_t size() const noexcept { return dates_.size(); }

    /// The currency columns, in file order.
    std::span<const currency_code> currencies() const noexcept { return codes_; }

    /// The column of `code`, if the file has one.
    std::optional<std::size_t> column_of(currency_code code) const noexcept;

    /// The latest business day on or before `date`, if there is one.
    std::optional<day> on_or_before(std::chrono::sys_days date) const noexcept;

    day earliest() const noexcept { return day(this, 0); }
    day latest() const noexcept { return day(this, dates_.size() - 1); }

private:
    ecb_history() = default;

    std::vector<currency_code> codes_;
    std::vector<std::chrono::sys_days> dates_; // ascending, never empty
    std::vector<decimal> cells_;               // row-major; a zero value means "no rate"
};

} // namespace fxrates
