// The timeline renderers over hand-made run reports: explicit steady_clock time points, no wall clock.
// The SVG is read back with a small XML reader written here, so that the checks see the document's
// structure rather than searching its text.

#include <fxrates/error.hpp>
#include "lab/timeline.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_to.hpp>

#include <doctest/doctest.h>

#include <limits>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace json = boost::json;

using fxrates::currency_code;
using fxrates::rates_outcome;
using fxrates::run_report;
using fxrates::strategy;
using milliseconds = std::chrono::milliseconds;
using time_point = std::chrono::steady_clock::time_point;

// ---------------------------------------------------------------------------------------------------
// A small XML reader: elements, attributes (quoted), text, comments, the declaration and the five
// predefined and numeric character references. It rejects what a browser's XML parser rejects among
// those: unbalanced or crossed tags, unquoted or duplicate attributes, a raw '<' or a bare '&'.

struct xml_element
{
    std::string name;
    std::map<std::string, std::string> attributes; // decoded values
    std::string text;                              // decoded character data directly inside
    std::vector<std::size_t> children;
    std::optional<std::size_t> parent;

    std::string attribute(const std::string& key) const
    {
        auto found = attributes.find(key);
        return found == attributes.end() ? std::string() : found->second;
    }

    bool has_class(std::string_view wanted) const
    {
        std::string classes = attribute("class");
        std::size_t start = 0;
        while (start < classes.size())
        {
            std::size_t end = classes.find(' ', start);
            if (end == std::string::npos)
                end = classes.size();
            if (std::string_view(classes).substr(start, end - start) == wanted)
                return true;
            start = end + 1;
        }
        return false;
    }
};

struct xml_document
{
    std::vector<xml_element> elements; // elements[0] is the root, in document order
    std::string error;                 // empty when well-formed
};

class xml_reader
{
public:
    explicit xml_reader(std::string_view text) : text_(text) {}

    xml_document read()
    {
        if (text_.substr(0, 5) == "<?xml")
            skip_past("?>");
        bool root_done = false;
        while (doc_.error.empty() && pos_ < text_.size())
        {
            if (text_.substr(pos_, 4) == "<!--")
                skip_past("-->");
            else if (text_.substr(pos_, 2) == "<?")
                skip_past("?>");
            else if (text_.substr(pos_, 2) == "</")
                read_end_tag();
            else if (text_[pos_] == '<')
            {
                if (open_.empty() && root_done)
                    fail("a second root element");
                else
                    read_start_tag(root_done);
            }
            else
                read_text();
        }
        if (doc_.error.empty() && !open_.empty())
            fail("unclosed <" + doc_.elements[open_.back()].name + ">");
        if (doc_.error.empty() && doc_.elements.empty())
            fail("no root element");
        return std::move(doc_);
    }

private:
    void fail(std::string why)
    {
        if (doc_.error.empty())
            doc_.error = why + " at offset " + std::to_string(pos_);
        pos_ = text_.size();
    }

    void skip_past(std::string_view end)
    {
        auto found = text_.find(end, pos_);
        if (found == std::string_view::npos)
            return fail("unterminated markup");
        pos_ = found + end.size();
    }

    static bool is_name_char(char c, bool first)
    {
        bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        return letter || (!first && ((c >= '0' && c <= '9') || c == '-' || c == '.'));
    }

    std::string read_name()
    {
        std::size_t start = pos_;
        while (pos_ < text_.size() && is_name_char(text_[pos_], pos_ == start))
            ++pos_;
        if (pos_ == start)
            fail("expected a name");
        return std::string(text_.substr(start, pos_ - start));
    }

