"""MSAL's client-credentials grant with a certificate: a signed client assertion instead of a secret.

MSAL signs PS256 with an `x5t#S256` header (plus `x5c`) when it is given the public certificate, and RS256 with
a SHA-1 `x5t` when it is given only a thumbprint (reference §1.3 "Certificate client assertion", §1.8 item 9).
"""

from __future__ import annotations

import base64
import datetime
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from conftest import CONTOSO_APP_ID
from credentials import confidential_app, decode_jwt
from sandbox_process import SandboxProcess


class Certificate:
    """An RSA key and a self-signed certificate for it, as `New-SelfSignedCertificate` or openssl would make."""

    def __init__(self, subject: str) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
        now = datetime.datetime.now(datetime.timezone.utc)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .sign(key, hashes.SHA256())
        )
        self.key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        self.cert_pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
        der = certificate.public_bytes(serialization.Encoding.DER)
        self.sha1_hex = hashlib.sha1(der).hexdigest()
        self.sha256_hex = hashlib.sha256(der).hexdigest()
        self.der_b64 = base64.b64encode(der).decode()


@pytest.fixture(scope="module")
def registered(sandbox: SandboxProcess) -> Certificate:
    """A certificate registered on Contoso's app through the sandbox admin API."""
    certificate = Certificate("Contoso Tenure Connector")
    answer = sandbox.register_certificate(CONTOSO_APP_ID, certificate.cert_pem)
    assert answer["thumbprint_sha1"].lower() == certificate.sha1_hex, answer
    assert answer["thumbprint_sha256"].lower() == certificate.sha256_hex, answer
    assert answer["key_id"], answer
    return certificate


def assertion_header(http) -> dict:
    [sent] = http.token_requests()
    assert sent["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert "client_secret" not in sent
    header, claims = decode_jwt(sent["client_assertion"])
    assert claims["iss"] == claims["sub"] == CONTOSO_APP_ID
    assert "nbf" not in claims, "MSAL adds no nbf; the sandbox must not need one"
    return header


def test_certificate_with_public_certificate_signs_ps256_and_gets_a_token(
    sandbox: SandboxProcess, registered: Certificate
) -> None:
    credential = {"private_key": registered.key_pem, "public_certificate": registered.cert_pem}
    app, http = confidential_app(sandbox.tenant("Contoso"), CONTOSO_APP_ID, credential, sandbox.ca_file)
    result = app.acquire_token_for_client(["https://graph.microsoft.com/.default"])
    assert "access_token" in result, result
    header = assertion_header(http)
    assert header["alg"] == "PS256", header
    assert "x5t#S256" in header and header["x5c"], header
    _, claims = decode_jwt(result["access_token"])
    assert claims["appid"] == CONTOSO_APP_ID
    assert claims["appidacr"] == "2", "a certificate authenticates with appidacr 2"
    assert "User.ReadWrite.All" in claims["roles"]


def test_certificate_with_sha1_thumbprint_signs_rs256_and_gets_a_token(
    sandbox: SandboxProcess, registered: Certificate
) -> None:
    credential = {"private_key": registered.key_pem, "thumbprint": registered.sha1_hex}
    app, http = confidential_app(sandbox.tenant("Contoso"), CONTOSO_APP_ID, credential, sandbox.ca_file)
    result = app.acquire_token_for_client(["https://graph.microsoft.com/.default"])
    assert "access_token" in result, result
    header = assertion_header(http)
    assert header["alg"] == "RS256", header
    assert "x5t" in header and "x5c" not in header, header
    _, claims = decode_jwt(result["access_token"])
    assert claims["appidacr"] == "2"


def test_unregistered_certificate_is_refused_with_aadsts700027(
    sandbox: SandboxProcess, registered: Certificate
) -> None:
    stranger = Certificate("Not registered anywhere")
    credential = {"private_key": stranger.key_pem, "public_certificate": stranger.cert_pem}
    app, _ = confidential_app(sandbox.tenant("Contoso"), CONTOSO_APP_ID, credential, sandbox.ca_file)
    result = app.acquire_token_for_client(["https://graph.microsoft.com/.default"])
    assert "access_token" not in result, result
    assert result["error"] == "invalid_client", result
    assert result["error_description"].startswith("AADSTS700027: "), result
    assert 700027 in result["error_codes"], result


def test_registered_key_with_a_wrong_key_pair_is_refused(sandbox: SandboxProcess, registered: Certificate) -> None:
    # Claims the registered certificate (its thumbprint and x5c) but signs with another private key: the
    # signature does not verify (AADSTS700027, "Client assertion failed signature validation").
    stranger = Certificate("Impostor")
    credential = {"private_key": stranger.key_pem, "thumbprint": registered.sha1_hex}
    app, _ = confidential_app(sandbox.tenant("Contoso"), CONTOSO_APP_ID, credential, sandbox.ca_file)
    result = app.acquire_token_for_client(["https://graph.microsoft.com/.default"])
    assert "access_token" not in result, result
    assert result["error"] == "invalid_client", result
    assert result["error_description"].startswith("AADSTS700027: "), result
