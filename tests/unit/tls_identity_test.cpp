#include "server/tls_identity.hpp"

#include <doctest/doctest.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <array>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

namespace
{

using fxrates::detail::make_self_signed_identity;
using fxrates::detail::tls_identity;
using fxrates::detail::tls_identity_params;

template <auto free_fn>
struct openssl_deleter
{
    template <typename T>
    void operator()(T* p) const noexcept
    {
        free_fn(p);
    }
};

using bignum_ptr = std::unique_ptr<BIGNUM, openssl_deleter<BN_free>>;
using bio_ptr = std::unique_ptr<BIO, openssl_deleter<BIO_free_all>>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, openssl_deleter<EVP_PKEY_free>>;
using store_ctx_ptr = std::unique_ptr<X509_STORE_CTX, openssl_deleter<X509_STORE_CTX_free>>;
using store_ptr = std::unique_ptr<X509_STORE, openssl_deleter<X509_STORE_free>>;
using x509_ptr = std::unique_ptr<X509, openssl_deleter<X509_free>>;

bio_ptr read_only_bio(const std::string& pem)
{
    return bio_ptr{BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))};
}

x509_ptr parse_certificate(const std::string& pem)
{
    const bio_ptr bio = read_only_bio(pem);
    REQUIRE(bio != nullptr);
    return x509_ptr{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)};
}

pkey_ptr parse_private_key(const std::string& pem)
{
    const bio_ptr bio = read_only_bio(pem);
    REQUIRE(bio != nullptr);
    return pkey_ptr{PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)};
}

/// Chain verification with the certificate as its own trust anchor, as curl --cacert would do it.
int verify_as_own_ca(X509* cert, const char* host)
{
    const store_ptr store{X509_STORE_new()};
    REQUIRE(store != nullptr);
    REQUIRE(X509_STORE_add_cert(store.get(), cert) == 1);
    const store_ctx_ptr ctx{X509_STORE_CTX_new()};
    REQUIRE(ctx != nullptr);
    REQUIRE(X509_STORE_CTX_init(ctx.get(), store.get(), cert, nullptr) == 1);
    REQUIRE(X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER) == 1);
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
    REQUIRE(X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT) == 1);
    if (host != nullptr)
    {
        REQUIRE(X509_VERIFY_PARAM_set1_host(param, host, 0) == 1);
    }
    if (X509_verify_cert(ctx.get()) == 1)
    {
        return X509_V_OK;
    }
    const int error = X509_STORE_CTX_get_error(ctx.get());
    REQUIRE(error != X509_V_OK);
    return error;
}

long long seconds_from_now(const ASN1_TIME* time)
{
    int days = 0;
    int seconds = 0;
    REQUIRE(ASN1_TIME_diff(&days, &seconds, nullptr, time) == 1);
    return static_cast<long long>(days) * 86400 + seconds;
}

std::string common_name_of(const X509_NAME* name)
{
    std::array<char, 256> buffer{};
    const int length = X509_NAME_get_text_by_NID(name, NID_commonName, buffer.data(), buffer.size());
    REQUIRE(length >= 0);
    return std::string(buffer.data(), static_cast<std::size_t>(length));
}

bool is_critical(X509* cert, int nid)
{
    const int index = X509_get_ext_by_NID(cert, nid, -1);
    REQUIRE(index >= 0);
    return X509_EXTENSION_get_critical(X509_get_ext(cert, index)) == 1;
}

} // namespace

