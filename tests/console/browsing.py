"""Driving the console in Debian's chromium (Playwright): log in, and tell whether an element is on screen."""

from __future__ import annotations

from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
# Where the README's screenshots are kept.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "browser-test-password"
# The widths operators use, with the admin's side menu open.
WIDTHS = [1280, 1440]


def login(browser, base_url: str, username: str, *, width: int = 1400, password: str = PASSWORD):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(f"{base_url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_selector("#console-status")
    return page


# Whether an element is wholly on screen: inside the window's width and inside every ancestor that clips (a
# scrolling changelist, say), so that nothing has to be scrolled sideways to reach it.
FULLY_VISIBLE_JS = """el => {
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) return false;
  if (r.left < 0 || r.right > document.documentElement.clientWidth) return false;
  for (let a = el.parentElement; a; a = a.parentElement) {
    const style = getComputedStyle(a);
    if (style.overflowX === "visible" && style.overflowY === "visible") continue;
    const c = a.getBoundingClientRect();
    if (r.left < c.left - 1 || r.right > c.right + 1) return false;
  }
  return true;
}"""


# Scroll the page up or down to the element, never sideways: Playwright's scroll_into_view_if_needed() also
# scrolls a clipping ancestor (the changelist's .results) to the right, which would hide the very overflow the
# check is for.
SCROLL_TO_VERTICALLY_JS = """el => {
  const r = el.getBoundingClientRect();
  window.scrollBy(0, r.top - window.innerHeight / 3);
}"""


def fully_visible(locator) -> bool:
    locator.evaluate(SCROLL_TO_VERTICALLY_JS)
    return locator.evaluate(FULLY_VISIBLE_JS)


def nav_sidebar_open(page) -> bool:
    return page.locator("#nav-sidebar").is_visible()
