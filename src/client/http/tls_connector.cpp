#include "client/http/tls_connector.hpp"

#include "client/http/tls_session_cache.hpp"
#include "client/wait_queue.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <ctime>
#include <memory>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <tuple>
#include <vector>

namespace fxrates::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// ALPN: we speak HTTP/1.1 only, and say so, so that a server that speaks only HTTP/2 can tell us
// in the handshake instead of after our request.
constexpr unsigned char alpn_http11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

// A lookup of a host shared by every connection that needs it: concurrent connects wait for one
// resolution instead of each starting their own. It cannot be cancelled (getaddrinfo cannot be
// interrupted), so waiters abandon it on timeout and it finishes in the background.
struct resolution
{
    wait_queue waiters; // woken when the answer comes
    bool done = false;
    error_code ec;
    std::vector<tcp::endpoint> endpoints;
};

} // namespace

// Where a lookup's thread delivers its answer: the connector's event loop, for as long as the
// connector is open. Closing it under the lock means that no answer is posted once the connector
// (and then its event loop) may be gone.
struct tls_connector::lookup_mailbox
{
    std::mutex lock;
    bool open = true;
    asio::any_io_executor executor;
};

namespace {

// Looks `host` up on a thread of its own, detached, rather than on Asio's resolver thread: that
// thread belongs to the event loop, which keeps run() (and the program's exit) waiting until every
// lookup has returned, so a DNS server that does not answer held a run past every time limit.
void resolve_in_background(std::shared_ptr<tls_connector::lookup_mailbox> mailbox,
                           std::shared_ptr<resolution> state, std::string host, std::string port)
{
    auto lookup = [host = std::move(host), port = std::move(port)](error_code& ec) {
        asio::io_context own; // for the resolver object only: a synchronous lookup runs no loop
        tcp::resolver resolver(own);
        auto results = resolver.resolve(host, port, ec);
        return std::vector<tcp::endpoint>(results.begin(), results.end());
    };
    auto deliver = [mailbox, state](error_code ec, std::vector<tcp::endpoint> endpoints) {
        std::lock_guard hold(mailbox->lock);
        if (!mailbox->open)
            return;
        asio::post(mailbox->executor, [state, ec, endpoints = std::move(endpoints)]() mutable {
            state->ec = ec;
            state->endpoints = std::move(endpoints);
            state->done = true;
            state->waiters.notify_all();
        });
    };
    try
    {
        std::thread([lookup, deliver] {
            error_code ec;
            auto endpoints = lookup(ec);
            deliver(ec, std::move(endpoints));
        }).detach();
    }
    catch (const std::system_error&)
    {
        // No thread to be had (a process at its limit): the lookup runs here, blocking the loop.
        error_code ec;
        auto endpoints = lookup(ec);
        deliver(ec, std::move(endpoints));
    }
}

// Why not to start another step: the connector closed, or the coroutine was cancelled.
asio::awaitable<error_code> stopped(bool closed)
{
    if (closed)
        co_return errc::client_closed;
    auto state = co_await asio::this_coro::cancellation_state;
    co_return state.cancelled() != asio::cancellation_type::none ? error_code(asio::error::operation_aborted)
                                                                 : error_code{};
}

// The first certificate OpenSSL refused in a handshake, as the verify callback saw it: its subject
// and validity tell the user which certificate was wrong and, if it expired, since when.
struct rejected_certificate
{
    bool recorded = false;
    std::string subject;
    std::string not_before;
    std::string not_after;
};

int rejected_certificate_index()
{
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

std::string rfc2253_name(X509_NAME* name)
{
    std::unique_ptr<BIO, decltype(&BIO_free)> text(BIO_new(BIO_s_mem()), &BIO_free);
    if (!text || !name || X509_NAME_print_ex(text.get(), name, 0, XN_FLAG_RFC2253) < 0)
        return {};
    char* data = nullptr;
    long length = BIO_get_mem_data(text.get(), &data);
    return length > 0 ? std::string(data, static_cast<std::size_t>(length)) : std::string{};
}

std::string utc_time(const ASN1_TIME* time)
{
    std::tm fields{};
    if (!time || ASN1_TIME_to_tm(time, &fields) != 1)
        return "?";
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &fields);
    return text;
}

// Installed as the verify callback: it changes no verdict, it only keeps the refused certificate
// of the connection whose handshake set a record.
int record_rejection(int preverified, X509_STORE_CTX* store)
{
    if (preverified == 1)
        return 1;
    auto* native = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    auto* record = native ? static_cast<rejected_certificate*>(SSL_get_ex_data(native, rejected_certificate_index()))
                          : nullptr;
    X509* certificate = X509_STORE_CTX_get_current_cert(store);
    if (record && !record->recorded && certificate)
    {
        record->recorded = true;
        record->subject = rfc2253_name(X509_get_subject_name(certificate));
        record->not_before = utc_time(X509_get0_notBefore(certificate));
        record->not_after = utc_time(X509_get0_notAfter(certificate));
    }
    return 0;
}

// Trust is the problem (no CA the client knows vouches for the certificate), rather than the
// certificate itself (expired, for another host, too weak a key): only then does a CA file help.
bool trust_problem(long verify_result)
{
    switch (verify_result)
    {
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED:
        return true;
    default:
        return false;
    }
}

// The server speaks only TLS versions below the 1.2 we require, or refused ours.
bool old_protocol(unsigned long openssl_error)
{
    auto reason = ERR_GET_REASON(openssl_error);
    return ERR_GET_LIB(openssl_error) == ERR_LIB_SSL &&
           (reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION ||
            reason == SSL_R_WRONG_SSL_VERSION || reason == SSL_R_NO_PROTOCOLS_AVAILABLE);
}

bool refused_alpn(unsigned long openssl_error)
{
    return ERR_GET_LIB(openssl_error) == ERR_LIB_SSL &&
           ERR_GET_REASON(openssl_error) == SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL;
}

} // namespace

