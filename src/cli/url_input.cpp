#include "cli/url_input.hpp"

#include "cli/output.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace fxrates::cli {

namespace {

// Reads the lines of `path` ("-": stdin) through `parse`, appending items; false, having said why
// (with the line number), at the first bad line.
template <class Parse>
bool read_lines(std::string_view command_name, const std::string& path, const char* what, std::size_t max_items,
                Parse parse, std::vector<fetch::list_item>& items)
{
    std::ifstream file;
    std::istream* in = &std::cin;
    if (path != "-")
    {
        // A pipe is fine here (`-i <(grep ... list)`): a list ends when its writer does.
        std::error_code ec;
        if (std::filesystem::is_directory(path, ec))
        {
            report(command_name, std::string(what) + ": " + path + " is a folder, not a list");
            return false;
        }
        file.open(path, std::ios::binary);
        if (!file)
        {
            report(command_name, std::string(what) + ": cannot open " + path + ": " + std::strerror(errno));
            return false;
        }
        in = &file;
    }
    std::string line;
    for (std::size_t number = 1; std::getline(*in, line); ++number)
    {
        auto parsed = parse(line, number);
        if (parsed.kind == fetch::line_kind::error)
        {
            report(command_name, std::string(what) + " " + (path == "-" ? "(stdin)" : path) + ", " + parsed.error);
            return false;
        }
        if (parsed.kind == fetch::line_kind::item)
        {
            if (items.size() == max_items)
            {
                report(command_name, std::string(what) + ": more than " + std::to_string(max_items) +
                                         " URLs in one run; split the list");
                return false;
            }
            items.push_back(std::move(parsed.item));
        }
    }
    if (in->bad())
    {
        report(command_name, std::string(what) + ": cannot read " + (path == "-" ? "stdin" : path));
        return false;
    }
    return true;
}

} // namespace

bool read_url_list(std::string_view command, const std::string& path, const char* what, std::size_t max_items,
                   std::vector<fetch::list_item>& items)
{
    return read_lines(command, path, what, max_items, fetch::parse_list_line, items);
}

bool read_template_values(std::string_view command, const std::string& url_template, const std::string& values_path,
                          std::size_t max_items, std::vector<fetch::list_item>& items)
{
    if (auto why = fetch::check_template(url_template))
    {
        report(command, "--template: " + *why);
        return false;
    }
    auto from_value = [&](std::string_view text, std::size_t number) {
        return fetch::template_item(url_template, fetch::parse_value_line(text, number));
    };
    return read_lines(command, values_path, "--values", max_items, from_value, items);
}

} // namespace fxrates::cli
