"""A throw-away TLS identity for the simulated fleet's HTTPS listeners (port 5986).

Made at start, as a district's PKI would: a certificate authority of its own, and the listeners'
certificate issued by it for the fleet's loopback addresses (in the subjectAltName, up to a limit).
A client either trusts that authority (``ansible_winrm_ca_trust_path`` naming the PEM that
``agentroll sim start --ca-cert`` writes), exactly as it trusts a district's CA, or, in the
test fleets' inventories, connects with ``ansible_winrm_server_cert_validation=ignore``.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

#: Beyond this many addresses the SAN list only holds 127.0.0.1 (certificates stay small).
MAX_SAN_ADDRESSES = 4096


@dataclass
class TlsIdentity:
    """A server SSL context and the facts NTLM channel binding needs about its certificate."""

    context: ssl.SSLContext
    certificate_der: bytes
    certificate_pem: bytes
    #: The authority that issued ``certificate_pem``: what a client trusts to validate it.
    ca_certificate_pem: bytes

    @property
    def end_point_hash(self) -> bytes:
        """Return the RFC 5929 ``tls-server-end-point`` hash (SHA-256 for a SHA-256 signature)."""
        digest = hashes.Hash(hashes.SHA256())
        digest.update(self.certificate_der)
        return digest.finalize()


def _subject_alt_names(addresses: Iterable[str]) -> x509.SubjectAlternativeName:
    """Return a SAN naming localhost, 127.0.0.1 and (if not too many) the fleet's addresses."""
    unique = sorted(set(addresses) | {"127.0.0.1"})
    if len(unique) > MAX_SAN_ADDRESSES:
        unique = ["127.0.0.1"]
    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    names.extend(x509.IPAddress(ipaddress.ip_address(address)) for address in unique)
    return x509.SubjectAlternativeName(names)


def _authority(
    common_name: str, now: datetime.datetime
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """Return the key and self-signed certificate of a certificate authority valid for a year."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{common_name} CA")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def make_identity(addresses: Iterable[str], common_name: str = "agentroll-sim") -> TlsIdentity:
    """Generate a CA and, issued by it for ``addresses``, the listeners' key, certificate and context."""
    now = datetime.datetime.now(datetime.UTC)
    authority_key, authority = _authority(common_name, now)
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(authority.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(_subject_alt_names(addresses), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(authority_key.public_key()), critical=False
        )
        .sign(authority_key, hashes.SHA256())
    )
    certificate_pem = certificate.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # ssl only loads keys from files; keep them in a private directory just long enough.
    with tempfile.TemporaryDirectory(prefix="agentroll-sim-tls-") as directory:
        cert_path = Path(directory) / "cert.pem"
        key_path = Path(directory) / "key.pem"
        cert_path.write_bytes(certificate_pem)
        key_path.touch(mode=0o600)
        key_path.write_bytes(key_pem)
        context.load_cert_chain(cert_path, key_path)
    return TlsIdentity(
        context,
        certificate.public_bytes(serialization.Encoding.DER),
        certificate_pem,
        authority.public_bytes(serialization.Encoding.PEM),
    )
