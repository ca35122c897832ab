"""Webhook signatures: payloads signed by the schemes' reference code verify, and ours agree.

The references: PyPI ``standardwebhooks`` (the Standard Webhooks library),
``twilio``'s ``RequestValidator``, and GitHub's documented HMAC with its
published example.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from standardwebhooks import Webhook
from twilio.request_validator import RequestValidator

from raw import clock
from raw.config.coordinator import WebhookConfig
from raw.coordinator.signing import TwilioScheme
from raw.coordinator.verify import (
    Headers,
    InvalidSecretError,
    MissingSecretError,
    SignatureError,
    SignedRequest,
    UnknownSchemeError,
    WebhookScheme,
    get_scheme,
    known_schemes,
    prepare_url,
    public_base_url,
    public_url,
    register_scheme,
    secrets_for,
    verify_request,
)
from raw.errors import RawError

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
TOLERANCE = 300
SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SW_OTHER = "whsec_" + base64.b64encode(b"another secret, thirty-two bytes").decode()
TOKEN = "twilio-auth-token-12345"
OTHER_TOKEN = "twilio-auth-token-67890"
FORM = "application/x-www-form-urlencoded"

standard = get_scheme("standard-webhooks")
github = get_scheme("github")
twilio = get_scheme("twilio")
bearer = get_scheme("bearer")


def verify(
    scheme: WebhookScheme, request: SignedRequest, secrets: Sequence[str], now: datetime = NOW
) -> None:
    scheme.verify(request, secrets, tolerance_seconds=TOLERANCE, now=now)


def refusal(
    scheme: WebhookScheme, request: SignedRequest, secrets: Sequence[str], now: datetime = NOW
) -> SignatureError:
    with pytest.raises(SignatureError) as caught:
        verify(scheme, request, secrets, now)
    assert caught.value.status_code == 401
    return caught.value


def post(
    url: str, headers: Mapping[str, str], body: bytes, *, form: dict[str, str] | None = None
) -> SignedRequest:
    return SignedRequest("POST", url, headers, body, form)


# --- Standard Webhooks ----------------------------------------------------------------------

BODY = b'{"candidate": "Ada", "score": 9}'


def reference_signed(
    body: bytes = BODY, *, secret: str = SW_SECRET, at: datetime = NOW, msg_id: str = "msg_1"
) -> SignedRequest:
    signature = Webhook(secret).sign(msg_id, at, body.decode())
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }
    return post("https://example.com/hooks", headers, body)


def test_standard_webhooks_published_example_verifies() -> None:
    # The example from the Standard Webhooks / Svix documentation.
    request = post(
        "https://example.com/hooks",
        {
            "Webhook-Id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "Webhook-Timestamp": "1614265330",
            "Webhook-Signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        },
        b'{"test": 2432232314}',
    )
    verify(standard, request, [SW_SECRET], now=datetime.fromtimestamp(1614265330 + 10, UTC))
    assert standard.delivery_id(request) == "msg_p5jXN8AQM9LWM0D4loKWxJek"


def test_standard_webhooks_reference_signature_verifies() -> None:
    verify(standard, reference_signed(), [SW_SECRET])


def test_standard_webhooks_secret_without_prefix_verifies() -> None:
    verify(standard, reference_signed(), [SW_SECRET.removeprefix("whsec_")])


def test_standard_webhooks_tampered_body_is_refused() -> None:
    signed = reference_signed()
    tampered = post(signed.url, dict(signed.headers), BODY.replace(b"9", b"10"))
    assert refusal(standard, tampered, [SW_SECRET]).reason == (
        "signature does not match any active secret"
    )


def test_standard_webhooks_wrong_secret_is_refused() -> None:
    error = refusal(standard, reference_signed(), [SW_OTHER])
    assert error.reason == "signature does not match any active secret"


def test_standard_webhooks_old_timestamp_is_refused_with_its_age() -> None:
    request = reference_signed(at=NOW - timedelta(seconds=612))
    error = refusal(standard, request, [SW_SECRET])
    assert error.reason == "timestamp is 612 s old, outside the 300 s tolerance"
    assert "612 s old" in str(error)


def test_standard_webhooks_future_timestamp_is_refused() -> None:
    request = reference_signed(at=NOW + timedelta(seconds=400))
    error = refusal(standard, request, [SW_SECRET])
    assert error.reason == "timestamp is 400 s in the future, outside the 300 s tolerance"


def test_standard_webhooks_timestamp_at_the_tolerance_edge_passes() -> None:
    verify(standard, reference_signed(at=NOW - timedelta(seconds=TOLERANCE)), [SW_SECRET])
    verify(standard, reference_signed(at=NOW + timedelta(seconds=TOLERANCE)), [SW_SECRET])


@pytest.mark.parametrize("header", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_standard_webhooks_missing_header_is_named(header: str) -> None:
    signed = reference_signed()
    headers = {k: v for k, v in signed.headers.items() if k != header}
    assert refusal(standard, post(signed.url, headers, BODY), [SW_SECRET]).reason == (
        f"missing {header} header"
    )


def test_standard_webhooks_non_numeric_timestamp_is_refused() -> None:
    signed = reference_signed()
    headers = {**signed.headers, "webhook-timestamp": "yesterday"}
    error = refusal(standard, post(signed.url, headers, BODY), [SW_SECRET])
    assert "not a Unix time" in error.reason


def test_standard_webhooks_any_of_several_signatures_may_match() -> None:
    signed = reference_signed()
    header = "v1,AAAA v1a,ignored " + signed.headers["webhook-signature"]
    verify(
        standard,
        post(signed.url, {**signed.headers, "webhook-signature": header}, BODY),
        [SW_SECRET],
    )


def test_standard_webhooks_our_signature_verifies_with_the_reference_library() -> None:
    headers = standard.sign(
        BODY,
        SW_SECRET,
        url="https://example.com/hooks",
        form=None,
        now=clock.now(),
        delivery_id="msg_ours",
    )
    assert Webhook(SW_SECRET).verify(BODY, headers) == json.loads(BODY)
    assert headers["webhook-id"] == "msg_ours"


def test_standard_webhooks_secret_that_is_not_base64_is_a_configuration_error() -> None:
    with pytest.raises(InvalidSecretError) as caught:
        verify(standard, reference_signed(), ["whsec_abcde"])
    assert "whsec_abcde" not in str(caught.value)


# --- GitHub ---------------------------------------------------------------------------------


def test_github_published_example_verifies() -> None:
    # GitHub's "Validating webhook deliveries" example.
    request = post(
        "https://example.com/github",
        {
            "X-Hub-Signature-256": (
                "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
            ),
            "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        },
        b"Hello, World!",
    )
    verify(github, request, ["It's a Secret to Everybody"])
    assert github.delivery_id(request) == "72d3162e-cc78-11e3-81ab-4c9367dc0958"


def github_signed(body: bytes, secret: str) -> SignedRequest:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return post("https://example.com/github", {"x-hub-signature-256": f"sha256={digest}"}, body)


def test_github_documented_hmac_verifies_and_tampering_fails() -> None:
    verify(github, github_signed(BODY, "gh-secret"), ["gh-secret"])
    tampered = post(
        "https://example.com/github", dict(github_signed(BODY, "gh-secret").headers), BODY + b" "
    )
    assert refusal(github, tampered, ["gh-secret"]).reason == (
        "signature does not match any active secret"
    )
    assert refusal(github, github_signed(BODY, "gh-secret"), ["other"]).reason == (
        "signature does not match any active secret"
    )


def test_github_missing_or_malformed_header_is_refused() -> None:
    assert refusal(github, post("https://x/", {}, BODY), ["s"]).reason == (
        "missing X-Hub-Signature-256 header"
    )
    malformed = post("https://x/", {"X-Hub-Signature-256": "sha1=abc"}, BODY)
    assert "sha256=" in refusal(github, malformed, ["s"]).reason


# --- Twilio ---------------------------------------------------------------------------------

CALL = {"CallSid": "CA1234", "CallStatus": "completed", "From": "+14155550100", "Empty": ""}


def twilio_form(url: str, params: dict[str, str], signature: str) -> SignedRequest:
    return post(
        url,
        {"X-Twilio-Signature": signature, "Content-Type": FORM},
        urlencode(params).encode(),
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/twilio/status",
        "https://example.com/twilio/status?candidate=42&step=call",
        "https://example.com:8443/twilio/status",
    ],
)
def test_twilio_reference_signed_form_post_verifies(url: str) -> None:
    signature = RequestValidator(TOKEN).compute_signature(url, CALL)
    verify(twilio, twilio_form(url, CALL, signature), [TOKEN])


def test_twilio_form_fields_given_already_parsed_verify() -> None:
    url = "https://example.com/twilio/status"
    signature = RequestValidator(TOKEN).compute_signature(url, CALL)
    request = post(url, {"X-Twilio-Signature": signature}, b"", form=dict(CALL))
    verify(twilio, request, [TOKEN])


def test_twilio_url_signed_with_default_port_verifies_without_it() -> None:
    signature = RequestValidator(TOKEN).compute_signature("https://example.com:443/t", CALL)
    verify(twilio, twilio_form("https://example.com/t", CALL, signature), [TOKEN])


def test_twilio_behind_a_proxy_verifies_with_the_public_base_url() -> None:
    signed_url = "https://example.com/twilio/status?candidate=42"
    signature = RequestValidator(TOKEN).compute_signature(signed_url, CALL)
    seen_by_app = "http://127.0.0.1:8000/twilio/status?candidate=42"
    headers = {"X-Twilio-Signature": signature, "Content-Type": FORM}
    body = urlencode(CALL).encode()

    behind_proxy = SignedRequest.from_http(
        "post", seen_by_app, headers, body, public_base_url="https://example.com/"
    )
    assert behind_proxy.url == signed_url
    verify(twilio, behind_proxy, [TOKEN])

    unaware = SignedRequest.from_http("POST", seen_by_app, headers, body)
    assert "public URL" in refusal(twilio, unaware, [TOKEN]).reason


def test_twilio_tampered_field_or_wrong_token_is_refused() -> None:
    url = "https://example.com/twilio/status"
    signature = RequestValidator(TOKEN).compute_signature(url, CALL)
    tampered = twilio_form(url, {**CALL, "CallStatus": "busy"}, signature)
    assert refusal(twilio, tampered, [TOKEN]).reason.startswith(
        "signature does not match any active secret"
    )
    refusal(twilio, twilio_form(url, CALL, signature), [OTHER_TOKEN])
    missing = post(url, {"Content-Type": FORM}, urlencode(CALL).encode())
    assert refusal(twilio, missing, [TOKEN]).reason == "missing X-Twilio-Signature header"


def test_twilio_repeated_form_fields_are_signed_like_the_reference() -> None:
    url = "https://example.com/twilio/status"
    body = b"Tag=b&Tag=a&CallSid=CA1"

    class MultiDict(dict[str, list[str]]):
        def getall(self, name: str) -> list[str]:
            return self[name]

    signature = RequestValidator(TOKEN).compute_signature(
        url, MultiDict(Tag=["b", "a"], CallSid=["CA1"])
    )
    request = post(url, {"X-Twilio-Signature": signature, "content-type": FORM}, body)
    verify(twilio, request, [TOKEN])


def test_twilio_sha256_shared_key_signature_verifies() -> None:
    url = "https://example.com/twilio/status"
    signature = RequestValidator(TOKEN).compute_signature(url, CALL, algorithm="HMAC_SHA256")
    request = twilio_form(url, CALL, signature)
    refusal(twilio, request, [TOKEN])  # without the settings header it is HMAC-SHA1
    headers = {
        **request.headers,
        "X-Twilio-Webhooks-Signature-Settings": "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256",
    }
    verify(twilio, post(url, headers, request.body), [TOKEN])


def test_twilio_json_body_is_covered_by_body_sha256() -> None:
    body = b'{"CallSid": "CA1", "CallStatus": "completed"}'
    url = f"https://example.com/twilio/json?bodySHA256={hashlib.sha256(body).hexdigest()}"
    signature = RequestValidator(TOKEN).compute_signature(url, {})
    headers = {"X-Twilio-Signature": signature, "Content-Type": "application/json"}
    verify(twilio, post(url, headers, body), [TOKEN])

    tampered = post(url, headers, body.replace(b"completed", b"busy"))
    assert refusal(twilio, tampered, [TOKEN]).reason == (
        "body does not match the URL's bodySHA256 parameter"
    )
    unhashed = "https://example.com/twilio/json"
    no_hash = post(
        unhashed,
        {**headers, "X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(unhashed, {})},
        body,
    )
    assert "bodySHA256" in refusal(twilio, no_hash, [TOKEN]).reason


def test_twilio_our_form_signature_passes_the_reference_validator() -> None:
    url = "https://example.com/twilio/status?candidate=42"
    headers = twilio.sign(
        urlencode(CALL).encode(), TOKEN, url=url, form=dict(CALL), now=NOW, delivery_id="d1"
    )
    assert RequestValidator(TOKEN).validate(url, CALL, headers["X-Twilio-Signature"])
    assert not RequestValidator(OTHER_TOKEN).validate(url, CALL, headers["X-Twilio-Signature"])


def test_twilio_our_json_signature_passes_the_reference_validator() -> None:
    body = b'{"CallSid": "CA1"}'
    url = prepare_url(twilio, "https://example.com/twilio/json", body)
    assert "bodySHA256=" in url
    headers = twilio.sign(body, TOKEN, url=url, form=None, now=NOW, delivery_id="d1")
    assert RequestValidator(TOKEN).validate(url, body.decode(), headers["X-Twilio-Signature"])


def test_twilio_refuses_to_sign_a_json_body_without_its_hash_in_the_url() -> None:
    with pytest.raises(RawError, match="bodySHA256"):
        twilio.sign(b"{}", TOKEN, url="https://x/t", form=None, now=NOW, delivery_id="d")


def test_twilio_has_no_delivery_id() -> None:
    assert twilio.delivery_id(twilio_form("https://x/", CALL, "sig")) is None


# --- Bearer ---------------------------------------------------------------------------------


def test_bearer_right_token_passes_and_carries_the_idempotency_key() -> None:
    request = post("https://x/", {"authorization": "Bearer tok-1", "Idempotency-Key": "k1"}, BODY)
    verify(bearer, request, ["tok-1"])
    assert bearer.delivery_id(request) == "k1"


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Authorization": "Bearer tok-2"}, "bearer token does not match any active secret"),
        ({"Authorization": "Basic dG9rLTE="}, "Authorization header is not a Bearer token"),
        ({"Authorization": "Bearer "}, "Authorization header is not a Bearer token"),
        ({}, "missing Authorization header"),
    ],
)
def test_bearer_wrong_or_missing_token_is_refused(headers: dict[str, str], reason: str) -> None:
    assert refusal(bearer, post("https://x/", headers, BODY), ["tok-1"]).reason == reason


# --- Rotation, registry, settings -----------------------------------------------------------

ROTATION_CASES = {
    "standard-webhooks": (SW_SECRET, SW_OTHER, "whsec_" + base64.b64encode(b"third").decode()),
    "github": ("old-gh", "new-gh", "stranger-gh"),
    "twilio": (TOKEN, OTHER_TOKEN, "stranger-token"),
    "bearer": ("old-token", "new-token", "stranger-token"),
}


def signed_with(scheme: WebhookScheme, secret: str, *, body: bytes = BODY) -> SignedRequest:
    url = prepare_url(scheme, "https://example.com/hooks?x=1", body)
    headers = scheme.sign(body, secret, url=url, form=None, now=NOW, delivery_id="dlv_1")
    return post(url, {**headers, "Content-Type": "application/json"}, body)


@pytest.mark.parametrize("name", sorted(ROTATION_CASES))
def test_rotation_either_active_secret_passes_and_neither_fails(name: str) -> None:
    scheme = get_scheme(name)
    old, new, stranger = ROTATION_CASES[name]
    verify(scheme, signed_with(scheme, old), [old, new])
    verify(scheme, signed_with(scheme, new), [old, new])
    refusal(scheme, signed_with(scheme, stranger), [old, new])


def test_no_configured_secret_refuses_everything() -> None:
    for name in known_schemes():
        scheme = get_scheme(name)
        assert refusal(scheme, post("https://x/", {}, BODY), []).reason


def test_no_secret_appears_in_any_refusal() -> None:
    secrets = [SW_SECRET, SW_OTHER, TOKEN, OTHER_TOKEN, "old-gh", "new-gh", "tok-1", "tok-2"]
    cases: list[tuple[WebhookScheme, SignedRequest, list[str], datetime]] = []
    for name, (old, new, stranger) in ROTATION_CASES.items():
        scheme = get_scheme(name)
        secrets += [old, new, stranger]
        cases.append((scheme, signed_with(scheme, stranger), [old, new], NOW))
        cases.append((scheme, post("https://x/", {}, BODY), [old, new], NOW))
        tampered = signed_with(scheme, old)
        if name != "bearer":
            cases.append((scheme, post(tampered.url, dict(tampered.headers), b"x"), [old], NOW))
    cases.append((standard, reference_signed(), [SW_SECRET], NOW + timedelta(hours=1)))
    cases.append((standard, reference_signed(), [SW_SECRET], NOW - timedelta(hours=1)))
    cases.append(
        (bearer, post("https://x/", {"Authorization": "Bearer tok-2"}, BODY), ["tok-1"], NOW)
    )
    url = "https://example.com/t"
    cases.append((twilio, twilio_form(url, CALL, "bad"), [TOKEN], NOW))
    messages = []
    for scheme, request, active, now in cases:
        error = refusal(scheme, request, active, now)
        messages += [str(error), error.reason, repr(error)]
    assert len(messages) >= 3 * 14
    for message in messages:
        for secret in secrets:
            assert secret not in message
            assert secret.removeprefix("whsec_") not in message


def test_headers_are_case_insensitive_and_their_repr_hides_values() -> None:
    headers = Headers({"Authorization": "Bearer secret-value", "X-A": "1"})
    assert headers["authorization"] == headers["AUTHORIZATION"] == "Bearer secret-value"
    assert "X-a" in headers
    assert "secret-value" not in repr(headers)
    assert "secret-value" not in repr(post("https://x/", dict(headers), b""))


class Reversed:
    """A scheme of our own: the body must come with its bytes reversed in a header."""

    name = "reversed-test"

    def verify(
        self,
        request: SignedRequest,
        secrets: Sequence[str],
        *,
        tolerance_seconds: int,
        now: datetime,
    ) -> None:
        if request.headers.get("x-reversed", "").encode() != request.body[::-1]:
            raise SignatureError("x-reversed does not match", scheme=self.name)

    def delivery_id(self, request: SignedRequest) -> str | None:
        return None

    def sign(
        self,
        body: bytes,
        secret: str,
        *,
        url: str,
        form: dict[str, str] | None,
        now: datetime,
        delivery_id: str,
    ) -> dict[str, str]:
        return {"x-reversed": body[::-1].decode()}


def test_a_registered_scheme_is_found_by_name_and_used_by_routes() -> None:
    scheme = Reversed()
    assert register_scheme(scheme) is scheme
    assert get_scheme("reversed-test") is scheme
    assert "reversed-test" in known_schemes()
    route = WebhookConfig(name="rev", path="/rev", scheme="reversed-test", secrets=["RAW_REV"])
    request = post(
        "https://x/rev", scheme.sign(b"abc", "", url="", form=None, now=NOW, delivery_id=""), b"abc"
    )
    assert verify_request(route, request, environ={"RAW_REV": "unused"}) is None
    with pytest.raises(RawError, match="already registered"):
        register_scheme(Reversed())


def test_unknown_scheme_names_the_known_ones() -> None:
    with pytest.raises(UnknownSchemeError) as caught:
        get_scheme("svix")
    message = str(caught.value)
    for name in ("standard-webhooks", "github", "twilio", "bearer"):
        assert name in message


def test_secrets_for_reads_the_named_settings_in_order() -> None:
    env = {"RAW_NEW": "n3w", "RAW_OLD": "0ld"}
    assert secrets_for(["RAW_NEW", "RAW_OLD"], environ=env) == ["n3w", "0ld"]


@pytest.mark.parametrize("env", [{}, {"RAW_CV_SECRET": ""}, {"RAW_CV_SECRET": "  "}])
def test_secrets_for_names_a_missing_setting_and_how_to_set_it(env: dict[str, str]) -> None:
    with pytest.raises(MissingSecretError) as caught:
        secrets_for(["RAW_OK", "RAW_CV_SECRET"], environ={"RAW_OK": "value-ok", **env})
    assert caught.value.setting == "RAW_CV_SECRET"
    assert "export RAW_CV_SECRET=" in str(caught.value)
    assert "value-ok" not in str(caught.value)


def test_verify_request_uses_the_routes_scheme_secrets_and_tolerance() -> None:
    route = WebhookConfig(
        name="cv",
        path="/hooks",
        scheme="standard-webhooks",
        secrets=["RAW_CV_NEW", "RAW_CV_OLD"],
        tolerance_seconds=60,
    )
    env = {"RAW_CV_NEW": SW_OTHER, "RAW_CV_OLD": SW_SECRET}
    assert verify_request(route, reference_signed(), now=NOW, environ=env) == "msg_1"
    with pytest.raises(SignatureError, match="61 s old, outside the 60 s tolerance"):
        verify_request(
            route, reference_signed(at=NOW - timedelta(seconds=61)), now=NOW, environ=env
        )
    with pytest.raises(MissingSecretError):
        verify_request(route, reference_signed(), now=NOW, environ={"RAW_CV_NEW": SW_OTHER})


def test_public_url_keeps_path_and_query_and_env_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    assert public_url("http://127.0.0.1:8000/a/b?x=1&y=2", None) == (
        "http://127.0.0.1:8000/a/b?x=1&y=2"
    )
    assert public_url("http://127.0.0.1:8000/a?x=1", "https://h.example/prefix/") == (
        "https://h.example/prefix/a?x=1"
    )
    monkeypatch.delenv("RAW_PUBLIC_BASE_URL", raising=False)
    assert public_base_url("https://config.example") == "https://config.example"
    monkeypatch.setenv("RAW_PUBLIC_BASE_URL", "https://env.example")
    assert public_base_url("https://config.example") == "https://env.example"


# --- Properties -----------------------------------------------------------------------------

SIGNING_SCHEMES = ["standard-webhooks", "github", "twilio"]
text_secrets = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)


@st.composite
def secret_for(draw: st.DrawFn, name: str) -> str:
    if name == "standard-webhooks":
        key = draw(st.binary(min_size=1, max_size=64))
        return "whsec_" + base64.b64encode(key).decode()
    return draw(text_secrets.filter(str.strip))


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    name=st.sampled_from([*SIGNING_SCHEMES, "bearer"]),
    body=st.binary(min_size=1, max_size=300),
)
def test_property_sign_then_verify_always_passes(
    data: st.DataObject, name: str, body: bytes
) -> None:
    scheme = get_scheme(name)
    secret = data.draw(secret_for(name))
    if name == "bearer":
        secret = "".join(c for c in secret if not c.isspace()) or "x"
    verify(scheme, signed_with(scheme, secret, body=body), [secret])


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(), name=st.sampled_from(SIGNING_SCHEMES), body=st.binary(min_size=1, max_size=300)
)
def test_property_any_single_byte_change_to_the_body_fails(
    data: st.DataObject, name: str, body: bytes
) -> None:
    scheme = get_scheme(name)
    secret = data.draw(secret_for(name))
    signed = signed_with(scheme, secret, body=body)
    index = data.draw(st.integers(0, len(body) - 1))
    flip = data.draw(st.integers(1, 255))
    changed = bytearray(body)
    changed[index] ^= flip
    with pytest.raises(SignatureError):
        verify(scheme, post(signed.url, dict(signed.headers), bytes(changed)), [secret])


@settings(max_examples=40, deadline=None)
@given(
    fields=st.dictionaries(
        st.text(
            st.characters(codec="utf-8", blacklist_categories=("Cs", "Cc")), min_size=1, max_size=10
        ),
        st.text(st.characters(codec="utf-8", blacklist_categories=("Cs", "Cc")), max_size=20),
        max_size=6,
    ),
    token=text_secrets,
)
def test_property_twilio_form_signatures_agree_with_the_reference(
    fields: dict[str, str], token: str
) -> None:
    url = "https://example.com/twilio?candidate=7"
    ours = TwilioScheme().sign(b"", token, url=url, form=fields, now=NOW, delivery_id="d")
    assert ours["X-Twilio-Signature"] == RequestValidator(token).compute_signature(url, fields)
    request = post(url, {**ours, "Content-Type": FORM}, urlencode(fields).encode())
    verify(twilio, request, [token])
