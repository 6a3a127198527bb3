#include "cli/fetch/json_fields.hpp"
#include "cli/fetch/messages.hpp"
#include "cli/json_text.hpp"

#include <boost/json/basic_parser_impl.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>

namespace fxrates::cli::fetch {

namespace json = boost::json;

namespace {

// One --field: the pointer's reference tokens, and the selected value's text once read.
struct field_target
{
    struct token
    {
        std::string key;                  // the token unescaped (~1 is /, ~0 is ~)
        std::optional<std::size_t> index; // the token as an array index, when it is one ("0", "12"; not "01" or "-")
    };
    std::string_view pointer; // as given
    std::vector<token> tokens;
    bool found = false;
    bool capturing = false;  // the value is being read: its events are written to `text`
    bool is_string = false;  // a string value: `text` holds it raw, not as JSON
    std::size_t root = 0;    // the containers open around the value
    std::string text;
};

// The first `count` reference tokens of `pointer`, as written: "/a~1b/c", 1 is "/a~1b".
std::string_view pointer_prefix(std::string_view pointer, std::size_t count)
{
    std::size_t end = 0;
    for (std::size_t i = 0; i < count && end < pointer.size(); ++i)
        end = std::min(pointer.find('/', end + 1), pointer.size());
    return pointer.substr(0, end);
}

field_target parse_target(std::string_view pointer)
{
    field_target target;
    target.pointer = pointer;
    while (!pointer.empty())
    {
        pointer.remove_prefix(1); // the '/'
        auto end = pointer.find('/');
        std::string_view raw = pointer.substr(0, end);
        pointer.remove_prefix(end == std::string_view::npos ? pointer.size() : end);
        field_target::token token;
        for (std::size_t i = 0; i < raw.size(); ++i)
        {
            if (raw[i] == '~' && i + 1 < raw.size())
                token.key += raw[++i] == '1' ? '/' : '~';
            else
                token.key += raw[i];
        }
        const bool digits = !token.key.empty() && token.key.size() <= 18 &&
                            token.key.find_first_not_of("0123456789") == std::string::npos &&
                            (token.key.size() == 1 || token.key.front() != '0');
        if (digits)
            token.index = std::stoull(token.key);
        target.tokens.push_back(std::move(token));
    }
    return target;
}

// The events of Boost.JSON's SAX parser, turned into the values the pointers select: nothing else
// of the answer is kept. Numbers keep the text the server sent, digit for digit (no double in
// between to round 12345678901234567890 or turn 1e400 into inf). An object along a pointer's path
// that gives the next key twice is refused: which value is meant cannot be told (RFC 8259 4).
class field_reader
{
public:
    static constexpr std::size_t max_object_size = std::size_t(-1);
    static constexpr std::size_t max_array_size = std::size_t(-1);
    static constexpr std::size_t max_key_size = std::size_t(-1);
    static constexpr std::size_t max_string_size = std::size_t(-1);

    explicit field_reader(const std::vector<std::string>& pointers)
    {
        for (const auto& pointer : pointers)
            targets_.push_back(parse_target(pointer));
    }

    std::vector<field_target>& targets() noexcept { return targets_; }
    const std::string& why() const noexcept { return why_; }

    bool on_document_begin(json::error_code&) { return true; }
    bool on_document_end(json::error_code&) { return true; }

    bool on_object_begin(json::error_code&)
    {
        begin_value();
        emit("{");
        frame opened;
        opened.object = true;
        opened.on_path = std::any_of(targets_.begin(), targets_.end(), [&](const field_target& target) {
            return target.tokens.size() > path_.size() && prefix_matches(target, path_.size());
        });
        path_.push_back(std::move(opened));
        return true;
    }

    bool on_object_end(std::size_t, json::error_code&)
    {
        path_.pop_back();
        emit("}");
        end_value();
        return true;
    }

    bool on_array_begin(json::error_code&)
    {
        begin_value();
        emit("[");
        path_.emplace_back();
        return true;
    }

