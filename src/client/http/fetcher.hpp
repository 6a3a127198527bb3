#pragma once

// One logical GET, above the transport seam: the origin's throttle, the transport, 429 answers
// (the origin's pace is learned and paused until Retry-After, and the request goes back in the
// queue without spending the retry budget), redirects (each hop to its own origin's pool and
// certificate check), and retries of real failures with a jittered backoff within a budget.
//
// A template over the clock so that unit tests run it on virtual time over a fake transport; the
// library uses `fetcher` (steady_clock), instantiated once in fetcher.cpp.

#include <fxrates/client_params.hpp>
#include <fxrates/diagnostics.hpp>
#include <fxrates/error.hpp>
#include <fxrates/request_timing.hpp>
#include <fxrates/retry_policy.hpp>
#include <fxrates/shared_pace.hpp>
#include <fxrates/throttle.hpp>

#include "client/deadline.hpp"
#include "client/http/ascii.hpp"
#include "client/http/rate_learner.hpp"
#include "client/http/redirect.hpp"
#include "client/http/resume.hpp"
#include "client/http/transport.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/wait_traits.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>

namespace fxrates::detail {

/// What to fetch.
struct fetch_request
{
    http_location location;
    bool head = false;
    request_fields extra_fields; ///< may be null
    body_sink* sink = nullptr; ///< null: the body is returned in the response
};

/// What became of it: an error, or the final answer (any status: checking it is the caller's).
struct fetch_outcome
{
    error_code error;
    diagnostics diag;
    http_response response;
    std::string final_url;        ///< after redirects
    unsigned attempts = 0;        ///< requests sent, 429s and redirects included
    unsigned resent = 0;          ///< sent again after a reused connection closed unanswered
    unsigned rate_limited = 0;    ///< 429 answers met
    unsigned redirects = 0;       ///< hops followed
    request_timing timing;        ///< granted, started ... first_byte of the last request; done
    std::uint64_t resumed_from = 0; ///< bytes the sink kept from before the final answer (a resume)
};

/// Answers the fetcher handles itself instead of handing them to its caller: gateway failures it
/// retries (429s and followed redirects are the others).
constexpr bool is_retried_status(unsigned status) noexcept
{
    return status == 502 || status == 503 || status == 504;
}

/// Why an answer with `status` cannot be the body a request asked for, as what the server did
/// ("answered 304 ..."): a 206 to a request for the whole body, a 304 to one that was not
/// conditional (RFC 9110 15.3.7, 15.4.5); empty when it can. `resumed`: the fetcher asked for a range.
inline std::string unusable_answer(unsigned status, bool resumed, bool caller_ranges, bool conditional)
{
    if (status == 206 && !resumed && !caller_ranges)
        return "answered 206 (Partial Content), a part of the body, to a request for all of it";
    if (status == 304 && !conditional)
        return "answered 304 (Not Modified) to a request that was not conditional: it has no body to give";
    return {};
}

/// The caller's sink as one attempt sees it: the bodies of answers that the fetcher handles itself
/// (redirects followed, 429s, retried gateway failures, a 416 to a resumed request) are dropped,
/// never mixed into the caller's. When the attempt asks for the rest of the caller's body from an
/// offset, a 206 that does not continue it there (another first byte, no usable Content-Range, a
/// content coding, other validators than the bytes kept) is refused at its head, before the
/// caller's sink sees it; either way the fetcher then asks for the whole body. Answers that cannot
/// be the body asked for never reach it either: a 206 to a request for the whole body, a 304 to a
/// request that was not conditional. The whole body, the bytes resumed from included, is held to
/// the body limit.
class final_answer_sink final : public body_sink
{
public:
    /// `caller_fields`: the request's own fields (a caller that sends Range or a condition itself
    /// expects a 206 or a 304).
    final_answer_sink(body_sink& to, bool follows_redirects, std::uint64_t body_limit, const request_fields& caller_fields)
        : to_(to), follows_redirects_(follows_redirects), body_limit_(body_limit),
          caller_ranges_(asks_for_range(caller_fields)), conditional_(is_conditional(caller_fields))
    {
    }

