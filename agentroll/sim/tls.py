"""A throw-away TLS identity for the simulated fleet's HTTPS listeners (port 5986).

The certificate is self-signed and made at start; clients connect with
``ansible_winrm_server_cert_validation=ignore``. The fleet's loopback addresses are still put in
the subjectAltName (up to a limit) so that a client pinning the certificate could validate it.
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


def make_identity(addresses: Iterable[str], common_name: str = "agentroll-sim") -> TlsIdentity:
    """Generate a key and a self-signed certificate valid for a year, and a server context."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(_subject_alt_names(addresses), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
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
    return TlsIdentity(context, certificate.public_bytes(serialization.Encoding.DER), certificate_pem)
