#pragma once

// The client's connection stream over a `beast::tcp_stream`: TLS for https:// origins, or, made
// without a TLS context, plain TCP for http:// ones (reads and writes go straight to the socket),
// so that the pool, the connector and the exchange handle both with one type.
//
// Why not asio::ssl::stream: it moves every byte through a BIO pair and holds four 17 KiB buffers
// per connection (two of them zero-filled when the stream is made), about 70 KiB before a byte is
// sent; at 100 connections that is most of the client's memory, and each byte is copied once more
// than needed. Here OpenSSL reads from and writes to two buffers of ours through a small BIO, and
// they grow only as far as the traffic needs (a few KiB for rates answers).
//
// It is half-duplex, which is all an HTTP/1.1 client needs: one operation at a time (write the
// request, then read the answer). Errors are those of asio::ssl::stream: the TCP layer's own,
// `ssl::error::stream_truncated` when the peer closes without close_notify, `asio::error::eof`
// after close_notify, and OpenSSL's error codes in Asio's SSL category. Timeouts and cancellation
// come from the TCP layer (`expires_at`, the handler's cancellation slot): the HTTP exchange above
// sets the first-byte and idle deadlines there.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/assert.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <chrono>
#include <cstddef>

namespace fxrates::detail {

class client_stream
{
public:
    using executor_type = boost::asio::any_io_executor;
    using next_layer_type = boost::beast::tcp_stream;
    using error_code = boost::system::error_code;

    /// A client connection with `context`'s settings (verification, trust, session cache), or a
    /// plain TCP one if `context` is null. Throws `boost::system::system_error` if OpenSSL cannot
    /// make one.
    client_stream(const executor_type& executor, SSL_CTX* context);
    ~client_stream();
    // OpenSSL's BIO points at this object: it stays where it was made.
    client_stream(const client_stream&) = delete;
    client_stream& operator=(const client_stream&) = delete;

    /// Bytes from the peer not yet read: ciphertext not yet decrypted, or plaintext OpenSSL holds.
    /// A connection with any after its answer is out of step and must not be reused.
    bool has_unread_input() const noexcept { return incoming_.size() != 0 || (ssl_ && SSL_pending(ssl_) > 0); }

    /// Whether this is a TLS connection (else plain TCP).
    bool secure() const noexcept { return ssl_ != nullptr; }

    /// The OpenSSL connection; null for plain TCP.
    SSL* native_handle() noexcept { return ssl_; }
    next_layer_type& next_layer() noexcept { return next_; }
    executor_type get_executor() noexcept { return next_.get_executor(); }

    /// Completes with `void(error_code)`.
    template <class Token>
    auto async_handshake(Token&& token)
    {
        auto step = [](SSL* ssl) { return SSL_do_handshake(ssl); };
        return boost::asio::async_compose<Token, void(error_code)>(
            io_op<decltype(step), false>(*this, step, false), token, next_);
    }

    /// Completes with `void(error_code, std::size_t)`: some plaintext read into `buffers`.
    template <class MutableBufferSequence, class Token>
    auto async_read_some(const MutableBufferSequence& buffers, Token&& token)
    {
        return boost::asio::async_initiate<Token, void(error_code, std::size_t)>(
            [this](auto handler, const MutableBufferSequence& buffers) {
                if (!ssl_)
                    return next_.async_read_some(buffers, std::move(handler));
                auto target = first_nonempty<boost::asio::mutable_buffer>(buffers);
                auto step = [target](SSL* ssl) { return SSL_read(ssl, target.data(), clamp(target.size())); };
                boost::asio::async_compose<decltype(handler), void(error_code, std::size_t)>(
                    io_op<decltype(step), true>(*this, step, target.size() == 0), handler, next_);
            },
            token, buffers);
    }

    /// Completes with `void(error_code, std::size_t)`: some of `buffers` encrypted and sent.
    template <class ConstBufferSequence, class Token>
    auto async_write_some(const ConstBufferSequence& buffers, Token&& token)
    {
        return boost::asio::async_initiate<Token, void(error_code, std::size_t)>(
            [this](auto handler, const ConstBufferSequence& buffers) {
                if (!ssl_)
                    return next_.async_write_some(buffers, std::move(handler));
                // The client writes each request as one buffer, so one buffer at a time is one record.
                auto source = first_nonempty<boost::asio::const_buffer>(buffers);
                auto step = [source](SSL* ssl) { return SSL_write(ssl, source.data(), clamp(source.size())); };
                boost::asio::async_compose<decltype(handler), void(error_code, std::size_t)>(
                    io_op<decltype(step), true>(*this, step, source.size() == 0), handler, next_);
            },
            token, buffers);
    }

private:
    template <class Step, bool Transfers>
    class io_op;

