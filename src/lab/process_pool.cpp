// The process pool: worker processes started fresh from the fxrates program (posix_spawn, never
// a bare fork of this threaded process), fed one item at a time over a pipe, answering one JSON
// line each (and, for a URL, its body first, in data frames: see fetch_answer_reader). An io_context run on the calling thread watches them all, each pipe a
// posix::stream_descriptor: a worker that dies is noticed at once and its base reported as failed,
// a worker slow to read its input holds up no other, and a timer keeps the batch's time limit, so
// nothing ever hangs.

#include <fxrates/blocking_client.hpp>
#include <fxrates/token_bucket.hpp>

#include "client/batch.hpp"
#include "client/origin_lookahead.hpp"
#include "lab/child_process.hpp"
#include "lab/measure.hpp"
#include "lab/strategies.hpp"
#include "lab/wire.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <iostream>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>


namespace fxrates::detail
{

namespace
{

namespace asio = boost::asio;

// One answer is a JSON line of one base's outcome: a few KiB. A worker that sends a megabyte with
// no end of line is not answering.
constexpr std::size_t max_answer_line = 1024 * 1024;

// What a worker of the rates job sends: one outcome line per base.
class rates_answer_reader
{
public:
    explicit rates_answer_reader(const rates_job&) {}

    // Takes the complete lines at the front of `received`, telling `answer(index, outcome)` of each
    // well-formed one (the supervisor checks that it answers an open job) and `give_back(retries)`
    // what a job did not spend of its grant. False if the worker must be stopped: never, for
    // lines; an overlong one is caught by the supervisor.
    template <class Answer, class GiveBack>
    bool take(std::string& received, const std::optional<std::size_t>&, Answer answer, GiveBack give_back)
    {
        std::size_t newline;
        while ((newline = received.find('\n')) != std::string::npos)
        {
            auto line = received.substr(0, newline);
            received.erase(0, newline + 1);
            if (auto left = decode_retries_left(line))
                give_back(*left);
            else if (auto decoded = decode_outcome(line))
                answer(decoded->first, std::move(decoded->second));
        }
        return true;
    }
};

// A body piece travels as a line `{"index":I,"data":N}` followed by N raw bytes, at most this many,
// so that neither side holds more than a piece of a body, whatever its size; a final answer begins
// with a line `{"index":I,"begin":STATUS}`; the outcome line (wire.hpp) ends the item. The pipe's
// own back-pressure does the rest: a worker blocks while the supervisor's sinks are busy.
constexpr std::size_t max_data_frame = 64 * 1024;

// What a worker of the URL job sends: frames of its current item's body, fed to that item's sink
// here (so that the files, their names and their atomic commits stay the parent's, exactly as with
// the other strategies), then its outcome.
class fetch_answer_reader
{
public:
    explicit fetch_answer_reader(const fetch_job& job) : job_(job) {}

    template <class Answer, class GiveBack>
    bool take(std::string& received, const std::optional<std::size_t>& current, Answer answer, GiveBack give_back)
    {
        for (;;)
        {
            if (data_left_ > 0)
            {
                auto piece = std::min(data_left_, received.size());
                if (piece == 0)
                    return true;
                if (current && data_index_ == *current)
                    deliver(*current, std::string_view(received).substr(0, piece));
                received.erase(0, piece);
                data_left_ -= piece;
                continue;
            }
            auto newline = received.find('\n');
            if (newline == std::string::npos)
                return true;
            auto line = received.substr(0, newline);
            received.erase(0, newline + 1);
            if (auto left = decode_retries_left(line))
            {
                give_back(*left);
                continue;
            }
            auto frame = decode_frame(line);
            if (!frame)
            {
                if (auto decoded = decode_fetch_outcome(line))
                {
                    if (current && decoded->first == *current)
                        finish(*current, decoded->second);
                    answer(decoded->first, std::move(decoded->second));
                }
                continue;
            }
            if (frame->data)
            {
                if (*frame->data > max_data_frame)
                    return false; // not a frame of ours
                data_index_ = frame->index;
                data_left_ = *frame->data;
            }
            else if (current && frame->index == *current)
                begin(*current, frame->status);
        }
    }

private:
    struct frame
    {
        std::size_t index = 0;
        std::optional<std::size_t> data;
        unsigned status = 0;
    };

