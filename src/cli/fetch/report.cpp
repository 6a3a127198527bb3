#include "cli/fetch/report.hpp"
#include "cli/json_text.hpp"

#include <fxrates/utf8.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <openssl/evp.h>

#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace fxrates::cli::fetch {

namespace {

class json_object_writer
{
public:
    explicit json_object_writer(std::string& out) : out_(out) { out_ += '{'; }

    void string(std::string_view key, std::string_view value)
    {
        name(key);
        append_json_string(out_, value);
    }

    // An empty string is "not known": null, so that scripts test one thing.
    void optional_string(std::string_view key, std::string_view value)
    {
        if (value.empty())
            null(key);
        else
            string(key, value);
    }

    void number(std::string_view key, std::uint64_t value)
    {
        name(key);
        out_ += std::to_string(value);
    }

    // Milliseconds to the microsecond: more digits would be noise, and %g-style exponents trip up
    // simple readers. NaN and infinity are no JSON numbers: null.
    void milliseconds(std::string_view key, const std::optional<double>& value)
    {
        if (!value || !std::isfinite(*value))
            return null(key);
        name(key);
        char buffer[64];
        std::snprintf(buffer, sizeof buffer, "%.3f", *value);
        out_ += buffer;
    }

    void boolean(std::string_view key, bool value)
    {
        name(key);
        out_ += value ? "true" : "false";
    }

    void null(std::string_view key)
    {
        name(key);
        out_ += "null";
    }

    // Writes `"key":`, after a comma unless it is the first member; the value follows.
    void name(std::string_view key)
    {
        if (out_.back() != '{')
            out_ += ',';
        out_ += '"';
        out_ += key;
        out_ += "\":";
    }

    void close() { out_ += '}'; }

private:
    std::string& out_;
};

[[noreturn]] void openssl_failure(const char* what)
{
    throw std::runtime_error(std::string("SHA-256 is unavailable: ") + what + " failed");
}

} // namespace

std::string report_line(const report_record& record)
{
    std::string line;
    json_object_writer json(line);
    json.string("schema", report_schema);
    json.number("index", record.index);
    json.number("line", record.line);
    json.string("url", record.url);
    json.optional_string("final_url", record.final_url);
    if (record.status == 0)
        json.null("status");
    else
        json.number("status", record.status);
    json.number("bytes", record.bytes);
    json.optional_string("sha256", record.sha256);
    json.optional_string("file", record.file);
    json.optional_string("content_type", record.content_type);
    json.number("attempts", record.attempts);
    json.milliseconds("queued_ms", record.queued_ms);
    json.milliseconds("connect_ms", record.connect_ms);
    json.milliseconds("tls_ms", record.tls_ms);
    json.milliseconds("first_byte_ms", record.first_byte_ms);
    json.milliseconds("total_ms", record.total_ms);
    json.boolean("ok", record.ok);
    json.boolean("not_modified", record.not_modified);
    json.boolean("skipped", record.skipped);
    json.number("resumed_from", record.resumed_from);
    if (record.ok)
        json.null("error");
    else
    {
        json.name("error");
        json_object_writer error(line);
        error.string("category", record.error_category.empty() ? "unknown" : record.error_category);
        error.string("message", record.error_message);
        error.close();
    }
    json.close();
    return line;
}

struct sha256_hasher::context
{
    struct free_context
    {
        void operator()(EVP_MD_CTX* context) const noexcept { EVP_MD_CTX_free(context); }
    };
    std::unique_ptr<EVP_MD_CTX, free_context> evp{EVP_MD_CTX_new()};
};

sha256_hasher::sha256_hasher() : context_(std::make_unique<context>())
{
    if (!context_->evp)
        openssl_failure("EVP_MD_CTX_new");
    reset();
}

sha256_hasher::sha256_hasher(sha256_hasher&&) noexcept = default;
sha256_hasher& sha256_hasher::operator=(sha256_hasher&&) noexcept = default;
sha256_hasher::~sha256_hasher() = default;

void sha256_hasher::update(std::string_view data)
{
    if (EVP_DigestUpdate(context_->evp.get(), data.data(), data.size()) != 1)
        openssl_failure("EVP_DigestUpdate");
}

std::string sha256_hasher::hex_digest()
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(context_->evp.get(), digest, &length) != 1)
        openssl_failure("EVP_DigestFinal_ex");
    static constexpr char hex[] = "0123456789abcdef";
    std::string text;
    for (unsigned int i = 0; i < length; ++i)
    {
        text += hex[digest[i] >> 4];
        text += hex[digest[i] & 0xF];
    }
    reset();
    return text;
}

void sha256_hasher::reset()
{
    if (EVP_DigestInit_ex(context_->evp.get(), EVP_sha256(), nullptr) != 1)
        openssl_failure("EVP_DigestInit_ex");
}

} // namespace fxrates::cli::fetch