    bool skip_space()
    {
        std::size_t start = pos_;
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\t' ||
                                       text_[pos_] == '\r'))
            ++pos_;
        return pos_ != start;
    }

    // Decodes character data up to `stop`, checking every '&' starts a known reference.
    std::string decode(std::string_view raw)
    {
        std::string out;
        for (std::size_t i = 0; i < raw.size(); ++i)
        {
            if (raw[i] == '<')
            {
                fail("a raw '<' in character data");
                return out;
            }
            if (raw[i] != '&')
            {
                out += raw[i];
                continue;
            }
            auto semicolon = raw.find(';', i);
            if (semicolon == std::string_view::npos)
            {
                fail("a bare '&'");
                return out;
            }
            std::string_view entity = raw.substr(i + 1, semicolon - i - 1);
            static const std::map<std::string_view, char> named{
                {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
            if (auto found = named.find(entity); found != named.end())
                out += found->second;
            else if (entity.size() > 1 && entity[0] == '#')
            {
                bool hex = entity[1] == 'x';
                std::string_view digits = entity.substr(hex ? 2 : 1);
                unsigned code = 0;
                const char* last = digits.data() + digits.size();
                auto [end, ec] = std::from_chars(digits.data(), last, code, hex ? 16 : 10);
                if (ec != std::errc() || end != last || code == 0 || code > 0x7F)
                {
                    fail("an unsupported character reference");
                    return out;
                }
                out += static_cast<char>(code);
            }
            else
            {
                fail("an unknown entity &" + std::string(entity) + ";");
                return out;
            }
            i = semicolon;
        }
        return out;
    }

    void read_start_tag(bool& root_done)
    {
        ++pos_; // '<'
        xml_element element;
        element.name = read_name();
        while (doc_.error.empty())
        {
            bool spaced = skip_space();
            if (pos_ >= text_.size())
                return fail("unterminated start tag");
            if (text_.substr(pos_, 2) == "/>" || text_[pos_] == '>')
                break;
            if (!spaced)
                return fail("attributes must be separated by white space");
            std::string key = read_name();
            skip_space();
            if (pos_ >= text_.size() || text_[pos_] != '=')
                return fail("attribute " + key + " has no '='");
            ++pos_;
            skip_space();
            if (pos_ >= text_.size() || (text_[pos_] != '"' && text_[pos_] != '\''))
                return fail("attribute " + key + " is not quoted");
            char quote = text_[pos_++];
            auto close = text_.find(quote, pos_);
            if (close == std::string_view::npos)
                return fail("unterminated attribute value");
            std::string value = decode(text_.substr(pos_, close - pos_));
            pos_ = close + 1;
            if (!element.attributes.emplace(key, value).second)
                return fail("duplicate attribute " + key);
        }
        if (!doc_.error.empty())
            return;

        std::size_t index = doc_.elements.size();
        if (!open_.empty())
        {
            element.parent = open_.back();
            doc_.elements[open_.back()].children.push_back(index);
        }
        doc_.elements.push_back(std::move(element));
        if (text_[pos_] == '/')
        {
            pos_ += 2;
            root_done = root_done || open_.empty();
        }
        else
        {
            ++pos_;
            open_.push_back(index);
        }
    }

    void read_end_tag()
    {
        pos_ += 2;
        std::string name = read_name();
        skip_space();
        if (pos_ >= text_.size() || text_[pos_] != '>')
            return fail("unterminated end tag");
        ++pos_;
        if (open_.empty() || doc_.elements[open_.back()].name != name)
            return fail("</" + name + "> does not close the open element");
        open_.pop_back();
    }

    void read_text()
    {
        auto end = text_.find('<', pos_);
        if (end == std::string_view::npos)
            end = text_.size();
        std::string_view raw = text_.substr(pos_, end - pos_);
        std::string decoded = decode(raw);
        if (!doc_.error.empty())
            return;
        if (open_.empty())
        {
            if (decoded.find_first_not_of(" \n\r\t") != std::string::npos)
                return fail("text outside the root element");
        }
        else
            doc_.elements[open_.back()].text += decoded;
        pos_ = end;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
    std::vector<std::size_t> open_;
    xml_document doc_;
};

xml_document read_xml(std::string_view text)
{
    return xml_reader(text).read();
}

std::vector<const xml_element*> descendants(const xml_document& doc, std::size_t of, std::string_view name,
                                            std::string_view css_class = {})
{
    std::vector<const xml_element*> found;
    std::vector<std::size_t> pending(doc.elements[of].children.rbegin(), doc.elements[of].children.rend());
    while (!pending.empty())
    {
        std::size_t index = pending.back();
        pending.pop_back();
        const auto& element = doc.elements[index];
        if (element.name == name && (css_class.empty() || element.has_class(css_class)))
            found.push_back(&element);
        pending.insert(pending.end(), element.children.rbegin(), element.children.rend());
    }
    return found;
}

std::size_t index_of(const xml_document& doc, const xml_element* element)
{
    return static_cast<std::size_t>(element - doc.elements.data());
}

const xml_element* child_named(const xml_document& doc, const xml_element& element, std::string_view name)
{
    for (std::size_t child : element.children)
        if (doc.elements[child].name == name)
            return &doc.elements[child];
    return nullptr;
}

double number_attribute(const xml_element& element, const std::string& key)
{
    std::string text = element.attribute(key);
    double value = std::nan("");
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size())
        return std::nan("");
    return value;
}

// The horizontal extent of a request's phase bars (its failure outline and marker aside).
std::pair<double, double> bar_extent(const xml_document& doc, const xml_element* request)
{
    double left = INFINITY;
    double right = -INFINITY;
    for (const auto* rect : descendants(doc, index_of(doc, request), "rect"))
    {
        if (rect->has_class("failure-outline"))
            continue;
        double x = number_attribute(*rect, "x");
        left = std::min(left, x);
        right = std::max(right, x + number_attribute(*rect, "width"));
    }
    return {left, right};
}

// ---------------------------------------------------------------------------------------------------
// Synthetic runs

const time_point base_time = time_point{} + std::chrono::hours(1);
constexpr std::array<std::string_view, 5> five_bases{"USD", "EUR", "JPY", "GBP", "CHF"};

struct phase_lengths
{
    milliseconds queue{0};
    milliseconds connect{30}; // zero: a reused connection
    milliseconds server{50};
    milliseconds read{20};
};

rates_outcome request_at(std::string_view base, time_point queued, phase_lengths lengths = {},
                         std::uint64_t thread_id = 1)
{
    rates_outcome outcome;
    outcome.base = currency_code(base);
    outcome.value.base = outcome.base;
    auto& t = outcome.timing;
    t.queued = queued;
    t.granted = queued + lengths.queue;
    t.started = t.granted;
    t.connected = t.started + lengths.connect / 2;
    t.tls_done = t.started + lengths.connect;
    t.first_byte = t.tls_done + lengths.server;
    t.done = t.first_byte + lengths.read;
    t.reused_connection = lengths.connect == milliseconds(0);
    t.thread_id = thread_id;
    t.process_id = 4242;
    return outcome;
}

// One request after another on one thread, each 100 ms; the first opens the connection.
run_report sequential_run()
{
    run_report run;
    run.kind = strategy::sequential;
    run.started = base_time;
    for (std::size_t i = 0; i < five_bases.size(); ++i)
    {
        phase_lengths lengths;
        if (i > 0)
            lengths = {milliseconds(0), milliseconds(0), milliseconds(80), milliseconds(20)};
        run.outcomes.push_back(request_at(five_bases[i], base_time + milliseconds(100) * i, lengths));
    }
    run.wall_seconds = 0.5;
    return run;
}

// Five requests at once on one event loop; GBP fails with a 500 whose text is hostile to XML. Its run
// started at another moment than the sequential one, to show that each run is drawn from its own start.
run_report async_run()
{
    run_report run;
    run.kind = strategy::async;
    run.started = base_time + std::chrono::seconds(10);
    for (std::size_t i = 0; i < five_bases.size(); ++i)
    {
        phase_lengths lengths{milliseconds(0), milliseconds(30), milliseconds(50 + 5 * static_cast<int>(i)),
                              milliseconds(10)};
        run.outcomes.push_back(request_at(five_bases[i], run.started + milliseconds(1), lengths));
    }
    auto& failed = run.outcomes[3];
    failed.error = fxrates::make_http_error(500);
    failed.diag.set_server_message("<script>alert(\"x\") & 'y'</script>");
    run.wall_seconds = 0.1;
    return run;
}

// A thread pool of two workers: requests queue until a worker is free.
run_report thread_pool_run()
{
    run_report run;
    run.kind = strategy::thread_pool;
    run.started = base_time;
    for (std::size_t i = 0; i < five_bases.size(); ++i)
    {
        auto wave = static_cast<int>(i / 2);
        phase_lengths lengths{milliseconds(100 * wave), milliseconds(wave == 0 ? 30 : 0), milliseconds(50),
                              milliseconds(20)};
        run.outcomes.push_back(request_at(five_bases[i], base_time, lengths, 10 + i % 2));
    }
    run.wall_seconds = 0.3;
    return run;
}

std::vector<run_report> sequential_and_async()
{
    return {sequential_run(), async_run()};
}

// ---------------------------------------------------------------------------------------------------
// Trace helpers

struct trace_event
{
    std::string name;
    std::string category;
    std::string phase;
    std::int64_t pid = 0;
    std::int64_t tid = 0;
    double ts = 0;
    double dur = 0;
    json::object args;
};

std::vector<trace_event> read_trace(const std::string& text)
{
    json::value root = json::parse(text);
    REQUIRE(root.is_object());
    REQUIRE(root.as_object().contains("traceEvents"));
    CHECK(root.at("displayTimeUnit") == "ms");
    std::vector<trace_event> events;
    for (const auto& value : root.at("traceEvents").as_array())
    {
        const auto& object = value.as_object();
        trace_event event;
        event.name = json::value_to<std::string>(object.at("name"));
        event.phase = json::value_to<std::string>(object.at("ph"));
        event.pid = object.at("pid").to_number<std::int64_t>();
        if (object.contains("tid"))
            event.tid = object.at("tid").to_number<std::int64_t>();
        if (object.contains("cat"))
            event.category = json::value_to<std::string>(object.at("cat"));
        if (object.contains("ts"))
            event.ts = object.at("ts").to_number<double>();
        if (object.contains("dur"))
            event.dur = object.at("dur").to_number<double>();
        if (object.contains("args"))
            event.args = object.at("args").as_object();
        events.push_back(std::move(event));
    }
    return events;
}

std::vector<trace_event> requests_of(const std::vector<trace_event>& events, std::int64_t pid)
{
    std::vector<trace_event> found;
    for (const auto& event : events)
        if (event.pid == pid && event.phase == "X" && event.category == "request")
            found.push_back(event);
    return found;
}

std::optional<std::string> metadata_name(const std::vector<trace_event>& events, std::string_view kind,
                                         std::int64_t pid, std::int64_t tid = 0)
{
    for (const auto& event : events)
        if (event.phase == "M" && event.name == kind && event.pid == pid && event.tid == tid)
            return json::value_to<std::string>(event.args.at("name"));
    return std::nullopt;
}

bool any_overlap(std::vector<trace_event> events)
{
    std::sort(events.begin(), events.end(), [](const auto& a, const auto& b) { return a.ts < b.ts; });
    for (std::size_t i = 1; i < events.size(); ++i)
        if (events[i].ts < events[i - 1].ts + events[i - 1].dur)
            return true;
    return false;
}

} // namespace

