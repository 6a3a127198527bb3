#include "cli/fetch/shard.hpp"

#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

using namespace fxrates::cli::fetch;

namespace {

// An environment holding only `vars`.
env_lookup env_of(std::map<std::string, std::string, std::less<>> vars)
{
    return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string>
    {
        auto found = vars.find(name);
        if (found == vars.end())
            return std::nullopt;
        return found->second;
    };
}

std::optional<shard> parse(std::string_view text, const env_lookup& env = env_of({}))
{
    std::string why;
    auto result = parse_shard(text, env, why);
    CHECK_MESSAGE((result.has_value() == why.empty()), why);
    return result;
}

std::string error_of(std::string_view text, const env_lookup& env = env_of({}))
{
    std::string why;
    auto result = parse_shard(text, env, why);
    CHECK_FALSE(result);
    return why;
}

// A few thousand URLs over many hosts, ports and both schemes, with the host's case varied.
std::vector<list_item> generated_list()
{
    std::vector<list_item> items;
    for (std::size_t i = 0; i < 3000; ++i)
    {
        std::string host = (i % 5 == 0 ? "Host" : "host") + std::to_string(i % 211) + ".example";
        std::string origin = (i % 3 == 0 ? "http://" : "https://") + host + (i % 7 == 0 ? ":8443" : "");
        items.push_back({i + 1, origin + "/item/" + std::to_string(i), {}, {}});
    }
    return items;
}

} // namespace

TEST_CASE("FNV-1a 64 gives the published values, so that the shard of a line never depends on the build")
{
    CHECK(fnv1a_64("") == 0xcbf29ce484222325ULL);
    CHECK(fnv1a_64("a") == 0xaf63dc4c8601ec8cULL);
    CHECK(fnv1a_64("foobar") == 0x85944171f73967e8ULL);
}

TEST_CASE("the origin key has the lower-cased scheme and host and always a port")
{
    CHECK(origin_key("https://Example.COM/x?y#z") == "https://example.com:443");
    CHECK(origin_key("HTTP://example.com/") == "http://example.com:80");
    CHECK(origin_key("https://example.com:8443/a") == "https://example.com:8443");
    CHECK(origin_key("https://example.com:/a") == "https://example.com:443");
    CHECK(origin_key("http://[::1]:8080/") == "http://[::1]:8080");
    CHECK(origin_key("https://10.0.0.1") == "https://10.0.0.1:443");
    CHECK_FALSE(origin_key("ftp://example.com/"));
    CHECK_FALSE(origin_key("not a url"));
    CHECK_FALSE(origin_key("https://example.com:99999/"));
    CHECK_FALSE(origin_key("https://example.com:0/"));
}

TEST_CASE("URLs of one origin fall in one shard whatever their case, default port or path")
{
    for (std::uint32_t n : {2u, 3u, 7u, 64u, max_shards})
    {
        CAPTURE(n);
        auto expected = shard_of("https://a.com/x", n);
        CHECK(shard_of("https://A.com/y", n) == expected);
        CHECK(shard_of("https://a.com:443/y?q=1", n) == expected);
        CHECK(shard_of("HTTPS://a.COM:443", n) == expected);
        CHECK(shard_of("http://a.com:80/z", n) == shard_of("http://A.com/", n));
    }
}

TEST_CASE("the shards of fixed URLs are pinned: a change of hash or key would move lines between machines")
{
    // FNV-1a 64 of the keys, computed independently: https://example.com:443 is 0xd18c909428470578,
    // http://example.com:80 0x3e7ef9ea584eea22, https://localhost:8443 0x2fb4f2d169e44722.
    CHECK(shard_of("https://example.com/a", 7) == 1);
    CHECK(shard_of("https://example.com/a", 65536) == 1400);
    CHECK(shard_of("http://example.com/a", 4) == 2);
    CHECK(shard_of("http://example.com/a", 7) == 5);
    CHECK(shard_of("https://api.frankfurter.app/latest", 4) == 2);
    CHECK(shard_of("https://localhost:8443/rates", 65536) == 18210);
    CHECK(shard_of("http://[::1]:8080/", 7) == 1);
    CHECK(shard_of("https://10.0.0.1/", 3) == 2);
}

TEST_CASE("the N shards partition the list: every line is in exactly one of them, in input order")
{
    const auto all = generated_list();
    for (std::uint32_t n : {1u, 2u, 3u, 7u})
    {
        CAPTURE(n);
        std::vector<int> seen(all.size(), 0);
        std::map<std::string, std::uint32_t> shard_of_origin;
        for (std::uint32_t k = 0; k < n; ++k)
        {
            auto items = all;
            auto positions = keep_shard(items, {k, n});
            REQUIRE(positions.size() == items.size());
            for (std::size_t i = 0; i < items.size(); ++i)
            {
                REQUIRE(positions[i] < all.size());
                CHECK(items[i].line == all[positions[i]].line);
                CHECK(items[i].url == all[positions[i]].url);
                if (i > 0)
                    CHECK(positions[i - 1] < positions[i]);
                ++seen[positions[i]];
                auto [where, fresh] = shard_of_origin.emplace(*origin_key(items[i].url), k);
                CHECK(where->second == k);
            }
            if (n > 1)
                CHECK(items.size() < all.size());
        }
        for (std::size_t i = 0; i < seen.size(); ++i)
            CHECK_MESSAGE(seen[i] == 1, all[i].url);
        CHECK(shard_of_origin.size() > 211); // both schemes and both ports of most hosts
    }
}

