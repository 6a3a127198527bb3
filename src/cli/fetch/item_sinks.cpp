#include "cli/fetch/item_sinks.hpp"

#include <cerrno>

#include <unistd.h>

namespace fxrates::cli::fetch {

error_code write_all(int fd, std::string_view text)
{
    while (!text.empty())
    {
        auto written = ::write(fd, text.data(), text.size());
        if (written < 0)
        {
            if (errno == EINTR)
                continue;
            return error_code(errno, boost::system::system_category());
        }
        text.remove_prefix(static_cast<std::size_t>(written));
    }
    return {};
}

} // namespace fxrates::cli::fetch
