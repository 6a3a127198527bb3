#pragma once

// The file names of `fxrates fetch -o DIR`. Names come from URLs, that is from whoever wrote the
// list or runs the server, so every name is checked after percent-decoding: it must stay inside DIR,
// be printable UTF-8 and fit the file system's limits. Two URLs never share a file.

#include "cli/fetch/name_hash_table.hpp"
#include "cli/fetch/url_list.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace fxrates::cli::fetch {

/// What a `build_name` call gives: the name, or why there is none.
struct name_result
{
    std::string name;  ///< relative, `/`-separated, confined; empty on error
    std::string error; ///< "line N: ..." when no safe name could be made

    bool ok() const noexcept { return error.empty(); }
};

/**
 * The `--name` pattern: literal text and placeholders.
 *
 * - `{index}`: the item's position in the input, from 1 (the same number as the report's `index`);
 * - `{name}`: the URL's last path segment, percent-decoded; `{index}` when that is empty
 *   (`https://host/` or `.../dir/`);
 * - `{host}`: the URL's host, decoded;
 * - `{path}`: the URL's path without its leading `/`, decoded; its `/` make subfolders; when it is
 *   empty or ends in `/`, `{index}` is appended so that it names a file;
 * - `{value}`: the template value the URL was made from.
 *
 * `{name}`, `{host}` and `{value}` are one component each: a `/` in them (from `%2F`) is refused
 * rather than turned into folders. The default pattern is `{name}`.
 */
class name_pattern
{
public:
    /// The default pattern, `{name}`.
    name_pattern();

    /// Parses a `--name` value. An unknown or unclosed placeholder, an empty pattern or an absolute
    /// one is refused here, before any URL is fetched: nullopt with `why` set.
    static std::optional<name_pattern> parse(std::string_view text, std::string& why);

    /// The pattern as written.
    const std::string& text() const noexcept { return text_; }

private:
    enum class field
    {
        literal,
        index,
        name,
        host,
        path,
        value,
    };
    struct part
    {
        field kind = field::literal;
        std::string literal;
    };

    friend name_result build_name(const name_pattern& pattern, const list_item& item, std::size_t index);

    std::string text_;
    std::vector<part> parts_;
};

/// The output name of `item`, the `index`th of the input (from 0; `{index}` shows index + 1). The
/// FILE of a "URL FILE" line, when there is one, is the name as written, instead of the pattern.
/// Either way the name is checked with `check_confined`.
name_result build_name(const name_pattern& pattern, const list_item& item, std::size_t index);

/// Empty if `name` is safe to create below the output folder, else why not: it must be non-empty,
/// relative, with no empty, `.` or `..` component, no backslash, valid UTF-8 with no control
/// character (C0, DEL, C1), components of at most 255 bytes and at most 4096 bytes in all.
std::optional<std::string> check_confined(std::string_view name);

/**
 * The names taken so far in one run, so that two items never write the same file: the second is
 * refused, naming the line of the first. A name that needs another item's file as a folder (`a`
 * and `a/b`) is refused too.
 *
 * A list of a million files must not hold a million names: each name is kept as a 64-bit hash
 * (with its line) in one flat table, 12 to 24 bytes a name. Two different names with equal hashes
 * would be taken for one (odds about n^2 / 2^65: 3e-8 for a million names); the message then
 * still names the earlier line, where a user can see that it is not the same file.
 */
class name_registry
{
public:
    /// Takes `name` for the item of input line `line`; if it is taken (or conflicts as above), says
    /// so in a "line N: ..." message and takes nothing.
    std::optional<std::string> claim(const std::string& name, std::size_t line);

    /// How many names have been taken.
    std::size_t size() const noexcept { return files_.size(); }

private:
    // Name hashes (cli/fetch/name_hash_table.hpp), each with the line of its item (past 4 billion
    // lines, the last line number that fits).
    name_hash_table files_;   // name -> line of its item
    name_hash_table folders_; // folder -> line of the first item inside
};

} // namespace fxrates::cli::fetch
