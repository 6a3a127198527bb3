#pragma once

// The jobs the strategies run. A strategy is a way of running N items (threads, processes, an event
// loop); a job says what one item is and how it is fetched. The strategies are written once, as
// templates over the job, and instantiated for the two jobs there are:
//   - rates_job: an item is a base currency, its outcome a rates_outcome;
//   - fetch_job: an item is a URL (fetch_item, its body to its sink), its outcome a fetch_outcome.
// Templates rather than a virtual per-item interface: the outcome types differ, and a strategy
// moves outcomes between threads (the offload bridge, the pool's result queue), which wants the real
// type; a type-erased item would make each strategy store results through a second channel. What a
// job must provide:
//   outcome_type; params(); size(); deadline();
//   fetch(blocking_client&, index, deadline) -> outcome_type, on the calling thread;
//   origin_of(index): where the item's request goes, for the limits per origin (origin_gate);
//   failed(index, why, error) -> outcome_type, the outcome of an item that got no answer;
//   observe(index, outcome), told once per item as it ends (calls serialised by run_strategy);
//   async_batch(client&, token): every item on the asynchronous client, completing with
//     (error_code, std::vector<outcome_type>) in input order;
//   for the process pool: wire_name, encode_item(index), and an answer_reader that turns what a
//     worker sends into outcomes (see process_pool.cpp).

#include <fxrates/blocking_client.hpp>
#include <fxrates/client.hpp>

#include "client/http/origin.hpp"
#include "lab/strategy.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fxrates::detail
{

using time_point = std::chrono::steady_clock::time_point;

/// The outcome of a base that got no answer: `error`, explained by `why`, done now.
rates_outcome failed_outcome(currency_code base, std::string why, error_code error = errc::worker_failed);

/// The same for a URL.
fetch_outcome failed_outcome(const std::string& url, std::string why, error_code error = errc::worker_failed);

/// The origin of an absolute http(s) URL; an empty one for a URL that is not (its item fails alone).
origin origin_of_url(std::string_view url);

/// When the whole batch must be done: `client_params::batch_timeout` from now.
time_point batch_deadline(const strategy_params& params);

/// One base through a blocking client, by the batch's `deadline` and stop request; a request
/// still under way at the deadline is abandoned and says which time limit it hit.
rates_outcome fetch_by_deadline(blocking_client& api, const strategy_params& params, currency_code base,
                                time_point deadline);

/// The rates job: one item per base of `params.bases`, all with `params.query`.
class rates_job
{
public:
    using outcome_type = rates_outcome;
    static constexpr std::string_view wire_name = "rates";

    explicit rates_job(const strategy_params& params) : params_(params), api_(origin_of_url(params.client.api_url)) {}

    const strategy_params& params() const { return params_; }
    std::size_t size() const { return params_.bases.size(); }
    time_point deadline() const { return batch_deadline(params_); }

    outcome_type fetch(blocking_client& api, std::size_t index, time_point deadline) const
    {
        return fetch_by_deadline(api, params_, params_.bases[index], deadline);
    }

    const origin& origin_of(std::size_t) const { return api_; }

    outcome_type failed(std::size_t index, std::string why, error_code error = errc::worker_failed) const
    {
        return failed_outcome(params_.bases[index], std::move(why), error);
    }

    void observe(std::size_t index, const outcome_type& outcome) const
    {
        if (params_.on_outcome)
            params_.on_outcome(index, outcome);
    }

    template <class CompletionToken> void async_batch(client& api, CompletionToken&& token) const
    {
        api.async_get_rates_batch(params_.bases, params_.query, params_.on_outcome,
                                  std::forward<CompletionToken>(token));
    }

    std::string encode_item(std::size_t index) const;

private:
    const strategy_params& params_;
    origin api_;
};

/// The URL job: one item per `fetch_item`, its body to its sink (or into its outcome). No batch
/// deadline: each item is bounded by the client's request limits, as in `async_fetch_batch`.
class fetch_job
{
public:
    using outcome_type = fetch_outcome;
    static constexpr std::string_view wire_name = "fetch";

    fetch_job(const strategy_params& params, std::vector<fetch_item> items, fetch_observer observe)
        : params_(params), items_(std::move(items)), observe_(std::move(observe))
    {
        origins_.reserve(items_.size());
        for (const auto& item : items_)
            origins_.push_back(origin_of_url(item.url));
    }

    const strategy_params& params() const { return params_; }
    std::size_t size() const { return items_.size(); }
    const fetch_item& item(std::size_t index) const { return items_[index]; }
    time_point deadline() const { return time_point::max(); }

    outcome_type fetch(blocking_client& api, std::size_t index, time_point deadline) const
    {
        return api.fetch(items_[index], deadline, params_.stop);
    }

    const origin& origin_of(std::size_t index) const { return origins_[index]; }

    outcome_type failed(std::size_t index, std::string why, error_code error = errc::worker_failed) const
    {
        return failed_outcome(items_[index].url, std::move(why), error);
    }

    void observe(std::size_t index, const outcome_type& outcome) const
    {
        if (observe_)
            observe_(index, outcome);
    }

    template <class CompletionToken> void async_batch(client& api, CompletionToken&& token) const
    {
        api.async_fetch_batch(items_, observe_, std::forward<CompletionToken>(token));
    }

    std::string encode_item(std::size_t index) const;

private:
    const strategy_params& params_;
    std::vector<fetch_item> items_;
    std::vector<origin> origins_;
    fetch_observer observe_;
};

} // namespace fxrates::detail
