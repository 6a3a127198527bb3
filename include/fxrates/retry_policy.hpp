#pragma once

#include <fxrates/error.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>

namespace fxrates {

class retry_budget;

/// When and how a failed GET is tried again. All our requests are idempotent GETs.
struct retry_params
{
    /// Attempts in all, the first included; 1 means never retry.
    unsigned max_attempts = 3;

    /// The backoff before attempt k+1 is a random duration in [0, min(max_delay, base_delay * 2^(k-1))]
    /// ("full jitter"), so that many clients retrying at once spread out.
    std::chrono::steady_clock::duration base_delay = std::chrono::milliseconds(200);
    std::chrono::steady_clock::duration max_delay = std::chrono::seconds(5);

    /// A server's Retry-After is honoured up to this; a longer one is not waited for (the request
    /// fails with the 429 or 503 instead).
    std::chrono::steady_clock::duration max_retry_after = std::chrono::seconds(30);

    /// Retries a batch may add, as a share of its requests (0.2: at most 20% extra, at least 1), so
    /// that retries never turn an outage into a flood.
    double budget_ratio = 0.2;

    /// A retry budget shared by every client that holds it, for a job that a program spreads over
    /// several clients (a client per thread, or one list fed to several event loops), which then
    /// retries no more than one client's batch would. Single requests (`async_fetch`,
    /// `async_get_rates`) and batches spend it as made (size it for the job); a streamed fetch's
    /// items join it as they start. Null: a single request retries up to `max_attempts` on its
    /// own, and a batch or stream spends a budget of its own.
    std::shared_ptr<retry_budget> shared_budget{};
};

/// The retry decisions, sans-io: no clock, no randomness of its own (the caller passes a number
/// in [0, 1)), so that tests are exact.
class retry_policy
{
public:
    using duration = std::chrono::steady_clock::duration;

    explicit retry_policy(retry_params params = {}) : params_(params) {}

    /// Worth another attempt: connection failures, timeouts, 429, 502, 503 and 504. Never other
    /// 4xx answers (the request itself is wrong), a bad answer (it would be bad again), or a
    /// cancellation.
    static bool is_retryable(const error_code& error) noexcept;

    struct decision
    {
        bool retry;
        duration delay;
    };

    /// After attempt `attempt` (1-based) failed with `error`: retry, and after how long?
    /// `retry_after` is the server's Retry-After, if it sent one; `random_unit` is in [0, 1).
    decision after_failure(unsigned attempt, const error_code& error, std::optional<duration> retry_after,
                           double random_unit) const noexcept
    {
        if (attempt >= params_.max_attempts || !is_retryable(error))
            return {false, {}};
        if (retry_after)
        {
            if (!honours(*retry_after))
                return {false, {}};
            return {true, *retry_after};
        }
        double cap = std::min(std::chrono::duration<double>(params_.max_delay).count(),
                              std::chrono::duration<double>(params_.base_delay).count() *
                                  std::ldexp(1.0, static_cast<int>(std::min(attempt, 30u)) - 1));
        double unit = std::clamp(random_unit, 0.0, 1.0);
        return {true, std::chrono::duration_cast<duration>(std::chrono::duration<double>(cap * unit))};
    }

    /// A server's Retry-After that is waited for: at most `max_retry_after`.
    bool honours(duration retry_after) const noexcept { return retry_after <= params_.max_retry_after; }

    const retry_params& params() const noexcept { return params_; }

private:
    retry_params params_;
};

/// Reads a Retry-After header (RFC 9110): delta-seconds, or an HTTP date turned into seconds from
/// `now` (a date already past means 0). Empty for anything else.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now);

/// The retries a batch may still make: `ratio` of its requests, and never fewer than one request
/// may make on its own (`per_request`, i.e. `max_attempts - 1`), so that a small batch retries as
/// often as asked. A ratio of 0 turns retries off. 429 answers are not retries: they wait for the
/// server's Retry-After and do not spend the budget. A batch whose size is not known up front (a
/// list read as it goes) starts with no requests and adds each as it starts, earning as it goes.
///
/// Thread safety: every member may be called from any thread, so that clients on several threads
/// may share one (`retry_params::shared_budget`).
class retry_budget
{
public:
    retry_budget(double ratio, std::size_t requests, std::size_t per_request = 1) noexcept
        : ratio_(ratio), floor_(std::max<std::size_t>(1, per_request)), requests_(requests)
    {
    }

    /// The budget of a batch of `requests` under `retry`: `budget_ratio` of them, and never fewer
    /// than one request may make on its own (`max_attempts - 1`).
    static std::shared_ptr<retry_budget> for_batch(const retry_params& retry, std::size_t requests)
    {
        return std::make_shared<retry_budget>(retry.budget_ratio, requests,
                                              retry.max_attempts > 0 ? retry.max_attempts - 1 : 0);
    }

    /// So many retries in all (0: none), however many requests join: a share of a larger budget
    /// (a worker process's).
    struct exactly
    {
        std::size_t retries;
    };
    explicit retry_budget(exactly fixed) noexcept : ratio_(0), floor_(0), fixed_(true), granted_(fixed.retries) {}

    retry_budget(const retry_budget&) = delete;
    retry_budget& operator=(const retry_budget&) = delete;

    /// One more request joined the batch.
    void add_request() noexcept { requests_.fetch_add(1, std::memory_order_relaxed); }

    /// Takes one retry from the budget; false when it is spent.
    bool try_spend() noexcept
    {
        auto spent = spent_.load(std::memory_order_relaxed);
        do
        {
            if (earned() <= spent)
                return false;
        } while (!spent_.compare_exchange_weak(spent, spent + 1, std::memory_order_relaxed));
        return true;
    }

    /// A fixed budget holds `retries` again, whatever it held and spent: a process-pool worker's
    /// grant for its next job. Not while a request of it may be spending it.
    void refill(std::size_t retries) noexcept
    {
        spent_.store(0, std::memory_order_relaxed);
        granted_.store(retries, std::memory_order_relaxed);
    }

    std::size_t left() const noexcept
    {
        auto earned_now = earned();
        auto spent = spent_.load(std::memory_order_relaxed);
        return earned_now > spent ? earned_now - spent : 0;
    }

private:
    std::size_t earned() const noexcept
    {
        if (fixed_)
            return granted_.load(std::memory_order_relaxed);
        if (ratio_ <= 0)
            return 0;
        auto requests = requests_.load(std::memory_order_relaxed);
        return std::max<std::size_t>(floor_, static_cast<std::size_t>(std::floor(ratio_ * static_cast<double>(requests))));
    }

    double ratio_;
    std::size_t floor_;
    bool fixed_ = false;
    std::atomic<std::size_t> granted_ = 0; // a fixed budget's retries
    std::atomic<std::size_t> requests_ = 0;
    std::atomic<std::size_t> spent_ = 0;
};

} // namespace fxrates