struct tls_connector::origin_state
{
    explicit origin_state(const asio::any_io_executor& executor, const origin& where) : sessions(executor)
    {
        error_code ec;
        auto address = asio::ip::make_address(where.host, ec);
        host_is_ip = !ec;
        if (host_is_ip)
            endpoints.emplace_back(address, where.port);
    }

    bool host_is_ip = false;
    std::vector<tcp::endpoint> endpoints; // empty: look the host up (again)
    std::shared_ptr<resolution> resolving;
    tls_session_cache sessions;
};

namespace {

// The certificates a client trusts, loaded once for each distinct setting and shared by the TLS
// contexts of every client of the process that trusts the same ones, for as long as one holds
// them. The system's store is ~140 certificates parsed in ~20 ms: a program with a client per
// thread (the lab's thread-per-item strategy: 1,000 threads) paid that per thread, 40 s and
// 600 MB in all. An X509_STORE may be shared by contexts and threads (OpenSSL locks it).
// OpenSSL 3.0 works out a certificate's cached fields (its hash, key identifiers, flags) when the
// certificate is first checked, and two threads that check the same one at once both write them
// (openssl/openssl#32609, seen by ThreadSanitizer in CI). Working them out while the store is still
// this thread's own leaves verification nothing to write in a shared store.
void compute_cached_extensions(X509_STORE* store)
{
    STACK_OF(X509_OBJECT)* objects = X509_STORE_get0_objects(store);
    for (int i = 0; i < sk_X509_OBJECT_num(objects); ++i)
        if (X509* certificate = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objects, i)))
            X509_get_extension_flags(certificate);
}

