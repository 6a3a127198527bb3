#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace fxrates::detail
{

/// A certificate and its private key, both PEM.
struct tls_identity
{
    std::string certificate_pem;
    std::string private_key_pem;
};

/// Names the certificate is valid for.
struct tls_identity_params
{
    std::vector<std::string> dns_names{"localhost"};
    std::vector<std::string> ip_addresses{"127.0.0.1", "::1"};
    std::string common_name{"fxrates local server"};
    std::chrono::hours validity{24 * 30};
    /// How long ago the certificate was issued; with more than `validity`, it has expired (for tests).
    std::chrono::hours issued_ago{0};
};

/// Generates a fresh ECDSA P-256 key and a self-signed X.509 v3 certificate for it, usable both
/// as the server certificate and as the CA file a client trusts (curl --cacert, Python requests verify=).
/// Throws std::runtime_error naming the failing step plus OpenSSL's error queue text.
tls_identity make_self_signed_identity(const tls_identity_params& params = {});

} // namespace fxrates::detail
