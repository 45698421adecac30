"""Focus rings a keyboard user can see: on every screen, each element the Tab key reaches draws a ring whose colour has
at least 3:1 contrast against the surface it is drawn on (WCAG 2.2, 1.4.11 non-text contrast), measured from the
computed styles Chromium applies, the contrast ratio computed here by WCAG's formula."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from playwright.sync_api import Page

from tests.browser.stack import Stack
from tests.browser.student import Student
from tests.browser.test_student_journeys import HANDBOOK, PASSWORD, new_buyer_with_password
from tests.integration.harness import new_sale_id

MINIMUM_CONTRAST = 3.0
# More than any screen has: a Tab loop that never comes back to where it started is itself a failure.
MOST_STOPS = 40

# The focused element's ring as Chromium draws it, and the surfaces it touches: drawn outside the element (a
# non-negative offset) it lies on the nearest ancestor with an opaque background (the page's canvas at worst); drawn
# inside (a negative offset, for an element in a box that clips what overflows) it lies on the element's own
# background and its outer edge meets the ancestor's.
FOCUSED_RING = r"""() => {
  const focused = document.activeElement;
  if (!focused || focused === document.body) return null;
  const opaqueBackground = (from) => {
    for (let surface = from; surface; surface = surface.parentElement) {
      const color = getComputedStyle(surface).backgroundColor;
      if (color !== "transparent" && !color.endsWith(", 0)")) return color;
    }
    return "rgb(255, 255, 255)";
  };
  const style = getComputedStyle(focused);
  const name = focused.getAttribute("aria-label") ?? focused.textContent.replace(/\s+/g, " ").trim();
  return {
    element: `${focused.tagName.toLowerCase()} "${name}"`,
    style: style.outlineStyle,
    width: parseFloat(style.outlineWidth),
    offset: parseFloat(style.outlineOffset),
    ring: style.outlineColor,
    outside: opaqueBackground(focused.parentElement),
    inside: opaqueBackground(focused),
  };
}"""


@dataclass(frozen=True)
class Ring:
    element: str
    style: str
    width: float
    offset: float
    ring: str
    outside: str
    inside: str

    def surfaces(self) -> list[str]:
        """The backgrounds the ring touches."""
        return [self.outside] if self.offset >= 0 else [self.outside, self.inside]

    def contrast(self) -> float:
        """The ring's contrast against the surface it stands out least from."""
        return min(contrast_ratio(rgb(self.ring), rgb(surface)) for surface in self.surfaces())


def rgb(css: str) -> tuple[int, int, int]:
    """``rgb(r, g, b)`` or an opaque ``rgba(...)`` as Chromium computes colours."""
    inside = css[css.index("(") + 1 : css.index(")")]
    parts = [part.strip() for part in inside.split(",")]
    assert len(parts) == 3 or float(parts[3]) == 1.0, f"a translucent colour: {css}"
    return int(parts[0]), int(parts[1]), int(parts[2])


def relative_luminance(color: tuple[int, int, int]) -> float:
    """WCAG 2.2's relative luminance of an sRGB colour."""

    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(channel) for channel in color)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: tuple[int, int, int], second: tuple[int, int, int]) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def rings_reached_by_tab(page: Page) -> list[Ring]:
    """Press Tab from the top of the page until focus comes back round; the ring of every element it stopped on."""
    page.evaluate("document.activeElement?.blur()")
    rings: list[Ring] = []
    for _ in range(MOST_STOPS):
        page.keyboard.press("Tab")
        found: dict[str, Any] | None = page.evaluate(FOCUSED_RING)
        if found is None or (rings and found["element"] == rings[0].element):
            return rings
        rings.append(Ring(**found))
    raise AssertionError(f"Tab never came back round after {MOST_STOPS} stops: {[ring.element for ring in rings]}")


def assert_visible_rings(rings: list[Ring]) -> None:
    for ring in rings:
        assert ring.style != "none", f"no focus ring on {ring.element}: {ring}"
        assert ring.width >= 2, f"a hairline focus ring on {ring.element}: {ring}"
        assert ring.contrast() >= MINIMUM_CONTRAST, f"{ring.element}: {ring.contrast():.2f}:1 ({ring})"


def test_the_contrast_ratio_is_wcags() -> None:
    assert round(contrast_ratio((0, 0, 0), (255, 255, 255)), 2) == 21.0
    assert contrast_ratio((79, 70, 229), (79, 70, 229)) == 1.0
    # The light indigo ring the SPA shipped with, on white: visibly too faint.
    assert round(contrast_ratio(rgb("rgb(165, 180, 252)"), rgb("rgb(255, 255, 255)")), 2) == 1.99


def test_every_focusable_element_shows_a_ring_with_at_least_3_to_1_contrast(stack: Stack, student: Student) -> None:
    buyer = "browser-focus-rings@example.com"
    new_buyer_with_password(stack, student, buyer, new_sale_id())

    screens: dict[str, list[Ring]] = {}
    student.open_app()
    student.expect_signed_out()
    screens["signed out"] = rings_reached_by_tab(student.page)
    student.shots.take(student.page, "signed-out-focus")

    student.sign_in(buyer, PASSWORD)
    student.expect_courses([HANDBOOK])
    screens["my courses"] = rings_reached_by_tab(student.page)
    student.page.keyboard.press("Shift+Tab")
    student.shots.take(student.page, "my-courses-focus")

    student.open_course(HANDBOOK)
    screens["course"] = rings_reached_by_tab(student.page)
    student.shots.take(student.page, "course-focus")

    for screen, rings in screens.items():
        assert rings, f"nothing on the {screen} screen takes the keyboard's focus"
        assert_visible_rings(rings)
    # The screens' own controls were among the stops: the walk really went through each screen.
    stops = " ".join(ring.element for rings in screens.values() for ring in rings)
    assert '"Sign in"' in stops
    assert '"Sign out"' in stops
    assert f'"Open {HANDBOOK}"' in stops
