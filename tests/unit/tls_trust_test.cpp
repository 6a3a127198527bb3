// The certificates a client trusts are loaded once per process for each distinct setting and
// shared: a client per thread must not parse the system's store per thread.

#include "client/http/tls_connector.hpp"

#include <boost/asio/io_context.hpp>

#include <doctest/doctest.h>

using fxrates::client_params;
using fxrates::detail::tls_connector;

TEST_CASE("connectors that trust the same certificates share one store; another setting has its own")
{
    boost::asio::io_context context;
    client_params system;
    client_params also_system;
    client_params none; // trusts nothing: neither the system's store nor a CA of its own
    none.use_system_trust = false;
    client_params insecure;
    insecure.insecure = true;
    tls_connector first(context.get_executor(), system);
    tls_connector second(context.get_executor(), also_system);
    tls_connector third(context.get_executor(), none);
    tls_connector unchecked(context.get_executor(), insecure);
    CHECK(first.trusted_store() != nullptr);
    CHECK(first.trusted_store() == second.trusted_store());
    CHECK(third.trusted_store() != nullptr);
    CHECK(third.trusted_store() != first.trusted_store());
    CHECK(unchecked.trusted_store() == nullptr);
}
