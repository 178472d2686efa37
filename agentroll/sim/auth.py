"""Authentication as a WinRM listener does it: Basic per request, NTLM per TCP connection.

NTLM is accepted by pyspnego (``spnego.server(protocol="ntlm")``), which looks the user up in
the flat file named by the environment variable ``NTLM_USER_FILE`` (``DOMAIN:user:password``
lines). The fleet's credentials are written to private temporary files at start. Over plain
HTTP the client then turns on WinRM message encryption: bodies travel as
``multipart/encrypted; protocol="application/HTTP-SPNEGO-session-encrypted"`` parts holding a
4-byte signature length, the 16-byte NTLM signature and the sealed SOAP message.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import shutil
import struct
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import spnego
import spnego.channel_bindings
import spnego.exceptions

ENCRYPTED_PROTOCOL = "application/HTTP-SPNEGO-session-encrypted"
ENCRYPTED_CONTENT_TYPE = f'multipart/encrypted;protocol="{ENCRYPTED_PROTOCOL}";boundary="Encrypted Boundary"'
BOUNDARY = b"--Encrypted Boundary"
OCTET_STREAM_HEADER = b"\tContent-Type: application/octet-stream\r\n"

#: What an unauthenticated request is told; Windows offers Negotiate and, when enabled, Basic.
CHALLENGES = ("Negotiate", 'Basic realm="WSMAN"')

#: ``NTLM_USER_FILE`` is process-wide, so hosts with different credentials take turns with it.
_NTLM_ENV_LOCK = threading.Lock()


class AuthError(Exception):
    """A request's credentials are wrong or its encrypted body cannot be opened."""


def split_user(username: str) -> tuple[str, str]:
    """Split ``DOMAIN\\user`` or ``user@domain`` into (domain, user); a bare name has domain ''."""
    if "\\" in username:
        domain, user = username.split("\\", 1)
        return domain, user
    if "@" in username:
        user, domain = username.split("@", 1)
        return domain, user
    return "", username


def same_user(given: str, expected: str) -> bool:
    """Compare user names as Windows does for a local account: case-insensitive, domain aside."""
    return split_user(given)[1].casefold() == split_user(expected)[1].casefold()


class NtlmUserStore:
    """Private ``NTLM_USER_FILE`` files, one per distinct (username, password) of the fleet."""

    def __init__(self) -> None:
        self._directory = Path(tempfile.mkdtemp(prefix="agentroll-sim-ntlm-"))
        self._files: dict[tuple[str, str], Path] = {}
        self._lock = threading.Lock()

    def file_for(self, username: str, password: str) -> Path:
        """Return the user file that holds exactly this credential, writing it on first use."""
        key = (username, password)
        with self._lock:
            path = self._files.get(key)
            if path is None:
                path = self._directory / f"users-{len(self._files)}"
                domain, user = split_user(username)
                # A bare user name matches an empty domain only, so write both spellings.
                lines = {f":{user}:{password}", f"{domain}:{user}:{password}", f".:{user}:{password}"}
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write("\n".join(sorted(lines)) + "\n")
                self._files[key] = path
            return path

    def close(self) -> None:
        """Delete the user files."""
        shutil.rmtree(self._directory, ignore_errors=True)


def tls_channel_bindings(certificate_hash: bytes | None) -> spnego.channel_bindings.GssChannelBindings | None:
    """Return the ``tls-server-end-point`` bindings a client derives from our certificate."""
    if certificate_hash is None:
        return None
    return spnego.channel_bindings.GssChannelBindings(
        application_data=b"tls-server-end-point:" + certificate_hash
    )


