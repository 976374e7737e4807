"""The one rule for credentials in URLs, on bare URLs and on messages quoting them."""

from __future__ import annotations

import pytest

from core.redaction import redact_credentials


@pytest.mark.parametrize(
    ("shown", "expected"),
    [
        ("https://ops:pw@portal.gov.vn/x", "https://ops:***@portal.gov.vn/x"),
        ("https://ops:p@ss@portal.gov.vn/x", "https://ops:***@portal.gov.vn/x"),
        ("postgresql://mc:pw@127.0.0.1:5432/db", "postgresql://mc:***@127.0.0.1:5432/db"),
        ("//ops:pw@portal.gov.vn/x", "//ops:***@portal.gov.vn/x"),
        ("got 'ftp://ops:pw@f.gov.vn/a', expected", "got 'ftp://ops:***@f.gov.vn/a', expected"),
        ("https://h.gov.vn/x?lang=vi&token=abc#top", "https://h.gov.vn/x?lang=vi&token=***#top"),
        ("https://h.gov.vn/x?api_key=1&Signature=2", "https://h.gov.vn/x?api_key=***&Signature=***"),
        ("host=db user=mc password=pw dbname=mc", "host=db user=mc password=*** dbname=mc"),
    ],
)  # fmt: skip
def test_passwords_and_secret_parameters_are_hidden(shown: str, expected: str) -> None:
    assert redact_credentials(shown) == expected


@pytest.mark.parametrize(
    "shown",
    [
        "https://portal.gov.vn:8443/users/@me",  # an '@' in the path is not userinfo
        "https://ops@portal.gov.vn/",  # a user name alone says which account, no secret
        "https://portal.gov.vn/search?q=a&page=2",
        "status 503",
    ],
)
def test_urls_without_credentials_are_left_alone(shown: str) -> None:
    assert redact_credentials(shown) == shown


def test_redacting_twice_changes_nothing() -> None:
    once = redact_credentials("https://ops:pw@h.gov.vn/?token=t")

    assert redact_credentials(once) == once
