#include "cli/url_input.hpp"

#include "cli/output.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

namespace fxrates::cli {

url_reader::url_reader(url_sources sources, int stop_fd) : sources_(std::move(sources)), stop_fd_(stop_fd) {}

bool url_reader::rereadable() const
{
    auto regular = [](const std::string& path) {
        struct stat info{};
        return path.empty() || (path != "-" && ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode));
    };
    return regular(sources_.list_path) && (sources_.url_template.empty() || regular(sources_.values_path));
}

bool url_reader::open(const std::string& path, const char* what, std::string& why)
{
    line_number_ = 0;
    if (path == "-")
    {
        if (::fcntl(STDIN_FILENO, F_GETFL) < 0)
        {
            why = std::string(what) + ": cannot read stdin: it is closed (give the list a file, or a pipe)";
            return false;
        }
        in_.emplace(STDIN_FILENO, max_line, stop_fd_);
        return true;
    }
    // A pipe is fine here (`-i <(grep ... list)`): a list ends when its writer does.
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
    {
        why = std::string(what) + ": " + path + " is a folder, not a list";
        return false;
    }
    // Not waiting for a FIFO's writer here: the read does, where it can be stopped.
    file_.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    if (!file_)
    {
        why = std::string(what) + ": cannot open " + path + ": " + std::strerror(errno);
        return false;
    }
    in_.emplace(file_.get(), max_line, stop_fd_);
    return true;
}

url_reader::result url_reader::next(fetch::list_item& item, std::string& why)
{
    for (;;)
    {
        switch (stage_)
        {
        case stage::arguments:
            if (argument_ < sources_.urls.size())
            {
                const auto& url = sources_.urls[argument_++];
                item = {argument_, url, {}, {}};
                if (auto bad = fetch::check_url(url))
                {
                    why = "argument '" + url + "' is not a URL to fetch: " + *bad;
                    return result::bad_line;
                }
                return result::item;
            }
            stage_ = stage::list;
            if (!sources_.list_path.empty() && !open(sources_.list_path, sources_.list_flag, why))
            {
                stage_ = stage::done;
                return result::failed;
            }
            break;
        case stage::list:
        case stage::values: {
            const std::string& path = stage_ == stage::list ? sources_.list_path : sources_.values_path;
            auto got = !path.empty() && in_ ? in_->next(line_) : fetch::line_reader::status::end;
            if (got == fetch::line_reader::status::line || got == fetch::line_reader::status::too_long)
            {
                ++line_number_;
                if (got == fetch::line_reader::status::too_long)
                {
                    item = {};
                    item.line = line_number_;
                    why = std::string(flag()) + " " + path_name(path) + ", line " + std::to_string(line_number_) +
                          ": longer than " + std::to_string(max_line / 1024) + " KiB" +
                          (stage_ == stage::list ? ", which no URL is (is it a list, one URL a line?)"
                                                 : " (is it a list of values, one a line?)");
                    return result::bad_line;
                }
                // A byte order mark, as some Windows editors write, is not part of the first URL.
                if (line_number_ == 1 && line_.starts_with("\xEF\xBB\xBF"))
                    line_.erase(0, 3);
                auto parsed = stage_ == stage::list
                                  ? fetch::parse_list_line(line_, line_number_)
                                  : fetch::template_item(sources_.url_template,
                                                         fetch::parse_value_line(line_, line_number_));
                if (parsed.kind == fetch::line_kind::skip)
                    break;
                item = std::move(parsed.item);
                if (parsed.kind == fetch::line_kind::error)
                {
                    item.line = line_number_;
                    why = std::string(flag()) + " " + path_name(path) + ", " + parsed.error;
                    return result::bad_line;
                }
                return result::item;
            }
            if (got == fetch::line_reader::status::stopped)
            {
                stage_ = stage::done;
                return result::stopped;
            }
            if (got == fetch::line_reader::status::failed)
            {
                why = std::string(flag()) + ": cannot read " + (path == "-" ? "stdin" : path) + " after line " +
                      std::to_string(line_number_) + ": " + std::strerror(in_->error());
                stage_ = stage::done;
                return result::failed;
            }
            file_.reset();
            in_.reset();
            if (stage_ == stage::list && !sources_.url_template.empty())
            {
                stage_ = stage::values;
                if (auto bad = fetch::check_template(sources_.url_template))
                {
                    why = "--template: " + *bad;
                    stage_ = stage::done;
                    return result::failed;
                }
                if (!open(sources_.values_path, "--values", why))
                {
                    stage_ = stage::done;
                    return result::failed;
                }
            }
            else
                stage_ = stage::done;
            break;
        }
        case stage::done:
            return result::end;
        }
    }
}

namespace {

// Appends every item of `sources` to `items`; false, having said why, at the first bad line.
bool read_all(std::string_view command, url_sources sources, std::size_t max_items,
              std::vector<fetch::list_item>& items)
{
    const char* flag = sources.url_template.empty() ? sources.list_flag : "--values";
    url_reader reader(std::move(sources));
    fetch::list_item item;
    std::string why;
    for (;;)
    {
        switch (reader.next(item, why))
        {
        case url_reader::result::item:
            if (items.size() == max_items)
            {
                report(command, std::string(flag) + ": more than " + std::to_string(max_items) +
                                    " URLs in one run; split the list");
                return false;
            }
            items.push_back(std::move(item));
            break;
        case url_reader::result::end:
            return true;
        case url_reader::result::bad_line:
        case url_reader::result::failed:
        case url_reader::result::stopped:
            report(command, why);
            return false;
        }
    }
}

} // namespace

bool read_url_list(std::string_view command, const std::string& path, const char* what, std::size_t max_items,
                   std::vector<fetch::list_item>& items)
{
    url_sources sources;
    sources.list_path = path;
    sources.list_flag = what;
    return read_all(command, std::move(sources), max_items, items);
}

bool read_template_values(std::string_view command, const std::string& url_template, const std::string& values_path,
                          std::size_t max_items, std::vector<fetch::list_item>& items)
{
    url_sources sources;
    sources.url_template = url_template;
    sources.values_path = values_path;
    return read_all(command, std::move(sources), max_items, items);
}

} // namespace fxrates::cli