TEST_CASE("the xml reader used by these tests rejects malformed documents")
{
    CHECK(read_xml("<a><b x=\"1\"/>t &amp; u</a>").error.empty());
    CHECK_FALSE(read_xml("<a><b></a></b>").error.empty());
    CHECK_FALSE(read_xml("<a><b></a>").error.empty());
    CHECK_FALSE(read_xml("<a x=1/>").error.empty());
    CHECK_FALSE(read_xml("<a x=\"1\" x=\"2\"/>").error.empty());
    CHECK_FALSE(read_xml("<a>1 < 2</a>").error.empty());
    CHECK_FALSE(read_xml("<a>fish & chips</a>").error.empty());
    CHECK_FALSE(read_xml("<a x=\"<\"/>").error.empty());
    CHECK_FALSE(read_xml("<a/><b/>").error.empty());
}

TEST_CASE("the timeline is a well-formed svg document with one lane per run, in order")
{
    auto runs = sequential_and_async();
    std::string svg = fxrates::render_timeline_svg(runs);

    CHECK(svg.rfind("<?xml version=\"1.0\"", 0) == 0);
    auto doc = read_xml(svg);
    REQUIRE_MESSAGE(doc.error.empty(), doc.error);
    const auto& root = doc.elements.front();
    CHECK(root.name == "svg");
    CHECK(root.attribute("xmlns") == "http://www.w3.org/2000/svg");
    CHECK(root.attribute("version") == "1.1");
    double width = number_attribute(root, "width");
    CHECK(width >= 1000);
    CHECK(width <= 1200);
    CHECK(child_named(doc, root, "title") != nullptr);

    auto lanes = descendants(doc, 0, "g", "lane");
    REQUIRE(lanes.size() == 2);
    CHECK(lanes[0]->attribute("data-strategy") == "sequential");
    CHECK(lanes[1]->attribute("data-strategy") == "async");
}

