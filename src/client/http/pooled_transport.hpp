#pragma once

// The real transport: keep-alive connections from a `connection_pool` (per origin, with global and
// per-origin limits and handshake admission), opened by the `tls_connector`, each request one
// `run_exchange`. A reused connection that the server had closed while it was idle is retried
// once on a fresh one (nothing was answered, and a GET is safely sent again).
//
// This header keeps Beast and OpenSSL out of its includers: they meet the seam only.

#include <fxrates/client_params.hpp>

#include "client/http/transport.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <memory>

namespace fxrates::detail {

/// A pooled HTTPS transport on `executor` (one thread, or a strand). `params` must outlive it.
/// Throws `boost::system::system_error` if a CA file cannot be loaded, and `std::invalid_argument`
/// for a User-Agent with control characters.
std::unique_ptr<transport> make_pooled_transport(boost::asio::any_io_executor executor, const client_params& params);

} // namespace fxrates::detail
