#include <fxrates/date.hpp>
#include <fxrates/decode.hpp>
#include <fxrates/utf8.hpp>

#include <boost/container/small_vector.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <utility>

namespace fxrates {

namespace json = boost::json;

namespace {

constexpr std::size_t max_error_text = 512;

error_code fail(diagnostics& diag, std::string message)
{
    diag.set_client_message(std::move(message));
    return errc::bad_response;
}

// Why a body the parser refused is not an answer. Nesting past the parser's depth is valid JSON
// that is not read, not "not JSON".
std::string not_json(error_code ec)
{
    if (ec == json::error::too_deep)
        return "the body nests arrays or objects more than " + std::to_string(json::parse_options{}.max_depth) +
               " levels deep, which no API answer does; fxrates does not read it";
    return "the body is not JSON (" + ec.message() + ")";
}

// Parses with every allocation in `resource`. (Assigning the result to an existing value would
// deep-copy it into that value's heap storage: the document must be constructed from it.)
json::value parse_document(std::string_view body, json::monotonic_resource& resource, error_code& ec,
                           diagnostics& diag)
{
    json::value document = json::parse(body, ec, &resource);
    if (ec)
    {
        fail(diag, not_json(ec));
        ec = errc::bad_response;
    }
    return document;
}

const json::string* string_field(const json::object& object, std::string_view key)
{
    auto it = object.find(key);
    return it != object.end() && it->value().is_string() ? &it->value().get_string() : nullptr;
}

std::string clipped(std::string_view text)
{
    return std::string(text.substr(0, utf8_prefix_length(text, max_error_text)));
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

// A `/rates` answer read as the parser meets it, with no document built: a tree of ~40 values,
// each key hashed, only to read three fields (about 5,000 of the ~90,000 instructions a request
// costs the client). The answer means what Boost.JSON's document would: unknown keys and their
// values are skipped, and the first fault is reported
// in the order a reader of the document checks (the top level, `date`, `base`, `rates`, then each
// rate in order).
class rates_reader
{
public:
    static constexpr std::size_t max_array_size = std::size_t(-1);
    static constexpr std::size_t max_object_size = std::size_t(-1);
    static constexpr std::size_t max_string_size = std::size_t(-1);
    static constexpr std::size_t max_key_size = std::size_t(-1);

    explicit rates_reader(rates& out) : out_(out) {}

    error_code finish(diagnostics& diag)
    {
        if (!top_is_object_)
            return fail(diag, "the body is not a JSON object");
        // A field given twice: which one the server meant is anyone's guess (a document keeps the
        // last, other readers the first), and a wrong guess prints wrong numbers.
        if (!twice_.empty())
            return fail(diag, "the answer gives the field '" + twice_ + "' twice");
        if (!date_.present)
            return fail(diag, "the field 'date' is missing or not a string");
        auto date = parse_iso_date(date_.text);
        if (!date)
            return fail(diag, "the field 'date' is not a YYYY-MM-DD date: '" + clipped(date_.text) + "'");
        if (!base_.present)
            return fail(diag, "the field 'base' is missing or not a string");
        auto base = currency_code::parse(base_.text);
        if (!base)
            return fail(diag, "the field 'base' is not a currency code: '" + clipped(base_.text) + "'");
        if (rates_ == presence::missing)
            return fail(diag, "the field 'rates' is missing");
        if (rates_ == presence::wrong_kind)
            return fail(diag, "the field 'rates' is not an object");
        // Answers come in the ECB's order, not by code: sorted once here, on integer keys (the
        // map's own inserts compared codes letter by letter and moved the tail each time). A code
        // given twice is a fault, as a field given twice is.
        std::sort(given_.begin(), given_.end(),
                  [](const auto& a, const auto& b) { return a.first < b.first; });
        std::size_t fault_place = bad_key_ ? bad_key_->first : std::size_t(-1);
        std::string fault = bad_key_ ? std::move(bad_key_->second) : std::string();
        for (std::size_t first = 0, last = 0; first < given_.size(); first = last + 1)
        {
            last = first;
            while (last + 1 < given_.size() && (given_[last + 1].first >> 32) == (given_[first].first >> 32))
                ++last;
            auto place = static_cast<std::uint32_t>(given_[first].first);
            if ((last != first || !is_rate(given_[first].second)) && place < fault_place)
            {
                fault_place = place;
                fault = "the rate for " + code_of(given_[first].first).str() +
                        (last != first ? " is given twice" : " is not a positive number");
            }
        }
        if (!fault.empty())
            return fail(diag, std::move(fault));
        out_.date = *date;
        out_.base = *base;
        auto& values = out_.values;
        values.clear();
        values.reserve(given_.size());
        for (std::size_t i = 0; i < given_.size(); ++i)
            if (i + 1 == given_.size() || (given_[i + 1].first >> 32) != (given_[i].first >> 32))
                values.emplace_hint(values.end(), code_of(given_[i].first), given_[i].second);
        return {};
    }

    bool on_document_begin(error_code&) { return true; }
    bool on_document_end(error_code&) { return true; }
    bool on_object_begin(error_code&) { return open(true); }
    bool on_object_end(std::size_t, error_code&) { return close(); }
    bool on_array_begin(error_code&) { return open(false); }
    bool on_array_end(std::size_t, error_code&) { return close(); }

    bool on_key_part(json::string_view part, std::size_t, error_code&)
    {
        if (depth_ <= 2)
            pending_.append(part.data(), part.size());
        return true;
    }
    bool on_key(json::string_view last, std::size_t, error_code&)
    {
        if (depth_ > 2)
            return true;
        std::string_view key = whole(last);
        if (depth_ == 1)
        {
            field_ = key == "date"    ? field::date
                     : key == "base"  ? field::base
                     : key == "rates" ? field::rates
                                      : field::other;
            unsigned bit = 1u << static_cast<unsigned>(field_);
            if (field_ != field::other && (seen_ & bit) != 0 && twice_.empty())
                twice_ = key;
            seen_ |= bit;
        }
        else if (in_rates())
        {
            place_ = entries_++;
            code_ = currency_code::parse(key);
            if (!code_ && !bad_key_)
                bad_key_.emplace(place_, "a key of 'rates' is not a currency code: '" + clipped(key) + "'");
        }
        pending_.clear();
        return true;
    }

    bool on_string_part(json::string_view part, std::size_t, error_code&)
    {
        if (depth_ == 1 && (field_ == field::date || field_ == field::base))
            pending_.append(part.data(), part.size());
        return true;
    }
    bool on_string(json::string_view last, std::size_t, error_code&)
    {
        if (depth_ == 1 && (field_ == field::date || field_ == field::base))
        {
            auto& target = field_ == field::date ? date_ : base_;
            target.text.assign(whole(last));
            target.present = true;
            pending_.clear();
            return true;
        }
        return scalar();
    }

    bool on_number_part(json::string_view, error_code&) { return true; }
    bool on_int64(std::int64_t value, json::string_view, error_code&)
    {
        return number(static_cast<double>(value));
    }
    bool on_uint64(std::uint64_t value, json::string_view, error_code&)
    {
        return number(static_cast<double>(value));
    }
    bool on_double(double value, json::string_view, error_code&) { return number(value); }
    bool on_bool(bool, error_code&) { return scalar(); }
    bool on_null(error_code&) { return scalar(); }
    bool on_comment_part(json::string_view, error_code&) { return true; }
    bool on_comment(json::string_view, error_code&) { return true; }

private:
    enum class field
    {
        other,
        date,
        base,
        rates
    };
    enum class presence
    {
        missing,
        object,
        wrong_kind
    };
    struct text_field
    {
        std::string text;
        bool present = false;
    };

    // The code's letters in order of significance, then the rate's place in the answer.
    static std::uint64_t sort_key(currency_code code, std::size_t place)
    {
        auto letters = code.view();
        std::uint64_t packed = 0;
        for (char c : letters)
            packed = packed << 8 | static_cast<unsigned char>(c);
        return packed << 32 | static_cast<std::uint32_t>(place);
    }

    static currency_code code_of(std::uint64_t key)
    {
        char letters[3] = {static_cast<char>(key >> 48), static_cast<char>(key >> 40),
                           static_cast<char>(key >> 32)};
        return currency_code(std::string_view(letters, 3));
    }

    bool in_rates() const { return depth_ == 2 && field_ == field::rates && rates_ == presence::object; }

    // A key or string given in parts (escapes, or one longer than the parser's buffer).
    std::string_view whole(json::string_view last)
    {
        if (pending_.empty())
            return {last.data(), last.size()};
        pending_.append(last.data(), last.size());
        return pending_;
    }

    bool open(bool object)
    {
        if (depth_ == 0)
            top_is_object_ = object;
        else if (depth_ == 1)
            value_at_top(object ? presence::object : presence::wrong_kind);
        else if (in_rates())
            rate(not_a_number);
        ++depth_;
        return true;
    }

    bool close()
    {
        --depth_;
        return true;
    }

    // A value of a top-level key: the last one given counts.
    void value_at_top(presence kind)
    {
        switch (field_)
        {
        case field::date:
            date_.present = false;
            break;
        case field::base:
            base_.present = false;
            break;
        case field::rates:
            rates_ = kind;
            given_.clear();
            bad_key_.reset();
            entries_ = 0;
            break;
        case field::other:
            break;
        }
    }

    // A string, a boolean or null: never a rate, and at the top level not what date, base or
    // rates must be (a string for date and base is taken by on_string before this).
    bool scalar() { return number(not_a_number); }

    bool number(double value)
    {
        if (depth_ == 1)
            value_at_top(presence::wrong_kind);
        else if (in_rates())
            rate(value);
        return true;
    }

    // The value of the rates entry whose key came last; judged once the entry's last value is known.
    void rate(double value)
    {
        if (code_)
            given_.push_back({sort_key(*code_, place_), value});
    }

    static bool is_rate(double value) { return std::isfinite(value) && value > 0; }

    static constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN(); // a string, null, ...

    rates& out_;
    int depth_ = 0; // objects and arrays open around the parser
    bool top_is_object_ = false;
    field field_ = field::other; // the top-level key whose value comes
    text_field date_;
    text_field base_;
    presence rates_ = presence::missing;
    std::optional<currency_code> code_; // the key of the rate that comes, if a currency code
    std::size_t place_ = 0;             // that key's place among the entries of `rates`
    unsigned seen_ = 0;                 // the top-level fields met, a bit each
    std::string twice_;                 // the first of them given twice
    std::size_t entries_ = 0;           // the entries of `rates` so far
    std::optional<std::pair<std::size_t, std::string>> bad_key_; // the first key that is no code
    // The rates of `rates` as given: (sort_key, rate). Kept inline for a usual answer (~30).
    boost::container::small_vector<std::pair<std::uint64_t, double>, 64> given_;
    std::string pending_; // a key or string given so far, when given in parts
};

} // namespace

error_code decode_rates(std::string_view body, rates& out, diagnostics& diag)
{
    diag.clear();
    json::basic_parser<rates_reader> parser(json::parse_options{}, out);
    error_code ec;
    auto used = parser.write_some(false, body.data(), body.size(), ec);
    if (!ec && used < body.size())
        ec = json::error::extra_data;
    if (ec)
        return fail(diag, not_json(ec));
    return parser.handler().finish(diag);
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