    // The first buffer of a sequence that is not empty (an operation works on one at a time).
    template <class Buffer, class Buffers>
    static Buffer first_nonempty(const Buffers& buffers)
    {
        for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers); ++it)
            if (Buffer b(*it); b.size() != 0)
                return b;
        return {};
    }

    static int clamp(std::size_t size) noexcept { return static_cast<int>(std::min<std::size_t>(size, max_record)); }

    // The error of a failed OpenSSL call, as asio::ssl::stream reports it.
    error_code failure() const;

    // The BIO's side: OpenSSL takes ciphertext from `incoming_` and puts it into `outgoing_`.
    static int bio_read(BIO* bio, char* data, int size);
    static int bio_write(BIO* bio, const char* data, int size);
    static long bio_ctrl(BIO* bio, int command, long number, void* pointer);
    static BIO_METHOD* bio_method();

    // Reads start small, as most answers are (a rates answer is one record of ~1.3 KiB), and
    // double while they fill up, up to a whole record.
    void note_read(std::size_t transferred) noexcept
    {
        if (transferred == read_size_ && read_size_ < max_read)
            read_size_ *= 2;
    }

    // Between operations nothing is kept for the peer: an idle or waiting connection holds no
    // buffers of ours (OpenSSL releases its own: SSL_MODE_RELEASE_BUFFERS).
    void release_idle_buffers()
    {
        if (incoming_.size() == 0)
            incoming_.shrink_to_fit();
        if (outgoing_.size() == 0)
            outgoing_.shrink_to_fit();
    }

    static constexpr std::size_t max_record = 16 * 1024;
    static constexpr std::size_t first_read = 2 * 1024;
    static constexpr std::size_t max_read = 32 * 1024;

    next_layer_type next_;
    SSL* ssl_ = nullptr;
    boost::beast::flat_buffer incoming_; // received from the peer, not yet taken by OpenSSL
    boost::beast::flat_buffer outgoing_; // made by OpenSSL, not yet sent
    std::size_t read_size_ = first_read; // the next socket read's size
    bool peer_closed_ = false;           // TCP end of stream: OpenSSL is told so once `incoming_` is empty
    bool busy_ = false;                  // an operation is under way (half-duplex)
};

// One handshake, read or write: run the OpenSSL call; send what it produced; if it wants more
// input, read from the socket and run it again.
template <class Step, bool Transfers>
class client_stream::io_op
{
public:
    io_op(client_stream& stream, Step step, bool nothing_to_do) : stream_(stream), step_(std::move(step))
    {
        if (nothing_to_do)
            state_ = state::finishing;
    }

    template <class Self>
    void operator()(Self& self, error_code ec = {}, std::size_t transferred = 0)
    {
        switch (state_)
        {
        case state::starting:
            BOOST_ASSERT(!stream_.busy_); // one operation at a time
            stream_.busy_ = true;
            break;
        case state::finishing:
            // Completes the operation that finished without waiting: never inline in the initiator.
            if (!async_)
            {
                async_ = true;
                return boost::asio::post(stream_.next_.get_executor(), std::move(self));
            }
            stream_.busy_ = false;
            stream_.release_idle_buffers();
            if constexpr (Transfers)
                self.complete(ec_, result_);
            else
                self.complete(ec_);
            return;
        case state::sending:
            if (!ec && self.cancelled() != boost::asio::cancellation_type::none)
                ec = boost::asio::error::operation_aborted; // cancelled between two steps
            if (ec)
            {
                // A failure's alert not sent is no matter; the failure is what the caller needs.
                if (!ec_)
                    ec_ = ec;
                stream_.outgoing_.clear();
                state_ = state::finishing;
                return (*this)(self);
            }
            stream_.outgoing_.consume(transferred);
            if (done_)
            {
                state_ = state::finishing;
                return (*this)(self);
            }
            return receive(self);
        case state::receiving:
            if (!ec && self.cancelled() != boost::asio::cancellation_type::none)
                ec = boost::asio::error::operation_aborted; // cancelled between two steps
            if (ec == boost::asio::error::eof)
                stream_.peer_closed_ = true; // OpenSSL decides: close_notify seen, or truncation
            else if (ec)
            {
                ec_ = ec;
                state_ = state::finishing;
                return (*this)(self);
            }
            else
            {
                stream_.incoming_.commit(transferred);
                stream_.note_read(transferred);
            }
            break;
        }

        ERR_clear_error();
        int result = step_(stream_.ssl_);
        int error = result > 0 ? SSL_ERROR_NONE : SSL_get_error(stream_.ssl_, result);
        if (error == SSL_ERROR_WANT_READ && !stream_.peer_closed_)
        {
            done_ = false;
            return stream_.outgoing_.size() != 0 ? send(self) : receive(self);
        }
        done_ = true;
        if (error == SSL_ERROR_NONE)
            result_ = static_cast<std::size_t>(result);
        else if (error == SSL_ERROR_ZERO_RETURN)
            ec_ = boost::asio::error::eof;
        else
            ec_ = stream_.failure();
        if (stream_.outgoing_.size() != 0)
            return send(self); // the request, the last handshake message, or an alert
        state_ = state::finishing;
        (*this)(self);
    }

private:
    enum class state
    {
        starting,
        sending,
        receiving,
        finishing,
    };

    template <class Self>
    void send(Self& self)
    {
        state_ = state::sending;
        async_ = true;
        boost::asio::async_write(stream_.next_, stream_.outgoing_.data(), std::move(self));
    }

    template <class Self>
    void receive(Self& self)
    {
        state_ = state::receiving;
        async_ = true;
        stream_.next_.async_read_some(stream_.incoming_.prepare(stream_.read_size_), std::move(self));
    }

    client_stream& stream_;
    Step step_;
    state state_ = state::starting;
    bool async_ = false; // some step has waited: completing now is not inline
    bool done_ = false;  // the OpenSSL call finished; only its output remains to be sent
    error_code ec_;
    std::size_t result_ = 0;
};

} // namespace fxrates::detail
