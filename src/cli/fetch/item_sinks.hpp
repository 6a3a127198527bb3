#pragma once

// Where `fxrates fetch` puts each item's body as it arrives: a file under -o (written to a
// temporary name, renamed when whole), or its turn on stdout (in input order). Both keep only a
// successful answer's body, and hash it for the report.

#include "cli/fetch/atomic_file.hpp"
#include "cli/fetch/ordered_output.hpp"
#include "cli/fetch/report.hpp"

#include <fxrates/body_sink.hpp>

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace fxrates::cli::fetch {

/// Writes all of `text` to descriptor `fd`, as an error code.
error_code write_all(int fd, std::string_view text);

// The body of a successful answer (2xx; an error page is neither saved nor printed), hashed for
// the report when asked; what to do with it is the derived sink's.
class success_body_sink : public body_sink
{
public:
    explicit success_body_sink(bool hash)
    {
        if (hash)
            hasher_.emplace();
    }

    error_code begin(const body_head& head) final
    {
        passing_ = head.status >= 200 && head.status < 300;
        if (hasher_)
            hasher_->reset();
        return passing_ ? begin_body(head) : error_code{};
    }

    error_code begin(unsigned status) final
    {
        body_head head;
        head.status = status;
        return begin(head);
    }

    error_code write(std::string_view data) final
    {
        if (!passing_)
            return {};
        if (hasher_)
            hasher_->update(data);
        return write_body(data);
    }

    std::string sha256() { return hasher_ ? hasher_->hex_digest() : std::string(); }

    // Why the body could not be kept (the answer was stopped for it), or empty.
    const std::string& failure() const noexcept { return failure_; }

protected:
    // `head.offset` > 0: the answer continues what the sink holds (see body_sink::resume_from).
    virtual error_code begin_body(const body_head& head) = 0;
    virtual error_code write_body(std::string_view data) = 0;

    // For bytes kept from before: the digest covers the whole body.
    void hash_held(std::string_view data)
    {
        if (hasher_)
            hasher_->update(data);
    }
    bool hashing() const noexcept { return hasher_.has_value(); }

    error_code fail(const std::string& why, error_code ec = make_error_code(boost::system::errc::io_error))
    {
        if (why.empty())
            return {};
        failure_ = why;
        return ec;
    }

private:
    bool passing_ = false;
    std::optional<sha256_hasher> hasher_; // only with --report: a context per item costs
    std::string failure_;
};

/// Where a partial download came from, as kept beside it for `fetch --continue`.
struct partial_note
{
    std::string url;
    std::string etag;
    std::string last_modified;
    std::optional<std::uint64_t> total{}; ///< the whole body's size, when its answer gave it
};

/// The note's text (one JSON object).
std::string note_text(const partial_note& note);

/// The note in `text`, read as untrusted (a file in a folder others may write to): nullopt unless
/// it is such an object with a URL, and validators that could go back to a server.
std::optional<partial_note> parse_note(std::string_view text);

// A body on its way to a file under -o: written to a temporary name, and committed or discarded
// when the item ends. Small pieces are gathered into one write: most files then cost one write(2),
// not one per TLS record.
//
// Resuming: a body that can be continued (not content-coded, with a validator) is resumed by a
// retry within the run; one of at least `partial_threshold` bytes (or of unknown size) is written
// to a partial file of a fixed name with a note of its URL and validators, kept when the item
// fails or is interrupted, so that `--continue` asks for the rest.
class file_sink final : public success_body_sink
{
public:
    // Bodies this large are worth keeping between runs; smaller ones are fetched again.
    static constexpr std::uint64_t partial_threshold = 1024 * 1024;

    // `name` and `url` must outlive the sink.
    file_sink(int root, const std::string& name, const std::string& url, bool hash)
        : success_body_sink(hash), root_(root), name_(name), url_(url)
    {
    }

    // --continue: takes up the partial file an earlier run kept, which came from `note`; the
    // first request then asks for the rest. Why not, if it cannot be opened (the item then
    // starts over).
    std::string continue_partial(const partial_note& note);

    std::optional<resume_point> resume_from() const override;

    // Gives the file its name; why not, if it could not be.
    std::string commit(bool overwrite);

    // The committed file's modification time (ns since the epoch), 0 if unknown.
    std::int64_t committed_mtime_ns() const noexcept { return file_ ? file_->committed_mtime_ns() : 0; }

    // The item failed or was interrupted: a partial download with bytes stays for --continue
    // (how many bytes, then), anything else is removed (0).
    std::uint64_t end_failed() noexcept;

    void discard() noexcept
    {
        if (file_)
            file_->discard();
    }

private:
    static constexpr std::size_t gather_limit = 32 * 1024;

    error_code begin_body(const body_head& head) override;
    error_code write_body(std::string_view data) override;
    error_code flush();
    std::string open(bool partial);

    int root_;
    const std::string& name_;
    const std::string& url_;
    // Made when the answer begins: a sink waiting its turn in a long list holds little.
    std::unique_ptr<atomic_file> file_;
    std::string pending_;
    // The answer the file's bytes came from, and whether a request may continue them.
    std::string etag_;
    std::string last_modified_;
    std::optional<std::uint64_t> total_; // the whole body's size, when its answer gave it
    bool resumable_ = false;
};

// A body on its way to stdout, in input order, through the ordered output.
class ordered_sink final : public success_body_sink
{
public:
    ordered_sink(ordered_output& out, std::size_t index, bool hash)
        : success_body_sink(hash), out_(out), index_(index)
    {
    }

    // Standard output itself failed (a full disk, a closed pipe): the run stops.
    bool output_failed() const noexcept { return output_failed_; }

private:
    error_code begin_body(const body_head&) override { return take(out_.begin(index_)); }
    error_code write_body(std::string_view data) override { return take(out_.write(index_, data)); }

    error_code take(const output_status& status)
    {
        if (!status.failed())
            return {};
        output_failed_ = status.code.failed();
        return fail(status.message, status.code ? status.code : make_error_code(boost::system::errc::io_error));
    }

    ordered_output& out_;
    std::size_t index_;
    bool output_failed_ = false;
};

// Another sink, every call under `lock`: for a sink fed from another thread (a strategy's, or
// another event loop's) that shares state with code holding the same lock (the ordered stdout).
class locked_sink final : public body_sink
{
public:
    locked_sink(body_sink& sink, std::mutex& lock) : sink_(sink), lock_(lock) {}

    // Both forms, forwarded as called: a caller that knows only the status (the process pool's
    // frames) reaches the sink's own begin(unsigned).
    error_code begin(unsigned status) override
    {
        std::lock_guard hold(lock_);
        return sink_.begin(status);
    }

    error_code begin(const body_head& head) override
    {
        std::lock_guard hold(lock_);
        return sink_.begin(head);
    }

    error_code write(std::string_view data) override
    {
        std::lock_guard hold(lock_);
        return sink_.write(data);
    }

    std::optional<resume_point> resume_from() const override
    {
        std::lock_guard hold(lock_);
        return sink_.resume_from();
    }

private:
    body_sink& sink_;
    std::mutex& lock_;
};

} // namespace fxrates::cli::fetch
