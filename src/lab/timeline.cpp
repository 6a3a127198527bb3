#include "lab/timeline.hpp"

#include <fxrates/utf8.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <numeric>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fxrates {

namespace {

namespace json = boost::json;

using time_point = std::chrono::steady_clock::time_point;

// A request's phase boundaries, in seconds since its run's origin: queued, granted, TLS done, first byte
// and done. Phase i lies between boundaries i and i + 1.
constexpr std::size_t boundary_count = 5;
using boundaries = std::array<double, boundary_count>;

struct phase_style
{
    std::string_view css_class;
    std::string_view legend;
    std::string_view colour;
    std::string_view trace_name;
};

// Okabe-Ito colours: they stay apart for the common kinds of colour blindness. The queue is a light grey
// because waiting is not work, and the eye should skip it.
constexpr std::array<phase_style, boundary_count - 1> phases{{
    {"queue", "waiting in queue/throttle", "#c8c8c8", "queued"},
    {"connect", "connect + TLS", "#e69f00", "connect+tls"},
    {"server", "waiting for the server", "#0072b2", "server"},
    {"read", "read + decode", "#009e73", "read+decode"},
}};

constexpr std::string_view failure_colour = "#d00000";

// The page: labels at the left, the shared time axis to their right.
constexpr double page_width = 1120;
constexpr double plot_left = 250;
constexpr double plot_right = 1080;
constexpr double lanes_top = 88;
constexpr double lane_padding = 8;
constexpr double min_lane_height = 46; // room for the two label lines
constexpr double max_row_height = 6;
constexpr double max_rows_height = 300; // rows shrink so that a lane of many requests stays about this high
constexpr double min_bar_width = 1;     // a request shorter than a pixel still shows
constexpr double min_bar_height = 1;    // and so does a row thinner than a pixel

// Untrusted text (the server's message) may hold bytes that are not UTF-8 or control characters that
// XML 1.0 forbids; either would make the whole document unreadable, so they become U+FFFD.
std::string sanitize_text(std::string_view text)
{
    constexpr std::string_view replacement = "\xEF\xBF\xBD";
    std::string out;
    out.reserve(text.size());
    while (!text.empty())
    {
        char32_t c = 0;
        std::size_t length = utf8_sequence(text, c);
        bool allowed = length != 0 && (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') && c != 0xFFFE &&
                       c != 0xFFFF;
        if (allowed)
            out.append(text.substr(0, length));
        else
            out += replacement;
        text.remove_prefix(length == 0 ? 1 : length);
    }
    return out;
}

void append_escaped(std::string& out, std::string_view text)
{
    for (char c : sanitize_text(text))
    {
        switch (c)
        {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        default: out += c; break;
        }
    }
}

std::string escaped(std::string_view text)
{
    std::string out;
    append_escaped(out, text);
    return out;
}

// `value` in `format`; to_chars, unlike printf, ignores the C locale, whose decimal comma would
// break SVG coordinates. The buffer holds any double in fixed notation (309 digits at most), so
// that even an absurd value from a report made by hand prints, rather than garbage.
std::string format_double(double value, std::chars_format format, int precision)
{
    char buffer[512];
    auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value, format, precision);
    if (error != std::errc{})
        return "0";
    return std::string(buffer, end);
}

// Fixed notation without trailing zeros.
std::string number(double value, int decimals = 2)
{
    if (!std::isfinite(value) || std::abs(value) < 0.5 * std::pow(10.0, -decimals))
        value = 0; // no "-0"
    std::string text = format_double(value, std::chars_format::fixed, decimals);
    if (text.find('.') != std::string::npos)
    {
        text.erase(text.find_last_not_of('0') + 1);
        if (text.back() == '.')
            text.pop_back();
    }
    return text;
}

// "0.012 s": milliseconds are what tell strategies apart.
std::string seconds_text(double seconds)
{
    return format_double(seconds, std::chars_format::fixed, 3) + " s";
}

// Three significant digits, as a person reads a total: "0.11 s", "2.5 s", "123 s".
std::string wall_text(double seconds)
{
    return (seconds >= 100 ? format_double(seconds, std::chars_format::fixed, 0)
                           : format_double(seconds, std::chars_format::general, 3)) +
           " s";
}

template <class Report>
time_point earliest_event(const Report& run)
{
    std::optional<time_point> first;
    for (const auto& outcome : run.outcomes)
    {
        const auto& t = outcome.timing;
        for (auto point : {t.queued, t.granted, t.started, t.connected, t.tls_done, t.first_byte, t.done})
            if (point != time_point{} && (!first || point < *first))
                first = point;
    }
    return first.value_or(time_point{});
}

// A report made by hand may lack `started`; measuring from the epoch of steady_clock would push its
// requests off the page, so such a run starts at its first event instead.
template <class Report>
time_point run_origin(const Report& run)
{
    return run.started != time_point{} ? run.started : earliest_event(run);
}

boundaries phase_boundaries(const request_timing& timing, time_point origin)
{
    // `granted` and `tls_done` equal `started` when no throttle or handshake happened; a producer that
    // left them unset means the same.
    auto either = [](time_point preferred, time_point fallback)
    { return preferred != time_point{} ? preferred : fallback; };
    std::array<time_point, boundary_count> points{
        timing.queued, either(timing.granted, timing.started),
        either(timing.tls_done, either(timing.connected, timing.started)), timing.first_byte, timing.done};

    std::array<std::optional<double>, boundary_count> seconds;
    for (std::size_t i = 0; i < boundary_count; ++i)
        if (points[i] != time_point{})
            seconds[i] = std::max(0.0, std::chrono::duration<double>(points[i] - origin).count());

    // Unset points take the value of the phase before them (or, at the start, of the first point that is
    // set), and points out of order move up, so that every phase has a length >= 0.
    auto first = std::find_if(seconds.begin(), seconds.end(), [](const auto& s) { return s.has_value(); });
    double previous = first == seconds.end() ? 0.0 : **first;
    boundaries result{};
    for (std::size_t i = 0; i < boundary_count; ++i)
    {
        previous = seconds[i] ? std::max(*seconds[i], previous) : previous;
        result[i] = previous;
    }
    if (timing.reused_connection)
        result[2] = result[1];
    return result;
}

// The longest run sets the scale of the shared axis.
template <class Report>
double time_span(std::span<const Report> runs)
{
    double longest = 0;
    for (const auto& run : runs)
    {
        if (std::isfinite(run.wall_seconds))
            longest = std::max(longest, run.wall_seconds);
        auto origin = run_origin(run);
        for (const auto& outcome : run.outcomes)
            longest = std::max(longest, phase_boundaries(outcome.timing, origin).back());
    }
    return longest > 0 ? longest : 1.0;
}

// About eight intervals, each 1, 2 or 5 times a power of ten, so the labels are round numbers.
double tick_step(double span)
{
    double raw = span / 8;
    double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    double fraction = raw / magnitude;
    return magnitude * (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10);
}

int tick_decimals(double step)
{
    return std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
}

std::vector<double> ticks(double span, double step)
{
    std::vector<double> values;
    for (int k = 0; k * step <= span * (1 + 1e-9); ++k)
        values.push_back(k * step);
    return values;
}

std::string tick_label(double value, int decimals)
{
    return value == 0 ? std::string("0") : number(value, decimals) + " s";
}

struct lane_geometry
{
    double top = 0;
    double row_height = max_row_height;
    double height = min_lane_height;
};

template <class Report>
std::vector<lane_geometry> lay_out_lanes(std::span<const Report> runs)
{
    std::vector<lane_geometry> lanes;
    double top = lanes_top;
    for (const auto& run : runs)
    {
        auto rows = static_cast<double>(std::max<std::size_t>(run.outcomes.size(), 1));
        // Whole pixels keep thin rows crisp. Past 300 rows they go below a pixel, so that a thousand
        // requests still fit; their bars stay a pixel high and overlap, which reads as a solid block.
        double fitting = max_rows_height / rows;
        double row_height = fitting >= 1 ? std::min(std::floor(fitting), max_row_height) : fitting;
        double height = std::max(rows * row_height + 2 * lane_padding, min_lane_height);
        lanes.push_back({top, row_height, height});
        top += height;
    }
    return lanes;
}

void append_legend(std::string& out)
{
    out += "<g class=\"legend\">\n";
    double x = 12;
    // SVG 1.1 cannot measure text, so entries are spaced by an average glyph width of 12 px sans-serif.
    auto advance = [&](std::string_view label) { x += 20 + static_cast<double>(label.size()) * 6.7 + 22; };
    for (const auto& phase : phases)
    {
        out += "<rect x=\"" + number(x) + "\" y=\"38\" width=\"14\" height=\"10\" fill=\"" +
               std::string(phase.colour) + "\"/>";
        out += "<text x=\"" + number(x + 20) + "\" y=\"47\">" + escaped(phase.legend) + "</text>\n";
        advance(phase.legend);
    }
    constexpr std::string_view failed_label = "failed";
    out += "<rect x=\"" + number(x) + "\" y=\"38\" width=\"14\" height=\"10\" fill=\"none\" stroke=\"" +
           std::string(failure_colour) + "\"/>";
    out += "<path d=\"M" + number(x + 18) + " 40L" + number(x + 24) + " 46M" + number(x + 18) + " 46L" +
           number(x + 24) + " 40\" stroke=\"" + std::string(failure_colour) + "\" stroke-width=\"1.5\"/>";
    out += "<text x=\"" + number(x + 30) + "\" y=\"47\">" + std::string(failed_label) + "</text>\n";
    out += "</g>\n";
}

// What names an item in the pictures: its base, or its URL.
std::string item_label(const rates_outcome& outcome)
{
    return outcome.base.str();
}

std::string item_label(const fetch_outcome& outcome)
{
    return outcome.url;
}

std::string_view label_attribute(const rates_outcome&)
{
    return "data-base";
}

std::string_view label_attribute(const fetch_outcome&)
{
    return "data-url";
}

template <class Outcome>
std::string request_tooltip(const Outcome& outcome, const boundaries& b)
{
    std::string text =
        item_label(outcome) + ": " + seconds_text(b.front()) + " \u2192 " + seconds_text(b.back());
    for (std::size_t i = 0; i < phases.size(); ++i)
    {
        text += i == 0 ? "\n" : ", ";
        text += std::string(phases[i].trace_name) + " " + seconds_text(b[i + 1] - b[i]);
    }
    if (outcome.timing.reused_connection)
        text += "\nreused connection";
    if (!outcome.ok())
    {
        text += "\nfailed: " + outcome.error.message();
        if (!outcome.diag.client_message().empty())
            text += "\n" + outcome.diag.client_message();
        if (!outcome.diag.server_message().empty())
            text += "\nthe server said (untrusted): " + outcome.diag.server_message();
    }
    return text;
}

template <class Outcome>
void append_request(std::string& out, const Outcome& outcome, const boundaries& b, double row_top,
                    double row_height, double scale)
{
    auto x_of = [&](double seconds) { return plot_left + seconds * scale; };
    // A pixel between rows keeps neighbours apart while rows are thick enough to spare it.
    double bar_height = row_height >= 3 ? row_height - 1 : std::max(row_height, min_bar_height);
    std::string y = number(row_top);
    std::string height = number(bar_height);

    out += outcome.ok() ? "<g class=\"request\"" : "<g class=\"request failed\"";
    out += " " + std::string(label_attribute(outcome)) + "=\"" + escaped(item_label(outcome)) + "\"><title>";
    append_escaped(out, request_tooltip(outcome, b));
    out += "</title>";

    auto rect = [&](const phase_style& phase, double left, double width)
    {
        out += "<rect class=\"" + std::string(phase.css_class) + "\" x=\"" + number(left) + "\" y=\"" + y +
               "\" width=\"" + number(width) + "\" height=\"" + height + "\" fill=\"" +
               std::string(phase.colour) + "\"/>";
    };
    double bar_left = x_of(b.front());
    double bar_width = x_of(b.back()) - bar_left;
    if (bar_width < min_bar_width)
    {
        // Too short to see at this scale: one sliver in the colour of its longest phase.
        std::size_t longest = phases.size() - 1;
        for (std::size_t i = 0; i < phases.size(); ++i)
            if (b[i + 1] - b[i] > b[longest + 1] - b[longest])
                longest = i;
        rect(phases[longest], bar_left, min_bar_width);
        bar_width = min_bar_width;
    }
    else
    {
        for (std::size_t i = 0; i < phases.size(); ++i)
        {
            double left = x_of(b[i]);
            double width = x_of(b[i + 1]) - left; // >= 0: the boundaries are sorted
            if (width >= 0.01)
                rect(phases[i], left, width);
        }
    }

    if (!outcome.ok())
    {
        std::string colour(failure_colour);
        out += "<rect class=\"failure-outline\" x=\"" + number(bar_left) + "\" y=\"" + y + "\" width=\"" +
               number(bar_width) + "\" height=\"" + height + "\" fill=\"none\" stroke=\"" + colour + "\"/>";
        // A cross after the bar, so a failure shows without relying on colour alone.
        double cx = bar_left + bar_width + 6;
        double cy = row_top + bar_height / 2;
        double arm = std::max(2.5, bar_height / 2);
        std::string left = number(cx - arm);
        std::string right = number(cx + arm);
        std::string top = number(cy - arm);
        std::string bottom = number(cy + arm);
        out += "<path class=\"failure-marker\" d=\"M" + left + " " + top + "L" + right + " " + bottom + "M" +
               left + " " + bottom + "L" + right + " " + top + "\" stroke=\"" + colour +
               "\" stroke-width=\"1.5\" fill=\"none\"/>";
    }
    out += "</g>\n";
}

template <class Report>
void append_lane(std::string& out, const Report& run, const lane_geometry& lane, double scale)
{
    auto origin = run_origin(run);
    std::size_t failures = 0;
    double latest_done = 0;
    std::vector<boundaries> bars;
    bars.reserve(run.outcomes.size());
    for (const auto& outcome : run.outcomes)
    {
        bars.push_back(phase_boundaries(outcome.timing, origin));
        latest_done = std::max(latest_done, bars.back().back());
        failures += outcome.ok() ? 0 : 1;
    }
    double wall = std::isfinite(run.wall_seconds) && run.wall_seconds > 0 ? run.wall_seconds : latest_done;

    std::string name = escaped(to_string(run.kind));
    out += "<g class=\"lane\" data-strategy=\"" + name + "\" shape-rendering=\"crispEdges\">\n";
    out += "<text class=\"lane-label\" x=\"12\" y=\"" + number(lane.top + 20) + "\" font-size=\"13\">" +
           "<tspan font-weight=\"bold\">" + name + "</tspan><tspan dx=\"10\" fill=\"#444444\">" +
           escaped(wall_text(wall)) + "</tspan></text>\n";
    std::string summary = std::to_string(run.outcomes.size()) +
                          (run.outcomes.size() == 1 ? " request" : " requests");
    if (failures > 0)
        summary += ", " + std::to_string(failures) + " failed";
    out += "<text x=\"12\" y=\"" + number(lane.top + 36) + "\" font-size=\"11\" fill=\"#666666\">" +
           escaped(summary) + "</text>\n";

    double rows_top = lane.top + lane_padding;
    for (std::size_t i = 0; i < run.outcomes.size(); ++i)
        append_request(out, run.outcomes[i], bars[i], rows_top + static_cast<double>(i) * lane.row_height,
                       lane.row_height, scale);

    std::string bottom = number(lane.top + lane.height);
    out += "<line class=\"lane-separator\" x1=\"0\" y1=\"" + bottom + "\" x2=\"" + number(page_width) +
           "\" y2=\"" + bottom + "\" stroke=\"#d0d0d0\"/>\n";
    out += "</g>\n";
}

// The events of one thread must nest in the trace viewers, yet an event loop's requests overlap; each
// request therefore goes to the first track of its thread that is free when it starts, and a thread gets
// one more track for each request it had in flight at once.
struct thread_tracks
{
    int number = 0;
    std::vector<std::pair<std::int64_t, std::int64_t>> free_from_and_tid;
};

json::object metadata(std::string_view name, std::int64_t pid, std::optional<std::int64_t> tid,
                      json::object args)
{
    json::object event;
    event["name"] = name;
    event["ph"] = "M";
    event["pid"] = pid;
    if (tid)
        event["tid"] = *tid;
    event["args"] = std::move(args);
    return event;
}

json::object complete_event(std::string_view name, std::string_view category, std::int64_t pid,
                            std::int64_t tid, std::int64_t start_us, std::int64_t end_us)
{
    json::object event;
    event["name"] = name;
    event["cat"] = category;
    event["ph"] = "X";
    event["pid"] = pid;
    event["tid"] = tid;
    event["ts"] = start_us; // whole microseconds: viewers nest phases exactly, and no exponent form
    event["dur"] = end_us - start_us;
    return event;
}

} // namespace