    static std::optional<frame> decode_frame(std::string_view line)
    {
        boost::system::error_code ec;
        auto value = boost::json::parse(line, ec);
        if (ec || !value.is_object())
            return std::nullopt;
        const auto& object = value.get_object();
        const auto* index = object.if_contains("index");
        const auto* data = object.if_contains("data");
        const auto* begin = object.if_contains("begin");
        if (!index || !index->is_number() || (!data && !begin))
            return std::nullopt;
        frame f;
        try
        {
            f.index = index->to_number<std::size_t>();
            if (data)
                f.data = data->to_number<std::size_t>();
            else
                f.status = begin->to_number<unsigned>();
        }
        catch (const std::exception&)
        {
            return std::nullopt;
        }
        return f;
    }

    void begin(std::size_t index, unsigned status)
    {
        body_.clear();
        refused_ = {};
        if (auto* sink = job_.item(index).sink)
            refused_ = sink->begin(status);
    }

    void deliver(std::size_t index, std::string_view data)
    {
        if (refused_)
            return; // the sink stopped this answer: the rest of it is dropped
        if (auto* sink = job_.item(index).sink)
            refused_ = sink->write(data);
        else
            body_.append(data);
    }

    // The outcome of the current item: its body (without a sink), and the sink's refusal, which
    // fails the item as it would have failed the request in this process.
    void finish(std::size_t index, fetch_outcome& outcome)
    {
        if (refused_ && outcome.ok())
        {
            outcome.error = refused_;
            outcome.diag.set_client_message("the body could not be taken: " + refused_.message());
        }
        if (!job_.item(index).sink)
            outcome.body = std::move(body_);
        body_.clear();
        refused_ = {};
    }

    const fetch_job& job_;
    std::size_t data_index_ = 0, data_left_ = 0;
    std::string body_;
    error_code refused_;
};

template <class Job>
using answer_reader = std::conditional_t<std::is_same_v<Job, rates_job>, rates_answer_reader, fetch_answer_reader>;

// Pending operations refer to its members: it stays at one address (held by unique_ptr).
struct worker_process
{
    explicit worker_process(asio::io_context& context) : to_worker(context), from_worker(context) {}