    using body_sink::begin;

    /// Before each attempt: what it asks for the rest of the body after (the bytes kept and their
    /// validators), or none.
    void start_attempt(std::optional<resume_point> resume) noexcept
    {
        resume_ = std::move(resume);
        passing_ = false;
        range_refused_ = false;
        refusal_.clear();
    }

    error_code begin(const body_head& head) override
    {
        unsigned status = head.status;
        const bool resumed = resume_.has_value();
        const std::uint64_t resume_at = resumed ? resume_->offset : 0;
        complete_ = false;
        status_ = status;
        total_size_ = head.total_size;
        range_end_ = status == 206 ? head.range_end : std::nullopt;
        range_first_ = head.offset;
        answer_bytes_ = 0;
        // A 206 with an unknown complete length ("bytes 4-9/*") is held to the one the bytes kept
        // came with, when that was known.
        if (!total_size_ && resumed && status == 206)
            total_size_ = resume_->total_size;
        if (resumed && status == 416 && head.total_size == resume_at && validator_change(head).empty() &&
            resume_at <= body_limit_)
        {
            // "Nothing past byte N": the bytes kept are the whole body (a run stopped between its
            // last byte and its rename). The If-Range validator matched, or the answer would have
            // been a 200; a 416 whose validators or size contradict the bytes kept' (a server that
            // ignores If-Range) is not believed, and the body is asked for whole. The caller's
            // sink resumes at its end and gets nothing more.
            passing_ = complete_ = true;
            kept_ = whole_ = resume_at;
            body_head whole = head;
            whole.status = 206;
            whole.offset = resume_at;
            return to_.begin(whole);
        }
        passing_ = !(status == 429 || is_retried_status(status) ||
                     (follows_redirects_ && is_followed_redirect(status)) || (resumed && status == 416));
        if (resumed && status == 416)
        {
            range_refused_ = true;
            refusal_ = "the server answered 416 (Range Not Satisfiable) to the request for the rest from byte " +
                       std::to_string(resume_at);
        }
        if (!passing_)
            return {};
        kept_ = 0;
        if (auto why = unusable_answer(status, resumed, caller_ranges_, conditional_); !why.empty())
            return refuse_answer(std::move(why));
        if (resumed && status == 206)
        {
            std::string changed = validator_change(head);
            if (head.offset != resume_at || head.encoded || !changed.empty())
            {
                passing_ = false;
                range_refused_ = true;
                refusal_ = "the 206 answer to the request for the rest from byte " + std::to_string(resume_at) +
                           (head.encoded          ? std::string(" came with a content coding")
                            : !changed.empty()    ? changed
                            : head.offset == 0    ? std::string(" has no usable Content-Range")
                                                  : " starts at byte " + std::to_string(head.offset));
                return errc::bad_response;
            }
            kept_ = head.offset;
        }
        whole_ = kept_;
        // Without bytes kept, the parser's own limit is the whole body's (and says it better).
        if (kept_ > 0 && (kept_ > body_limit_ || (head.total_size && *head.total_size > body_limit_)))
            return refuse_size(std::max(kept_, head.total_size.value_or(0)));
        return to_.begin(head);
    }

    error_code write(std::string_view data) override
    {
        if (!passing_ || complete_)
            return {};
        // The parser bounds the answer's own bytes; this bounds them with the ones resumed from.
        if (data.size() > body_limit_ - whole_)
            return refuse_size(whole_ + data.size());
        if (range_end_ && data.size() > *range_end_ - range_first_ - answer_bytes_)
            return refuse_overlong_range();
        whole_ += data.size();
        answer_bytes_ += data.size();
        return to_.write(data);
    }

    std::optional<resume_point> resume_from() const override { return to_.resume_from(); }