TEST_CASE("each lane is labelled with its strategy and wall time")
{
    auto runs = sequential_and_async();
    auto doc = read_xml(fxrates::render_timeline_svg(runs));
    REQUIRE_MESSAGE(doc.error.empty(), doc.error);

    auto lanes = descendants(doc, 0, "g", "lane");
    REQUIRE(lanes.size() == 2);
    auto label_of = [&](const xml_element* lane)
    {
        std::string text;
        for (const auto* label : descendants(doc, index_of(doc, lane), "text", "lane-label"))
            for (const auto* span : descendants(doc, index_of(doc, label), "tspan"))
                text += span->text + "|";
        return text;
    };
    CHECK(label_of(lanes[0]) == "sequential|0.5 s|");
    CHECK(label_of(lanes[1]) == "async|0.1 s|");
}

TEST_CASE("each lane holds one request group per outcome, in input order, with a tooltip")
{
    auto runs = sequential_and_async();
    auto doc = read_xml(fxrates::render_timeline_svg(runs));
    REQUIRE_MESSAGE(doc.error.empty(), doc.error);

    auto lanes = descendants(doc, 0, "g", "lane");
    REQUIRE(lanes.size() == runs.size());
    for (std::size_t l = 0; l < runs.size(); ++l)
    {
        auto requests = descendants(doc, index_of(doc, lanes[l]), "g", "request");
        REQUIRE(requests.size() == runs[l].outcomes.size());
        for (std::size_t i = 0; i < requests.size(); ++i)
        {
            CHECK(requests[i]->attribute("data-base") == five_bases[i]);
            const auto* title = child_named(doc, *requests[i], "title");
            REQUIRE(title != nullptr);
            CHECK(title->text.rfind(std::string(five_bases[i]) + ": ", 0) == 0);
        }
    }

    // The second sequential request was queued at 0.1 s and done at 0.2 s.
    auto sequential = descendants(doc, index_of(doc, lanes[0]), "g", "request");
    const auto* title = child_named(doc, *sequential.at(1), "title");
    CHECK(title->text.rfind("EUR: 0.100 s \u2192 0.200 s", 0) == 0);
}

