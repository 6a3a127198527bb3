#include <fxrates/server/fault.hpp>

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace fxrates {

namespace {

struct fault_name
{
    fault kind;
    std::string_view name;
};

constexpr fault_name names[] = {
    {fault::http_500, "500"},
    {fault::http_503, "503"},
    {fault::http_429, "429"},
    {fault::http_429_date, "429-date"},
    {fault::http_429_bare, "429-bare"},
    {fault::reset, "reset"},
    {fault::reset_mid_body, "reset-mid-body"},
    {fault::short_body, "short-body"},
    {fault::stall, "stall"},
    {fault::drip, "drip"},
    {fault::bad_json, "bad-json"},
    {fault::missing_rates, "missing-rates"},
    {fault::rates_string, "rates-string"},
    {fault::huge_body, "huge-body"},
    {fault::html_page, "html"},
    {fault::tls_truncate, "tls-truncate"},
    {fault::http_100_continue, "100"},
    {fault::http_103_early_hints, "103"},
    {fault::redirect_301, "301"},
    {fault::redirect_302, "302"},
    {fault::redirect_303, "303"},
    {fault::redirect_307, "307"},
    {fault::redirect_308, "308"},
    {fault::redirect_absolute, "redirect-absolute"},
    {fault::redirect_loop, "redirect-loop"},
    {fault::redirect_http, "redirect-http"},
    {fault::gzip, "gzip"},
    {fault::gzip_bomb, "gzip-bomb"},
    {fault::http10_close, "http10-close"},
    {fault::http10_cut, "http10-cut"},
    {fault::big_header, "big-header"},
    {fault::lf_only, "lf-only"},
    {fault::no_reason, "no-reason"},
    {fault::ignore_query, "ignore-query"},
    {fault::endless_trailers, "endless-trailers"},
    {fault::endless_chunk_ext, "endless-chunk-ext"},
    {fault::http2_only, "http2-only"},
};

std::string known_kinds()
{
    std::string list;
    for (const auto& entry : names)
        list += (list.empty() ? "" : ", ") + std::string(entry.name);
    return list;
}

} // namespace

std::string_view to_string(fault kind) noexcept
{
    for (const auto& entry : names)
        if (entry.kind == kind)
            return entry.name;
    return "unknown";
}

const std::vector<fault>& all_faults()
{
    static const std::vector<fault> every = [] {
        std::vector<fault> kinds;
        for (const auto& entry : names)
            kinds.push_back(entry.kind);
        return kinds;
    }();
    return every;
}

void fault_plan::add(std::string_view spec)
{
    auto colon = spec.rfind(':');
    auto bad = [&](const std::string& why) {
        return std::invalid_argument("--fault '" + std::string(spec) + "': " + why +
                                     "; expected KIND:P with P from 0 to 1, KIND one of " + known_kinds());
    };
    if (colon == std::string_view::npos)
        throw bad("no probability");
    auto kind_name = spec.substr(0, colon);
    auto probability_text = spec.substr(colon + 1);
    double probability = -1;
    auto [end, ec] = std::from_chars(probability_text.data(), probability_text.data() + probability_text.size(),
                                     probability);
    if (ec != std::errc() || end != probability_text.data() + probability_text.size() || !(probability >= 0) ||
        probability > 1)
        throw bad("'" + std::string(probability_text) + "' is not a probability");
    for (const auto& entry : names)
        if (entry.name == kind_name)
        {
            add(entry.kind, probability);
            return;
        }
    throw bad("unknown kind '" + std::string(kind_name) + "'");
}

void fault_plan::add(fault kind, double probability)
{
    entries_.push_back({kind, probability});
}

std::optional<fault> fault_plan::draw()
{
    if (entries_.empty())
        return std::nullopt;
    double roll = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
    double cumulative = 0;
    for (const auto& entry : entries_)
    {
        cumulative += entry.probability;
        if (roll < cumulative)
            return entry.kind;
    }
    return std::nullopt;
}

} // namespace fxrates