    /// The last answer was a 416 to the resumed request, or a 206 that does not continue the body.
    bool range_refused() const noexcept { return range_refused_; }

    /// The last answer was a 416 saying the body ends where the bytes kept end: it is complete.
    bool complete_already() const noexcept { return complete_; }

    /// Bytes the caller's sink kept from before the last answer that reached it: its resume offset.
    std::uint64_t resumed_from() const noexcept { return passing_ ? kept_ : 0; }

    /// Why the last answer was refused, when this sink refused it, as what the server did ("answered
    /// 304 ...", "sent an answer larger than the body limit ..."); empty otherwise.
    const std::string& refusal() const noexcept { return refusal_; }

    /// After an answer that reached the caller's sink in full: why it is not the whole body when
    /// it is not (a 206 that ended before the complete length its Content-Range gave, as some
    /// servers send a long body in parts); empty when it is, or when the caller asked for a range
    /// of its own. The bytes kept are good: the next
    /// attempt asks for the rest after them.
    std::string short_of_whole() const
    {
        if (caller_ranges_ || !passing_ || complete_ || status_ != 206)
            return {};
        if (range_end_ && whole_ < *range_end_)
            return "the 206 answer ended at byte " + std::to_string(whole_) + ", before the byte " +
                   std::to_string(*range_end_) + " its Content-Range gave: the rest is still to come";
        if (total_size_ && whole_ < *total_size_)
            return "the 206 answer ended at byte " + std::to_string(whole_) + " of " +
                   std::to_string(*total_size_) + ": the rest of the body is still to come";
        return {};
    }

private:
    error_code refuse_size(std::uint64_t size)
    {
        passing_ = false;
        refusal_ = "sent an answer larger than the body limit: resumed from byte " + std::to_string(kept_) + ", the whole body (" +
                   std::to_string(size) + " bytes or more) would pass the body limit of " +
                   std::to_string(body_limit_) + " bytes";
        return errc::body_limit;
    }

    // A 206 whose body goes on past the end of its own Content-Range: its bytes cannot be trusted
    // to be the range (a server that sends the whole body under a range's head does this). A
    // resumed body is asked for whole; a caller's own range fails.
    error_code refuse_overlong_range()
    {
        passing_ = false;
        range_refused_ = resume_.has_value();
        refusal_ = "sent more than the bytes " + std::to_string(range_first_) + " to " +
                   std::to_string(*range_end_ - 1) + " its 206 answer's Content-Range gave";
        return errc::bad_response;
    }

    // An answer HTTP does not allow to this request (RFC 9110 15.3.7, 15.4.5).
    error_code refuse_answer(std::string why)
    {
        passing_ = false;
        refusal_ = std::move(why);
        return errc::bad_response;
    }

    // Why a 206 to a resumed request is not the resource the bytes kept came from, although the
    // server let If-Range through (some ignore it): the validator sent differs from the answer's,
    // or the whole body's size does.
    std::string validator_change(const body_head& head) const
    {
        if (resume_->total_size && head.total_size && *head.total_size != *resume_->total_size)
            return " gives the whole body as " + std::to_string(*head.total_size) + " bytes, not the " +
                   std::to_string(*resume_->total_size) + " of the bytes kept: the resource changed";
        const auto sent = if_range_validator(*resume_);
        if (sent.empty())
            return {};
        const bool by_tag = sent == resume_->etag;
        const std::string& now = by_tag ? head.etag : head.last_modified;
        if (now.empty() || now == sent)
            return {};
        return std::string(" has ") + (by_tag ? "the ETag " : "Last-Modified ") + now + ", not " + sent +
               " of the bytes kept: the resource changed";
    }

