#include "client/throttle_impl.hpp"

namespace fxrates {

template class basic_throttle<std::chrono::steady_clock>;

} // namespace fxrates
