#pragma once

// The settings a worker process receives, described field by field (Boost.Describe), so that the
// wire format is derived from the structs themselves: a field added to one of them travels without
// anyone touching the codec, and one the codec cannot carry is a compile error, not a silent loss.

#include <fxrates/client_params.hpp>
#include <fxrates/rates_query.hpp>
#include <fxrates/retry_policy.hpp>
#include "lab/strategy.hpp"

#include <boost/describe/class.hpp>
#include <boost/describe/members.hpp>
#include <boost/mp11/algorithm.hpp>
#include <boost/pfr/core.hpp>

namespace fxrates {

BOOST_DESCRIBE_STRUCT(retry_params, (),
                      (max_attempts, base_delay, max_delay, max_retry_after, budget_ratio, shared_budget))

BOOST_DESCRIBE_STRUCT(client_params, (),
                      (api_url, use_system_trust, ca_file, ca_pem, insecure, resume_tls_sessions, connect_timeout,
                       handshake_timeout, queue_timeout, first_byte_timeout, read_idle_timeout, request_timeout,
                       total_timeout, batch_timeout, idle_timeout, max_connections, max_connections_per_origin,
                       max_handshakes, body_limit, header_limit, max_redirects, accept_compression, thread_safe,
                       user_agent, rate, burst, shared_pace, decode_executor, retry, max_waiting_aside,
                       offload_decode_above))

BOOST_DESCRIBE_STRUCT(rates_query, (), (symbols, date))

BOOST_DESCRIBE_STRUCT(strategy_params, (),
                      (client, bases, query, workers, throttle_rate, throttle_burst, worker_program, stop, on_outcome))

} // namespace fxrates

namespace fxrates::detail {

template <class T>
using described_fields = boost::describe::describe_members<T, boost::describe::mod_public>;

/// Every field of `T` is described: the description cannot fall behind the struct (a field added
/// to the struct and not to its description fails the build here).
template <class T>
constexpr bool describes_every_field = boost::mp11::mp_size<described_fields<T>>::value == boost::pfr::tuple_size_v<T>;

static_assert(describes_every_field<retry_params>, "describe the new field of retry_params above");
static_assert(describes_every_field<client_params>, "describe the new field of client_params above");
static_assert(describes_every_field<rates_query>, "describe the new field of rates_query above");
static_assert(describes_every_field<strategy_params>, "describe the new field of strategy_params above");

/// Calls `visit(name, field)` for every described field of `object`, in declaration order.
template <class T, class Visit>
void for_each_field(T& object, Visit&& visit)
{
    boost::mp11::mp_for_each<described_fields<std::remove_const_t<T>>>(
        [&](auto field) { visit(field.name, object.*field.pointer); });
}

} // namespace fxrates::detail
