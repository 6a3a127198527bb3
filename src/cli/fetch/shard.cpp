#include "cli/fetch/shard.hpp"

#include <fxrates/utf8.hpp>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <limits>

namespace fxrates::cli::fetch {

namespace urls = boost::urls;

namespace {

constexpr std::string_view shard_form = "; write --shard K/N, K a number from 0 to N-1, k8s or slurm";

// A plain decimal number (no sign, no spaces), at most `max`.
std::optional<std::uint64_t> decimal(std::string_view text, std::uint64_t max)
{
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value > max)
        return std::nullopt;
    return value;
}

// The number in environment variable `name`; nullopt, with `why` naming it and what set it, if it
// is missing or not a number.
std::optional<std::uint64_t> number_from_env(const env_lookup& env, std::string_view name,
                                             std::string_view runner, std::string& why)
{
    auto value = env(name);
    if (!value)
    {
        why = std::string(name) + " is not set; " + std::string(runner) + " sets it, or give K as a number";
        return std::nullopt;
    }
    auto number = decimal(*value, std::numeric_limits<std::uint32_t>::max());
    if (!number)
        why = std::string(name) + " is \"" + escape_untrusted(*value) + "\", not a number";
    return number;
}

// K as written: a number, or the index a job runner put in the environment.
std::optional<std::uint64_t> shard_index(std::string_view text, const env_lookup& env, std::string& why)
{
    if (text == "k8s")
        return number_from_env(env, "JOB_COMPLETION_INDEX",
                               "a Kubernetes indexed Job (completionMode: Indexed)", why);
    if (text == "slurm")
    {
        auto id = number_from_env(env, "SLURM_ARRAY_TASK_ID", "a Slurm job array (sbatch --array)", why);
        if (!id || !env("SLURM_ARRAY_TASK_MIN"))
            return id;
        auto min = number_from_env(env, "SLURM_ARRAY_TASK_MIN", "Slurm", why);
        if (!min)
            return std::nullopt;
        if (*id < *min)
        {
            why = "SLURM_ARRAY_TASK_ID (" + std::to_string(*id) + ") is below SLURM_ARRAY_TASK_MIN (" +
                  std::to_string(*min) + ")";
            return std::nullopt;
        }
        return *id - *min;
    }
    auto number = decimal(text, std::numeric_limits<std::uint32_t>::max());
    if (!number)
        why = "K \"" + escape_untrusted(text) + "\" is not a number, k8s or slurm" + std::string(shard_form);
    return number;
}

void lower(std::string& text)
{
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
}

} // namespace

env_lookup process_environment()
{
    return [](std::string_view name) -> std::optional<std::string>
    {
        const char* value = std::getenv(std::string(name).c_str());
        return value ? std::optional<std::string>(value) : std::nullopt;
    };
}

std::optional<shard> parse_shard(std::string_view text, const env_lookup& env, std::string& why)
{
    auto slash = text.rfind('/');
    if (slash == std::string_view::npos)
    {
        why = "\"" + escape_untrusted(text) + "\" has no /" + std::string(shard_form);
        return std::nullopt;
    }
    auto count = decimal(text.substr(slash + 1), max_shards);
    if (!count || *count == 0)
    {
        why = "N \"" + escape_untrusted(text.substr(slash + 1)) + "\" is not a number from 1 to " +
              std::to_string(max_shards);
        return std::nullopt;
    }
    auto index = shard_index(text.substr(0, slash), env, why);
    if (!index)
        return std::nullopt;
    if (*index >= *count)
    {
        auto word = text.substr(0, slash);
        std::string variable = word == "k8s"     ? "JOB_COMPLETION_INDEX"
                               : word == "slurm" ? "SLURM_ARRAY_TASK_ID"
                                                 : "";
        why = "K is " + std::to_string(*index) + (variable.empty() ? "" : " (from " + variable + ")") +
              ", not from 0 to " + std::to_string(*count - 1) +
              (variable.empty() ? "" : ": do the job's indexes match N?");
        return std::nullopt;
    }
    return shard{static_cast<std::uint32_t>(*index), static_cast<std::uint32_t>(*count)};
}

std::optional<std::string> origin_key(std::string_view text)
{
    auto parsed = urls::parse_uri(text);
    if (!parsed)
        return std::nullopt;
    const urls::url_view& url = *parsed;
    bool secure = url.scheme_id() == urls::scheme::https;
    if (!secure && url.scheme_id() != urls::scheme::http)
        return std::nullopt;
    std::string host;
    switch (url.host_type())
    {
    case urls::host_type::ipv4:
        host = url.host_ipv4_address().to_string();
        break;
    case urls::host_type::ipv6:
        host = "[" + url.host_ipv6_address().to_string() + "]";
        break;
    default:
        host = url.host_name();
        break;
    }
    if (host.empty())
        return std::nullopt;
    lower(host);
    std::uint16_t port = secure ? 443 : 80;
    // An empty port ("host:/") is the default one (RFC 3986, 6.2.3).
    if (!url.port().empty())
    {
        // Read here: Boost 1.81's port_number() wraps a number above 65535.
        auto number = decimal(url.port(), 65535);
        if (!number || *number == 0)
            return std::nullopt;
        port = static_cast<std::uint16_t>(*number);
    }
    return std::string(secure ? "https" : "http") + "://" + host + ":" + std::to_string(port);
}

std::uint64_t fnv1a_64(std::string_view bytes) noexcept
{
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    for (unsigned char byte : bytes)
    {
        hash ^= byte;
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

std::uint32_t shard_of(std::string_view url, std::uint32_t count)
{
    auto key = origin_key(url);
    return static_cast<std::uint32_t>(fnv1a_64(key ? std::string_view(*key) : url) % count);
}

bool in_shard(std::string_view url, const shard& part)
{
    return part.count <= 1 || shard_of(url, part.count) == part.index;
}

std::vector<std::size_t> keep_shard(std::vector<list_item>& items, const shard& part)
{
    std::vector<std::size_t> positions;
    positions.reserve(items.size());
    std::size_t kept = 0;
    for (std::size_t i = 0; i < items.size(); ++i)
        if (in_shard(items[i].url, part))
        {
            if (kept != i)
                items[kept] = std::move(items[i]);
            ++kept;
            positions.push_back(i);
        }
    items.resize(kept);
    return positions;
}

} // namespace fxrates::cli::fetch