    body_sink& to_;
    bool follows_redirects_;
    std::uint64_t body_limit_;
    bool caller_ranges_;
    bool conditional_;
    std::optional<resume_point> resume_;
    unsigned status_ = 0;                     // of the last answer
    std::optional<std::uint64_t> total_size_; // of the last answer
    std::optional<std::uint64_t> range_end_;  // of the last answer, a 206
    std::uint64_t range_first_ = 0;           // of the last answer: where its first byte goes
    std::uint64_t answer_bytes_ = 0;          // of the last answer: its bytes written
    std::uint64_t kept_ = 0;  // of the passing answer: the bytes resumed from
    std::uint64_t whole_ = 0; // of the passing answer: the bytes resumed from, and those written since
    bool passing_ = false;
    bool complete_ = false;
    bool range_refused_ = false;
    std::string refusal_;
};

template <class Clock = std::chrono::steady_clock, class WaitTraits = boost::asio::wait_traits<Clock>>
class basic_fetcher
{
public:
    using clock_type = Clock;
    using throttle_type = basic_throttle<Clock, WaitTraits>;

    /// `through` and `params` must outlive the fetcher.
    basic_fetcher(boost::asio::any_io_executor executor, transport& through, const client_params& params)
        : executor_(std::move(executor)), transport_(through), params_(params), retry_(params.retry),
          random_(std::random_device{}())
    {
    }

