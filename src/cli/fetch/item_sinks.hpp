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

    error_code begin(unsigned status) final
    {
        passing_ = status >= 200 && status < 300;
        if (hasher_)
            hasher_->reset();
        return passing_ ? begin_body() : error_code{};
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
    virtual error_code begin_body() = 0;
    virtual error_code write_body(std::string_view data) = 0;

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

// A body on its way to a file under -o: written to a temporary name, and committed or discarded
// when the item ends. Small pieces are gathered into one write: most files then cost one write(2),
// not one per TLS record.
class file_sink final : public success_body_sink
{
public:
    // `name` must outlive the sink.
    file_sink(int root, const std::string& name, bool hash) : success_body_sink(hash), root_(root), name_(name) {}

    // Gives the file its name; why not, if it could not be.
    std::string commit(bool overwrite)
    {
        // A successful answer with no body part at all (a 204) still makes its (empty) file.
        if (!file_)
            if (auto why = open(); !why.empty())
                return why;
        if (flush())
            return failure();
        std::string().swap(pending_);
        return file_->commit(overwrite);
    }

    void discard() noexcept
    {
        if (file_)
            file_->discard();
    }

private:
    static constexpr std::size_t gather_limit = 32 * 1024;

    error_code begin_body() override
    {
        pending_.clear();
        return fail(file_ ? file_->reset() : open());
    }

    error_code write_body(std::string_view data) override
    {
        if (pending_.size() + data.size() <= gather_limit)
        {
            pending_.append(data);
            return {};
        }
        if (auto ec = flush())
            return ec;
        if (data.size() < gather_limit)
        {
            pending_.append(data);
            return {};
        }
        return fail(file_->write(data));
    }

    error_code flush()
    {
        if (pending_.empty())
            return {};
        auto ec = fail(file_->write(pending_));
        pending_.clear();
        return ec;
    }

    std::string open()
    {
        file_ = std::make_unique<atomic_file>();
        return file_->open(root_, name_);
    }

    int root_;
    const std::string& name_;
    // Made when the answer begins: a sink waiting its turn in a long list holds little.
    std::unique_ptr<atomic_file> file_;
    std::string pending_;
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
    error_code begin_body() override { return take(out_.begin(index_)); }
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

} // namespace fxrates::cli::fetch
