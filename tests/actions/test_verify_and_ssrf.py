"""The receiver-side signature check, and the SSRF guard on webhook URLs."""

from __future__ import annotations

import ipaddress
import subprocess
import sys
import time

import pytest

from safeguard.actions import ssrf
from safeguard.actions.errors import UnsafeWebhookUrl
from safeguard.actions.verify import InvalidSignature, compute_signature, signature_header, verify_signature

SECRET = "whsec_test"
BODY = b'{"id":"1","type":"decision.made"}'


def test_a_valid_signature_verifies_and_any_change_fails() -> None:
    header = signature_header(SECRET, BODY)
    assert verify_signature(SECRET, BODY, header) == int(header.split(",")[0][2:])
    for secret, body in [("whsec_other", BODY), (SECRET, BODY + b" "), (SECRET, BODY.replace(b"1", b"2"))]:
        with pytest.raises(InvalidSignature, match="does not match"):
            verify_signature(secret, body, header)


def test_old_timestamps_and_malformed_headers_fail() -> None:
    old = int(time.time()) - 600
    with pytest.raises(InvalidSignature, match="tolerance"):
        verify_signature(SECRET, BODY, signature_header(SECRET, BODY, old))
    for header in [None, "", "v1=abc", "t=1", "t=x,v1=abc"]:
        with pytest.raises(InvalidSignature):
            verify_signature(SECRET, BODY, header)


def test_any_v1_may_match_during_secret_rotation() -> None:
    t = int(time.time())
    header = f"t={t},v1={compute_signature('whsec_old', t, BODY)},v1={compute_signature(SECRET, t, BODY)}"
    assert verify_signature(SECRET, BODY, header) == t


@pytest.mark.parametrize(
    "header",
    [
        "t=1700000000,v1=é" + "0" * 63,  # non-ASCII: hmac.compare_digest raised TypeError
        "t=" + "9" * 400 + ",v1=" + "0" * 64,  # the float comparison raised OverflowError
        "t=١٧٠٠٠٠٠٠٠٠,v1=" + "0" * 64,  # non-ASCII digits that int() accepts
        "t=-1,v1=" + "0" * 64,
        "t=1_700_000_000,v1=" + "0" * 64,
    ],
)
def test_hostile_headers_raise_only_invalid_signature(header: str) -> None:
    with pytest.raises(InvalidSignature):
        verify_signature("secret", b"{}", header, now=1_700_000_000)


def test_the_signature_is_the_documented_hmac() -> None:
    # HMAC-SHA256(secret, "1700000000." + body), as documented for receivers in other languages
    expected = (
        subprocess.run(
            ["openssl", "dgst", "-sha256", "-hmac", SECRET, "-r"],
            input=b"1700000000." + BODY,
            capture_output=True,
            check=True,
        )
        .stdout.split()[0]
        .decode()
    )
    assert compute_signature(SECRET, 1700000000, BODY) == expected


def test_verify_needs_only_the_standard_library() -> None:
    code = (
        "import sys; import safeguard.actions.verify as v; "
        "heavy = {'sqlalchemy', 'pydantic', 'httpx', 'fastapi'}; "
        "bad = [m for m in sys.modules if m.split('.')[0] in heavy]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fd00::1",
        "::ffff:127.0.0.1",
        # IPv6 forms that a translator or tunnel turns back into an internal IPv4 address.
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b:1::a00:1",  # local-use NAT64 prefix
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "::10.0.0.1",  # IPv4-compatible
        "::127.0.0.1",
        "::ffff:0:a9fe:a9fe",  # IPv4-translated 169.254.169.254
        "::ffff:0:c0a8:101",  # IPv4-translated 192.168.1.1
    ],
)
def test_private_loopback_and_link_local_addresses_are_denied(address: str) -> None:
    assert ssrf.is_denied(ipaddress.ip_address(address), [])


def test_public_addresses_pass_and_allow_networks_open_a_hole() -> None:
    assert not ssrf.is_denied(ipaddress.ip_address("93.184.216.34"), [])
    allowed = ssrf.parse_networks(["127.0.0.0/8"])
    assert not ssrf.is_denied(ipaddress.ip_address("127.0.0.1"), allowed)
    assert ssrf.is_denied(ipaddress.ip_address("10.0.0.1"), allowed)


def test_translated_forms_of_public_addresses_still_pass() -> None:
    for address in ["64:ff9b::5db8:d822", "2002:5db8:d822::1", "::ffff:93.184.216.34"]:
        assert not ssrf.is_denied(ipaddress.ip_address(address), []), address


def test_urls_are_checked_after_resolution() -> None:
    with pytest.raises(UnsafeWebhookUrl, match="internal address") as refused:
        ssrf.resolve("https://localhost/hook", allow_http=False, allow_networks=[])
    # The error must not tell an integrator what an internal name resolves to.
    assert "127.0.0.1" not in str(refused.value)
    assert "::1" not in str(refused.value)
    # Each refusal an operator can lift names the setting that lifts it.
    with pytest.raises(UnsafeWebhookUrl, match=r"https.*SAFEGUARD_WEBHOOK_ALLOW_HTTP"):
        ssrf.resolve("http://127.0.0.1/hook", allow_http=False, allow_networks=["127.0.0.0/8"])
    with pytest.raises(UnsafeWebhookUrl, match="SAFEGUARD_WEBHOOK_ALLOW_NETWORKS"):
        ssrf.resolve("https://127.0.0.1/hook", allow_http=False, allow_networks=[])
    with pytest.raises(UnsafeWebhookUrl, match="credentials"):
        ssrf.resolve("https://user:pw@127.0.0.1/", allow_http=False, allow_networks=["127.0.0.0/8"])
    for url in ["ftp://127.0.0.1/", "https:///nohost", "https://[::1/"]:
        with pytest.raises(UnsafeWebhookUrl):
            ssrf.resolve(url, allow_http=True, allow_networks=[])
    target = ssrf.resolve("http://127.0.0.1:8080/x", allow_http=True, allow_networks=["127.0.0.0/8"])
    assert (target.host, target.port, str(target.address)) == ("127.0.0.1", 8080, "127.0.0.1")
