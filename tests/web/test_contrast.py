"""WCAG 2.1 AA contrast of the pages' colours, computed from the stylesheet and the chart code.

Text needs 4.5:1 against what it is drawn on (1.4.3); graphical objects such as chart bars,
lines and input borders need 3:1 (1.4.11). Colours are read from `app.css` itself, so a new or
changed colour is checked without touching this file.
"""

import re
from pathlib import Path

import pytest

from app.web import charts

CSS = (Path(__file__).resolve().parents[2] / "app" / "web" / "static" / "app.css").read_text()
HEX = re.compile(r"#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")


def luminance(colour: str) -> float:
    """Relative luminance as WCAG 2.1 defines it."""
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def variables() -> dict[str, str]:
    root = re.search(r":root\s*\{([^}]*)\}", CSS)
    assert root, "app.css defines its colours in :root"
    return dict(re.findall(r"(--[\w-]+)\s*:\s*(#[0-9a-fA-F]+)", root.group(1)))


def resolve(value: str) -> str | None:
    value = value.strip()
    named = {"#fff": "#ffffff", "white": "#ffffff", "black": "#000000"}
    if match := re.fullmatch(r"var\((--[\w-]+)\)", value):
        return variables()[match.group(1)]
    if HEX.fullmatch(value) or value in named:
        return named.get(value, value)
    return None  # none, inherit, currentColor: nothing of its own to check


def rules() -> list[tuple[str, dict[str, str]]]:
    """(selector, declarations) of every rule, media queries flattened."""
    body = re.sub(r"/\*.*?\*/", "", CSS, flags=re.S)
    found = []
    for selector, block in re.findall(r"([^{}]+)\{([^{}]*)\}", body):
        declarations = {}
        for declaration in block.split(";"):
            if ":" in declaration:
                name, value = declaration.split(":", 1)
                declarations[name.strip()] = value.strip()
        found.append((selector.strip(), declarations))
    return found


def text_colours() -> set[str]:
    return {c for _, d in rules() if (c := resolve(d.get("color", "")))}


def backgrounds() -> set[str]:
    colours = {"#ffffff"}  # the page
    for _, declarations in rules():
        for name in ("background", "background-color"):
            if colour := resolve(declarations.get(name, "")):
                colours.add(colour)
    return colours


def test_the_stylesheet_is_read():
    assert len(rules()) > 30
    assert len(text_colours()) >= 4
    assert len(backgrounds()) >= 5


@pytest.mark.parametrize(
    ("foreground", "background", "ratio"),
    [("#000000", "#ffffff", 21.0), ("#767676", "#ffffff", 4.54), ("#ffffff", "#ffffff", 1.0)],
)
def test_the_contrast_formula_gives_the_known_ratios(foreground, background, ratio):
    assert contrast(foreground, background) == pytest.approx(ratio, abs=0.01)


def test_a_rule_that_sets_text_and_background_has_4_5_to_1():
    for selector, declarations in rules():
        text = resolve(declarations.get("color", ""))
        background = resolve(
            declarations.get("background", declarations.get("background-color", ""))
        )
        if text and background:
            assert contrast(text, background) >= 4.5, (selector, text, background)


def test_dark_text_has_4_5_to_1_on_every_light_background():
    light = {b for b in backgrounds() if luminance(b) > 0.4}
    dark_text = {t for t in text_colours() if luminance(t) <= 0.4}
    assert light and dark_text
    for text in dark_text:
        for background in light:
            assert contrast(text, background) >= 4.5, (text, background)


def test_white_text_has_4_5_to_1_on_every_dark_background():
    dark = {b for b in backgrounds() if luminance(b) <= 0.4}
    assert dark
    for background in dark:
        assert contrast("#ffffff", background) >= 4.5, background


def test_borders_and_chart_marks_have_3_to_1_against_the_page():
    marks = {variables()["--line"], charts.GRID, *charts.SERIES}
    for colour in marks:
        assert contrast(colour, "#ffffff") >= 3.0, colour
    assert contrast(charts.INK, "#ffffff") >= 4.5  # chart labels are text
