"""The SSRF guard sees through every way of writing an inward address: IPv6 forms that embed
or translate to an IPv4 address (IPv4-mapped, IPv4-compatible, SIIT, NAT64, 6to4), Teredo, and
the integer, octal, hexadecimal and short IPv4 forms that resolvers and browsers accept. Each is
refused when the endpoint is registered and again at delivery, where a name may resolve to one.
"""

import socket

import pytest

from app.webhooks import targets
from app.webhooks.targets import TargetRefused, pin_public_target, refuse_internal_url
from tests.conftest import make_org

INWARD_LITERALS = [
    # IPv6 forms that reach an internal IPv4 address through translation
    "[::ffff:127.0.0.1]",  # IPv4-mapped
    "[::ffff:7f00:1]",
    "[::ffff:10.0.0.1]",
    "[::127.0.0.1]",  # IPv4-compatible (deprecated, still routed by some stacks)
    "[::7f00:1]",
    "[::ffff:0:7f00:1]",  # IPv4-translated (SIIT)
    "[64:ff9b::127.0.0.1]",  # NAT64, well-known prefix
    "[64:ff9b::a9fe:a9fe]",  # NAT64 to 169.254.169.254 (cloud metadata)
    "[64:ff9b:1::8.8.8.8]",  # NAT64, local-use prefix: translated by a local gateway
    "[2002:7f00:1::]",  # 6to4 embedding 127.0.0.1
    "[2002:c0a8:1::1]",  # 6to4 embedding 192.168.0.1
    "[2001:0:4136:e378:8000:63bf:3fff:fdd2]",  # Teredo
    "[2001::1]",
    # other IPv6 addresses that are not public unicast
    "[fec0::1]",  # site-local (deprecated)
    "[fd00::1]",  # unique local
    "[ff0e::1]",  # multicast, however global its scope
    "[fe80::1%25eth0]",  # link-local with a zone
    # IPv4 written the way inet_aton and the URL standard also read it
    "2130706433",  # 127.0.0.1 as one integer
    "0x7f000001",
    "017700000001",
    "0177.0.0.1",  # octal
    "0x7f.1",  # hex, short
    "0x7f.0x0.0x0.0x1",
    "127.1",  # short
    "127.0.1",
    "10.1",
    "0",  # 0.0.0.0
    "0x0",
    "127.0.0.1.",  # trailing dot
    "239.1.2.3",  # multicast
    "100.64.0.1",  # carrier-grade NAT
    # encodings of the same host name
    "%31%32%37.0.0.1",  # percent-encoded
    "\uff11\uff12\uff17.0.0.1",  # full-width digits (NFKC)
    "127\u30020\u30020\u30021",  # ideographic full stops
    "LOCALHOST",
    "localhost.",
    "a.b.localhost",
]

PUBLIC_LITERALS = [
    "93.184.215.14",
    "1572394766",  # 93.184.215.14 as an integer: odd but public
    "[2606:4700:4700::1111]",
    "[::ffff:93.184.215.14]",  # mapped, public
    "[64:ff9b::93.184.215.14]",  # what DNS64 answers on an IPv6-only network
    "[2002:5db8:d70e::1]",  # 6to4 of a public address
    "hooks.example.org",
    "0x7f.example.org",  # a name that merely starts like a number
]


@pytest.mark.parametrize("host", INWARD_LITERALS)
def test_an_inward_address_in_any_form_is_refused_at_registration(host):
    with pytest.raises(TargetRefused):
        refuse_internal_url(f"http://{host}/hook")


@pytest.mark.parametrize("host", INWARD_LITERALS)
def test_an_inward_address_in_any_form_is_refused_at_delivery(host, monkeypatch):
    # No lookup may rescue it; a resolver would only ever turn these into inward addresses.
    monkeypatch.setattr(targets.socket, "getaddrinfo", _resolves_to("127.0.0.1"))
    with pytest.raises(TargetRefused):
        pin_public_target(f"http://{host}/hook")


@pytest.mark.parametrize("host", PUBLIC_LITERALS)
def test_a_public_address_in_any_form_is_accepted_at_registration(host):
    refuse_internal_url(f"https://{host}/hook")


def _resolves_to(*addresses: str):  # type: ignore[no-untyped-def]
    def resolve(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in addresses
        ]

    return resolve


