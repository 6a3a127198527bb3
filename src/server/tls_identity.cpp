#include "server/tls_identity.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <ctime>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>

namespace fxrates::detail
{

namespace
{

template <auto free_fn>
struct openssl_deleter
{
    template <typename T>
    void operator()(T* p) const noexcept
    {
        free_fn(p);
    }
};

template <typename T, auto free_fn>
using openssl_ptr = std::unique_ptr<T, openssl_deleter<free_fn>>;

using bignum_ptr = openssl_ptr<BIGNUM, BN_free>;
using bio_ptr = openssl_ptr<BIO, BIO_free_all>;
using extension_ptr = openssl_ptr<X509_EXTENSION, X509_EXTENSION_free>;
using general_name_ptr = openssl_ptr<GENERAL_NAME, GENERAL_NAME_free>;
using general_names_ptr = openssl_ptr<GENERAL_NAMES, GENERAL_NAMES_free>;
using pkey_ctx_ptr = openssl_ptr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using pkey_ptr = openssl_ptr<EVP_PKEY, EVP_PKEY_free>;
using x509_ptr = openssl_ptr<X509, X509_free>;

/// Drains the thread's OpenSSL error queue into the message, so it does not leak into later calls.
[[noreturn]] void fail(const std::string& step)
{
    std::string message = "make_self_signed_identity: " + step + " failed";
    bool first = true;
    while (const unsigned long code = ERR_get_error())
    {
        std::array<char, 256> text{};
        ERR_error_string_n(code, text.data(), text.size());
        message += first ? ": " : "; ";
        message += text.data();
        first = false;
    }
    throw std::runtime_error(message);
}

void check(bool ok, const char* step)
{
    if (!ok)
    {
        fail(step);
    }
}

pkey_ptr generate_p256_key()
{
    const pkey_ctx_ptr ctx{EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr)};
    check(ctx != nullptr, "creating the EC key generation context");
    check(EVP_PKEY_keygen_init(ctx.get()) > 0, "initialising EC key generation");
    check(EVP_PKEY_CTX_set_group_name(ctx.get(), "P-256") > 0, "selecting curve P-256");
    EVP_PKEY* raw = nullptr;
    check(EVP_PKEY_generate(ctx.get(), &raw) > 0, "generating the P-256 key");
    return pkey_ptr{raw};
}

void set_random_serial(X509* cert)
{
    std::array<unsigned char, 16> bytes{};
    check(RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) == 1, "drawing random serial bytes");
    // Top bit clear keeps the DER INTEGER positive without a padding octet; the next bit set keeps
    // the serial non-zero and its encoding a fixed 16 octets, well under RFC 5280's 20-octet limit.
    bytes[0] = static_cast<unsigned char>((bytes[0] & 0x7f) | 0x40);
    const bignum_ptr bn{BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr)};
    check(bn != nullptr, "converting the serial to a BIGNUM");
    check(BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) != nullptr, "setting the serial number");
}

void set_validity(X509* cert, std::chrono::hours validity, std::chrono::hours issued_ago)
{
    if (validity <= std::chrono::hours::zero())
    {
        throw std::runtime_error("make_self_signed_identity: validity must be positive");
    }
    constexpr auto hours_per_day = 24;
    const auto days = validity.count() / hours_per_day;
    const auto extra_seconds = (validity.count() % hours_per_day) * 3600;
    if (days > std::numeric_limits<int>::max())
    {
        throw std::runtime_error("make_self_signed_identity: validity is too long");
    }
    // Both bounds derive from one reading of the clock so the span is exactly `validity` + 1 hour.
    std::time_t now = std::time(nullptr) - static_cast<std::time_t>(issued_ago.count()) * 3600;
    // Backdating absorbs modest clock skew between this host and the clients verifying it.
    check(X509_time_adj_ex(X509_getm_notBefore(cert), 0, -3600, &now) != nullptr, "setting notBefore");
    check(X509_time_adj_ex(X509_getm_notAfter(cert), static_cast<int>(days), static_cast<long>(extra_seconds),
                           &now) != nullptr,
          "setting notAfter");
}

void set_self_signed_name(X509* cert, const std::string& common_name)
{
    X509_NAME* name = X509_get_subject_name(cert);
    const auto* cn = reinterpret_cast<const unsigned char*>(common_name.c_str());
    check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, cn, -1, -1, 0) == 1,
          "setting the subject CN");
    check(X509_set_issuer_name(cert, name) == 1, "setting the issuer name");
}

