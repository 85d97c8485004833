from __future__ import annotations

import pytest

from slagate.sla.formatting import clock, floor_ratio, number, places_of, printable, shorten


@pytest.mark.parametrize(
    ("numerator", "denominator", "places", "expected"),
    [
        pytest.param(99_900, 1000, 3, 99.9, id="exact-99.9-not-99.899"),
        pytest.param(100 * 249_749, 250_000, 3, 99.899, id="rounded-down"),
        pytest.param(2, 3, 2, 0.66, id="two-thirds"),
        pytest.param(100, 1, 3, 100.0, id="whole"),
    ],
)
def test_floor_ratio(numerator: int, denominator: int, places: int, expected: float) -> None:
    assert floor_ratio(numerator, denominator, places) == expected


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        pytest.param(99.9, 3, "99.9", id="trailing-zeros"),
        pytest.param(100.0, 3, "100", id="whole"),
        pytest.param(4900.0, 2, "4,900", id="thousands"),
        pytest.param(0.1234567, 6, "0.123457", id="places"),
    ],
)
def test_number(value: float, places: int, expected: str) -> None:
    assert number(value, places) == expected


def test_places_of_threshold() -> None:
    assert (places_of(99.9, 3), places_of(99.9999, 3), places_of(150, 2)) == (3, 4, 2)


def test_clock_is_utc_time_of_day() -> None:
    assert clock(1_700_000_003_120) == "22:13:23.120"
    assert clock(1_700_000_003_120, ms=False) == "22:13:23"


def test_shorten_flattens_and_cuts() -> None:
    assert shorten("a\n  b", 10) == "a b"
    assert shorten("abcdefghijk", 8) == "abcde..."


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        pytest.param("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m", id="ansi-colour"),
        pytest.param(
            "\x1b]8;;http://x/\x07a\x1b]8;;\x07",
            "\\x1b]8;;http://x/\\x07a\\x1b]8;;\\x07",
            id="osc-link",
        ),
        pytest.param("a\x00b\x7fc\x9bd", "a\\x00b\\x7fc\\x9bd", id="nul-del-csi"),
        pytest.param("over\rwrite\x08", "over\\x0dwrite\\x08", id="cursor-moves"),
        pytest.param("\u202eevil\u2066", "\\u202eevil\\u2066", id="bidi-overrides"),
        pytest.param("line\n\tindented", "line\n\tindented", id="newline-and-tab-kept"),
        pytest.param(
            "<b>[bold]&amp; \u00e9\u4e2d", "<b>[bold]&amp; \u00e9\u4e2d", id="printable-kept"
        ),
    ],
)
def test_printable_escapes_control_characters_only(text: str, shown: str) -> None:
    assert printable(text) == shown