    bool on_array_end(std::size_t, json::error_code&)
    {
        path_.pop_back();
        emit("]");
        end_value();
        return true;
    }

    bool on_key_part(json::string_view part, std::size_t, json::error_code&)
    {
        frame& object = path_.back();
        if (object.key_complete)
        {
            object.key.clear();
            object.key_complete = false;
        }
        object.key.append(part.data(), part.size());
        return true;
    }

    bool on_key(json::string_view part, std::size_t size, json::error_code& ec)
    {
        on_key_part(part, size, ec);
        frame& object = path_.back();
        object.key_complete = true;
        if (capturing_ > 0)
        {
            std::string text = object.count > 0 ? "," : "";
            append_json_string(text, object.key);
            text += ':';
            emit(text);
        }
        ++object.count;
        if (object.on_path && repeats_key_on_path(object))
        {
            ec = json::error::syntax; // any error stops the parser: `why_` says what it was
            return false;
        }
        return true;
    }

    bool on_string_part(json::string_view part, std::size_t, json::error_code&)
    {
        if (!in_string_)
        {
            begin_value();
            in_string_ = true;
            string_.clear();
        }
        if (capturing_ > 0)
            string_.append(part.data(), part.size());
        return true;
    }

    bool on_string(json::string_view part, std::size_t size, json::error_code& ec)
    {
        on_string_part(part, size, ec);
        in_string_ = false;
        // Each field gets it: raw where the field is this string, as JSON where it is inside one.
        for (auto& target : targets_)
        {
            if (!target.capturing)
                continue;
            if (target.root == path_.size()) // the selected value is this string
            {
                target.is_string = true;
                target.text = string_;
            }
            else
                append_json_string(target.text, string_);
        }
        end_value();
        return true;
    }

    bool on_number_part(json::string_view part, json::error_code&)
    {
        if (!in_number_)
        {
            begin_value();
            in_number_ = true;
        }
        emit(std::string_view(part.data(), part.size()));
        return true;
    }

    bool on_int64(std::int64_t, json::string_view part, json::error_code& ec) { return end_number(part, ec); }
    bool on_uint64(std::uint64_t, json::string_view part, json::error_code& ec) { return end_number(part, ec); }
    bool on_double(double, json::string_view part, json::error_code& ec) { return end_number(part, ec); }

    bool on_bool(bool value, json::error_code&)
    {
        begin_value();
        emit(value ? "true" : "false");
        end_value();
        return true;
    }

    bool on_null(json::error_code&)
    {
        begin_value();
        emit("null");
        end_value();
        return true;
    }

    bool on_comment_part(json::string_view, json::error_code&) { return true; }
    bool on_comment(json::string_view, json::error_code&) { return true; }

private:
    struct frame
    {
        bool object = false;
        bool on_path = false;      // an object whose keys lead along some pointer: repeats are checked
        bool key_complete = false; // the next key part starts a new key
        std::size_t count = 0;     // members or elements begun so far
        std::size_t current = 0;   // the element being read (an array)
        std::string key;           // the member being read (an object)
        std::vector<std::string> keys_on_path; // the keys along a pointer met so far
    };

    bool end_number(json::string_view part, json::error_code& ec)
    {
        on_number_part(part, ec);
        in_number_ = false;
        end_value();
        return true;
    }

    // Whether the open containers are those of the first `depth` tokens of `target`.
    bool prefix_matches(const field_target& target, std::size_t depth) const
    {
        for (std::size_t i = 0; i < depth; ++i)
        {
            const frame& level = path_[i];
            const auto& token = target.tokens[i];
            if (level.object ? !level.key_complete || level.key != token.key
                             : !token.index || *token.index != level.current)
                return false;
        }
        return true;
    }