void add_config_extension(X509* cert, X509V3_CTX* ctx, int nid, const char* value, const char* step)
{
    const extension_ptr ext{X509V3_EXT_nconf_nid(nullptr, ctx, nid, value)};
    check(ext != nullptr, step);
    check(X509_add_ext(cert, ext.get(), -1) == 1, step);
}

void push_general_name(GENERAL_NAMES* names, int type, const std::string& value, const char* step)
{
    // Built entry by entry rather than from a "DNS:a,IP:b" config string, so values containing
    // commas or colons cannot be misparsed into extra names.
    if (value.empty())
    {
        throw std::runtime_error(std::string{"make_self_signed_identity: "} + step + " failed: empty name");
    }
    general_name_ptr name{a2i_GENERAL_NAME(nullptr, nullptr, nullptr, type, value.c_str(), 0)};
    if (name == nullptr)
    {
        fail(std::string{step} + " '" + value + "'");
    }
    check(sk_GENERAL_NAME_push(names, name.get()) > 0, step);
    name.release();
}

void add_subject_alt_names(X509* cert, const tls_identity_params& params)
{
    if (params.dns_names.empty() && params.ip_addresses.empty())
    {
        throw std::runtime_error(
            "make_self_signed_identity: at least one DNS name or IP address is required");
    }
    const general_names_ptr names{sk_GENERAL_NAME_new_null()};
    check(names != nullptr, "allocating subjectAltName");
    for (const auto& dns : params.dns_names)
    {
        push_general_name(names.get(), GEN_DNS, dns, "adding subjectAltName DNS name");
    }
    for (const auto& ip : params.ip_addresses)
    {
        push_general_name(names.get(), GEN_IPADD, ip, "adding subjectAltName IP address");
    }
    // Non-critical: RFC 5280 only requires criticality when the subject name is empty.
    check(X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) == 1,
          "adding subjectAltName");
}

void add_extensions(X509* cert, const tls_identity_params& params)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);

    // The certificate doubles as the client's trust anchor, hence CA:TRUE with keyCertSign; strict
    // verifiers also insist that both are critical and that SKID/AKID are present.
    add_config_extension(cert, &ctx, NID_basic_constraints, "critical,CA:TRUE", "adding basicConstraints");
    add_config_extension(cert, &ctx, NID_key_usage, "critical,digitalSignature,keyCertSign",
                         "adding keyUsage");
    add_config_extension(cert, &ctx, NID_ext_key_usage, "serverAuth", "adding extendedKeyUsage");
    add_subject_alt_names(cert, params);
    // Must precede the AKID, which copies the issuer's (here: this certificate's) SKID.
    add_config_extension(cert, &ctx, NID_subject_key_identifier, "hash", "adding subjectKeyIdentifier");
    add_config_extension(cert, &ctx, NID_authority_key_identifier, "keyid:always",
                         "adding authorityKeyIdentifier");
}

std::string bio_contents(BIO* bio, const char* step)
{
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    check(size > 0 && data != nullptr, step);
    return std::string(data, static_cast<std::size_t>(size));
}

std::string certificate_to_pem(X509* cert)
{
    const bio_ptr bio{BIO_new(BIO_s_mem())};
    check(bio != nullptr, "allocating the certificate BIO");
    check(PEM_write_bio_X509(bio.get(), cert) == 1, "writing the certificate PEM");
    return bio_contents(bio.get(), "reading the certificate PEM");
}

std::string private_key_to_pem(EVP_PKEY* key)
{
    // A secmem BIO cleanses its buffer on free, so the only copy of the key left is the returned one.
    const bio_ptr bio{BIO_new(BIO_s_secmem())};
    check(bio != nullptr, "allocating the private key BIO");
    check(PEM_write_bio_PKCS8PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
          "writing the private key PEM");
    return bio_contents(bio.get(), "reading the private key PEM");
}

} // namespace

tls_identity make_self_signed_identity(const tls_identity_params& params)
{
    // Stale errors from unrelated earlier calls would otherwise be reported as ours.
    ERR_clear_error();

    const pkey_ptr key = generate_p256_key();

    const x509_ptr cert{X509_new()};
    check(cert != nullptr, "allocating the certificate");
    check(X509_set_version(cert.get(), X509_VERSION_3) == 1, "setting version 3");
    set_random_serial(cert.get());
    set_validity(cert.get(), params.validity, params.issued_ago);
    set_self_signed_name(cert.get(), params.common_name);
    check(X509_set_pubkey(cert.get(), key.get()) == 1, "setting the public key");
    add_extensions(cert.get(), params);
    check(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0, "signing the certificate");

    return tls_identity{certificate_to_pem(cert.get()), private_key_to_pem(key.get())};
}

} // namespace fxrates::detail
