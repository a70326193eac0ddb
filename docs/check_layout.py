"""Check the built site's layout in a headless browser (Chromium, through Playwright).

Usage: python docs/check_layout.py [--html=docs/_build/html] [--browser=/usr/bin/chromium]

Every page of the built site is opened at a desktop (1280x800) and a phone (390x844)
width, and checked for what a reader would see:

- no block of code cut off: each ``pre`` is as wide as its content (long lines wrap);
- the page does not scroll sideways (nothing wider than the window);
- no empty "Section Navigation" box (the sidebar heading with no link under it).

Each failure is printed with its page and width; a screenshot of every page at both
widths goes to ``<html>/../layout/``. Exits 1 on a failure, 2 when no browser is found
(Debian: ``apt-get install chromium``; ``pip install playwright``, whose own browsers
need not be downloaded).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}

# What each check reads off the rendered page (the DOM after layout).
_PROBE = """() => {
  const cut = [...document.querySelectorAll('article pre, .bd-article pre')]
    .filter(p => p.scrollWidth > p.clientWidth + 1 && p.offsetParent !== null)
    .map(p => p.textContent.trim().split('\\n')[0].slice(0, 60));
  const wide = document.documentElement.scrollWidth > window.innerWidth + 1;
  const navs = [...document.querySelectorAll('.bd-sidebar-primary nav, nav.bd-docs-nav')];
  const empty = navs.some(n => /Section Navigation/.test(n.textContent)
                                && n.querySelectorAll('a').length === 0
                                && n.offsetParent !== null);
  return {cut, wide, empty};
}"""


def check(html: Path, browser: str) -> list[str]:
    from playwright.sync_api import sync_playwright

    shots = html.parent / "layout"
    shots.mkdir(exist_ok=True)
    pages = sorted(p for p in html.rglob("*.html")
                   if not p.name.startswith(("genindex", "search", "py-modindex"))
                   and "_modules" not in p.parts and "_sources" not in p.parts)
    failures = []
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=browser, headless=True)
        for label, (width, height) in WIDTHS.items():
            page = chromium.new_page(viewport={"width": width, "height": height})
            for path in pages:
                page.goto(path.resolve().as_uri())
                found = page.evaluate(_PROBE)
                name = str(path.relative_to(html))
                failures += [f"{name} ({label}): code cut off: {line!r}" for line in found["cut"]]
                if found["wide"]:
                    failures.append(f"{name} ({label}): the page scrolls sideways")
                if found["empty"]:
                    failures.append(f"{name} ({label}): an empty 'Section Navigation' box")
                page.screenshot(path=shots / f"{name.replace('/', '_')}.{label}.png")
            page.close()
        chromium.close()
    print(f"{len(pages)} pages x {len(WIDTHS)} widths checked; screenshots in {shots}")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--html", type=Path,
                        default=Path(__file__).resolve().parent / "_build" / "html")
    parser.add_argument("--browser", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    try:
        import playwright  # noqa: F401
    except ImportError:
        print("no Playwright: pip install playwright", file=sys.stderr)
        return 2
    if not Path(args.browser).exists():
        print(f"no browser at {args.browser}: apt-get install chromium", file=sys.stderr)
        return 2
    failures = check(args.html, args.browser)
    for line in failures:
        print(line)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