    bool repeats_key_on_path(frame& object)
    {
        const std::size_t depth = path_.size() - 1;
        for (const auto& target : targets_)
        {
            if (target.tokens.size() <= depth || target.tokens[depth].key != object.key || !prefix_matches(target, depth))
                continue;
            if (std::find(object.keys_on_path.begin(), object.keys_on_path.end(), object.key) !=
                object.keys_on_path.end())
            {
                why_ = "the answer gives " + escape_untrusted(pointer_prefix(target.pointer, depth + 1), false) +
                       " twice (a repeated key): which value is meant cannot be told";
                return true;
            }
            object.keys_on_path.push_back(object.key);
            return false;
        }
        return false;
    }

    // A value starts here: the comma before it for the values being read around it, then the
    // pointers that select it.
    void begin_value()
    {
        if (!path_.empty() && !path_.back().object)
        {
            frame& array = path_.back();
            if (array.count > 0)
                emit(",");
            array.current = array.count++;
        }
        for (auto& target : targets_)
            if (!target.found && target.tokens.size() == path_.size() && prefix_matches(target, path_.size()))
            {
                target.found = true;
                target.capturing = true;
                target.root = path_.size();
                ++capturing_;
            }
    }

    void end_value()
    {
        for (auto& target : targets_)
            if (target.capturing && target.root == path_.size())
            {
                target.capturing = false;
                --capturing_;
            }
    }

    void emit(std::string_view text)
    {
        if (capturing_ == 0)
            return;
        for (auto& target : targets_)
            if (target.capturing)
                target.text.append(text);
    }

    std::vector<field_target> targets_;
    std::vector<frame> path_;
    std::size_t capturing_ = 0;
    bool in_string_ = false;
    bool in_number_ = false;
    std::string string_;
    std::string why_;
};

// One field of the line. Doubling backslashes first makes the escapes that escape_untrusted adds
// unambiguous: `\t` in the output is always a tab in the value, `\\t` a backslash and a t.
std::string field_text(const field_target& target)
{
    if (!target.is_string)
        return target.text; // compact JSON whose strings were escaped for a terminal (append_json_string)
    std::string raw;
    raw.reserve(target.text.size());
    for (char c : target.text)
        raw += c == '\\' ? std::string_view("\\\\") : std::string_view(&c, 1);
    return escape_untrusted(raw, false);
}

} // namespace

std::optional<std::string> check_pointer(std::string_view pointer)
{
    if (pointer.empty())
        return std::nullopt;
    if (pointer.front() != '/')
        return "--field " + quoted(pointer) + " is not a JSON pointer: it must start with '/' (/rates/USD)";
    for (std::size_t i = 0; i < pointer.size(); ++i)
        if (pointer[i] == '~' &&
            (i + 1 == pointer.size() || (pointer[i + 1] != '0' && pointer[i + 1] != '1')))
            return "--field " + quoted(pointer) +
                   " is not a JSON pointer: '~' must be followed by 0 (for ~) or 1 (for /)";
    return std::nullopt;
}

bool extract_fields(std::string_view body, const std::vector<std::string>& pointers, std::string& line,
                    std::string& why)
{
    line.clear();
    why.clear();
    json::parse_options options;
    options.max_depth = max_json_depth;
    json::basic_parser<field_reader> parser(options, pointers);
    json::error_code ec;
    const std::size_t read = parser.write_some(false, body.data(), body.size(), ec);
    if (!ec && read < body.size())
        ec = json::error::extra_data;
    if (ec)
    {
        why = !parser.handler().why().empty() ? parser.handler().why()
                                              : "the answer is not JSON (" + ec.message() + ")";
        return false;
    }
    const auto& targets = parser.handler().targets();
    for (std::size_t i = 0; i < targets.size(); ++i)
    {
        if (!targets[i].found)
        {
            why = "no field " + escape_untrusted(pointers[i], false) + " in the answer";
            line.clear();
            return false;
        }
        if (i > 0)
            line += '\t';
        line += field_text(targets[i]);
    }
    return true;
}

} // namespace fxrates::cli::fetch