    pid_t pid = -1;
    asio::posix::stream_descriptor to_worker, from_worker;
    std::array<char, 16384> chunk; // what one read brings
    std::string received;
    // What waits to be written, and what a write under way holds: one write at a time per pipe.
    std::string outbox, sending;
    bool writing = false;
    bool no_more_jobs = false; // its input is closed once the outbox is written
    std::optional<std::size_t> job;
    std::size_t granted = 0; // retries its job may make, taken from the pool's budget
    bool alive = false;
    std::size_t number = 0; // its place in the pool's list
    bool answered = false; // once at least: its client has started
    bool ready = false;    // it said its client is made: it gets jobs from then on
    std::size_t threads = 0; // as last read
};

using worker_list = std::vector<std::unique_ptr<worker_process>>;

std::string describe_exit(int status)
{
    if (WIFSIGNALED(status))
        return std::string("was killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
               ::strsignal(WTERMSIG(status)) + ")";
    if (WIFEXITED(status))
        return "exited with status " + std::to_string(WEXITSTATUS(status));
    return "stopped";
}

// Ends a worker: sends it `signal` (none if 0), closes our ends of its pipes (so it sees the end of
// its input; our operations on them complete with operation_aborted) and waits for it. Returns its
// wait status; its resource use goes to `usage`.
int end_worker(worker_process& worker, int signal, rusage* usage = nullptr)
{
    if (signal != 0)
        ::kill(worker.pid, signal);
    boost::system::error_code ignored;
    worker.to_worker.close(ignored);
    worker.from_worker.close(ignored);
    worker.alive = false;
    return wait_for_child(worker.pid, usage);
}

// Ends a worker as end_worker does, counting it in the report: reaping counts its CPU in this
// process's children; its peak memory is added to the pool's, since the workers run side by side.
template <class Report>
int reap(worker_process& worker, int signal, Report& report)
{
    // Read while it runs: once it has ended only getrusage's figure is left, which counts this
    // process's own peak too (see peak_rss_kib).
    long peak = peak_rss_kib_of(worker.pid); // 0 if it has already ended
    rusage usage{};
    int status = end_worker(worker, signal, &usage);
    report.peak_rss_kib += peak != 0 ? peak : usage.ru_maxrss;
    return status;
}

// Starts `program worker`, with this process's signal mask (see spawn_child): on a stop, the pool
// ends its workers itself. The worker joins `workers` before its pipes go to Asio, so that it is
// ended whatever happens next.
bool spawn_worker(asio::io_context& context, const std::string& program, worker_list& workers,
                  std::string& why)
{
    auto child = spawn_child(program, "worker", why);
    if (!child)
        return false;
    auto& worker = *workers.emplace_back(std::make_unique<worker_process>(context));
    worker.number = workers.size() - 1;
    worker.pid = child->pid;
    worker.alive = true;
    adopt_pipe(worker.to_worker, child->to_child);
    adopt_pipe(worker.from_worker, child->from_child);
    return true;
}

// The pool at work: every handler runs on the calling thread, in io_context::run. Once finished
// (every item answered, every worker gone, the deadline passed, or a stop request), the loop
// stops and no handler runs again; what is still open is reported by run_process_pool.
template <class Job>
class pool_supervisor
{
public:
    pool_supervisor(asio::io_context& context, const Job& job, report_of<Job>& report, worker_list& workers)
        : context_(context), job_(job), params_(job.params()), report_(report), workers_(workers),
          count_(job.size()), answered_(count_, false), remaining_(count_),
          retries_left_(retry_budget::for_batch(params_.client.retry, count_)->left()), deadline_timer_(context),
          lookahead_(params_.client.max_connections_per_origin, count_)
    {
        for (std::size_t w = 0; w < workers_.size(); ++w)
            readers_.emplace_back(job_);
    }

    bool answered(std::size_t i) const { return answered_[i]; }
    std::size_t remaining() const { return remaining_; }

    // Sends each worker its settings (`settings_for(worker number)`) and its first item, then
    // watches them until finished, the `deadline` passed or a stop requested.
    void run(const std::function<std::string(std::size_t)>& settings_for, std::chrono::steady_clock::time_point deadline)
    {
        // A worker's first job waits for its word that it is ready (its client made): a job paced
        // for a worker still starting would go late, together with others (50 workers take
        // seconds to start on two cores), bursting past --rate.
        for (auto& worker : workers_)
        {
            worker->outbox = settings_for(worker->number);
            write(*worker);
        }
        // Threads of this process and its workers. Each worker's count is read at its start and
        // again at its first answer, once its client has started.
        for (auto& worker : workers_)
            worker->threads = worker->alive ? thread_count_of(worker->pid) : 0;
        sample_threads();
        for (auto& worker : workers_)
            read(*worker);
        deadline_timer_.expires_at(deadline);
        deadline_timer_.async_wait(
            [this](boost::system::error_code failed)
            {
                if (!failed)
                    finish();
            });
        // Called on the thread that asks for the stop: post is what may be done from there.
        std::stop_callback on_stop(params_.stop, [this] { asio::post(context_, [this] { finish(); }); });
        if (!params_.stop.stop_requested())
            context_.run();
    }

private:
    void finish()
    {
        finished_ = true;
        context_.stop();
    }

    void sample_threads()
    {
        std::size_t children_threads = 0;
        for (const auto& worker : workers_)
            children_threads += worker->alive ? worker->threads : 0;
        report_.peak_threads = std::max(report_.peak_threads, thread_count() + children_threads);
    }

    // Ends a worker that is gone or no longer listened to; its open base fails with its exit status.
    void retire(worker_process& worker)
    {
        if (!worker.alive)
            return;
        int status = reap(worker, 0, report_);
        if (worker.job && !answered_[*worker.job])
            fail_item(*std::exchange(worker.job, std::nullopt),
                      "worker process " + std::to_string(worker.pid) + " " + describe_exit(status));
        worker.job.reset();
        if (remaining_ == 0 ||
            std::none_of(workers_.begin(), workers_.end(), [](const auto& w) { return w->alive; }))
            finish(); // nothing left to wait for, or no worker left to answer
    }

    // Gives the worker the next item whose origin has room (the workers together keep the client's
    // limits per origin, as one client would), or tells it there is no more work. With nothing
    // ready, it waits idle until an item's end frees an origin.
    void assign(worker_process& worker)
    {
        worker.job.reset();
        for (;;)
        {
            auto next = next_startable(lookahead_, next_, count_,
                                       [this](std::size_t i) -> const origin& { return job_.origin_of(i); });
            if (!next && lookahead_.parked() > 0)
            {
                idle_.push_back(&worker);
                return;
            }
            if (!next)
            {
                worker.no_more_jobs = true;
                break;
            }
            if (held_past_queue_timeout(*next))
            {
                // As the client's throttle and the threads' gate do: the item fails now rather than
                // a worker sleeping for its turn past every time limit (--rate 1e-9 never ended).
                const auto limit = limit_text("queue timeout", params_.client.queue_timeout);
                fail_item(*next, rate_limit_held_message(limit), asio::error::timed_out);
                if (remaining_ == 0)
                {
                    finish();
                    return;
                }
                continue;
            }
            worker.job = *next;
            grant_retries(worker);
            pace(worker);
            worker.outbox += job_.encode_item(*worker.job);
            break;
        }
        write(worker);
    }

    // Whether item `index` would wait for its origin's rate longer than the client's queue timeout.
    bool held_past_queue_timeout(std::size_t index)
    {
        if (!(params_.client.rate > 0))
            return false;
        const auto now = std::chrono::steady_clock::now();
        return pace_of(job_.origin_of(index)).ready_at(1, now) > deadline_after(params_.client.queue_timeout, now);
    }

    // Item `index`, which no worker will answer, fails with `message`.
    void fail_item(std::size_t index, std::string message, error_code ec = errc::worker_failed)
    {
        report_.outcomes[index] = job_.failed(index, std::move(message), ec);
        answered_[index] = true;
        job_.observe(index, report_.outcomes[index]);
        --remaining_;
        item_ended(index);
    }

    token_bucket<>& pace_of(const origin& where)
    {
        auto found = paces_.find(where);
        if (found == paces_.end())
            found = paces_.try_emplace(where, params_.client.rate, params_.client.burst,
                                       std::chrono::steady_clock::now()).first;
        return found->second;
    }

    // The job's retries, from the pool's budget: as many as one request may make, but no more than
    // its worker's share of what is left, so that the jobs under way at once each have some (with
    // 4 retries left, the first two of 4 workers' jobs took 2 each, and the other two, which needed
    // one, failed with the budget "spent"). What the job does not spend comes back with its answer.
    void grant_retries(worker_process& worker)
    {
        const auto attempts = params_.client.retry.max_attempts;
        const std::size_t workers = std::max<std::size_t>(1, workers_.size());
        const std::size_t share = (retries_left_ + workers - 1) / workers;
        worker.granted = std::min<std::size_t>({attempts > 0 ? attempts - 1 : 0, retries_left_, share});
        retries_left_ -= worker.granted;
        worker.outbox += encode_retry_grant(worker.granted);
    }

    // The worker's job goes when its origin's rate allows.
    void pace(worker_process& worker)
    {
        if (!(params_.client.rate > 0))
            return;
        // A reservation: the items go at their times in the order assigned, which is input order.
        // The worker waits for its time itself (see encode_not_before).
        const auto now = std::chrono::steady_clock::now();
        const auto at = pace_of(job_.origin_of(*worker.job)).reserve(1, now);
        if (at > now)
            worker.outbox += encode_not_before(at);
    }

    // Item `index` of the worker's has ended: idle workers take what its origin's room lets start.
    void item_ended(std::size_t index)
    {
        if (!lookahead_.ended(job_.origin_of(index)))
            return;
        while (!idle_.empty())
        {
            auto& worker = *idle_.back();
            idle_.pop_back();
            const auto waiting = idle_.size();
            if (worker.alive)
                assign(worker);
            if (idle_.size() > waiting)
                break; // it found nothing either
        }
    }

    // Writes what the outbox holds without waiting for it: a worker slow to read its input holds
    // up only itself.
    void write(worker_process& worker)
    {
        if (worker.writing || !worker.alive)
            return;
        if (worker.outbox.empty())
        {
            if (worker.no_more_jobs)
            {
                boost::system::error_code ignored;
                worker.to_worker.close(ignored);
            }
            return;
        }
        worker.sending = std::exchange(worker.outbox, {});
        worker.writing = true;
        asio::async_write(worker.to_worker, asio::buffer(worker.sending),
                          [this, &worker](boost::system::error_code failed, std::size_t)
                          {
                              worker.writing = false;
                              if (finished_ || !worker.alive)
                                  return;
                              if (failed)
                                  retire(worker); // it closed its input: it has ended, or is ending
                              else
                                  write(worker);
                          });
    }

    void read(worker_process& worker)
    {
        if (!worker.alive)
            return;
        worker.from_worker.async_read_some(asio::buffer(worker.chunk),
                                           [this, &worker](boost::system::error_code failed, std::size_t size)
                                           {
                                               if (!finished_ && worker.alive)
                                                   on_read(worker, failed, size);
                                           });
    }

    void on_read(worker_process& worker, boost::system::error_code failed, std::size_t size)
    {
        if (failed)
        {
            retire(worker); // the end of its output (or a pipe we cannot read): it has ended
            return;
        }
        worker.received.append(worker.chunk.data(), size);
        if (!worker.ready)
        {
            auto newline = worker.received.find('\n');
            if (newline == std::string::npos)
            {
                read(worker);
                return;
            }
            bool said_ready = is_ready_line(std::string_view(worker.received).substr(0, newline));
            worker.received.erase(0, newline + 1);
            if (!said_ready)
            {
                ::kill(worker.pid, SIGKILL); // not a worker of ours
                retire(worker);
                return;
            }
            worker.ready = true;
            assign(worker);
        }
        auto answer = [&](std::size_t index, typename Job::outcome_type outcome) {
            if (index >= count_ || answered_[index])
                return; // not an answer to an open job: ignored, the job stays open
            outcome.timing.queued = queued_;
            report_.outcomes[index] = std::move(outcome);
            answered_[index] = true;
            job_.observe(index, report_.outcomes[index]);
            --remaining_;
            bool first_answer = !std::exchange(worker.answered, true);
            if (worker.job == index)
            {
                worker.job.reset();
                item_ended(index);
                assign(worker);
            }
            if (first_answer)
            {
                worker.threads = thread_count_of(worker.pid);
                sample_threads();
            }
        };
        // Comes before the job's answer, which may assign the next job: no more than was granted.
        auto give_back = [&](std::size_t unspent) {
            retries_left_ += std::min(unspent, std::exchange(worker.granted, 0));
        };
        // The worker's job as it changes: an answer assigns the next, whose frames may follow.
        bool well_formed = readers_[worker.number].take(worker.received, worker.job, answer, give_back);
        if (!well_formed || worker.received.size() > max_answer_line)
        {
            // Not an answer of ours: stop listening to it rather than fill memory.
            ::kill(worker.pid, SIGKILL);
            retire(worker);
            return;
        }
        if (remaining_ == 0)
            finish();
        else
            read(worker);
    }

    asio::io_context& context_;
    const Job& job_;
    const strategy_params& params_;
    report_of<Job>& report_;
    worker_list& workers_;
    std::vector<answer_reader<Job>> readers_;
    const std::size_t count_;
    std::vector<bool> answered_;
    std::size_t next_ = 0, remaining_;
    // The job's retry budget, as one client's batch would have it, kept here for all the workers:
    // each job is granted its retries from it (see encode_retry_grant).
    std::size_t retries_left_;
    const std::chrono::steady_clock::time_point queued_ = std::chrono::steady_clock::now();
    asio::steady_timer deadline_timer_;
    bool finished_ = false;
    // The client's limits per origin, kept here for all the workers (each worker's own client
    // keeps them only for itself): items wait in `lookahead_` for room, workers in `idle_`.
    origin_lookahead<std::size_t> lookahead_;
    std::vector<worker_process*> idle_;
    std::unordered_map<origin, token_bucket<>, origin_hash> paces_;
};

} // namespace

template <class Job>
void run_process_pool(const Job& job, report_of<Job>& report)
{
    const auto& params = job.params();
    const std::size_t count = job.size();
    report.outcomes.resize(count);
    if (count == 0)
        return;

    ignore_sigpipe();

    std::string program = params.worker_program.empty() ? "/proc/self/exe" : params.worker_program;
    // The workers get their items one job at a time, not in the settings, which stay small.
    strategy_params without_bases = params;
    without_bases.bases.clear();
    without_bases.client.rate = 0; // the pool paces the origins for all its workers

    // One thread (this one) runs it; it outlives the workers' descriptors and the supervisor's timer.
    asio::io_context context(1);
    worker_list workers;
    // Whatever ends this function, an exception included, no worker is left running or unreaped
    // and no pipe left open.
    struct workers_guard
    {
        worker_list& workers;
        ~workers_guard()
        {
            for (auto& worker : workers)
                if (worker->alive)
                    end_worker(*worker, SIGKILL);
        }
    } cleanup{workers};
    std::string why;
    std::size_t wanted = std::max<std::size_t>(1, std::min(params.workers, count));
    for (std::size_t w = 0; w < wanted; ++w)
        spawn_worker(context, program, workers, why);
    if (workers.empty())
    {
        for (std::size_t i = 0; i < count; ++i)
            report.outcomes[i] = job.failed(i, "no worker process could be started: " + why);
        return;
    }

    auto settings_for = [&](std::size_t) {
        settings_header header;
        header.job = Job::wire_name;
        return encode_settings(without_bases, header);
    };
    auto deadline = job.deadline();
    pool_supervisor<Job> supervisor(context, job, report, workers);
    supervisor.run(settings_for, deadline);

    // Whatever is still open: stopped, the deadline passed, or every worker died.
    bool too_late = std::chrono::steady_clock::now() >= deadline;
    for (std::size_t i = 0; i < count; ++i)
    {
        if (supervisor.answered(i))
            continue;
        bool started = std::any_of(workers.begin(), workers.end(),
                                   [i](const auto& w) { return w->alive && w->job == i; });
        if (params.stop.stop_requested())
        {
            report.outcomes[i] =
                job.failed(i, started ? "stopped before the answer came" : "stopped before it started",
                           boost::asio::error::operation_aborted);
            report.outcomes[i].attempts = started ? 1 : 0; // a worker had sent its request
        }
        else if (too_late)
            report.outcomes[i] =
                job.failed(i, batch_deadline_message(started, params.client.batch_timeout), errc::batch_deadline);
        else
            report.outcomes[i] = job.failed(i, "no worker process was left to answer");
    }
    for (auto& worker : workers)
    {
        if (worker->alive)
            reap(*worker, supervisor.remaining() > 0 ? SIGKILL : 0, report);
    }
}

#define FXRATES_INSTANTIATE_PROCESS_POOL(JOB) template void run_process_pool<JOB>(const JOB&, report_of<JOB>&);
FXRATES_FOR_EACH_JOB(FXRATES_INSTANTIATE_PROCESS_POOL)

std::string rates_job::encode_item(std::size_t index) const
{
    return encode_job(index, params_.bases[index]);
}

std::string fetch_job::encode_item(std::size_t index) const
{
    return encode_fetch_job(index, items_[index]);
}

namespace
{

// A worker's standard output, which only one thread writes: false once it has failed (the pool
// has gone), so that the worker stops.
bool send(std::string_view bytes)
{
    std::cout.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return static_cast<bool>(std::cout);
}

// In a worker of the URL job: the body goes to the pool in frames as it arrives.
class pipe_sink final : public body_sink
{
public:
    explicit pipe_sink(std::size_t index) : index_(index) {}

