"""Open a rendered notebook page in headless Chromium, offline, and check that its formulas are typeset.

Why it exists: a page exported with nbconvert's defaults loads MathJax from a
CDN, so offline its LaTeX shows raw (``$D(x)$``). ``make docs``
(:mod:`genlab.course.html_docs`) serves MathJax from a wheel instead; this
script proves it in a real browser: Chromium loads the page from the file
system with every network request refused, runs its scripts, and the final
DOM must hold MathJax's output for every formula MathJax found, no MathJax
error, and no ``$...$`` left in the text of a markdown cell.

    python scripts/check_rendered_math.py build/docs/08_evaluating_gans.html

Exit status 0 when the page passes, 1 when it does not, 2 when Chromium is
missing (Debian: ``apt-get install chromium``).
"""

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
# The flags of the brief for a headless run with no background traffic; the last two refuse every
# network request (an unreachable proxy, no name resolution), so the page is checked offline.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND")
RAW_MATH = re.compile(r"\$[^$\s][^$\n]*\$|\\\(|\\\[")


def find_browser():
    return next((shutil.which(name) for name in BROWSERS if shutil.which(name)), None)


def dump_dom(page, browser, budget_ms=20000, timeout=120):
    """The page's DOM after its scripts ran (Chromium's --dump-dom with a virtual-time budget)."""
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", f"--virtual-time-budget={budget_ms}",
                                 "--dump-dom", Path(page).resolve().as_uri()],
                                capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0 or "<html" not in result.stdout:
        raise RuntimeError(f"{browser} failed ({result.returncode}): {result.stderr.strip()[-500:]}")
    return result.stdout


class _Survey(HTMLParser):
    """Counts MathJax's elements and collects the text of markdown cells outside code and scripts."""

    SKIP = {"script", "style", "code", "pre"}
    VOID = {"br", "img", "hr", "input", "meta", "link", "area", "base", "col", "embed", "source", "track", "wbr"}

    def __init__(self):
        super().__init__()
        self.sources = self.typeset = self.errors = 0
        self.stack, self.markdown_text = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "script" and (attrs.get("type") or "").startswith("math/tex"):
            self.sources += 1
        if "MathJax" in classes or "MathJax_Display" in classes or "MathJax_SVG" in classes:
            self.typeset += 1
        if "MathJax_Error" in classes or tag == "merror":
            self.errors += 1
        if tag in self.VOID:
            return
        markdown = "jp-RenderedMarkdown" in classes or (self.stack and self.stack[-1][1])
        skip = tag in self.SKIP or (self.stack and self.stack[-1][2])
        self.stack.append((tag, bool(markdown), bool(skip)))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if self.stack and self.stack[-1][1] and not self.stack[-1][2]:
            self.markdown_text.append(data)


def survey(dom):
    """{sources, typeset, errors, raw}: MathJax's formulas, its outputs, its errors, and raw LaTeX left."""
    parser = _Survey()
    parser.feed(dom)
    text = " ".join(parser.markdown_text)
    if "Math Processing Error" in text:
        parser.errors += 1
    return {"sources": parser.sources, "typeset": parser.typeset, "errors": parser.errors,
            "raw": RAW_MATH.findall(text)}


def check(page, browser=None):
    """(passed, message) for one page."""
    browser = browser or find_browser()
    found = survey(dump_dom(page, browser))
    problems = []
    # A page with no formula at all passes: had MathJax not run on a page with formulas, their
    # raw $...$ would be left in the text (checked below).
    if found["sources"] and found["typeset"] == 0:
        problems.append("no typeset formula (MathJax did not run)")
    elif found["typeset"] < found["sources"]:
        problems.append(f"only {found['typeset']} of {found['sources']} formulas typeset")
    if found["errors"]:
        problems.append(f"{found['errors']} MathJax error(s)")
    if found["raw"]:
        problems.append(f"{len(found['raw'])} raw formula(s) left, e.g. {found['raw'][:3]}")
    summary = (f"{Path(page).name}: {found['sources']} formulas found by MathJax, {found['typeset']} typeset, "
               f"{found['errors']} errors, {len(found['raw'])} raw $...$ left (Chromium, offline)")
    return not problems, summary + ("" if not problems else ": " + "; ".join(problems))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="+", help="rendered pages (make docs writes build/docs/*.html)")
    parser.add_argument("--browser", default=None, help=f"default: the first of {', '.join(BROWSERS)} on PATH")
    args = parser.parse_args(argv)
    browser = args.browser or find_browser()
    if not browser:
        print("check_rendered_math: no Chromium found (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    ok = True
    for page in args.pages:
        passed, message = check(page, browser)
        print(("ok    " if passed else "FAIL  ") + message)
        ok &= passed
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