std::shared_ptr<ssl::context> trusted_certificates(const client_params& params)
{
    // A CA file is known by its path, size and modification time: a changed file is loaded anew.
    std::string file_version;
    if (struct stat file{}; !params.ca_file.empty() && ::stat(params.ca_file.c_str(), &file) == 0)
        file_version = std::to_string(file.st_size) + ":" + std::to_string(file.st_mtim.tv_sec) + "." +
                       std::to_string(file.st_mtim.tv_nsec);
    using key = std::tuple<bool, std::string, std::string, std::string>;
    static std::mutex lock;
    static std::map<key, std::weak_ptr<ssl::context>> loaded;
    key wanted{params.use_system_trust, params.ca_file, file_version, params.ca_pem};
    std::lock_guard hold(lock); // a second thread waits for the first one's loading, not loads again
    if (auto found = loaded.find(wanted); found != loaded.end())
        if (auto shared = found->second.lock())
            return shared;
    auto made = std::make_shared<ssl::context>(ssl::context::tls_client);
    if (params.use_system_trust)
        made->set_default_verify_paths();
    if (!params.ca_file.empty())
        made->load_verify_file(params.ca_file);
    if (!params.ca_pem.empty())
        made->add_certificate_authority(asio::buffer(params.ca_pem));
    compute_cached_extensions(SSL_CTX_get_cert_store(made->native_handle()));
    std::erase_if(loaded, [](const auto& entry) { return entry.second.expired(); });
    loaded[wanted] = made;
    return made;
}

} // namespace

tls_connector::tls_connector(asio::any_io_executor executor, const client_params& params)
    : executor_(std::move(executor)), params_(params), tls_(ssl::context::tls_client),
      mailbox_(std::make_shared<lookup_mailbox>())
{
    mailbox_->executor = executor_;
    tls_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    if (params_.resume_tls_sessions)
        tls_session_cache::install(tls_.native_handle());
    SSL_CTX_set_alpn_protos(tls_.native_handle(), alpn_http11, sizeof alpn_http11);
    if (params_.insecure)
        tls_.set_verify_mode(ssl::verify_none);
    else
    {
        SSL_CTX_set_verify(tls_.native_handle(), SSL_VERIFY_PEER, record_rejection);
        trusted_ = trusted_certificates(params_);
        SSL_CTX_set1_cert_store(tls_.native_handle(), SSL_CTX_get_cert_store(trusted_->native_handle()));
    }
}

const void* tls_connector::trusted_store() const noexcept
{
    return trusted_ ? SSL_CTX_get_cert_store(trusted_->native_handle()) : nullptr;
}

tls_connector::~tls_connector()
{
    close();
}

void tls_connector::close()
{
    closed_ = true;
    {
        std::lock_guard hold(mailbox_->lock);
        mailbox_->open = false;
    }
    for (auto& [where, state] : origins_)
    {
        state->sessions.close();
        if (state->resolving)
            state->resolving->waiters.notify_all();
    }
}

std::unique_ptr<connection> tls_connector::make_connection(const origin& where)
{
    return std::make_unique<connection>(executor_, where.secure() ? tls_.native_handle() : nullptr);
}

tls_connector::origin_state& tls_connector::state_of(const origin& where)
{
    auto& state = origins_[where];
    if (!state)
        state = std::make_unique<origin_state>(executor_, where);
    return *state;
}

