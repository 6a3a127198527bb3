#pragma once

// `fxrates fetch --shard K/N`: one list split over N machines (or N jobs) by any job runner, each
// keeping the lines whose origin (scheme, host, port) hashes to K. A host is thus fetched from one
// place only, so --per-host and --rate still hold for it across the whole run. The hash is fixed
// and documented (FNV-1a 64 of "scheme://host:port"), never std::hash: runs on other machines,
// builds and versions must agree on every line's shard.

#include "cli/fetch/url_list.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fxrates::cli::fetch {

/// Most shards of one list.
inline constexpr std::uint32_t max_shards = 65536;

/// The part of the list this run takes: the origins whose hash is `index` modulo `count`.
struct shard
{
    std::uint32_t index = 0; ///< K, from 0
    std::uint32_t count = 1; ///< N, from 1 to `max_shards`

    friend bool operator==(const shard&, const shard&) = default;
};

/// Reads an environment variable: its value, or nullopt when it is not set. Injected so that tests
/// need no real environment.
using env_lookup = std::function<std::optional<std::string>(std::string_view name)>;

/// The lookup of this process's environment (`getenv`).
env_lookup process_environment();

/// Reads `K/N` as given to --shard. K is a number from 0 to N-1, or a word naming the variable a
/// job runner sets: `k8s` reads JOB_COMPLETION_INDEX (Kubernetes indexed Jobs), `slurm` reads
/// SLURM_ARRAY_TASK_ID less SLURM_ARRAY_TASK_MIN when that is set (Slurm job arrays). nullopt, with
/// `why` set to a sentence naming the variable or the part at fault, when the text, the variable or
/// K is wrong.
std::optional<shard> parse_shard(std::string_view text, const env_lookup& env, std::string& why);

/// "scheme://host:port" of an absolute http:// or https:// URL: scheme and host in lower case, an
/// IPv6 host in brackets, the port always written (443 or 80 when the URL has none), so that
/// `https://A.com/x` and `https://a.com:443/y` have the same key. nullopt if `url` is not such a URL.
std::optional<std::string> origin_key(std::string_view url);

/// FNV-1a, 64 bits (offset basis 0xcbf29ce484222325, prime 0x100000001b3), of `bytes`.
std::uint64_t fnv1a_64(std::string_view bytes) noexcept;

/// The shard, from 0 to `count` - 1, of `url`: `fnv1a_64(origin_key(url)) % count`. A URL with no
/// origin key goes by the hash of its whole text, so that every line still lands in exactly one shard.
std::uint32_t shard_of(std::string_view url, std::uint32_t count);

/// True if `url` belongs to `part`.
bool in_shard(std::string_view url, const shard& part);

/// Removes from `items` those of other shards, keeping the order, and returns the original
/// position (from 0) of each item kept, for the names and report lines that number the input.
std::vector<std::size_t> keep_shard(std::vector<list_item>& items, const shard& part);

} // namespace fxrates::cli::fetch