    /// Fetches `request`. Retries spend `budget` when given (a batch's), else the one the params
    /// share (`retry_params::shared_budget`), else only the policy's per-request attempts. Never
    /// throws for a failed request; reports it in the outcome.
    boost::asio::awaitable<fetch_outcome> fetch(fetch_request request, retry_budget* budget)
    {
        namespace asio = boost::asio;
        co_await asio::this_coro::throw_if_cancelled(false);
        if (!budget)
            budget = params_.retry.shared_budget.get();
        fetch_outcome outcome;
        auto& timing = outcome.timing;
        auto location = std::move(request.location);
        const auto first_origin = location.origin;
        auto hop_fields = request.extra_fields; // the caller's, without credentials on another origin
        std::optional<redirect_chain> chain; // made at the first redirect: most requests have none
        auto total_deadline = after(params_.total_timeout, Clock::now());
        unsigned failures = 0;
        // The last send met a reused connection closed unanswered: this one is its resend.
        bool resending = false;
        std::optional<final_answer_sink> sink;
        if (request.sink)
            sink.emplace(*request.sink, params_.max_redirects > 0, params_.body_limit, request.extra_fields);
        // Whether this fetch may ask for the rest of a body the sink holds: not for a HEAD, nor when
        // the caller manages ranges, nor after a resume was refused (a 416, or a 206 that did not
        // continue the body): then the rest of the fetch asks for whole answers, so that a server
        // that cannot resume costs one extra request, never a loop.
        bool may_resume = sink && !request.head && !asks_for_range(request.extra_fields);
        std::string restart_note; // why a resume was given up, for the message if the fetch fails
        for (;;)
        {
            if (co_await cancelled())
            {
                outcome.error = asio::error::operation_aborted;
                outcome.diag.set_client_message("stopped before the request was sent");
                break;
            }
            // An earlier attempt's failure is not this one's (a retry that succeeds is a success).
            outcome.error = {};
            outcome.diag.clear();
            auto& state = state_of(location.origin);
            auto attempt_start = Clock::now();
            auto whole_deadline = std::min(total_deadline, after(params_.request_timeout, attempt_start));
            const char* whole_name = whole_deadline == total_deadline ? "total timeout" : "request timeout";
            auto whole_length = whole_deadline == total_deadline ? params_.total_timeout : params_.request_timeout;
            auto queue_deadline = std::min(whole_deadline, after(params_.queue_timeout, attempt_start));
            bool queue_is_whole = queue_deadline == whole_deadline;
            time_limit queue_limit{{}, queue_is_whole ? whole_name : "queue timeout",
                                   queue_is_whole ? whole_length : params_.queue_timeout};
            if (state.throttle)
            {
                if (auto ec = co_await wait_for_throttle(*state.throttle, queue_deadline))
                {
                    outcome.error = ec;
                    outcome.diag.set_client_message(
                        ec == asio::error::timed_out
                            ? rate_limit_held_message(limit_text(queue_limit.name, queue_limit.length),
                                                      outcome.rate_limited, state.rate_limited)
                            : "stopped while waiting for its turn (the rate limit, or a pause the server asked for)");
                    break;
                }
                // A cancellation that came while this coroutine waited to resume after the grant
                // reached no operation: only its state remembers it, and the request below would
                // not see it (a server that never answers would hold it to the request timeout).
                if (co_await cancelled())
                {
                    outcome.error = asio::error::operation_aborted;
                    outcome.diag.set_client_message("stopped before the request was sent");
                    break;
                }
            }
            auto granted = Clock::now();
            timing.granted = std::chrono::steady_clock::now();

            http_request sent;
            sent.origin = location.origin;
            sent.target = location.target;
            sent.head = request.head;
            sent.extra_fields = hop_fields;
            sent.sink = sink ? &*sink : nullptr;
            sent.resend_unanswered = resending;
            std::optional<resume_point> resume;
            if (may_resume)
                if (auto point = request.sink->resume_from(); point && point->offset > 0)
                    if (auto validator = if_range_validator(*point); !validator.empty())
                    {
                        sent.extra_fields = with_resume_fields(hop_fields, point->offset,
                                                               std::move(validator));
                        sent.identity_encoding = true;
                        resume = std::move(point);
                    }
            const bool resuming = resume.has_value();
            if (sink)
                sink->start_attempt(std::move(resume));
            sent.queue = queue_limit;
            sent.queue.left = left_until(queue_deadline, granted);
            sent.whole = {left_until(whole_deadline, granted), whole_name, whole_length};
            auto [ec, response] = co_await async_send(transport_, std::move(sent),
                                                      asio::as_tuple(asio::use_awaitable));
            ++outcome.attempts;
            auto now = Clock::now();
            stamp(timing, response.timing);
            unsigned status = ec ? 0 : response.status();
            if (ec && response.unanswered_on_reused && !resending)
            {
                // The server closed an idle connection as it was reused, before answering: not a
                // failure, and no retry of the budget. Sent again, once, on a fresh connection,
                // in its turn of the throttle: the server counts it as another request.
                resending = true;
                ++outcome.resent;
                continue;
            }
            resending = false;

            if (resuming && sink->complete_already())
            {
                // The answer says "nothing more"; for the caller it is the end of a resumed body, as
                // a 206 would be. Its content fields describe the 416's own text: dropped.
                response_head rest;
                rest.status = status = 206;
                rest.version = response.head.version;
                rest.set_reason("Partial Content");
                for (header_field field : response.head.fields())
                    if (!iequals(field.name, "content-type") && !iequals(field.name, "content-length"))
                        rest.add_field(field.name, field.value);
                response.head = std::move(rest);
            }
            if (resuming && sink->range_refused())
            {
                // The server cannot continue this body: ask for all of it, at once and without
                // spending the retry budget (the server answered; nothing failed).
                may_resume = false;
                restart_note = "the download started over: " + sink->refusal();
                continue;
            }
            if (sink && !sink->refusal().empty())
                response.diag.set_client_message("the server " + location.origin.host_header() + " " +
                                                 sink->refusal());
            else if (!ec && !sink)
            {
                // Without a sink the body is in memory: refused here, as the sink would refuse it.
                if (auto why = unusable_answer(status, false, asks_for_range(request.extra_fields),
                                               is_conditional(request.extra_fields));
                    !why.empty())
                {
                    ec = errc::bad_response;
                    response.diag.set_client_message("the server " + location.origin.host_header() + " " +
                                                     why);
                }
            }
            else if (!ec && sink)
                if (auto rest = sink->short_of_whole(); !rest.empty())
                {
                    ec = errc::truncated_answer;
                    response.diag.set_client_message("the answer from " + location.origin.host_header() + " is " +
                                                     "incomplete: " + rest);
                }

            if (status == 429)
            {
                ++outcome.rate_limited;
                ++rate_limited_;
                ++state.rate_limited;
                auto retry_after = parse_retry_after(response.head.find("retry-after").value_or(""),
                                                     std::chrono::system_clock::now());
                if (auto pace = state.learner.on_rate_limited(response.head.find("x-ratelimit-limit"),
                                                              response.head.find("x-ratelimit-burst"), granted, now))
                    set_pace(state, *pace);
                // Without Retry-After, one interval of the learned pace.
                auto wait = retry_after ? std::chrono::duration_cast<typename Clock::duration>(*retry_after)
                                        : std::chrono::duration_cast<typename Clock::duration>(
                                              std::chrono::duration<double>(1.0 / state.learner.current().value_or(
                                                                                      typename rate_learner<Clock>::pace{1, 1}).rate));
                if (outcome.rate_limited >= max_rate_limited_answers)
                {
                    outcome.response = std::move(response);
                    add_note(outcome.diag, "gave up after " + std::to_string(outcome.rate_limited) +
                                               " answers 429 to this request: the server's limit never let it "
                                               "through, though fxrates kept to the pace it showed");
                    break;
                }
                if (retry_after && !retry_.honours(*retry_after))
                {
                    outcome.response = std::move(response);
                    add_note(outcome.diag, wait_too_long(*retry_after));
                    break;
                }
                if (after(wait, now) >= total_deadline)
                {
                    outcome.response = std::move(response);
                    add_note(outcome.diag, "not retried: the server's rate limit would hold it past " +
                                               limit_text("total timeout", params_.total_timeout));
                    break;
                }
                // One pause for everyone queued for this origin, not one sleep per request.
                if (!state.throttle)
                    set_pace(state, state.learner.current().value_or(typename rate_learner<Clock>::pace{1, 1}));
                state.throttle->pause_until(after(wait, now));
                continue; // back in the queue: a 429 is the server's pace, not a failure
            }
            if (!ec)
                if (auto faster = state.learner.on_answer(now))
                    set_pace(state, *faster);

            if (!ec && is_followed_redirect(status) && params_.max_redirects > 0)
            {
                http_location next;
                std::string why;
                auto field = response.head.find("location");
                error_code redirect_error =
                    field ? resolve_redirect(location, *field, next, why) : error_code(errc::bad_redirect);
                if (!field)
                    why = "the " + std::to_string(status) + " answer from " + location.origin.host_header() +
                          " has no Location";
                else if (!redirect_error && chain && chain->hops() >= params_.max_redirects)
                {
                    redirect_error = errc::too_many_redirects;
                    why = "more than " + std::to_string(params_.max_redirects) +
                          " redirects (the redirect limit): " + chain->text(next.url());
                }
                if (!chain)
                    chain.emplace(location.url());
                if (!redirect_error && chain->contains(next.url()))
                {
                    redirect_error = errc::redirect_loop;
                    why = "back to an address already visited: " + chain->text(next.url());
                }
                if (redirect_error)
                {
                    outcome.error = redirect_error;
                    outcome.diag.set_client_message(why);
                    outcome.response = std::move(response);
                    break;
                }
                chain->add(next.url());
                ++outcome.redirects;
                hop_fields = fields_for_hop(request.extra_fields, first_origin, next.origin);
                location = std::move(next);
                continue; // redirects are not failures: no budget spent
            }

            error_code failure = ec;
            if (!ec && is_retried_status(status))
                failure = make_http_error(status);
            if (!failure)
            {
                outcome.response = std::move(response);
                break;
            }
            // A real failure: the retry policy and the budget decide.
            ++failures;
            std::optional<std::chrono::steady_clock::duration> retry_after;
            if (!ec)
                if (auto seconds = parse_retry_after(response.head.find("retry-after").value_or(""),
                                                     std::chrono::system_clock::now()))
                    retry_after = *seconds;
            outcome.error = ec;
            outcome.diag = std::move(response.diag);
            outcome.response = std::move(response);
            double unit = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
            auto decision = retry_.after_failure(failures, failure, retry_after, unit);
            if (!decision.retry)
            {
                // A 503's Retry-After past the longest wait allowed: say so, as for a 429.
                if (retry_after && !retry_.honours(*retry_after) && failures < retry_.params().max_attempts &&
                    retry_policy::is_retryable(failure))
                    add_note(outcome.diag, wait_too_long(*retry_after));
                break;
            }
            if (after(decision.delay, Clock::now()) >= total_deadline)
            {
                add_note(outcome.diag, no_more_retries(failures) + limit_text("total timeout", params_.total_timeout) +
                                           " would pass first");
                break;
            }
            if (budget && !budget->try_spend())
            {
                add_note(outcome.diag, no_more_retries(failures) + "the batch's retry budget is spent");
                break;
            }
            asio::basic_waitable_timer<Clock, WaitTraits> backoff(executor_);
            backoff.expires_after(std::chrono::duration_cast<typename Clock::duration>(decision.delay));
            auto [wait_ec] = co_await backoff.async_wait(asio::as_tuple(asio::use_awaitable));
            if (wait_ec || co_await cancelled())
            {
                outcome.error = asio::error::operation_aborted;
                outcome.diag.set_client_message("stopped while waiting to retry");
                break;
            }
        }
        outcome.final_url = location.url();
        outcome.resumed_from = sink ? sink->resumed_from() : 0;
        if (outcome.error && !restart_note.empty())
            add_note(outcome.diag, restart_note);
        timing.done = std::chrono::steady_clock::now();
        co_return outcome;
    }