template <class Report>
std::string timeline_svg_of(std::span<const Report> runs)
{
    double span = time_span(runs);
    double scale = (plot_right - plot_left) / span;
    auto lanes = lay_out_lanes(runs);
    double lanes_bottom =
        lanes.empty() ? lanes_top + min_lane_height : lanes.back().top + lanes.back().height;
    double page_height = lanes_bottom + 56;
    double step = tick_step(span);
    int decimals = tick_decimals(step);
    auto tick_values = ticks(span, step);

    std::string out;
    out += "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n";
    out += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" + number(page_width) +
           "\" height=\"" + number(page_height) + "\" viewBox=\"0 0 " + number(page_width) + " " +
           number(page_height) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
    out += "<title>fxrates compare: requests over time, by strategy</title>\n";
    // An explicit background, so that dark viewers and PNG conversions show the picture as drawn.
    out += "<rect class=\"background\" x=\"0\" y=\"0\" width=\"" + number(page_width) + "\" height=\"" +
           number(page_height) + "\" fill=\"#ffffff\"/>\n";
    out += "<text x=\"12\" y=\"22\"><tspan font-size=\"15\" font-weight=\"bold\">Requests over time, by "
           "strategy</tspan><tspan dx=\"14\" fill=\"#555555\">one row per request, in input order; "
           "time since each run started</tspan></text>\n";
    append_legend(out);

    // Alternate lane shades help the eye follow a lane; they go under the gridlines.
    out += "<g class=\"lane-backgrounds\">\n";
    for (std::size_t i = 1; i < lanes.size(); i += 2)
        out += "<rect x=\"0\" y=\"" + number(lanes[i].top) + "\" width=\"" + number(page_width) +
               "\" height=\"" + number(lanes[i].height) + "\" fill=\"#f6f6f6\"/>\n";
    out += "</g>\n";

    out += "<g class=\"grid\" shape-rendering=\"crispEdges\">\n";
    for (double value : tick_values)
    {
        std::string x = number(plot_left + value * scale);
        out += "<line x1=\"" + x + "\" y1=\"" + number(lanes_top) + "\" x2=\"" + x + "\" y2=\"" +
               number(lanes_bottom) + "\" stroke=\"#e2e2e2\"/>\n";
    }
    out += "</g>\n";

    out += "<g class=\"axis\" fill=\"#555555\" text-anchor=\"middle\">\n";
    for (double value : tick_values)
    {
        std::string x = number(plot_left + value * scale);
        std::string label = escaped(tick_label(value, decimals));
        out += "<text x=\"" + x + "\" y=\"" + number(lanes_top - 8) + "\">" + label + "</text>";
        out += "<line x1=\"" + x + "\" y1=\"" + number(lanes_bottom) + "\" x2=\"" + x + "\" y2=\"" +
               number(lanes_bottom + 5) + "\" stroke=\"#888888\"/>";
        out += "<text x=\"" + x + "\" y=\"" + number(lanes_bottom + 18) + "\">" + label + "</text>\n";
    }
    out += "<line x1=\"" + number(plot_left) + "\" y1=\"" + number(lanes_bottom) + "\" x2=\"" +
           number(plot_right) + "\" y2=\"" + number(lanes_bottom) + "\" stroke=\"#888888\"/>\n";
    out += "<text x=\"" + number((plot_left + plot_right) / 2) + "\" y=\"" + number(lanes_bottom + 38) +
           "\">seconds since each run started</text>\n";
    out += "</g>\n";

    if (runs.empty())
        out += "<text x=\"12\" y=\"" + number(lanes_top + 24) + "\" fill=\"#666666\">no runs</text>\n";
    for (std::size_t i = 0; i < runs.size(); ++i)
        append_lane(out, runs[i], lanes[i], scale);

    out += "</svg>\n";
    return out;
}

