"""Unit tests for the pure helpers behind the HTTP prober."""

from __future__ import annotations

import errno

import pytest

from collectors._http_body import check_body, compile_json_path, json_equal
from collectors._http_errors import describe_error, shorten


@pytest.mark.parametrize(
    ("left", "right", "equal"),
    [
        (1, 1.0, True),
        (True, True, True),
        (True, 1, False),
        (0, False, False),
        ("1", 1, False),
        ([1, {"a": None}], [1, {"a": None}], True),
        ([1, 2], [1, 2, 3], False),
        ({"a": 1}, {"a": 1, "b": 2}, False),
        ({"a": [True]}, {"a": [1]}, False),
    ],
)
def test_json_values_compare_by_json_semantics(left: object, right: object, equal: bool) -> None:
    assert json_equal(left, right) is equal
    assert json_equal(right, left) is equal


def test_it_compiles_each_json_path_once() -> None:
    path = "$.only_used_by_this_test"
    before = compile_json_path.cache_info()

    for _ in range(5):
        assert (
            check_body('{"only_used_by_this_test": 1}', contains=None, json_path=path, equals=1)
            is None
        )

    after = compile_json_path.cache_info()
    assert after.misses == before.misses + 1


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (TimeoutError(), "timeout"),
        (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), "connection refused"),
        (ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"), "connection reset"),
        (OSError(errno.EHOSTUNREACH, "No route to host"), "host unreachable"),
        (RuntimeError("boom"), "error: RuntimeError: boom"),
    ],
)
def test_errors_become_short_reasons(error: Exception, reason: str) -> None:
    assert describe_error(error) == reason


def test_a_reason_is_never_long_or_multiline() -> None:
    reason = describe_error(ValueError("line one\nline two " + "x" * 1000))

    assert len(reason) <= 200
    assert "\n" not in reason


def test_shorten_keeps_short_text_and_marks_cut_text() -> None:
    assert shorten("  a   b ") == "a b"
    assert shorten("abcdef", 4) == "abc…"