TEST_CASE("a URL without an origin still lands in exactly one shard")
{
    std::set<std::uint32_t> in;
    for (std::uint32_t k = 0; k < 5; ++k)
        if (in_shard("nonsense", {k, 5}))
            in.insert(k);
    CHECK(in.size() == 1);
}

TEST_CASE("K/N is read as numbers, K from 0 to N-1 and N from 1 to 65536")
{
    CHECK(parse("0/1") == shard{0, 1});
    CHECK(parse("3/4") == shard{3, 4});
    CHECK(parse("65535/65536") == shard{65535, 65536});
    CHECK(error_of("4/4").find("K is 4, not from 0 to 3") != std::string::npos);
    CHECK(error_of("0/0").find("N \"0\" is not a number from 1 to 65536") != std::string::npos);
    CHECK(error_of("0/65537").find("from 1 to 65536") != std::string::npos);
    CHECK(error_of("1").find("has no /") != std::string::npos);
    CHECK(error_of("-1/4").find("K \"-1\" is not a number, k8s or slurm") != std::string::npos);
    CHECK(error_of("x/4").find("not a number, k8s or slurm") != std::string::npos);
    CHECK(error_of("/4").find("not a number") != std::string::npos);
    CHECK(error_of("1/").find("N \"\"") != std::string::npos);
    CHECK(error_of(" 1/4").find("not a number") != std::string::npos);
    CHECK(error_of("1/+4").find("not a number from 1") != std::string::npos);
}

TEST_CASE("k8s/N takes K from JOB_COMPLETION_INDEX and names it when it is missing, wrong or out of range")
{
    CHECK(parse("k8s/4", env_of({{"JOB_COMPLETION_INDEX", "2"}})) == shard{2, 4});
    CHECK(error_of("k8s/4").find("JOB_COMPLETION_INDEX is not set") != std::string::npos);
    CHECK(error_of("k8s/4", env_of({{"JOB_COMPLETION_INDEX", "two"}})) ==
          "JOB_COMPLETION_INDEX is \"two\", not a number");
    auto out_of_range = error_of("k8s/4", env_of({{"JOB_COMPLETION_INDEX", "4"}}));
    CHECK(out_of_range == "K is 4 (from JOB_COMPLETION_INDEX), not from 0 to 3: do the job's indexes match N?");
    // The runner's word is the whole of K: a number in a variable of another runner is not read.
    CHECK(error_of("k8s/4", env_of({{"SLURM_ARRAY_TASK_ID", "1"}})).find("JOB_COMPLETION_INDEX") !=
          std::string::npos);
}

TEST_CASE("slurm/N takes K from SLURM_ARRAY_TASK_ID, less SLURM_ARRAY_TASK_MIN when that is set")
{
    CHECK(parse("slurm/4", env_of({{"SLURM_ARRAY_TASK_ID", "3"}})) == shard{3, 4});
    CHECK(parse("slurm/4", env_of({{"SLURM_ARRAY_TASK_ID", "3"}, {"SLURM_ARRAY_TASK_MIN", "0"}})) ==
          shard{3, 4});
    CHECK(parse("slurm/4", env_of({{"SLURM_ARRAY_TASK_ID", "4"}, {"SLURM_ARRAY_TASK_MIN", "1"}})) ==
          shard{3, 4});
    CHECK(error_of("slurm/4").find("SLURM_ARRAY_TASK_ID is not set") != std::string::npos);
    CHECK(error_of("slurm/4", env_of({{"SLURM_ARRAY_TASK_ID", ""}})) ==
          "SLURM_ARRAY_TASK_ID is \"\", not a number");
    CHECK(error_of("slurm/4", env_of({{"SLURM_ARRAY_TASK_ID", "1"}, {"SLURM_ARRAY_TASK_MIN", "x"}})) ==
          "SLURM_ARRAY_TASK_MIN is \"x\", not a number");
    CHECK(error_of("slurm/4", env_of({{"SLURM_ARRAY_TASK_ID", "1"}, {"SLURM_ARRAY_TASK_MIN", "2"}})) ==
          "SLURM_ARRAY_TASK_ID (1) is below SLURM_ARRAY_TASK_MIN (2)");
    CHECK(error_of("slurm/4", env_of({{"SLURM_ARRAY_TASK_ID", "5"}, {"SLURM_ARRAY_TASK_MIN", "1"}}))
              .find("K is 4 (from SLURM_ARRAY_TASK_ID), not from 0 to 3") != std::string::npos);
}

TEST_CASE("keeping shard 0 of 1 keeps every item and numbers them from 0")
{
    auto items = generated_list();
    auto positions = keep_shard(items, {});
    CHECK(items.size() == 3000);
    REQUIRE(positions.size() == 3000);
    CHECK(positions.front() == 0);
    CHECK(positions.back() == 2999);
}