TEST_CASE("the sequential lane is a staircase and the async lane a column")
{
    auto runs = sequential_and_async();
    auto doc = read_xml(fxrates::render_timeline_svg(runs));
    REQUIRE_MESSAGE(doc.error.empty(), doc.error);
    auto lanes = descendants(doc, 0, "g", "lane");
    REQUIRE(lanes.size() == 2);

    auto sequential = descendants(doc, index_of(doc, lanes[0]), "g", "request");
    for (std::size_t i = 1; i < sequential.size(); ++i)
    {
        auto previous = bar_extent(doc, sequential[i - 1]);
        auto current = bar_extent(doc, sequential[i]);
        CHECK(current.first >= previous.second - 0.02);
        CHECK(current.first > previous.first);
    }

    auto async = descendants(doc, index_of(doc, lanes[1]), "g", "request");
    auto first = bar_extent(doc, async.front());
    for (const auto* request : async)
        CHECK(bar_extent(doc, request).first == doctest::Approx(first.first).epsilon(0.001));

    // Both runs start at the left edge although they started ten seconds apart (async 1 ms in).
    auto sequential_start = bar_extent(doc, sequential.front()).first;
    CHECK(std::abs(first.first - sequential_start) < 3);
}

TEST_CASE("a failed request is outlined, marked and explained in its tooltip")
{
    auto runs = sequential_and_async();
    auto doc = read_xml(fxrates::render_timeline_svg(runs));
    REQUIRE_MESSAGE(doc.error.empty(), doc.error);

    auto failed = descendants(doc, 0, "g", "failed");
    REQUIRE(failed.size() == 1);
    CHECK(failed[0]->has_class("request"));
    CHECK(failed[0]->attribute("data-base") == "GBP");
    CHECK(descendants(doc, index_of(doc, failed[0]), "path", "failure-marker").size() == 1);
    CHECK(descendants(doc, index_of(doc, failed[0]), "rect", "failure-outline").size() == 1);

    const auto* title = child_named(doc, *failed[0], "title");
    REQUIRE(title != nullptr);
    CHECK(title->text.find(fxrates::make_http_error(500).message()) != std::string::npos);

    for (const auto* request : descendants(doc, 0, "g", "request"))
        if (request != failed[0])
            CHECK(descendants(doc, index_of(doc, request), "path", "failure-marker").empty());
}