asio::awaitable<error_code> tls_connector::connect(connection& conn, const origin& where, const named_deadline& limit,
                                                   diagnostics& diag, transport_timing& timing)
{
    auto& state = state_of(where);
    auto& tcp_layer = beast::get_lowest_layer(conn.stream);
    if (state.endpoints.empty())
    {
        if (!state.resolving)
        {
            state.resolving = std::make_shared<resolution>();
            resolve_in_background(mailbox_, state.resolving, where.host, std::to_string(where.port));
        }
        auto pending = state.resolving;
        if (!pending->done)
        {
            auto woke = co_await pending->waiters.wait(executor_, limit.at);
            if (closed_)
                co_return errc::client_closed;
            if (!pending->done)
            {
                if (woke == wait_queue::wake_reason::cancelled)
                    co_return asio::error::operation_aborted;
                diag.set_client_message("cannot resolve the host '" + where.host + "' within " + limit.text());
                co_return beast::error::timeout;
            }
        }
        if (state.resolving == pending)
            state.resolving.reset();
        if (pending->ec)
        {
            diag.set_client_message("cannot resolve the host '" + where.host + "': " + pending->ec.message());
            co_return pending->ec;
        }
        state.endpoints = pending->endpoints;
    }
    if (auto stop = co_await stopped(closed_))
        co_return stop;

    tcp_layer.expires_at(limit.at);
    error_code ec;
    bool cannot_open = false;
    if (state.endpoints.size() == 1)
    {
        // Opened here, so that a socket that cannot be opened (EMFILE) is said as such: Asio's
        // connect over a range reports it as operation_aborted.
        tcp_layer.socket().open(state.endpoints.front().protocol(), ec);
        cannot_open = bool(ec);
        if (!ec)
            std::tie(ec) = co_await tcp_layer.async_connect(state.endpoints.front(), use_tuple);
    }
    else
        std::tie(ec, std::ignore) = co_await tcp_layer.async_connect(state.endpoints, use_tuple);
    tcp_layer.expires_never();
    if (ec == asio::error::operation_aborted && !(co_await stopped(closed_)))
    {
        // Not cancelled, yet aborted: Asio's connect over a range reports a socket it could not open
        // (EMFILE, ENFILE, ENOBUFS) as operation_aborted. Open one to learn the real error.
        tcp::socket probe(executor_);
        error_code open_error;
        probe.open(state.endpoints.front().protocol(), open_error);
        if (open_error)
        {
            ec = open_error;
            cannot_open = true;
        }
    }
    if (ec)
    {
        // Look the host up again next time: its address may have changed.
        if (!state.host_is_ip)
            state.endpoints.clear();
        if (ec == beast::error::timeout)
            diag.set_client_message("cannot connect to " + where.host_header() + " within " + limit.text());
        else if (ec == asio::error::operation_aborted)
            diag.set_client_message("cancelled while connecting");
        else if (!cannot_open)
            diag.set_client_message("cannot connect to " + where.host_header() + ": " + ec.message());
        else
            diag.set_client_message("cannot open a socket to connect to " + where.host_header() + ": " +
                                    ec.message());
        co_return ec;
    }
    tcp_layer.socket().set_option(tcp::no_delay(true), ec);
    timing.connected = clock_type::now();
    co_return co_await stopped(closed_);
}

