#include "client/http/fetcher.hpp"

namespace fxrates::detail {

template class basic_fetcher<>;

} // namespace fxrates::detail