@pytest.mark.parametrize(
    "answer",
    [
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::10.0.0.1",
        "64:ff9b:1::5db8:d70e",
        "2002:a00:1::1",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        "::127.0.0.1",
        "fec0::1",
    ],
)
def test_a_name_resolving_to_a_translated_inward_address_is_refused_at_delivery(
    answer, monkeypatch
):
    monkeypatch.setattr(targets.socket, "getaddrinfo", _resolves_to(answer))
    with pytest.raises(TargetRefused, match="not allowed"):
        pin_public_target("https://hooks.example.org/hook")


def test_a_name_resolving_through_dns64_to_a_public_address_is_called(monkeypatch):
    monkeypatch.setattr(targets.socket, "getaddrinfo", _resolves_to("64:ff9b::5db8:d70e"))
    target = pin_public_target("https://hooks.example.org/hook")
    assert target.url == "https://[64:ff9b::5db8:d70e]/hook"


@pytest.mark.parametrize("host", ["0x7f.1", "2130706433", "[::ffff:127.0.0.1]", "[64:ff9b::a00:1]"])
@pytest.mark.settings(webhook_allow_private_targets=False)
def test_the_api_refuses_to_register_an_encoded_inward_address(client, host):
    response = client.post(
        "/v1/webhooks",
        json={"url": f"http://{host}/hook", "events": ["case.housed"]},
        headers=make_org(client, "care_provider").headers,
    )
    assert response.status_code == 400, response.text
    [param] = response.json()["invalidParams"]
    assert (param["name"], param["code"]) == ("url", "target_not_allowed")


# Where private targets are allowed (the demo, development), a receiver on loopback or a private
# address works, but link-local addresses, where cloud metadata services answer with the host's
# credentials, stay refused in every form.
METADATA_LITERALS = [
    "169.254.169.254",
    "2852039166",  # 169.254.169.254 as one integer
    "0xa9.0xfe.0xa9.0xfe",
    "0251.0376.0251.0376",  # octal
    "169.254.43518",  # short
    "[::ffff:169.254.169.254]",
    "[::ffff:a9fe:a9fe]",
    "[64:ff9b::a9fe:a9fe]",
    "[2002:a9fe:a9fe::1]",  # 6to4
    "[fe80::1]",
    "[fe80::a9fe:a9fe%25eth0]",
    "[fd00:ec2::254]",  # AWS's metadata service over IPv6
    "0.0.0.0",
]


@pytest.mark.parametrize("host", METADATA_LITERALS)
def test_a_metadata_address_is_refused_even_where_private_targets_are_allowed(host, monkeypatch):
    with pytest.raises(TargetRefused):
        refuse_internal_url(f"http://{host}/latest/meta-data/", allow_private=True)
    monkeypatch.setattr(targets.socket, "getaddrinfo", _resolves_to("10.0.0.1"))
    with pytest.raises(TargetRefused):
        pin_public_target(f"http://{host}/latest/meta-data/", allow_private=True)


@pytest.mark.parametrize("answer", ["169.254.169.254", "fe80::1", "::ffff:169.254.169.254"])
def test_a_name_resolving_to_link_local_is_refused_where_private_targets_are_allowed(
    answer, monkeypatch
):
    monkeypatch.setattr(targets.socket, "getaddrinfo", _resolves_to(answer))
    with pytest.raises(TargetRefused, match="not allowed"):
        pin_public_target("http://metadata.google.internal/hook", allow_private=True)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "10.0.0.7", "[::1]", "[fd00::1]"])
def test_a_loopback_or_private_receiver_is_called_where_private_targets_are_allowed(
    host, monkeypatch
):
    monkeypatch.setattr(targets.socket, "getaddrinfo", _resolves_to("127.0.0.1"))
    refuse_internal_url(f"http://{host}/hook", allow_private=True)
    pin_public_target(f"http://{host}/hook", allow_private=True)


@pytest.mark.settings(webhook_allow_private_targets=True)
def test_the_demo_refuses_to_register_the_metadata_service(client):
    org = make_org(client, "care_provider")
    refused = client.post(
        "/v1/webhooks",
        json={"url": "http://169.254.169.254/latest/meta-data/", "events": ["case.housed"]},
        headers=org.headers,
    )
    assert refused.status_code == 400, refused.text
    [param] = refused.json()["invalidParams"]
    assert (param["name"], param["code"]) == ("url", "target_not_allowed")
    accepted = client.post(
        "/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["case.housed"]},
        headers=org.headers,
    )
    assert accepted.status_code == 201, accepted.text