asio::awaitable<error_code> tls_connector::handshake(connection& conn, const origin& where,
                                                     const named_deadline& whole, handshake_gate& admission,
                                                     diagnostics& diag, transport_timing& timing)
{
    if (!conn.stream.secure())
    {
        timing.tls_done = timing.connected; // plain http://: nothing to negotiate
        co_return error_code{};
    }
    auto& state = state_of(where);
    auto& tcp_layer = beast::get_lowest_layer(conn.stream);
    SSL* native = conn.stream.native_handle();
    // SNI carries host names only, never IP addresses (RFC 6066).
    bool named = state.host_is_ip || SSL_set_tlsext_host_name(native, where.host.c_str()) == 1;
    if (!params_.insecure)
    {
        // OpenSSL checks the name itself, so a mismatch is reported as such in the verify result.
        X509_VERIFY_PARAM* verify = SSL_get0_param(native);
        X509_VERIFY_PARAM_set_hostflags(verify, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        named = named && (state.host_is_ip
                              ? X509_VERIFY_PARAM_set1_ip_asc(verify, where.host.c_str()) == 1
                              : X509_VERIFY_PARAM_set1_host(verify, where.host.c_str(), where.host.size()) == 1);
    }
    if (!named)
    {
        // Never fall back to a connection whose certificate name goes unchecked.
        diag.set_client_message("cannot check certificates for the host '" + where.host + "'");
        co_return error_code(ssl::error::unspecified_system_error);
    }
    auto& sessions = state.sessions;
    bool pioneer = false;
    // Whatever ends this coroutine, a pioneer hands its role on.
    struct pioneer_release
    {
        tls_session_cache& sessions;
        bool& pioneer;
        ~pioneer_release()
        {
            if (pioneer)
                sessions.handshake_finished(true, false, {}, false);
        }
    } release_on_exit{sessions, pioneer};
    if (params_.resume_tls_sessions)
    {
        sessions.bind(native);
        // Waiting for another connection's ticket may take a quarter of the handshake's own
        // budget at most; the handshake's time starts after it.
        auto wait_until = std::min(deadline_after(params_.handshake_timeout / 4), whole.at);
        pioneer = co_await sessions.prepare(native, wait_until);
    }
    if (auto stop = co_await stopped(closed_))
        co_return stop;
    auto handshake_limit = phase_limit("TLS handshake timeout", params_.handshake_timeout, whole);
    // Waiting for a handshake slot counts against the handshake's own limit.
    if (auto ec = co_await admission.acquire(handshake_limit, diag))
        co_return ec;
    struct slot_release
    {
        handshake_gate& admission;
        ~slot_release() { admission.release(); }
    } slot{admission};
    if (auto stop = co_await stopped(closed_))
        co_return stop;
    if (params_.resume_tls_sessions)
    {
        if (pioneer)
            sessions.offer(native); // one that came while it waited for its slot, if any
        else
            co_await sessions.refresh(native, handshake_limit.at);
        if (auto stop = co_await stopped(closed_))
            co_return stop;
    }
    rejected_certificate rejected;
    SSL_set_ex_data(native, rejected_certificate_index(), &rejected);
    tcp_layer.expires_at(handshake_limit.at);
    auto handshake_started = clock_type::now();
    auto [ec] = co_await conn.stream.async_handshake(use_tuple);
    tcp_layer.expires_never();
    SSL_set_ex_data(native, rejected_certificate_index(), nullptr);
    timing.resumed_tls_session = !ec && SSL_session_reused(native) == 1;
    sessions.handshake_finished(pioneer, !ec, clock_type::now() - handshake_started, timing.resumed_tls_session);
    pioneer = false; // reported
    if (ec)
    {
        long verify_result = SSL_get_verify_result(native);
        if (verify_result != X509_V_OK)
        {
            std::string message = "the certificate of " + where.host_header() + " was rejected: " +
                                  X509_verify_cert_error_string(verify_result);
            if (rejected.recorded)
                message += " (subject " + (rejected.subject.empty() ? "empty" : "'" + rejected.subject + "'") +
                           ", valid from " + rejected.not_before + " until " + rejected.not_after + ")";
            // Callers (the command line) find this phrase to add their own names for the settings.
            if (trust_problem(verify_result))
                message += "; trust its CA with a CA file, or skip verification for a server you control";
            diag.set_client_message(message);
        }
        else if (ec.category() == asio::error::get_ssl_category() && refused_alpn(static_cast<unsigned long>(ec.value())))
            diag.set_client_message("the server at " + where.host_header() +
                                    " refused HTTP/1.1 in the TLS handshake (ALPN)");
        else if (ec.category() == asio::error::get_ssl_category() && old_protocol(static_cast<unsigned long>(ec.value())))
            diag.set_client_message("the server at " + where.host_header() +
                                    " and this client have no TLS version in common: the client requires TLS 1.2 or "
                                    "later (" + ec.message() + ")");
        else if (ec == beast::error::timeout)
            diag.set_client_message("no progress in the TLS handshake with " + where.host_header() + " within " +
                                    handshake_limit.text() + "; the server may be down or overloaded");
        else if (ec == asio::error::operation_aborted)
            diag.set_client_message("cancelled in the TLS handshake");
        else
            diag.set_client_message("the TLS handshake with " + where.host_header() + " failed: " + ec.message());
        co_return ec;
    }
    // A server may only pick a protocol we offered; any other is a broken server.
    const unsigned char* protocol = nullptr;
    unsigned int protocol_length = 0;
    SSL_get0_alpn_selected(native, &protocol, &protocol_length);
    if (protocol_length != 0 &&
        std::string_view(reinterpret_cast<const char*>(protocol), protocol_length) != "http/1.1")
    {
        diag.set_client_message("the server at " + where.host_header() + " chose the protocol '" +
                                std::string(reinterpret_cast<const char*>(protocol), protocol_length) +
                                "' in the TLS handshake; fxrates speaks HTTP/1.1");
        co_return errc::http2_only;
    }
    timing.tls_done = clock_type::now();
    co_return error_code{};
}

} // namespace fxrates::detail
