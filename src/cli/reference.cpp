#include "cli/reference.hpp"

#include <iostream>
#include <string_view>
#include <vector>

namespace fxrates::cli {

namespace {

struct command_reference
{
    std::string_view name;
    std::string_view examples;
    std::string_view exit_codes;
};

constexpr std::string_view rates_examples = R"(  fxrates rates --local
      the book's five bases, today's rates, from the built-in server (no network)
  fxrates rates --base USD,EUR,GBP --symbols JPY,CHF --date 2019-04-09 -q
  fxrates rates --api https://localhost:8443 --cacert ca.pem --rate 2 --burst 4)";

constexpr std::string_view rates_exit_codes = R"(  0    every base succeeded
  1    the command line was wrong, output could not be written, or every base
       failed
  2    some bases failed (the others are printed; each failure is explained on
       stderr)
  130  interrupted by Ctrl-C (what finished is printed, the rest listed); 143
       for SIGTERM)";

constexpr std::string_view fetch_examples = R"(  fxrates fetch --cacert ca.pem -i urls.txt > all.txt
      each body whole, in the list's order, whatever order they finish in
  fxrates fetch --cacert ca.pem -i images.txt -o images --per-host 8 --report -
      files saved atomically under images/, one JSON report line per URL
  fxrates fetch --cacert ca.pem --template 'https://localhost:8443/rates?base={}' \
      --values bases.txt --field /base --field /rates/EUR)";

constexpr std::string_view fetch_exit_codes = R"(  0    every URL was fetched (and saved)
  1    the command line or the list was wrong, output could not be written,
       or every URL failed
  2    some URLs failed (each explained on stderr and in --report; the others
       are printed or saved)
  130  interrupted by Ctrl-C (finished files kept, partial ones removed, the
       rest listed); 143 for SIGTERM)";

constexpr std::string_view compare_examples = R"(  fxrates compare --local --timeline t.svg --trace t.json
  fxrates compare --local --latency 100 --repeat 200 --threads 32
  fxrates compare --local --strategies async,thread-pool --format json)";

constexpr std::string_view compare_exit_codes = R"(  0    every request of every strategy succeeded
  1    the command line was wrong, or output could not be written
  2    some request failed
  130  interrupted by Ctrl-C (the strategies that finished are printed); 143
       for SIGTERM)";

constexpr std::string_view serve_examples = R"(  fxrates serve --port 8443 --cert-out ca.pem
      then: curl --cacert ca.pem 'https://localhost:8443/rates?base=USD'
  fxrates serve --port 8443 --rate-limit 2 --burst 4 --cert-out ca.pem
      the real API's limit: 2 requests per second, a burst of 4, 429 with Retry-After
  fxrates serve --port 0 --fault 500:0.3 --fault stall:0.05 --latency 100)";

constexpr std::string_view serve_exit_codes = R"(  0    stopped by Ctrl-C or SIGTERM, cleanly
  1    the command line was wrong, the port or files could not be used, or
       the banner or request log could not be written)";

constexpr command_reference commands[] = {
    {"rates", rates_examples, rates_exit_codes},
    {"fetch", fetch_examples, fetch_exit_codes},
    {"compare", compare_examples, compare_exit_codes},
    {"serve", serve_examples, serve_exit_codes},
};

std::string footer(const command_reference& command)
{
    return "\nExamples:\n" + std::string(command.examples) + "\n\nExit codes:\n" + std::string(command.exit_codes) +
           "\n";
}

bool visible(const CLI::App* command) { return !command->get_group().empty(); }

bool visible(const CLI::Option* option) { return !option->get_group().empty(); }

std::vector<const CLI::App*> visible_commands(const CLI::App& app)
{
    return app.get_subcommands([](const CLI::App* command) { return visible(command); });
}

std::vector<const CLI::Option*> visible_options(const CLI::App& command)
{
    return command.get_options([](const CLI::Option* option) { return visible(option) && option->nonpositional(); });
}

// The option's names as a user types them: "-h, --help".
std::string spelled(const CLI::Option& option)
{
    std::string names;
    for (const auto& name : option.get_snames())
        names += (names.empty() ? "-" : ", -") + name;
    for (const auto& name : option.get_lnames())
        names += (names.empty() ? "--" : ", --") + name;
    return names;
}

