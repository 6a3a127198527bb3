#include "cli/client_check.hpp"

#include <fxrates/client.hpp>

#include <boost/asio/io_context.hpp>

#include <exception>

namespace fxrates::cli {

std::string describe_bad_ca_file(const client_params& params)
{
    if (params.ca_file.empty())
        return {};
    try
    {
        // The client loads the file as every request's client would, with the same errors.
        boost::asio::io_context context;
        client probe(context.get_executor(), params);
        return {};
    }
    catch (const std::exception& e)
    {
        return "--cacert " + params.ca_file + ": " + e.what() +
               "; give a PEM file that holds the certificate of the server's CA";
    }
}

} // namespace fxrates::cli
