#include "client/http/client_stream.hpp"

#include <boost/asio/ssl/error.hpp>
#include <boost/system/system_error.hpp>

#include <openssl/err.h>

#include <algorithm>
#include <cstring>
#include <new>

namespace fxrates::detail {

namespace ssl = boost::asio::ssl;

client_stream::client_stream(const executor_type& executor, SSL_CTX* context) : next_(executor)
{
    if (context == nullptr)
        return; // plain TCP
    ssl_ = SSL_new(context);
    BIO* bio = ssl_ ? BIO_new(bio_method()) : nullptr;
    if (bio == nullptr)
    {
        error_code ec(static_cast<int>(ERR_get_error()), boost::asio::error::get_ssl_category());
        SSL_free(ssl_);
        throw boost::system::system_error(ec, "cannot make a TLS connection");
    }
    BIO_set_data(bio, this);
    BIO_set_init(bio, 1);
    SSL_set_bio(ssl_, bio, bio); // one BIO both ways; the SSL object owns it
    SSL_set_connect_state(ssl_);
    // OpenSSL frees its two 17 KiB record buffers whenever they are empty, as between a request and
    // its answer, so that waiting connections hold little memory.
    SSL_set_mode(ssl_, SSL_MODE_RELEASE_BUFFERS);
}

client_stream::~client_stream()
{
    SSL_free(ssl_);
}

client_stream::error_code client_stream::failure() const
{
    if (unsigned long code = ERR_get_error(); code != 0)
    {
        if (ERR_GET_LIB(code) == ERR_LIB_SSL && ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
            return ssl::error::stream_truncated;
        return error_code(static_cast<int>(code), boost::asio::error::get_ssl_category());
    }
    // Nothing queued: the peer closed without close_notify, or our BIO failed (out of memory).
    if (peer_closed_)
        return ssl::error::stream_truncated;
    return ssl::error::unspecified_system_error;
}

int client_stream::bio_read(BIO* bio, char* data, int size)
{
    auto& self = *static_cast<client_stream*>(BIO_get_data(bio));
    BIO_clear_retry_flags(bio);
    if (self.incoming_.size() == 0)
    {
        if (self.peer_closed_)
            return 0; // end of stream, no retry
        BIO_set_retry_read(bio);
        return -1;
    }
    auto count = std::min(static_cast<std::size_t>(size), self.incoming_.size());
    std::memcpy(data, self.incoming_.data().data(), count);
    self.incoming_.consume(count);
    return static_cast<int>(count);
}

int client_stream::bio_write(BIO* bio, const char* data, int size)
{
    auto& self = *static_cast<client_stream*>(BIO_get_data(bio));
    BIO_clear_retry_flags(bio);
    try
    {
        auto space = self.outgoing_.prepare(static_cast<std::size_t>(size));
        std::memcpy(space.data(), data, static_cast<std::size_t>(size));
        self.outgoing_.commit(static_cast<std::size_t>(size));
        return size;
    }
    catch (const std::bad_alloc&)
    {
        return -1; // never let an exception cross OpenSSL's C frames
    }
}

long client_stream::bio_ctrl(BIO* bio, int command, long, void*)
{
    auto& self = *static_cast<client_stream*>(BIO_get_data(bio));
    switch (command)
    {
    case BIO_CTRL_FLUSH:
        return 1; // the operation sends `outgoing_` itself
    case BIO_CTRL_PENDING:
        return static_cast<long>(self.incoming_.size());
    case BIO_CTRL_WPENDING:
        return static_cast<long>(self.outgoing_.size());
    case BIO_CTRL_EOF:
        return self.peer_closed_ && self.incoming_.size() == 0 ? 1 : 0;
    default:
        return 0;
    }
}

BIO_METHOD* client_stream::bio_method()
{
    // Made once and kept for the life of the process, as OpenSSL's own methods are.
    static BIO_METHOD* const method = [] {
        BIO_METHOD* made = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "fxrates client_stream");
        if (made != nullptr)
        {
            BIO_meth_set_read(made, &bio_read);
            BIO_meth_set_write(made, &bio_write);
            BIO_meth_set_ctrl(made, &bio_ctrl);
        }
        return made;
    }();
    return method;
}

} // namespace fxrates::detail