TEST_CASE("xml special characters in an error message are escaped")
{
    auto runs = sequential_and_async();
    std::string svg = fxrates::render_timeline_svg(runs);
    CHECK(svg.find("<script>") == std::string::npos);
    auto expected = "&lt;script&gt;alert(&quot;x&quot;) &amp; &apos;y&apos;&lt;/script&gt;";
    CHECK(svg.find(expected) != std::string::npos);

    auto doc = read_xml(svg);
    REQUIRE_MESSAGE(doc.error.empty(), doc.error);
    const auto* title = child_named(doc, *descendants(doc, 0, "g", "failed").at(0), "title");
    REQUIRE(title != nullptr);
    CHECK(title->text.find("<script>alert(\"x\") & 'y'</script>") != std::string::npos);
}

TEST_CASE("text that is not utf-8 or holds control characters does not break the documents")
{
    auto runs = sequential_and_async();
    runs[1].outcomes[3].diag.set_client_message("bad \xFF\xFE bytes \x01 and \xC0\xAF overlong");
    std::string svg = fxrates::render_timeline_svg(runs);
    CHECK(svg.find('\xFF') == std::string::npos);
    CHECK(svg.find('\x01') == std::string::npos);
    CHECK(svg.find("\xC0\xAF") == std::string::npos);
    CHECK(read_xml(svg).error.empty());

    // Boost.JSON's parser rejects invalid UTF-8, so this parses only if the trace was cleaned too.
    auto events = read_trace(fxrates::render_chrome_trace(runs));
    CHECK_FALSE(events.empty());
}

TEST_CASE("absurd figures in a report made by hand still give well-formed documents")
{
    auto runs = sequential_and_async();
    runs[0].wall_seconds = 1e70;
    runs[1].wall_seconds = std::numeric_limits<double>::quiet_NaN();
    std::string svg = fxrates::render_timeline_svg(runs);
    auto doc = read_xml(svg);
    CHECK_MESSAGE(doc.error.empty(), doc.error);
    bool only_text = std::all_of(svg.begin(), svg.end(), [](char c) {
        return static_cast<unsigned char>(c) >= 0x20 || c == '\n' || c == '\t';
    });
    CHECK(only_text);
    CHECK(svg.find("1e+70") == std::string::npos); // printed in full, as any other wall time
    CHECK_FALSE(read_trace(fxrates::render_chrome_trace(runs)).empty());
}

TEST_CASE("unset and out-of-order time points never give a negative width")
{
    auto runs = sequential_and_async();

    run_report odd;
    odd.kind = strategy::thread_per_item;
    odd.started = base_time;
    rates_outcome unset = request_at("USD", base_time);
    unset.timing = {};
    odd.outcomes.push_back(unset);
    rates_outcome backwards = request_at("EUR", base_time + milliseconds(200));
    backwards.timing.done = base_time + milliseconds(50);       // before everything else
    backwards.timing.first_byte = base_time - milliseconds(10); // before the run started
    odd.outcomes.push_back(backwards);
    rates_outcome partial = request_at("JPY", base_time + milliseconds(20));
    partial.timing.queued = {};
    partial.timing.tls_done = {};
    odd.outcomes.push_back(partial);
    runs.push_back(odd);

    // A hand-made report without a start is drawn from its first event.
    run_report unstarted = async_run();
    unstarted.started = {};
    runs.push_back(unstarted);

    std::string svg = fxrates::render_timeline_svg(runs);
    auto doc = read_xml(svg);
    REQUIRE_MESSAGE(doc.error.empty(), doc.error);
    CHECK(descendants(doc, 0, "g", "lane").size() == 4);
    CHECK(descendants(doc, 0, "g", "request").size() == 18);

    std::size_t widths = 0;
    for (const auto& element : doc.elements)
    {
        if (element.attributes.count("width") == 0)
            continue;
        ++widths;
        double width = number_attribute(element, "width");
        INFO("<", element.name, " width=\"", element.attribute("width"), "\">");
        CHECK(std::isfinite(width));
        CHECK(width >= 0);
        if (element.attributes.count("x"))
        {
            double x = number_attribute(element, "x");
            CHECK(x >= 0);
            CHECK(x + width <= number_attribute(doc.elements.front(), "width"));
        }
    }
    CHECK(widths > 18);

    for (const auto& event : read_trace(fxrates::render_chrome_trace(runs)))
    {
        CHECK(event.ts >= 0);
        CHECK(event.dur >= 0);
    }
}

