import pytest

from buergerassistent.signing import InvalidToken, sign, verify

KEY = b"k" * 32


def test_round_trip_keeps_claims():
    token = sign({"sub": "conv-1"}, "login-ticket", 60, key=KEY)
    assert verify(token, "login-ticket", key=KEY)["sub"] == "conv-1"


def test_other_purpose_is_refused():
    token = sign({"sub": "conv-1"}, "login-ticket", 60, key=KEY)
    with pytest.raises(InvalidToken):
        verify(token, "webchat-session", key=KEY)


def test_expired_and_forged_tokens_are_refused():
    expired = sign({"sub": "c"}, "p", -1, key=KEY)
    with pytest.raises(InvalidToken):
        verify(expired, "p", key=KEY)
    forged = sign({"sub": "c"}, "p", 60, key=b"x" * 32)
    with pytest.raises(InvalidToken):
        verify(forged, "p", key=KEY)
    token = sign({"sub": "c"}, "p", 60, key=KEY)
    head, body, sig = token.split(".")
    with pytest.raises(InvalidToken):
        verify(f"{head}.{body}.{sig[:-2]}xx", "p", key=KEY)


def test_undecodable_token_is_refused_not_an_error():
    # Found by tests/e2e/test_fuzz_http.py: a header with bytes that are not UTF-8 reaches us
    # as lone surrogates; PyJWT raised UnicodeEncodeError and the upload route answered 500.
    with pytest.raises(InvalidToken):
        verify("\udc80abc", "p", key=KEY)
