#pragma once

// A one-thread pool whose thread spins instead of sleeping, for the offload benchmark: with it, a
// hand-off costs a cache-line transfer instead of a futex wake-up of a sleeping thread, which on a
// virtual machine is several to tens of microseconds. It burns a whole core while it lives, so it
// is a choice for an embedder with latency to defend and a core to spare, and not something the
// library imposes: `async_offload` takes whatever executor it is given.

#include <boost/asio/execution.hpp>
#include <boost/asio/execution_context.hpp>

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

class spinning_pool
{
public:
    spinning_pool() : worker_([this] { run(); }) {}
    // Stops the thread after the job it is running; jobs still queued are destroyed, not run.
    ~spinning_pool()
    {
        stopping_.store(true, std::memory_order_relaxed);
        worker_.join();
    }
    spinning_pool(const spinning_pool&) = delete;
    spinning_pool& operator=(const spinning_pool&) = delete;

    // A standard (P0443) executor: enough for asio::post and the bridge's work guard.
    class executor_type
    {
    public:
        explicit executor_type(spinning_pool& pool) noexcept : pool_(&pool) {}

        template <class Function>
        void execute(Function function) const
        {
            pool_->push(std::move(function));
        }

        boost::asio::execution_context& query(boost::asio::execution::context_t) const noexcept
        {
            return pool_->context_;
        }

        static constexpr boost::asio::execution::blocking_t::never_t query(boost::asio::execution::blocking_t) noexcept
        {
            return {};
        }

        bool operator==(const executor_type&) const noexcept = default;

    private:
        spinning_pool* pool_;
    };

    executor_type get_executor() noexcept { return executor_type(*this); }

private:
    // Asio's handlers may be move-only, which std::function cannot hold.
    struct job
    {
        virtual ~job() = default;
        virtual void run() = 0;
    };

    template <class Function>
    void push(Function function)
    {
        struct holder final : job
        {
            explicit holder(Function f) : function(std::move(f)) {}
            void run() override { function(); }
            Function function;
        };
        auto made = std::make_unique<holder>(std::move(function));
        std::lock_guard lock(mutex_);
        jobs_.push_back(std::move(made));
        pending_.store(true, std::memory_order_release);
    }

    void run()
    {
        while (!stopping_.load(std::memory_order_relaxed))
        {
            if (!pending_.load(std::memory_order_acquire))
                continue; // the spin: no sleep, no syscall
            std::unique_ptr<job> next;
            {
                std::lock_guard lock(mutex_);
                next = std::move(jobs_.front());
                jobs_.pop_front();
                pending_.store(!jobs_.empty(), std::memory_order_relaxed);
            }
            next->run();
        }
    }

    boost::asio::execution_context context_;
    std::mutex mutex_;
    std::deque<std::unique_ptr<job>> jobs_;
    std::atomic<bool> pending_{false};
    std::atomic<bool> stopping_{false};
    std::thread worker_; // last: it starts running once everything above exists
};
