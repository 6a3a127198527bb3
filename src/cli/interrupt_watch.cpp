#include "cli/interrupt_watch.hpp"

#include <pthread.h>

namespace fxrates::cli {

namespace {

// SIGUSR1 only tells the waiting thread that the watch is over.
sigset_t watched_signals()
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    return set;
}

} // namespace

interrupt_watch::interrupt_watch()
{
    sigset_t set = watched_signals();
    pthread_sigmask(SIG_BLOCK, &set, &previous_mask_);
    waiter_ = std::thread([this, set] {
        int received = 0;
        while (sigwait(&set, &received) == 0)
        {
            if (received == SIGUSR1)
                return;
            signal_ = received;
            stop_.request_stop();
        }
    });
}

interrupt_watch::~interrupt_watch()
{
    pthread_kill(waiter_.native_handle(), SIGUSR1);
    waiter_.join();
    pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
}

} // namespace fxrates::cli