// The values of an option checked against a fixed set ("TEXT:{table,json,csv}"); empty otherwise.
std::vector<std::string> fixed_values(const CLI::Option& option)
{
    std::string type = option.get_type_name();
    auto open = type.find('{');
    auto close = type.find('}', open);
    std::vector<std::string> values;
    if (open == std::string::npos || close == std::string::npos)
        return values;
    std::string_view list(type.data() + open + 1, close - open - 1);
    while (!list.empty())
    {
        auto comma = list.find(',');
        values.emplace_back(list.substr(0, comma));
        list.remove_prefix(comma == std::string_view::npos ? list.size() : comma + 1);
    }
    return values;
}

bool takes_value(const CLI::Option& option) { return option.get_type_size_max() > 0; }

// roff: a leading dot or quote would be read as a request, a backslash as an escape, and a
// hyphen as a hyphen rather than the minus sign options are typed with.
std::string roff(std::string_view text)
{
    std::string out;
    bool line_start = true;
    for (char c : text)
    {
        if (line_start && (c == '.' || c == '\''))
            out += "\\&";
        if (c == '\\')
            out += "\\e";
        else if (c == '-')
            out += "\\-";
        else
            out += c;
        line_start = c == '\n';
    }
    return out;
}

std::string words(const std::vector<std::string>& items)
{
    std::string out;
    for (const auto& item : items)
        out += (out.empty() ? "" : " ") + item;
    return out;
}

const command_reference* reference_of(std::string_view name)
{
    for (const auto& command : commands)
        if (command.name == name)
            return &command;
    return nullptr;
}

} // namespace

void add_help_footers(CLI::App& app)
{
    for (const auto& command : commands)
        app.get_subcommand(std::string(command.name))->footer(footer(command));
    app.footer("\nRun 'fxrates COMMAND --help' for a command's options, examples and exit codes.\n");
}

CLI::App* add_reference_command(CLI::App& app, std::string& kind)
{
    // Hidden: the build runs it to write the man page and the completion scripts it installs.
    auto* reference = app.add_subcommand("reference", "")->group("");
    reference->add_option("kind", kind)->required()->check(CLI::IsMember({"man", "bash", "zsh"}));
    return reference;
}

int run_reference(const CLI::App& app, const std::string& kind)
{
    std::string text = kind == "man" ? man_page(app) : kind == "bash" ? bash_completion(app) : zsh_completion(app);
    std::cout << text << std::flush;
    if (!std::cout)
    {
        std::cerr << "fxrates reference: cannot write standard output\n";
        return 1;
    }
    return 0;
}

std::string man_page(const CLI::App& app)
{
    std::string page = ".TH FXRATES 1 \"\" \"fxrates\" \"User Commands\"\n";
    page += ".SH NAME\nfxrates \\- " + roff(app.get_description().substr(app.get_description().find(':') + 2)) + "\n";
    page += ".SH SYNOPSIS\n";
    for (const auto* command : visible_commands(app))
        page += ".B fxrates " + command->get_name() + "\n[\\fIOPTIONS\\fR]\n.br\n";
    page += ".SH DESCRIPTION\nFetches foreign-exchange reference rates for many base currencies at once from an "
            "HTTPS rates API (or from its own look-alike server), compares ways of doing it concurrently, "
            "and serves the look-alike API.\n";
    page += ".SH COMMANDS\n";
    for (const auto* command : visible_commands(app))
    {
        page += ".SS \"fxrates " + command->get_name() + "\"\n" + roff(command->get_description()) + "\n";
        for (const auto* option : visible_options(*command))
        {
            page += ".TP\n.B " + roff(spelled(*option));
            if (takes_value(*option))
            {
                // A long list of values ({a,b,...}) may break after each comma (\: in roff).
                std::string type = roff(option->get_type_name());
                for (auto at = type.find(','); at != std::string::npos; at = type.find(',', at + 3))
                    type.insert(at + 1, "\\:");
                page += " \\fI" + type + "\\fR";
            }
            page += "\n" + roff(option->get_description());
            if (!option->get_default_str().empty())
                page += " (default: " + roff(option->get_default_str()) + ")";
            page += "\n";
        }
        if (const auto* reference = reference_of(command->get_name()))
        {
            page += ".PP\n.B Examples\n.nf\n" + roff(reference->examples) + "\n.fi\n";
            page += ".PP\n.B Exit codes\n.nf\n" + roff(reference->exit_codes) + "\n.fi\n";
        }
    }
    page += ".SH EXIT STATUS\n0 success; 1 a wrong command line, output that could not be written, or "
            "total failure; 2 partial failure (some items failed, the others are printed); 128 + N after "
            "signal N (130 for Ctrl-C, 143 for SIGTERM), with what had finished printed. Each command's "
            "section above has its own list.\n";
    page += ".SH SEE ALSO\nThe README of fxrates, and \\fBfxrates COMMAND \\-\\-help\\fR.\n";
    return page;
}