TEST_SUITE("tls_identity")
{
    TEST_CASE("the generated PEMs are a certificate and a PKCS#8 private key that OpenSSL parses back")
    {
        const tls_identity identity = make_self_signed_identity();

        CHECK(identity.certificate_pem.rfind("-----BEGIN CERTIFICATE-----\n", 0) == 0);
        CHECK(identity.private_key_pem.rfind("-----BEGIN PRIVATE KEY-----\n", 0) == 0);
        CHECK(parse_certificate(identity.certificate_pem) != nullptr);
        CHECK(parse_private_key(identity.private_key_pem) != nullptr);
    }

    TEST_CASE("the private key is an EC key on prime256v1 and matches the certificate's public key")
    {
        const tls_identity identity = make_self_signed_identity();
        const x509_ptr cert = parse_certificate(identity.certificate_pem);
        const pkey_ptr key = parse_private_key(identity.private_key_pem);
        REQUIRE(cert != nullptr);
        REQUIRE(key != nullptr);

        CHECK(EVP_PKEY_is_a(key.get(), "EC") == 1);
        std::array<char, 64> group{};
        REQUIRE(EVP_PKEY_get_group_name(key.get(), group.data(), group.size(), nullptr) == 1);
        CHECK(std::string{group.data()} == "prime256v1");
        CHECK(X509_check_private_key(cert.get(), key.get()) == 1);
    }

    TEST_CASE("the certificate is a self-signed v3 CA signed with ECDSA SHA-256 under the requested CN")
    {
        tls_identity_params params;
        params.common_name = "fxrates unit test";
        const x509_ptr cert = parse_certificate(make_self_signed_identity(params).certificate_pem);
        REQUIRE(cert != nullptr);

        CHECK(X509_get_version(cert.get()) == X509_VERSION_3);
        CHECK(X509_get_signature_nid(cert.get()) == NID_ecdsa_with_SHA256);
        CHECK(common_name_of(X509_get_subject_name(cert.get())) == "fxrates unit test");
        CHECK(X509_NAME_cmp(X509_get_subject_name(cert.get()), X509_get_issuer_name(cert.get())) == 0);
        CHECK((X509_get_extension_flags(cert.get()) & EXFLAG_SS) != 0);
        CHECK(X509_check_ca(cert.get()) == 1);
        CHECK(is_critical(cert.get(), NID_basic_constraints));
        CHECK(is_critical(cert.get(), NID_key_usage));
        CHECK(X509_get_key_usage(cert.get()) == (KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN));
        CHECK((X509_get_extended_key_usage(cert.get()) & XKU_SSL_SERVER) != 0);
        const ASN1_OCTET_STRING* subject_key_id = X509_get0_subject_key_id(cert.get());
        const ASN1_OCTET_STRING* authority_key_id = X509_get0_authority_key_id(cert.get());
        REQUIRE(subject_key_id != nullptr);
        REQUIRE(authority_key_id != nullptr);
        CHECK(ASN1_OCTET_STRING_cmp(subject_key_id, authority_key_id) == 0);
    }

    TEST_CASE("the certificate verifies strictly as an SSL server against itself as the trusted CA")
    {
        const x509_ptr cert = parse_certificate(make_self_signed_identity().certificate_pem);
        REQUIRE(cert != nullptr);

        CHECK(verify_as_own_ca(cert.get(), nullptr) == X509_V_OK);
        CHECK(verify_as_own_ca(cert.get(), "localhost") == X509_V_OK);
        CHECK(verify_as_own_ca(cert.get(), "example.com") == X509_V_ERR_HOSTNAME_MISMATCH);
    }

    TEST_CASE("the default certificate names localhost, 127.0.0.1 and ::1 and nothing else")
    {
        const x509_ptr cert = parse_certificate(make_self_signed_identity().certificate_pem);
        REQUIRE(cert != nullptr);

        CHECK(X509_check_host(cert.get(), "localhost", 0, 0, nullptr) == 1);
        CHECK(X509_check_host(cert.get(), "example.com", 0, 0, nullptr) == 0);
        CHECK(X509_check_ip_asc(cert.get(), "127.0.0.1", 0) == 1);
        CHECK(X509_check_ip_asc(cert.get(), "::1", 0) == 1);
        CHECK(X509_check_ip_asc(cert.get(), "10.0.0.1", 0) == 0);
    }

    TEST_CASE("custom DNS names and IP addresses replace the defaults")
    {
        tls_identity_params params;
        params.dns_names = {"rates.internal", "api.rates.internal"};
        params.ip_addresses = {"10.1.2.3"};
        const x509_ptr cert = parse_certificate(make_self_signed_identity(params).certificate_pem);
        REQUIRE(cert != nullptr);

        CHECK(X509_check_host(cert.get(), "rates.internal", 0, 0, nullptr) == 1);
        CHECK(X509_check_host(cert.get(), "api.rates.internal", 0, 0, nullptr) == 1);
        CHECK(X509_check_host(cert.get(), "localhost", 0, 0, nullptr) == 0);
        CHECK(X509_check_ip_asc(cert.get(), "10.1.2.3", 0) == 1);
        CHECK(X509_check_ip_asc(cert.get(), "127.0.0.1", 0) == 0);
        CHECK(verify_as_own_ca(cert.get(), "api.rates.internal") == X509_V_OK);
    }

    TEST_CASE("the validity period starts about an hour ago and ends about the requested validity from now")
    {
        tls_identity_params params;
        params.validity = std::chrono::hours{24 * 7 + 5};
        const x509_ptr cert = parse_certificate(make_self_signed_identity(params).certificate_pem);
        REQUIRE(cert != nullptr);

        constexpr long long slack = 120;
        const long long not_before = seconds_from_now(X509_get0_notBefore(cert.get()));
        const long long not_after = seconds_from_now(X509_get0_notAfter(cert.get()));
        const long long expected_after = std::chrono::seconds{params.validity}.count();
        CHECK(not_before < 0);
        CHECK(not_before > -3600 - slack);
        CHECK(not_before < -3600 + slack);
        CHECK(not_after > expected_after - slack);
        CHECK(not_after < expected_after + slack);
    }

    TEST_CASE("the serial number is positive and at most 128 bits")
    {
        const x509_ptr cert = parse_certificate(make_self_signed_identity().certificate_pem);
        REQUIRE(cert != nullptr);

        const bignum_ptr serial{ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr)};
        REQUIRE(serial != nullptr);
        CHECK(BN_is_negative(serial.get()) == 0);
        CHECK(BN_is_zero(serial.get()) == 0);
        CHECK(BN_num_bits(serial.get()) <= 128);
    }

    TEST_CASE("two calls produce different serial numbers and different keys")
    {
        const tls_identity first = make_self_signed_identity();
        const tls_identity second = make_self_signed_identity();
        const x509_ptr first_cert = parse_certificate(first.certificate_pem);
        const x509_ptr second_cert = parse_certificate(second.certificate_pem);
        const pkey_ptr first_key = parse_private_key(first.private_key_pem);
        const pkey_ptr second_key = parse_private_key(second.private_key_pem);
        REQUIRE(first_cert != nullptr);
        REQUIRE(second_cert != nullptr);
        REQUIRE(first_key != nullptr);
        REQUIRE(second_key != nullptr);

        const ASN1_INTEGER* first_serial = X509_get0_serialNumber(first_cert.get());
        const ASN1_INTEGER* second_serial = X509_get0_serialNumber(second_cert.get());
        CHECK(ASN1_INTEGER_cmp(first_serial, second_serial) != 0);
        CHECK(EVP_PKEY_eq(first_key.get(), second_key.get()) != 1);
        CHECK(X509_check_private_key(first_cert.get(), second_key.get()) != 1);
    }

    TEST_CASE("invalid parameters are rejected with std::runtime_error naming the problem")
    {
        tls_identity_params bad_ip;
        bad_ip.ip_addresses = {"not-an-ip"};
        CHECK_THROWS_WITH_AS(make_self_signed_identity(bad_ip), doctest::Contains("not-an-ip"),
                             std::runtime_error);

        tls_identity_params no_names;
        no_names.dns_names.clear();
        no_names.ip_addresses.clear();
        CHECK_THROWS_AS(make_self_signed_identity(no_names), std::runtime_error);

        tls_identity_params zero_validity;
        zero_validity.validity = std::chrono::hours{0};
        CHECK_THROWS_WITH_AS(make_self_signed_identity(zero_validity), doctest::Contains("validity"),
                             std::runtime_error);
    }
}
