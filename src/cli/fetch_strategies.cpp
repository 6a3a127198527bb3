#include "cli/fetch_strategies.hpp"

#include "cli/fetch/item_sinks.hpp"

#include <fxrates/body_sink.hpp>

#include <boost/asio/post.hpp>

#include <utility>

namespace fxrates::cli
{

namespace asio = boost::asio;

namespace
{

// The strategies `fetch` offers: the article's ways of fetching a URL list. The throttled variants
// are the rates lab's; fetch has its own per-host --rate, which every strategy keeps.
constexpr strategy offered[] = {strategy::sequential,   strategy::thread_per_item, strategy::thread_pool,
                                strategy::process_pool, strategy::async,           strategy::offload};

} // namespace

void add_fetch_strategy_options(CLI::App& command, fetch_strategy_options& options)
{
    std::vector<std::string> names;
    for (auto kind : offered)
        names.emplace_back(to_string(kind));
    command
        .add_option(
            "--strategy", options.name,
            "How the URLs are fetched: on one event loop (async), one after another, a thread per URL, "
            "a pool of --threads threads or processes, or offload; the outputs are the same")
        ->check(CLI::IsMember(names))
        ->capture_default_str();
    command
        .add_option("--threads", options.threads,
                    "Workers of thread-pool, process-pool and offload (50 as in the URL article; its "
                    "image downloader used 8)")
        ->each([&options](const std::string&) { options.threads_given = true; })
        ->check(CLI::Range(std::size_t{1}, std::size_t{1024}))
        ->capture_default_str();
}

std::optional<strategy> chosen_fetch_strategy(const fetch_strategy_options& options)
{
    auto kind = parse_strategy(options.name);
    if (!kind || *kind == strategy::async)
        return std::nullopt;
    return kind;
}


strategy_fetch::strategy_fetch(asio::io_context& context, strategy kind, std::size_t threads,
                               const client_params& params, std::vector<fetch_item> items,
                               fetch_observer observe, asio::cancellation_slot cancel,
                               std::function<void()> done)
    : work_(context.get_executor())
{
    for (auto& item : items)
        if (item.sink)
            item.sink = sinks_.emplace_back(std::make_unique<fetch::locked_sink>(*item.sink, lock_)).get();
    // Emitted on the loop's thread; the stop itself may be requested from any.
    cancel_ = cancel;
    if (cancel_.is_connected())
        cancel_.assign([this](asio::cancellation_type) { stop_.request_stop(); });

    strategy_params settings;
    settings.client = params;
    settings.workers = threads;
    settings.worker_program = "/proc/self/exe";
    settings.stop = stop_.get_token();
    observe_ = std::move(observe);
    told_.assign(items.size(), 0);
    std::vector<std::string> urls;
    for (const auto& item : items)
        urls.push_back(item.url);
    // Each outcome goes to the loop, as the client's batch would tell it there.
    auto on_loop = [this, &context](std::size_t index, const fetch_outcome& outcome)
    { asio::post(context, [this, index, outcome] { tell(index, outcome); }); };
    thread_ = std::thread(
        [this, &context, kind, settings = std::move(settings), items = std::move(items),
         urls = std::move(urls), on_loop = std::move(on_loop), done = std::move(done)]() mutable
        {
            std::string failure;
            try
            {
                run_fetch_strategy(kind, settings, std::move(items), on_loop);
            }
            catch (const std::exception& e)
            {
                failure = e.what(); // out of memory, say: the items not told of fail with it
            }
            // After every outcome posted above: the loop runs them in order, then this.
            asio::post(context,
                       [this, failure = std::move(failure), urls = std::move(urls), done = std::move(done)]
                       {
                           for (std::size_t i = 0; i < told_.size(); ++i)
                               if (!told_[i])
                               {
                                   fetch_outcome lost;
                                   lost.url = urls[i];
                                   lost.error = errc::worker_failed;
                                   lost.diag.set_client_message("the strategy failed: " + failure);
                                   tell(i, lost);
                               }
                           done();
                           work_.reset();
                       });
        });
}

void strategy_fetch::tell(std::size_t index, const fetch_outcome& outcome)
{
    if (told_[index])
        return;
    told_[index] = 1;
    std::lock_guard hold(lock_);
    observe_(index, outcome);
}

strategy_fetch::~strategy_fetch()
{
    if (cancel_.is_connected())
        cancel_.clear();
    stop_.request_stop();
    if (thread_.joinable())
        thread_.join();
}

} // namespace fxrates::cli