@dataclass
class AuthReply:
    """An HTTP answer the authenticator gives instead of serving the request."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Accepted:
    """The request may be served; ``body`` is its plain SOAP and ``encrypt`` says how to answer."""

    body: bytes
    encrypt: bool
    user: str


def unauthorized(*tokens: str) -> AuthReply:
    """Return a 401 offering the given ``WWW-Authenticate`` values (default: all schemes)."""
    return AuthReply(401, [("WWW-Authenticate", token) for token in (tokens or CHALLENGES)])


class ConnectionAuth:
    """The authentication state of one TCP connection to one simulated host."""

    def __init__(
        self,
        credentials: Callable[[], tuple[str, str]],
        reject: Callable[[], bool],
        users: NtlmUserStore,
        certificate_hash: bytes | None = None,
    ) -> None:
        self._credentials = credentials
        self._reject = reject
        self._users = users
        self._certificate_hash = certificate_hash
        self._ntlm: spnego.ContextProxy | None = None
        self._ntlm_user: str | None = None

    @property
    def ntlm_authenticated(self) -> bool:
        """Whether this connection finished an NTLM handshake."""
        return self._ntlm_user is not None

    def check(self, headers: Mapping[str, str], body: bytes) -> Accepted | AuthReply:
        """Decide whether to serve a request (returning its plain body) or what to answer."""
        authorization = headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        scheme_key = scheme.lower()
        if scheme_key == "basic":
            return self._check_basic(token.strip(), body)
        if scheme_key in ("negotiate", "ntlm"):
            return self._step_ntlm(scheme, token.strip(), body)
        if self._ntlm_user is not None and self._ntlm is not None:
            return self._open_session_body(headers, body)
        return unauthorized()

    def wrap(self, data: bytes) -> bytes:
        """Encrypt an answer for the connection's NTLM session (multipart/encrypted body)."""
        if self._ntlm is None:
            raise AuthError("no NTLM session on this connection")
        sealed = self._ntlm.wrap(data, encrypt=True).data
        signature, payload = sealed[:16], sealed[16:]
        return build_encrypted_body(signature, payload, len(data))

    def _check_basic(self, token: str, body: bytes) -> Accepted | AuthReply:
        """Verify a Basic credential against the host's account."""
        try:
            decoded = base64.b64decode(token, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return unauthorized()
        username, _, password = decoded.partition(":")
        expected_user, expected_password = self._credentials()
        valid = same_user(username, expected_user) and hmac.compare_digest(
            password.encode("utf-8"), expected_password.encode("utf-8")
        )
        if not valid or self._reject():
            return unauthorized()
        return Accepted(body, encrypt=False, user=username)

    def _step_ntlm(self, scheme: str, token: str, body: bytes) -> Accepted | AuthReply:
        """Run one leg of the NTLM handshake; the last leg's request is then served."""
        try:
            in_token = base64.b64decode(token, validate=True)
        except binascii.Error:
            return self._fail_ntlm()
        starting = self._is_negotiate_message(in_token)
        if not starting and (self._ntlm is None or self._ntlm.complete):
            return self._fail_ntlm()
        if starting:
            self._ntlm_user = None
        username, password = self._credentials()
        try:
            context, out_token = self._ntlm_step(in_token, username, password, new_context=starting)
        except (spnego.exceptions.SpnegoError, ValueError):
            return self._fail_ntlm()
        if not context.complete:
            challenge = base64.b64encode(out_token or b"").decode("ascii")
            return unauthorized(f"{scheme} {challenge}")
        principal = context.client_principal or ""
        if not same_user(principal, username) or self._reject():
            return self._fail_ntlm()
        self._ntlm_user = principal
        return Accepted(body, encrypt=False, user=principal)

    def _ntlm_step(
        self, in_token: bytes, username: str, password: str, *, new_context: bool
    ) -> tuple[spnego.ContextProxy, bytes | None]:
        """Feed a token to the acceptor with ``NTLM_USER_FILE`` naming this host's account."""
        user_file = str(self._users.file_for(username, password))
        with _NTLM_ENV_LOCK:
            previous = os.environ.get("NTLM_USER_FILE")
            os.environ["NTLM_USER_FILE"] = user_file
            try:
                if new_context or self._ntlm is None:
                    self._ntlm = spnego.server(
                        protocol="ntlm",
                        service="HTTP",
                        channel_bindings=tls_channel_bindings(self._certificate_hash),
                    )
                return self._ntlm, self._ntlm.step(in_token)
            finally:
                if previous is None:
                    os.environ.pop("NTLM_USER_FILE", None)
                else:
                    os.environ["NTLM_USER_FILE"] = previous

    @staticmethod
    def _is_negotiate_message(token: bytes) -> bool:
        """Whether ``token`` is an NTLM NEGOTIATE_MESSAGE (type 1), which starts a handshake."""
        return token[:8] == b"NTLMSSP\x00" and token[8:12] == b"\x01\x00\x00\x00"

    def _fail_ntlm(self) -> AuthReply:
        """Forget the handshake and answer 401 without a challenge token."""
        self._ntlm = None
        self._ntlm_user = None
        return unauthorized()

    def _open_session_body(self, headers: Mapping[str, str], body: bytes) -> Accepted | AuthReply:
        """Serve a request on an NTLM-authenticated connection, decrypting it if it is sealed."""
        assert self._ntlm is not None and self._ntlm_user is not None
        content_type = headers.get("content-type", "")
        if not content_type.lower().startswith("multipart/encrypted"):
            return Accepted(body, encrypt=False, user=self._ntlm_user)
        if ENCRYPTED_PROTOCOL.lower() not in content_type.lower():
            return AuthReply(415)
        try:
            signature, sealed, length = parse_encrypted_body(body)
            plain = self._ntlm.unwrap(signature + sealed).data
        except (AuthError, spnego.exceptions.SpnegoError, struct.error) as exc:
            # Windows answers a body it cannot unseal with 400; the session is unusable after it.
            raise AuthError(f"cannot decrypt the request: {exc}") from exc
        if len(plain) != length:
            raise AuthError("decrypted length does not match OriginalContent Length")
        return Accepted(plain, encrypt=True, user=self._ntlm_user)


def build_encrypted_body(signature: bytes, sealed: bytes, plain_length: int) -> bytes:
    """Lay out one sealed message the way WinRM (and pywinrm) frame it."""
    return b"".join(
        (
            BOUNDARY,
            b"\r\n\tContent-Type: ",
            ENCRYPTED_PROTOCOL.encode("ascii"),
            b"\r\n\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=",
            str(plain_length).encode("ascii"),
            b"\r\n",
            BOUNDARY,
            b"\r\n",
            OCTET_STREAM_HEADER,
            struct.pack("<I", len(signature)),
            signature,
            sealed,
            BOUNDARY,
            b"--\r\n",
        )
    )


def parse_encrypted_body(body: bytes) -> tuple[bytes, bytes, int]:
    """Return (signature, sealed data, plain length) of a multipart/encrypted WinRM body.

    The sealed bytes are located by length rather than by searching for the closing boundary,
    because RC4 output may contain any byte sequence.
    """
    marker = b"Length="
    start = body.find(marker)
    if start < 0:
        raise AuthError("OriginalContent Length is missing")
    end = body.find(b"\r\n", start)
    try:
        length = int(body[start + len(marker) : end])
    except ValueError as exc:
        raise AuthError("OriginalContent Length is not a number") from exc
    payload_at = body.find(OCTET_STREAM_HEADER, end)
    if payload_at < 0:
        raise AuthError("the application/octet-stream part is missing")
    offset = payload_at + len(OCTET_STREAM_HEADER)
    (signature_length,) = struct.unpack("<I", body[offset : offset + 4])
    offset += 4
    signature = body[offset : offset + signature_length]
    offset += signature_length
    sealed = body[offset : offset + length]
    if len(signature) != signature_length or len(sealed) != length:
        raise AuthError("the encrypted part is truncated")
    return signature, sealed, length