    // Why an answer asking to wait `retry_after` is not retried.
    std::string wait_too_long(std::chrono::steady_clock::duration retry_after) const
    {
        // parse_retry_after caps a wait at a day: the value said may have been longer.
        return "not retried: the server asked to wait " +
               (retry_after >= std::chrono::hours(24) ? std::string("a day or more") : seconds_text(retry_after)) +
               ", longer than the longest wait allowed (" + seconds_text(retry_.params().max_retry_after) + ")";
    }

    // The start of why a request that may be retried is not, after its `failures`-th failure: it
    // says whether earlier attempts were retried, so that it agrees with the attempts counted.
    static std::string no_more_retries(unsigned failures)
    {
        if (failures <= 1)
            return "not retried: ";
        return "retried " + std::to_string(failures - 1) + (failures == 2 ? " time" : " times") + ", no more: ";
    }

    /// Closes every origin's throttle (its waiters fail); the transport is closed by its owner.
    void close()
    {
        closed_ = true;
        for (auto& [where, state] : origins_)
            if (state.throttle)
                state.throttle->close();
    }

    /// 429 answers met so far, every origin together.
    std::size_t rate_limited() const noexcept { return rate_limited_; }

    /// Times the throttles' timers woke their queues.
    std::uint64_t throttle_wakeups() const noexcept
    {
        std::uint64_t total = 0;
        for (const auto& [where, state] : origins_)
            total += state.throttle ? state.throttle->wakeups() : 0;
        return total;
    }

private:
    // Once paced, a request meets a 429 rarely; this many mean the server will not let it through
    // (and bound the loop when no time limit does).
    static constexpr unsigned max_rate_limited_answers = 20;

