"""Basic and NTLM authentication of the simulated fleet, and NTLM message encryption framing."""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
import spnego
import winrm
from winrm.exceptions import InvalidCredentialsError

from agentroll.sim.auth import (
    Accepted,
    AuthError,
    AuthReply,
    ConnectionAuth,
    NtlmUserStore,
    build_encrypted_body,
    parse_encrypted_body,
    same_user,
)
from agentroll.sim.testing import DEFAULT_PASSWORD, DEFAULT_USERNAME, FleetHandle, run_ansible, running_fleet


def run_cmd(endpoint: str, transport: str, username: str, password: str) -> winrm.Response:
    """Run one command through pywinrm (the client Ansible uses); raises if not authenticated."""
    session = winrm.Session(
        endpoint, auth=(username, password), transport=transport, server_cert_validation="ignore"
    )
    return session.run_cmd("hostname")


@pytest.mark.integration
@pytest.mark.parametrize("transport", ["basic", "ntlm"])
def test_wrong_password_is_unreachable_with_invalid_credentials(
    http_fleet: FleetHandle, inventory_for: Callable[..., Path], transport: str
) -> None:
    inventory = inventory_for(http_fleet, http_fleet.addresses[:1], transport, ansible_password="not-it")

    result = run_ansible(["ansible", "all", "-m", "ansible.windows.win_ping"], inventory=inventory)

    assert result.returncode == 4, result.stdout + result.stderr
    assert "UNREACHABLE!" in result.stdout
    assert "the specified credentials were rejected by the server" in result.stdout


@pytest.mark.integration
def test_reject_credentials_fault_refuses_the_right_password(http_fleet: FleetHandle) -> None:
    address = http_fleet.addresses[0]
    endpoint = http_fleet.server.endpoint(address)
    http_fleet.set_faults(address, reject_credentials=True)
    try:
        for transport in ("basic", "ntlm"):
            with pytest.raises(InvalidCredentialsError):
                run_cmd(endpoint, transport, DEFAULT_USERNAME, DEFAULT_PASSWORD)
    finally:
        http_fleet.set_faults(address, reject_credentials=False)
    assert run_cmd(endpoint, "ntlm", DEFAULT_USERNAME, DEFAULT_PASSWORD) is not None


@pytest.mark.integration
def test_each_host_checks_its_own_account() -> None:
    spec = {
        "credentials": {"username": "agentroll", "password": "fleet-wide-1"},
        "hosts": [
            {"address": "127.0.0.1"},
            {"address": "127.0.0.2", "credentials": {"username": "agentroll", "password": "own-2"}},
            {"address": "127.0.0.3", "credentials": {"username": "Admin", "password": "own-3"}},
        ],
    }
    with running_fleet(spec, transport="ntlm") as handle:
        first, second, third = (handle.server.endpoint(address) for address in handle.addresses)
        for transport in ("ntlm", "basic"):
            assert run_cmd(first, transport, "agentroll", "fleet-wide-1") is not None
            assert run_cmd(second, transport, "agentroll", "own-2") is not None
            assert run_cmd(third, transport, "admin", "own-3") is not None
            with pytest.raises(InvalidCredentialsError):
                run_cmd(second, transport, "agentroll", "fleet-wide-1")
            with pytest.raises(InvalidCredentialsError):
                run_cmd(third, transport, "agentroll", "own-3")
        host_vars = handle.host_vars(handle.addresses[1])
    assert host_vars["ansible_password"] == "own-2"
    assert "NTLM_USER_FILE" not in os.environ


def test_ntlm_user_files_are_private() -> None:
    store = NtlmUserStore()
    try:
        path = store.file_for("WORKGROUP\\agentroll", "pa:ss")
        assert store.file_for("WORKGROUP\\agentroll", "pa:ss") == path
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert "WORKGROUP:agentroll:pa:ss" in path.read_text(encoding="utf-8").splitlines()
    finally:
        store.close()
    assert not path.exists()


def test_user_names_compare_like_windows_local_accounts() -> None:
    assert same_user("WORKGROUP\\AgentRoll", "agentroll")
    assert same_user("agentroll@pc01", ".\\agentroll")
    assert not same_user("agent", "agentroll")


def handshake(auth: ConnectionAuth, password: str) -> tuple[spnego.ContextProxy, Accepted | AuthReply]:
    """Run an NTLM handshake between a pyspnego client and ``auth``; return the final decision."""
    client = spnego.client(DEFAULT_USERNAME, password, protocol="ntlm", service="http", hostname="pc")
    negotiate = base64.b64encode(client.step() or b"").decode()
    challenge = auth.check({"authorization": f"Negotiate {negotiate}"}, b"")
    assert isinstance(challenge, AuthReply) and challenge.status == 401
    token = challenge.headers[0][1].split(" ", 1)[1]
    authenticate = base64.b64encode(client.step(base64.b64decode(token)) or b"").decode()
    return client, auth.check({"authorization": f"Negotiate {authenticate}"}, b"")


def test_ntlm_session_encrypts_both_ways_and_refuses_tampering() -> None:
    store = NtlmUserStore()
    try:
        auth = ConnectionAuth(lambda: (DEFAULT_USERNAME, DEFAULT_PASSWORD), lambda: False, store)
        client, decision = handshake(auth, DEFAULT_PASSWORD)
        assert isinstance(decision, Accepted) and auth.ntlm_authenticated

        message = b"<s:Envelope>hello</s:Envelope>"
        sealed = client.wrap(message, encrypt=True).data
        body = build_encrypted_body(sealed[:16], sealed[16:], len(message))
        headers = {"content-type": 'multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted"'}
        opened = auth.check(headers, body)
        assert isinstance(opened, Accepted) and opened.body == message and opened.encrypt

        signature, answer, length = parse_encrypted_body(auth.wrap(b"answer"))
        assert client.unwrap(signature + answer).data == b"answer" and length == 6

        sealed = client.wrap(message, encrypt=True).data
        tampered = bytearray(build_encrypted_body(sealed[:16], sealed[16:], len(message)))
        tampered[-30] ^= 0xFF
        with pytest.raises(AuthError):
            auth.check(headers, bytes(tampered))
    finally:
        store.close()


def test_ntlm_with_the_wrong_password_is_refused() -> None:
    store = NtlmUserStore()
    try:
        auth = ConnectionAuth(lambda: (DEFAULT_USERNAME, DEFAULT_PASSWORD), lambda: False, store)
        _, decision = handshake(auth, "wrong")
        assert isinstance(decision, AuthReply) and decision.status == 401
        assert not auth.ntlm_authenticated
        assert isinstance(auth.check({}, b"<x/>"), AuthReply)
    finally:
        store.close()


def test_truncated_encrypted_body_is_refused() -> None:
    body = build_encrypted_body(b"s" * 16, b"sealed", 6)
    with pytest.raises(AuthError):
        parse_encrypted_body(body[:-40])
    with pytest.raises(AuthError):
        parse_encrypted_body(b"--Encrypted Boundary\r\n")