    error_code begin(unsigned status) override
    {
        boost::json::object frame{{"index", index_}, {"begin", status}};
        return sent(send(boost::json::serialize(frame) + "\n"));
    }

    error_code write(std::string_view data) override
    {
        while (!data.empty())
        {
            auto piece = data.substr(0, max_data_frame);
            boost::json::object frame{{"index", index_}, {"data", piece.size()}};
            if (!send(boost::json::serialize(frame) + "\n") || !send(piece))
                return sent(false);
            data.remove_prefix(piece.size());
        }
        return {};
    }

private:
    static error_code sent(bool ok)
    {
        return ok ? error_code() : make_error_code(boost::system::errc::broken_pipe);
    }

    std::size_t index_;
};

// A worker's loop: one job a line, read by `decode`, done by `answer(api, index, item)`, which
// gives the outcome line to send; the loop ends once standard output has failed. The client is made before the first job comes, so that a job goes
// when the pool sends it: the pool paces the jobs it sends (--rate), and a first job held up by
// the client's setting-up (a trust store to load) would go late, close to the next one.
// Each job's retries are the pool's grant (`params.client.retry.shared_budget`, a fixed budget
// refilled per job); what a job did not spend goes back before its answer.
template <class Decode, class Answer>
void serve_jobs(const strategy_params& params, Decode decode, Answer answer)
{
    blocking_client api(params.client);
    if (!send(encode_ready()) || !std::cout.flush())
        return;
    retry_budget& budget = *params.client.retry.shared_budget;
    std::string line;
    while (std::getline(std::cin, line))
    {
        if (auto at = decode_not_before(line))
        {
            std::this_thread::sleep_until(*at); // the pool's pace for the job that follows
            continue;
        }
        if (auto retries = decode_retry_grant(line))
        {
            budget.refill(*retries);
            continue;
        }
        auto job = decode(line);
        if (!job)
            continue;
        auto outcome_line = answer(api, job->first, std::move(job->second));
        if (!send(encode_retries_left(budget.left())) || !send(outcome_line) || !std::cout.flush())
            return;
    }
}

void serve_rates_jobs(const strategy_params& params)
{
    serve_jobs(params, decode_job, [&](blocking_client& api, std::size_t index, currency_code base) {
        return encode_outcome(index, api.get_rates(base, params.query));
    });
}

void serve_fetch_jobs(const strategy_params& params)
{
    serve_jobs(params, decode_fetch_job, [](blocking_client& api, std::size_t index, fetch_item item) {
        pipe_sink sink(index);
        item.sink = &sink;
        auto outcome = api.fetch(std::move(item));
        return encode_outcome(index, outcome);
    });
}

} // namespace

int run_process_pool_worker()
{
    std::ios::sync_with_stdio(false);
    std::string line;
    if (!std::getline(std::cin, line))
        return 0;
    strategy_params params;
    settings_header header;
    try
    {
        params = decode_settings(line, &header);
        if (!header.job.empty() && header.job != rates_job::wire_name && header.job != fetch_job::wire_name)
            throw std::invalid_argument("unknown job '" + header.job + "'");
        // None until the pool grants a job some (encode_retry_grant).
        params.client.retry.shared_budget = std::make_shared<retry_budget>(retry_budget::exactly{0});
    }
    catch (const std::exception& e)
    {
        std::cerr << "fxrates worker: " << e.what() << '\n';
        return 1;
    }
    if (header.job == fetch_job::wire_name)
        serve_fetch_jobs(params);
    else
        serve_rates_jobs(params);
    return 0;
}

} // namespace fxrates::detail

namespace fxrates
{

int run_process_pool_worker()
{
    return detail::run_process_pool_worker();
}

} // namespace fxrates
