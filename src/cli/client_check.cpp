#include "cli/client_check.hpp"

#include <fxrates/client.hpp>

#include <boost/asio/io_context.hpp>

#include <exception>

namespace fxrates::cli {

std::string describe_bad_client_setup(const client_params& params)
{
    if (params.ca_file.empty() && params.ca_pem.empty())
        return {};
    try
    {
        boost::asio::io_context context;
        client probe(context.get_executor(), params);
        return {};
    }
    catch (const std::exception& e)
    {
        return e.what();
    }
}

} // namespace fxrates::cli