TEST_CASE("a thousand requests still fit in a lane of reasonable height")
{
    run_report crowd;
    crowd.kind = strategy::async;
    crowd.started = base_time;
    for (int i = 0; i < 1000; ++i)
        crowd.outcomes.push_back(request_at("USD", base_time + std::chrono::microseconds(i)));
    crowd.wall_seconds = 0.2;
    std::vector<run_report> runs{sequential_run(), crowd};

    auto doc = read_xml(fxrates::render_timeline_svg(runs));
    REQUIRE_MESSAGE(doc.error.empty(), doc.error);
    CHECK(descendants(doc, 0, "g", "request").size() == 1005);
    auto lanes = descendants(doc, 0, "g", "lane");
    REQUIRE(lanes.size() == 2);
    auto crowd_requests = descendants(doc, index_of(doc, lanes[1]), "g", "request");
    auto first_row = descendants(doc, index_of(doc, crowd_requests.front()), "rect").front();
    auto last_row = descendants(doc, index_of(doc, crowd_requests.back()), "rect").front();
    CHECK(number_attribute(*last_row, "y") - number_attribute(*first_row, "y") <= 320);
    CHECK(number_attribute(doc.elements.front(), "height") <= 700);
    for (const auto* rect : descendants(doc, 0, "rect", "server"))
        CHECK(number_attribute(*rect, "height") >= 1);
}

TEST_CASE("an empty list of runs still gives valid documents")
{
    CHECK(read_xml(fxrates::render_timeline_svg(std::span<const run_report>{})).error.empty());
    auto events = read_trace(fxrates::render_chrome_trace(std::span<const run_report>{}));
    CHECK(events.empty());
}

TEST_CASE("the chrome trace parses and names one process per run")
{
    auto runs = sequential_and_async();
    auto events = read_trace(fxrates::render_chrome_trace(runs));

    CHECK(metadata_name(events, "process_name", 1) == "sequential");
    CHECK(metadata_name(events, "process_name", 2) == "async");
    CHECK_FALSE(metadata_name(events, "process_name", 3));
}