std::string bash_completion(const CLI::App& app)
{
    std::vector<std::string> names;
    for (const auto* command : visible_commands(app))
        names.push_back(command->get_name());
    std::string script = "# bash completion for fxrates, written by `fxrates reference bash`\n"
                         "_fxrates()\n{\n"
                         "    local current=${COMP_WORDS[COMP_CWORD]} previous=${COMP_WORDS[COMP_CWORD-1]}\n"
                         "    if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
                         "        COMPREPLY=($(compgen -W '" + words(names) + " --help --version' -- \"$current\"))\n"
                         "        return\n"
                         "    fi\n"
                         "    case \"${COMP_WORDS[1]}\" in\n";
    for (const auto* command : visible_commands(app))
    {
        std::vector<std::string> options;
        std::string values;
        std::string files;
        for (const auto* option : visible_options(*command))
        {
            for (const auto& name : option->get_lnames())
            {
                options.push_back("--" + name);
                if (auto fixed = fixed_values(*option); !fixed.empty())
                    values += "            --" + name + ") COMPREPLY=($(compgen -W '" + words(fixed) +
                              "' -- \"$current\")); return ;;\n";
                else if (takes_value(*option))
                    files += (files.empty() ? "" : "|") + ("--" + name);
            }
            for (const auto& name : option->get_snames())
                options.push_back("-" + name);
        }
        script += "    " + command->get_name() + ")\n        case \"$previous\" in\n" + values;
        if (!files.empty())
            script += "            " + files + ") COMPREPLY=($(compgen -f -- \"$current\")); return ;;\n";
        script += "        esac\n        COMPREPLY=($(compgen -W '" + words(options) + "' -- \"$current\"))\n        ;;\n";
    }
    script += "    esac\n}\ncomplete -F _fxrates fxrates\n";
    return script;
}

std::string zsh_completion(const CLI::App& app)
{
    // zsh quoting: single quotes, with a quote written as '\'' and brackets escaped in descriptions.
    auto quoted = [](std::string_view text) {
        std::string out;
        for (char c : text)
        {
            if (c == '\'')
                out += "'\\''";
            else if (c == '[' || c == ']' || c == ':')
                out += std::string("\\") + c;
            else
                out += c;
        }
        return out;
    };
    std::string script = "#compdef fxrates\n# zsh completion for fxrates, written by `fxrates reference zsh`\n\n"
                         "_fxrates() {\n  local line state\n"
                         "  _arguments -C '(- *)--help[show help]' '(- *)--version[show the version]' "
                         "'1: :->command' '*:: :->option'\n"
                         "  case $state in\n  command)\n    local -a commands=(\n";
    for (const auto* command : visible_commands(app))
        script += "      '" + command->get_name() + ":" + quoted(command->get_description()) + "'\n";
    script += "    )\n    _describe command commands ;;\n  option)\n    case $line[1] in\n";
    for (const auto* command : visible_commands(app))
    {
        script += "    " + command->get_name() + ")\n      _arguments";
        for (const auto* option : visible_options(*command))
            for (const auto& name : option->get_lnames())
            {
                script += " \\\n        '--" + name + "[" + quoted(option->get_description()) + "]";
                if (auto fixed = fixed_values(*option); !fixed.empty())
                    script += ":value:(" + words(fixed) + ")";
                else if (takes_value(*option))
                    script += ":value:_files";
                script += "'";
            }
        script += " ;;\n";
    }
    script += "    esac ;;\n  esac\n}\n\n_fxrates \"$@\"\n";
    return script;
}

} // namespace fxrates::cli
