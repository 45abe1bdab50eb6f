"""APOP digests (RFC 1939 section 7's own example) and greeting timestamps."""

from __future__ import annotations

import pytest

from gateway.pop3 import apop_digest, apop_digest_matches, make_greeting_timestamp


def test_rfc_1939_example_digest() -> None:
    timestamp = "<1896.697170952@dbc.mtview.ca.us>"
    assert apop_digest(timestamp, "tanstaaf") == "c4c9334bac560ecc979e58001b3e22fb"
    assert apop_digest_matches(timestamp, "tanstaaf", "C4C9334BAC560ECC979E58001B3E22FB")
    assert not apop_digest_matches(timestamp, "tanstaaF", "c4c9334bac560ecc979e58001b3e22fb")


def test_greeting_timestamp_shape() -> None:
    assert make_greeting_timestamp(42, 7, "9f3a", "pop.aduanas.gob.pe") == (
        "<42.7.9f3a@pop.aduanas.gob.pe>"
    )
    with pytest.raises(ValueError):
        make_greeting_timestamp(42, 7, "9f3a", "bad host>")