TEST_CASE("the chrome trace has one request event per outcome, from the run's start")
{
    auto runs = sequential_and_async();
    auto events = read_trace(fxrates::render_chrome_trace(runs));

    for (std::size_t r = 0; r < runs.size(); ++r)
    {
        auto requests = requests_of(events, static_cast<std::int64_t>(r + 1));
        REQUIRE(requests.size() == runs[r].outcomes.size());
        std::multiset<std::string> names;
        for (const auto& request : requests)
        {
            names.insert(request.name);
            CHECK(request.ts >= 0);
            CHECK(request.dur >= 0);
            CHECK(request.args.contains("ok"));
            CHECK(request.args.contains("reused_connection"));
        }
        CHECK(names == std::multiset<std::string>(five_bases.begin(), five_bases.end()));
    }

    // Microseconds since each run's own start: the async run's requests were queued 1 ms in.
    for (const auto& request : requests_of(events, 2))
        CHECK(request.ts == doctest::Approx(1000));
    auto sequential = requests_of(events, 1);
    auto is_eur = [](const trace_event& e) { return e.name == "EUR"; };
    auto eur = std::find_if(sequential.begin(), sequential.end(), is_eur);
    REQUIRE(eur != sequential.end());
    CHECK(eur->ts == doctest::Approx(100'000));
    CHECK(eur->dur == doctest::Approx(100'000));
    CHECK(eur->args.at("reused_connection") == true);
}

TEST_CASE("a failed request's trace event carries the error")
{
    auto runs = sequential_and_async();
    auto events = read_trace(fxrates::render_chrome_trace(runs));
    auto requests = requests_of(events, 2);
    auto gbp = std::find_if(requests.begin(), requests.end(), [](const auto& e) { return e.name == "GBP"; });
    REQUIRE(gbp != requests.end());
    CHECK(gbp->args.at("ok") == false);
    CHECK(json::value_to<std::string>(gbp->args.at("error")) == fxrates::make_http_error(500).message());
    CHECK(gbp->args.at("server_message_untrusted") == "<script>alert(\"x\") & 'y'</script>");
    for (const auto& request : requests)
        if (request.name != "GBP")
            CHECK(request.args.at("ok") == true);
}

TEST_CASE("sequential request events do not overlap while async ones do")
{
    auto runs = sequential_and_async();
    auto events = read_trace(fxrates::render_chrome_trace(runs));
    CHECK_FALSE(any_overlap(requests_of(events, 1)));
    CHECK(any_overlap(requests_of(events, 2)));
}

TEST_CASE("phase events nest inside their request and skip phases that took no time")
{
    auto runs = sequential_and_async();
    auto events = read_trace(fxrates::render_chrome_trace(runs));

    std::size_t phases = 0;
    for (const auto& phase : events)
    {
        if (phase.phase != "X" || phase.category != "phase")
            continue;
        ++phases;
        CHECK(phase.dur > 0);
        bool nested = std::any_of(events.begin(), events.end(),
                                  [&](const trace_event& request)
                                  {
                                      return request.category == "request" && request.pid == phase.pid &&
                                             request.tid == phase.tid && request.ts <= phase.ts &&
                                             phase.ts + phase.dur <= request.ts + request.dur;
                                  });
        INFO(phase.name, " at ", phase.ts);
        CHECK(nested);
    }
    // Sequential: 3 phases for the first request, 2 for the reused ones; async: 3 each.
    CHECK(phases == 3 + 4 * 2 + 5 * 3);
}

TEST_CASE("requests in flight at once on one thread get tracks of their own, named after it")
{
    auto runs = sequential_and_async();
    auto events = read_trace(fxrates::render_chrome_trace(runs));

    std::set<std::int64_t> sequential_tids;
    for (const auto& request : requests_of(events, 1))
        sequential_tids.insert(request.tid);
    CHECK(sequential_tids == std::set<std::int64_t>{1});
    CHECK(metadata_name(events, "thread_name", 1, 1) == "thread 1");

    std::set<std::int64_t> async_tids;
    for (const auto& request : requests_of(events, 2))
        async_tids.insert(request.tid);
    CHECK(async_tids == std::set<std::int64_t>{1, 2, 3, 4, 5});
    CHECK(metadata_name(events, "thread_name", 2, 1) == "thread 1");
    CHECK(metadata_name(events, "thread_name", 2, 2) == "thread 1 (overlap 2)");
}

TEST_CASE("threads of a pool become small numbers in order of first use")
{
    std::vector<run_report> runs{thread_pool_run()};
    auto events = read_trace(fxrates::render_chrome_trace(runs));

    // Requests wait in the pool's queue from the start, so a worker's requests overlap in time and some
    // sit on extra tracks; every track still bears the name of the worker that ran the request.
    auto requests = requests_of(events, 1);
    REQUIRE(requests.size() == 5);
    std::set<std::int64_t> tids;
    for (const auto& request : requests)
    {
        tids.insert(request.tid);
        auto name = metadata_name(events, "thread_name", 1, request.tid).value_or("");
        auto index = static_cast<std::size_t>(
            std::find(five_bases.begin(), five_bases.end(), request.name) - five_bases.begin());
        std::string worker = index % 2 == 0 ? "thread 1" : "thread 2";
        INFO(request.name, " on ", name);
        CHECK((name == worker || name.rfind(worker + " (overlap ", 0) == 0));
    }
    CHECK(tids.size() == 5);
    CHECK(*tids.begin() == 1);
    CHECK(*tids.rbegin() == 5);
}

TEST_CASE("workers of the process pool are told apart by process id")
{
    run_report run;
    run.kind = strategy::process_pool;
    run.started = base_time;
    for (std::size_t i = 0; i < five_bases.size(); ++i)
    {
        phase_lengths lengths{milliseconds(0), milliseconds(30), milliseconds(50), milliseconds(20)};
        // Thread 7 in every worker: only the process id tells them apart.
        auto queued = base_time + milliseconds(100) * (i / 2);
        auto& outcome = run.outcomes.emplace_back(request_at(five_bases[i], queued, lengths, 7));
        outcome.timing.process_id = i % 2 == 0 ? 100 : 200;
    }
    std::vector<run_report> runs{run};
    auto events = read_trace(fxrates::render_chrome_trace(runs));

    std::map<std::int64_t, std::string> names;
    for (const auto& request : requests_of(events, 1))
        names[request.tid] = metadata_name(events, "thread_name", 1, request.tid).value_or("");
    CHECK(names == std::map<std::int64_t, std::string>{{1, "process 100"}, {2, "process 200"}});
}