template <class Report>
std::string chrome_trace_of(std::span<const Report> runs)
{
    json::array events;
    for (std::size_t r = 0; r < runs.size(); ++r)
    {
        const auto& run = runs[r];
        auto pid = static_cast<std::int64_t>(r + 1);
        bool by_process = run.kind == strategy::process_pool;
        events.push_back(metadata("process_name", pid, std::nullopt, {{"name", to_string(run.kind)}}));
        // Keeps the processes in the order the runs were given, not sorted by pid or name.
        json::object sort_index{{"sort_index", static_cast<std::int64_t>(r)}};
        events.push_back(metadata("process_sort_index", pid, std::nullopt, std::move(sort_index)));

        // Whole microseconds: rounding is monotonic, so phases stay inside their request exactly, and the
        // viewers' own rounding of fractions cannot push a phase's end past its request's.
        auto origin = run_origin(run);
        std::vector<std::array<std::int64_t, boundary_count>> micros;
        micros.reserve(run.outcomes.size());
        for (const auto& outcome : run.outcomes)
        {
            auto b = phase_boundaries(outcome.timing, origin);
            std::array<std::int64_t, boundary_count> us{};
            for (std::size_t i = 0; i < boundary_count; ++i)
                us[i] = std::llround(b[i] * 1e6);
            micros.push_back(us);
        }

        // Tracks are handed out in order of start, so that a request finds the tracks its predecessors
        // have left free.
        std::vector<std::size_t> order(run.outcomes.size());
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::stable_sort(order.begin(), order.end(),
                         [&](std::size_t a, std::size_t b) { return micros[a][0] < micros[b][0]; });

        std::map<std::pair<int, std::uint64_t>, thread_tracks> threads;
        std::int64_t next_tid = 1;
        for (std::size_t index : order)
        {
            const auto& outcome = run.outcomes[index];
            const auto& us = micros[index];
            auto [entry, inserted] =
                threads.try_emplace({by_process ? outcome.timing.process_id : 0, outcome.timing.thread_id});
            auto& thread = entry->second;
            if (inserted)
                thread.number = static_cast<int>(threads.size());

            auto track = std::find_if(thread.free_from_and_tid.begin(), thread.free_from_and_tid.end(),
                                      [&](const auto& t) { return t.first <= us.front(); });
            if (track == thread.free_from_and_tid.end())
            {
                std::string name = by_process ? "process " + std::to_string(outcome.timing.process_id)
                                              : "thread " + std::to_string(thread.number);
                if (!thread.free_from_and_tid.empty())
                    name += " (overlap " + std::to_string(thread.free_from_and_tid.size() + 1) + ")";
                events.push_back(metadata("thread_name", pid, next_tid, {{"name", name}}));
                events.push_back(metadata("thread_sort_index", pid, next_tid, {{"sort_index", next_tid}}));
                thread.free_from_and_tid.emplace_back(0, next_tid++);
                track = std::prev(thread.free_from_and_tid.end());
            }
            track->first = us.back();
            std::int64_t tid = track->second;

            auto request = complete_event(item_label(outcome), "request", pid, tid, us.front(), us.back());
            json::object args;
            args["ok"] = outcome.ok();
            args["reused_connection"] = outcome.timing.reused_connection;
            if (!outcome.ok())
            {
                args["error"] = sanitize_text(outcome.error.message());
                std::string code = outcome.error.category().name();
                args["error_code"] = code + ":" + std::to_string(outcome.error.value());
                if (!outcome.diag.client_message().empty())
                    args["client_message"] = sanitize_text(outcome.diag.client_message());
                if (!outcome.diag.server_message().empty())
                    args["server_message_untrusted"] = sanitize_text(outcome.diag.server_message());
            }
            request["args"] = std::move(args);
            events.push_back(std::move(request));

            for (std::size_t i = 0; i < phases.size(); ++i)
                if (us[i + 1] > us[i])
                    events.push_back(
                        complete_event(phases[i].trace_name, "phase", pid, tid, us[i], us[i + 1]));
        }
    }

    json::object root;
    root["traceEvents"] = std::move(events);
    root["displayTimeUnit"] = "ms";
    return json::serialize(root);
}

std::string render_timeline_svg(std::span<const run_report> runs)
{
    return timeline_svg_of(runs);
}

std::string render_timeline_svg(std::span<const fetch_run_report> runs)
{
    return timeline_svg_of(runs);
}

std::string render_chrome_trace(std::span<const run_report> runs)
{
    return chrome_trace_of(runs);
}

std::string render_chrome_trace(std::span<const fetch_run_report> runs)
{
    return chrome_trace_of(runs);
}

} // namespace fxrates