    struct origin_state
    {
        std::unique_ptr<throttle_type> throttle;
        rate_learner<Clock> learner;
        unsigned rate_limited = 0; // 429s from this origin, to any request: its pace is then the server's
    };

    origin_state& state_of(const origin& where)
    {
        auto [it, added] = origins_.try_emplace(where);
        if (added && params_.shared_pace)
            it->second.throttle =
                std::make_unique<throttle_type>(executor_, params_.shared_pace, where.text());
        else if (added && params_.rate > 0)
            it->second.throttle = std::make_unique<throttle_type>(executor_, params_.rate, params_.burst);
        if (added && closed_ && it->second.throttle)
            it->second.throttle->close();
        return it->second;
    }

    // Paces an origin as learned; a limit set up front (client_params::rate, or the shared pace's,
    // which keeps its own rate as the ceiling) is never raised.
    void set_pace(origin_state& state, const typename rate_learner<Clock>::pace& pace)
    {
        // A shared pace takes only a limit the server announced: a guess from this client's own
        // answers counts one thread's share of them, and slowed every thread to a request a second
        // for the rest of the run (a probe). Its pauses are shared all the same.
        if (params_.shared_pace && !state.learner.announced())
            return;
        bool own_rate = params_.rate > 0 && !params_.shared_pace;
        double rate = own_rate ? std::min(params_.rate, pace.rate) : pace.rate;
        if (!state.throttle)
        {
            state.throttle = std::make_unique<throttle_type>(executor_, rate, pace.burst);
            if (closed_)
                state.throttle->close();
        }
        else
            state.throttle->set_rate(rate, pace.burst);
    }

