#pragma once

// Body sinks for tests: one records the statuses of the answers begun and the body of the last
// one; the other resumes, as a downloader's file would.

#include <fxrates/body_sink.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fxrates::test {

class recording_sink final : public fxrates::body_sink
{
public:
    using fxrates::body_sink::begin;

    fxrates::error_code begin(unsigned status) override
    {
        statuses.push_back(status);
        body.clear();
        return {};
    }

    fxrates::error_code write(std::string_view data) override
    {
        ++writes;
        body.append(data);
        return {};
    }

    std::vector<unsigned> statuses;
    std::string body;
    std::size_t writes = 0;
};

/// Holds a body and the validators of the answer it came from, and offers them to continue from:
/// a download's partial file in memory. Give it `body`, `etag` and `last_modified` up front to
/// play a partial left by an earlier run.
class resuming_sink final : public fxrates::body_sink
{
public:
    using fxrates::body_sink::begin;

    fxrates::error_code begin(const fxrates::body_head& head) override
    {
        heads.push_back(head);
        if (head.offset == 0)
        {
            body.clear();
            etag = head.etag;
            last_modified = head.last_modified;
            total = head.total_size;
        }
        else if (head.offset != body.size())
            ++misplaced; // the client promises never to do this
        holds_body = head.status == 200 || head.status == 206;
        return {};
    }

    fxrates::error_code write(std::string_view data) override
    {
        body.append(data);
        return {};
    }

    std::optional<fxrates::resume_point> resume_from() const override
    {
        if (body.empty() || !holds_body)
            return std::nullopt;
        return fxrates::resume_point{body.size(), etag, last_modified, total};
    }

    /// What an interrupted download of this body would have left: its first `size` bytes and the
    /// validators they came with.
    resuming_sink first_bytes(std::size_t size) const
    {
        resuming_sink partial;
        partial.body = body.substr(0, size);
        partial.etag = etag;
        partial.last_modified = last_modified;
        partial.total = total;
        return partial;
    }

    std::vector<fxrates::body_head> heads;
    std::string body;
    std::string etag;
    std::string last_modified;
    std::optional<std::uint64_t> total; ///< the whole body's size, as its answer gave it
    bool holds_body = true; ///< the body is a 2xx's (an error page is not resumed)
    std::size_t misplaced = 0;
};

} // namespace fxrates::test
