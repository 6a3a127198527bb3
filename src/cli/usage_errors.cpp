#include "cli/usage_errors.hpp"

#include "cli/output.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>
#include <numeric>

namespace fxrates::cli {

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b)
{
    std::vector<std::size_t> row(b.size() + 1);
    std::iota(row.begin(), row.end(), std::size_t{0});
    for (std::size_t i = 1; i <= a.size(); ++i)
    {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j)
        {
            std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

const CLI::App* visible_subcommand(const CLI::App& app, std::string_view name)
{
    for (const auto* sub : app.get_subcommands([](const CLI::App* s) { return !s->get_group().empty(); }))
        if (sub->get_name() == name)
            return sub;
    return nullptr;
}

std::vector<std::string> visible_subcommand_names(const CLI::App& app)
{
    std::vector<std::string> names;
    for (const auto* sub : app.get_subcommands([](const CLI::App* s) { return !s->get_group().empty(); }))
        names.push_back(sub->get_name());
    return names;
}

} // namespace

std::string closest(std::string_view typed, const std::vector<std::string>& candidates)
{
    std::string best;
    std::size_t best_distance = std::max<std::size_t>(2, typed.size() / 3) + 1;
    for (const auto& candidate : candidates)
    {
        // A prefix of exactly one name (`--sym`) is what it was meant to be.
        std::size_t distance = candidate.starts_with(typed) && typed.size() > 2 ? 1 : edit_distance(typed, candidate);
        if (distance < best_distance)
        {
            best_distance = distance;
            best = candidate;
        }
    }
    return best;
}

int report_parse_error(const CLI::App& app, const CLI::ParseError& error, int argc, char** argv)
{
    if (error.get_exit_code() == 0) // --help, --version
        return app.exit(error);

    // The command is the first word after the program's options.
    const CLI::App* command = nullptr;
    std::string first_word;
    int i = 1;
    for (; i < argc; ++i)
    {
        std::string_view arg = argv[i];
        if (arg.starts_with("-"))
            continue;
        first_word = arg;
        command = visible_subcommand(app, arg);
        break;
    }
    std::string name = command ? command->get_name() : "";
    std::string message = error.what();
    if (!command && !first_word.empty())
    {
        auto meant = closest(first_word, visible_subcommand_names(app));
        message = "'" + first_word + "' is not a command" + (meant.empty() ? "" : "; did you mean " + meant + "?");
    }
    else if (command && dynamic_cast<const CLI::ExtrasError*>(&error))
    {
        // Name the first unknown option, and the option of this command it most looks like.
        std::vector<std::string> known;
        for (const auto* option : command->get_options())
            for (const auto& long_name : option->get_lnames())
                known.push_back("--" + long_name);
        for (++i; i < argc; ++i)
        {
            std::string_view arg = argv[i];
            if (!arg.starts_with("--") || arg == "--")
                continue;
            std::string typed(arg.substr(0, arg.find('=')));
            if (std::find(known.begin(), known.end(), typed) != known.end())
                continue;
            auto meant = closest(typed, known);
            message = typed + " is not an option of fxrates " + name +
                      (meant.empty() ? "" : "; did you mean " + meant + "?");
            break;
        }
    }
    // One line, with where to look: a script's log keeps one line per failure.
    report(name, message + " (see 'fxrates" + (name.empty() ? "" : " " + name) + " --help')");
    return 1;
}

} // namespace fxrates::cli