    // Waits for the throttle's grant until `deadline`: operation_aborted if cancelled or closed,
    // timed_out if the deadline came first.
    boost::asio::awaitable<error_code> wait_for_throttle(throttle_type& throttle, typename Clock::time_point deadline)
    {
        namespace asio = boost::asio;
        asio::basic_waitable_timer<Clock, WaitTraits> limit(executor_, deadline);
        // Whichever finishes first cancels the other; both results are looked at, since a grant
        // may come in the same instant as the deadline (and then the token is taken: use it).
        auto [order, grant_ec, limit_ec] =
            co_await asio::experimental::make_parallel_group(throttle.async_acquire(1, asio::deferred),
                                                             limit.async_wait(asio::deferred))
                .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
        if (!grant_ec)
            co_return error_code{};
        bool deadline_passed = order[0] == 1 && !limit_ec;
        if (!deadline_passed || co_await cancelled())
            co_return grant_ec;
        co_return asio::error::timed_out;
    }

    static boost::asio::awaitable<bool> cancelled()
    {
        auto state = co_await boost::asio::this_coro::cancellation_state;
        co_return state.cancelled() != boost::asio::cancellation_type::none;
    }

    static void add_note(diagnostics& diag, const std::string& note)
    {
        diag.set_client_message(diag.client_message() + (diag.client_message().empty() ? "" : "; ") + note);
    }

    // `from + length` on this clock, saturating (durations may be "no limit").
    static typename Clock::time_point after(std::chrono::steady_clock::duration length, typename Clock::time_point from)
    {
        auto step = std::chrono::duration_cast<typename Clock::duration>(length);
        if (step <= Clock::duration::zero())
            return from;
        if (from.time_since_epoch() > Clock::duration::max() - step)
            return Clock::time_point::max();
        return from + step;
    }

    static std::chrono::steady_clock::duration left_until(typename Clock::time_point deadline,
                                                          typename Clock::time_point now)
    {
        if (deadline == Clock::time_point::max())
            return std::chrono::steady_clock::duration::max();
        if (deadline <= now)
            return std::chrono::steady_clock::duration::zero();
        return std::chrono::duration_cast<std::chrono::steady_clock::duration>(deadline - now);
    }

    static void stamp(request_timing& timing, const transport_timing& from)
    {
        timing.started = from.started;
        timing.connected = from.connected;
        timing.tls_done = from.tls_done;
        timing.first_byte = from.first_byte;
        timing.reused_connection = from.reused_connection;
        timing.resumed_tls_session = from.resumed_tls_session;
    }

    boost::asio::any_io_executor executor_;
    transport& transport_;
    const client_params& params_;
    retry_policy retry_;
    std::minstd_rand random_; // the backoff's jitter
    std::unordered_map<origin, origin_state, origin_hash> origins_;
    std::size_t rate_limited_ = 0;
    bool closed_ = false;
};

using fetcher = basic_fetcher<>;

extern template class basic_fetcher<>;

} // namespace fxrates::detail
