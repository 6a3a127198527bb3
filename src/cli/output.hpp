#pragma once

#include <string>
#include <string_view>

namespace fxrates::cli {

/// Output that is never silently lost: every write is checked, and so is the closing of each file.
/// On failure one line goes to stderr, `fxrates COMMAND: cannot write WHAT: REASON` (the reason is
/// the system's, from errno), and the function returns false; the command then exits with 1.
///
/// Standard output is written with write(2), unbuffered, so that nothing waits in a buffer for an
/// exit that cannot report its failure. With SIGPIPE ignored, a reader that went away is EPIPE,
/// reported like a full disk.

/// False, having said so, when standard output is closed (`>&-`): a file opened later would take
/// descriptor 1 and receive the output meant for the user. Call it before opening anything.
bool check_standard_output(std::string_view command);

/// Writes all of `text` to standard output.
bool write_standard_output(std::string_view command, std::string_view text);

/// Writes standard output's last bytes through to the file: close(2) on a file that NFS or a
/// FUSE filesystem writes back late is where their failure shows.
bool close_standard_output(std::string_view command);

/// Replaces `path` with `text` (created with mode 0666 less the umask), checking every write and
/// the close.
bool write_file(std::string_view command, const std::string& path, std::string_view text);

/// Prints `fxrates COMMAND: MESSAGE` as one line on stderr, with control characters, bidi
/// overrides and line breaks from the user's input or a file escaped: every error message of the
/// command line goes through here.
void report(std::string_view command, std::string_view message);

} // namespace fxrates::cli
