#pragma once

// The program's reference, written from its own command-line definitions so that it cannot drift
// from them: the examples and exit codes at the end of each `--help`, the man page, and the bash
// and zsh completion scripts (the build writes the last three with `fxrates reference ...`).

#include <CLI/CLI.hpp>

#include <string>

namespace fxrates::cli {

/// Ends the `--help` of the program and of each command with examples and the exit codes.
void add_help_footers(CLI::App& app);

/// Adds the hidden `reference` command: `fxrates reference man|bash|zsh` prints the man page or a
/// completion script. Returns it, for main to see whether it was chosen.
CLI::App* add_reference_command(CLI::App& app, std::string& kind);

/// Prints the reference `kind` ("man", "bash" or "zsh") of `app` on standard output.
int run_reference(const CLI::App& app, const std::string& kind);

/// The man page (roff, section 1): every visible command and option, with examples and exit codes.
std::string man_page(const CLI::App& app);

/// A bash completion script: commands, then each command's options, and the values of options
/// that take one of a fixed set (`--format`, `--strategy`).
std::string bash_completion(const CLI::App& app);

/// The same for zsh (`_fxrates`, for a directory on `$fpath`).
std::string zsh_completion(const CLI::App& app);

} // namespace fxrates::cli
