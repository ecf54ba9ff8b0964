r"""Check the built book in a real browser (headless Chromium).

Serves ``book/_build/html`` on 127.0.0.1 (a free port), opens each page in headless Chromium,
saves screenshots under ``book/_build/screenshots/`` and checks, from the DOM as Chromium
rendered it, that the page really rendered:

* the page's title and first heading are there;
* every figure the build put in the page's cell outputs is in the rendered page as an
  ``<img>``, and is served as a real image; a notebook page named on the command line (or
  the default page) must show at least one; with ``--all``, a notebook page whose build has
  no figure at all (tables only) passes with a note;
* no cell output shows a traceback, or a figure that was printed instead of drawn
  (``<Figure size 840x360 with 2 Axes>``: a notebook that lost ``%matplotlib inline``).

Then it drives each page in Chromium through chromedriver (selenium), OFFLINE: every host
name but 127.0.0.1 fails to resolve, so anything the page would fetch from the internet fails
and is reported. On every page it checks that

* the math is typeset: every math element the build wrote holds a MathJax container, MathJax
  reports no error, and no raw TeX is left in the text outside code (``\(``, ``\[``, ``$$``,
  a ``$`` before a letter, or a TeX command such as ``\tau``);
* no displayed formula is wider than the text column (the reader would have to scroll it);
* no figure is wider than the text column: every image in a cell output is shown at the width
  it was drawn for (a retina PNG at half its pixels), and that width fits the column the
  page's paragraphs take (at the 1280-pixel window of the check); a wider figure would be
  shrunk, its fonts with it; and a table wider than the column scrolls sideways instead of
  losing its last columns;
* every widget the build saved renders (no "Error displaying widget");
* no JavaScript error is logged: console errors, uncaught exceptions and failed loads (the
  browser's own request for ``/favicon.ico`` aside).

On chapter 1 it plays the game to the end (clicking the choice buttons), checking that each
click adds a trial to the history and that the end shows the player's stay probabilities; on
chapter 4 it moves the cued-trial slider and checks that the view changes. Screenshots
``P-game.png`` and ``P-slider.png`` show the result.

Usage, from the repository root, after ``jupyter-book build book``::

    python scripts/check_book_in_browser.py                   # chapter 1
    python scripts/check_book_in_browser.py --all             # every page of the book
    python scripts/check_book_in_browser.py --all --no-screenshots   # the same checks, faster
    python scripts/check_book_in_browser.py notebooks/02_a2c_lstm.html intro.html

For each page ``P`` it writes ``P.png`` (the first 1280 x 2000 pixels, what a reader sees
first) and ``P-1.png``, ``P-2.png``, ... (the whole page in tiles, to look through).
Exit status: 0 when every check passes, 1 when one fails, 2 when it cannot run (no build,
no browser). Chromium missing: run as root, it installs Debian's ``chromium`` package.

MathJax and the widget JavaScript come from the site itself when the book was built after
``npm ci --prefix book``; a book built without it loads them from CDNs, and this check then
fails (offline, the math stays raw and the widgets blank). Needs ``selenium`` (pinned in
requirements.txt) and a chromedriver matching Chromium (Debian's ``chromium-driver``).
"""

from __future__ import annotations

import argparse
import html
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PAGE = "notebooks/01_two_step_task.html"
GAME_PAGE = "notebooks/01_two_step_task.html"
SLIDER_PAGE = "notebooks/04_episodic_two_step_task.html"
GAME_TRIALS_MAX = 200  # clicks before giving up on reaching the end of a game
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars",
    # offline: no host name resolves except the local server's address
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
WIDTH, FIRST_SCREEN, FULL_HEIGHT, TILE = 1280, 2000, 24000, 2000
BLANK_RUN = 1200  # px of blank content column taken as the end of the page
IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"<?xml", b"<svg", b"GIF8")
FIGURE_REPR = re.compile(r"&lt;(?:matplotlib\.figure\.)?Figure (?:size \d+x\d+ with \d+ Axes|at 0x)")


class CannotRun(Exception):
    """The check could not run at all (exit status 2)."""


def find_chromium() -> str:
    """The Chromium executable, installing Debian's package first if needed (as root)."""
    names = ("chromium", "chromium-browser", "google-chrome")
    found = next((shutil.which(name) for name in names if shutil.which(name)), None)
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise CannotRun("no Chromium found; install it with: apt-get install -y chromium")
    print("installing chromium (apt-get install -y chromium) ...", flush=True)
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.STDOUT}
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(["apt-get", "install", "-y", "chromium"], env=env, **quiet).returncode:
        subprocess.run(["apt-get", "update"], env=env, **quiet)
        subprocess.run(["apt-get", "install", "-y", "chromium"], env=env, check=True, **quiet)
    found = next((shutil.which(name) for name in names if shutil.which(name)), None)
    if not found:
        raise CannotRun("apt-get installed chromium, but no executable is on PATH")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str, timeout: float = 10) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


class Server:
    """``python -m http.server`` on 127.0.0.1, serving ``folder``, for a ``with`` block."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"

    def __enter__(self) -> Server:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(self.port), "--bind", "127.0.0.1",
             "--directory", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                fetch(self.url, timeout=1)
                return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.process.kill()
                    raise CannotRun(f"the HTTP server on port {self.port} did not start") from None
                time.sleep(0.2)

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def chromium(browser: str, url: str, *extra: str, timeout: int = 180) -> subprocess.CompletedProcess:
    """One headless Chromium run on ``url`` with a fresh, throw-away profile."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        command = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                   "--virtual-time-budget=10000", *extra, url]
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise CannotRun(f"Chromium did not finish within {timeout} s on {url}") from None


class OutputImages(HTMLParser):
    """Collects the page title, the first heading's text, and the ``<img>`` sources and
    tracebacks inside notebook cell outputs (elements with class ``cell_output``)."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
            "track", "wbr"}

    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, bool]] = []  # (tag, inside a cell output)
        self.images: list[str] = []
        self.tracebacks = 0
        self.title, self.heading = "", ""
        self._in_title = self._in_h1 = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        inside = (bool(self.stack) and self.stack[-1][1]) or "cell_output" in classes
        if inside and tag == "img" and attributes.get("src"):
            self.images.append(attributes["src"])
        if inside and "traceback" in classes:
            self.tracebacks += 1
        self._in_title |= tag == "title" and not self.title
        self._in_h1 |= tag == "h1" and not self.heading
        if tag not in self.VOID:
            self.stack.append((tag, inside))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break
        if tag == "title":
            self._in_title = False
        if tag == "h1":
            self._in_h1 = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        if self._in_h1:
            self.heading += data


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(text)).replace("¶", "").replace("#", "").strip()


def content_height(page) -> int:
    """Where the page's content ends in a screenshot taken in a very tall window.

    The theme stretches the page to the window (sidebar rules, footer at the bottom), so
    look at the content column only and cut at the first long blank stretch.
    """
    import numpy as np

    pixels = np.asarray(page.convert("L"))[:, int(0.22 * WIDTH):int(0.78 * WIDTH)]
    inked = np.flatnonzero((pixels < 245).any(axis=1))
    if inked.size == 0:
        return page.height
    gaps = np.flatnonzero(np.diff(inked) > BLANK_RUN)
    end = inked[gaps[0]] if gaps.size else inked[-1]
    return min(page.height, int(end) + 60)


def save_screenshots(browser: str, url: str, folder: Path, name: str) -> list[Path]:
    """The first screen, and the whole page cut into tiles (blank bottom trimmed)."""
    from PIL import Image

    first = folder / f"{name}.png"
    chromium(browser, url, f"--screenshot={first}", f"--window-size={WIDTH},{FIRST_SCREEN}")
    full = folder / f"{name}-full.png"
    chromium(browser, url, f"--screenshot={full}", f"--window-size={WIDTH},{FULL_HEIGHT}")
    if not first.is_file() or not full.is_file():
        raise CannotRun(f"Chromium wrote no screenshot of {url}")
    for old in folder.glob(f"{name}-[0-9]*.png"):
        old.unlink()
    with Image.open(full) as image:
        page = image.convert("RGB")
    height = content_height(page)
    if height >= page.height - BLANK_RUN:
        print(f"note: {url} may be longer than {FULL_HEIGHT} px; the tiles stop there")
    tiles = []
    for index, top in enumerate(range(0, height, TILE), start=1):
        tile = folder / f"{name}-{index}.png"
        page.crop((0, top, WIDTH, min(top + TILE, height))).save(tile)
        tiles.append(tile)
    full.unlink()
    return [first, *tiles]


def check_page(browser: str, server: Server, build: Path, page: str, shots: Path | None,
               need_figure: bool = True) -> list[str]:
    """Screenshots of one page (none when ``shots`` is None), and what is wrong with it
    (empty when nothing).

    ``need_figure``: a notebook page must show at least one figure even if its build has none.
    """
    problems = []
    source = build / page
    if not source.is_file():
        return [f"{page}: not in the build ({source} is missing)"]
    url = urljoin(server.url, page)
    built = OutputImages()
    built.feed(source.read_text(encoding="utf-8"))

    dom = chromium(browser, url, "--dump-dom").stdout
    rendered = OutputImages()
    rendered.feed(dom)
    if not dom.strip():
        return [f"{page}: Chromium returned an empty DOM"]
    if squash(built.title) not in squash(rendered.title):
        problems.append(f"{page}: title {squash(built.title)!r} missing from the rendered page "
                        f"(got {squash(rendered.title)!r})")
    if not squash(built.heading) or squash(built.heading) != squash(rendered.heading):
        problems.append(f"{page}: first heading {squash(built.heading)!r} not rendered "
                        f"(got {squash(rendered.heading)!r})")
    if rendered.tracebacks:
        problems.append(f"{page}: {rendered.tracebacks} cell output(s) show a traceback")
    printed = len(FIGURE_REPR.findall(dom))
    if printed:
        problems.append(f"{page}: {printed} figure(s) printed as text instead of drawn "
                        "(is %matplotlib inline missing?)")
    if len(rendered.images) < len(built.images):
        problems.append(f"{page}: {len(built.images)} figure(s) in the build, only "
                        f"{len(rendered.images)} in the rendered page")
    if page.startswith("notebooks/") and not rendered.images:
        if need_figure or built.images:
            problems.append(f"{page}: no <img> in the notebook's cell outputs "
                            "(no figure rendered)")
        else:
            print(f"note: {page} has no figure in its build (tables or text only)")
    for src in dict.fromkeys(rendered.images):
        if src.startswith("data:"):
            continue
        try:
            body = fetch(urljoin(url, src))
        except (urllib.error.URLError, ConnectionError, TimeoutError) as err:
            problems.append(f"{page}: figure {src} not served ({err})")
            continue
        if len(body) < 1000 or not body.lstrip().startswith(IMAGE_SIGNATURES):
            problems.append(f"{page}: figure {src} is not an image ({len(body)} bytes)")

    name = page.removesuffix(".html").replace("/", "__")
    summary = f"{page}: title {squash(rendered.title)!r}, {len(rendered.images)} figure(s) in outputs"
    if shots is None:
        print(summary)
        return problems
    files = save_screenshots(browser, url, shots, name)
    print(f"{summary}, {len(files) - 1} tile(s); screenshots: {files[0]} "
          f"(and {name}-1.png ... {name}-{len(files) - 1}.png)")
    return problems


# ------------------------------------------------------------------ live checks (selenium)
UNTYPESET_MATH = """
const math = [...document.querySelectorAll('span.math, div.math')];
const raw = math.filter(e => !e.querySelector('mjx-container')).length;
const main = (document.querySelector('main') || document.body).cloneNode(true);
main.querySelectorAll('pre, code, script, style, mjx-container').forEach(e => e.remove());
const text = main.textContent;
const leftovers = ['\\\\(', '\\\\[', '$$'].filter(mark => text.includes(mark));
const tex = (text.match(/\\\\[a-zA-Z]{2,}|\\$[\\\\a-zA-Z{]/g) || []).slice(0, 5);
const errors = document.querySelectorAll('mjx-merror, [data-mjx-error]').length;
return {math: math.length, containers: document.querySelectorAll('mjx-container').length,
        raw, leftovers, tex, errors};
"""
FIGURE_WIDTHS = """
const article = document.querySelector('article') || document.querySelector('main') || document.body;
const paragraphs = [...article.querySelectorAll('p')].filter(p => !p.closest('.cell_output'));
const column = Math.max(0, ...paragraphs.map(p => p.getBoundingClientRect().width));
const figures = [...document.querySelectorAll('.cell_output img')].map((img, index) => ({
  index, src: (img.getAttribute('src') || '').slice(0, 60),
  drawn: parseFloat(img.style.width) || parseFloat(img.getAttribute('width')) || img.naturalWidth,
  shown: img.getBoundingClientRect().width}));
const tables = [...document.querySelectorAll('.cell_output table')].map((table, index) => {
  const box = table.closest('.output') || table.parentElement;
  const overflow = getComputedStyle(box).overflowX;
  return {index, width: table.scrollWidth, box: box.clientWidth,
          scrolls: (overflow === 'auto' || overflow === 'scroll') && box.scrollWidth >= table.scrollWidth};
});
const formulas = [...document.querySelectorAll('mjx-container[display="true"]')].map(
  (container, index) => ({index,
    width: (container.querySelector('mjx-math') || container).getBoundingClientRect().width}));
return {column, figures, tables, formulas};
"""
WIDGET_VIEWS = """
const views = [...document.querySelectorAll(
  'script[type="application/vnd.jupyter.widget-view+json"]')];
const rendered = views.filter(s => s.parentElement.querySelector('.widget-subarea .lm-Widget'));
return {views: views.length, rendered: rendered.length,
        errors: document.body.innerText.split('Error displaying widget').length - 1};
"""
MATHJAX_DONE = """
const done = arguments[arguments.length - 1];
const wait = (tries) => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    MathJax.startup.promise.then(() => done(true), () => done(false));
  } else if (tries > 0) { setTimeout(() => wait(tries - 1), 200); } else { done(null); }
};
wait(50);
"""


def start_driver(browser: str, profile: str):
    """Headless Chromium under chromedriver, offline, logging the console."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        raise CannotRun("selenium is not installed: pip install selenium==4.51.0") from None
    driver_path = shutil.which("chromedriver")
    if not driver_path:
        raise CannotRun("no chromedriver found; install it with: apt-get install -y chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={WIDTH},{FIRST_SCREEN}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(driver_path), options=options)
    except Exception as err:  # selenium's errors are many; any of them means no browser
        raise CannotRun(f"chromedriver could not start Chromium: {str(err).splitlines()[0]}") from None
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(30)
    return driver


def wait_for(condition, timeout: float = 20, step: float = 0.2):
    """``condition()``'s first true value within ``timeout`` seconds, else its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


def javascript_errors(driver) -> list[str]:
    """Console errors, uncaught exceptions and failed loads logged since the last call."""
    errors = []
    for entry in driver.get_log("browser"):
        message = entry.get("message", "")
        if entry.get("level") == "SEVERE" and "/favicon.ico" not in message:
            errors.append(message[:300])
    return errors


def play_game(driver, page: str, shots: Path, name: str) -> list[str]:
    """Click through chapter 1's game; problems (empty when it plays to the end)."""
    from selenium.webdriver.common.by import By

    game = wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, ".twostep-game"))
    if not game:
        return [f"{page}: the game did not render (no .twostep-game element)"]
    buttons = game[0].find_elements(By.CSS_SELECTOR, "button.twostep-game-choice")
    status = game[0].find_element(By.CSS_SELECTOR, ".twostep-game-status")
    history = game[0].find_element(By.CSS_SELECTOR, ".twostep-game-history")
    if len(buttons) != 2:
        return [f"{page}: the game shows {len(buttons)} choice buttons, not 2"]
    problems, clicks, before = [], 0, status.text
    while not status.text.startswith("Done") and clicks < GAME_TRIALS_MAX:
        buttons[(clicks // 3) % 2].click()  # three of one choice, then three of the other
        clicks += 1
        trials = len(history.find_elements(By.TAG_NAME, "li"))
        if trials != clicks:
            problems.append(f"{page}: after {clicks} click(s) the history shows {trials} trial(s)")
            break
        if clicks == 1 and status.text == before:
            problems.append(f"{page}: the first click did not change the game's status line")
    result = game[0].find_element(By.CSS_SELECTOR, ".twostep-game-result")
    bars = result.find_elements(By.CSS_SELECTOR, "svg rect")
    if not status.text.startswith("Done"):
        problems.append(f"{page}: no end of game after {clicks} clicks (status {status.text!r})")
    elif "stay probabilities" not in result.text or not bars:
        problems.append(f"{page}: the game ended without showing stay probabilities")
    if not any(button.get_attribute("disabled") for button in buttons):
        problems.append(f"{page}: the choice buttons stay enabled after the game ended")
    driver.execute_script("arguments[0].scrollIntoView()", game[0])
    driver.save_screenshot(str(shots / f"{name}-game.png"))
    print(f"{page}: played {clicks} trials; {status.text!r}; {len(bars)} stay bar(s); "
          f"screenshot {shots / f'{name}-game.png'}")
    return problems


def move_slider(driver, page: str, shots: Path, name: str) -> list[str]:
    """Move chapter 4's cued-trial slider; problems (empty when the view follows it)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    sliders = wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, "input.twostep-frames-slider"))
    if not sliders:
        return [f"{page}: the cued-trial slider did not render"]
    slider = sliders[0]
    view = driver.find_element(By.CSS_SELECTOR, ".twostep-frames-view")
    first_value, first_view = slider.get_attribute("value"), view.get_attribute("innerHTML")
    slider.send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)
    value, shown = slider.get_attribute("value"), view.get_attribute("innerHTML")
    driver.execute_script("arguments[0].scrollIntoView()", slider)
    driver.save_screenshot(str(shots / f"{name}-slider.png"))
    print(f"{page}: slider moved from {first_value} to {value}; "
          f"screenshot {shots / f'{name}-slider.png'}")
    if value == first_value or shown == first_view or "<img" not in shown:
        return [f"{page}: moving the slider ({first_value} -> {value}) did not change the view"]
    return []


def figure_widths(driver, page: str) -> list[str]:
    """Figures drawn wider than the text column, or shown smaller than drawn."""
    found = driver.execute_script(FIGURE_WIDTHS)
    column, problems = found["column"], []
    for figure in found["figures"]:
        if column and figure["drawn"] > column + 1:
            problems.append(f"{page}: figure {figure['index'] + 1} is drawn {figure['drawn']:.0f} px "
                            f"wide, wider than the text column ({column:.0f} px): "
                            f"{figure['src']}")
        elif figure["shown"] + 1 < figure["drawn"]:
            problems.append(f"{page}: figure {figure['index'] + 1} is shown at {figure['shown']:.0f} "
                            f"px, smaller than drawn ({figure['drawn']:.0f} px)")
    for table in found["tables"]:
        if table["width"] > column + 1 and not table["scrolls"]:
            problems.append(f"{page}: table {table['index'] + 1} is {table['width']} px wide, wider "
                            f"than the text column ({column:.0f} px), and does not scroll: its "
                            "last columns are cut off")
    for formula in found["formulas"]:
        if column and formula["width"] > column + 1:
            problems.append(f"{page}: displayed formula {formula['index'] + 1} is "
                            f"{formula['width']:.0f} px wide, wider than the text column "
                            f"({column:.0f} px): break it over lines (aligned)")
    widest = max((f["drawn"] for f in found["figures"]), default=0)
    wide = sum(table["width"] > column + 1 for table in found["tables"])
    print(f"{page}: {len(found['figures'])} figure(s), the widest {widest:.0f} px; text column "
          f"{column:.0f} px; {len(found['tables'])} table(s), {wide} wider than it (scrolling)")
    return problems


def check_live(driver, server: Server, page: str, shots: Path) -> list[str]:
    """Math, widgets, the game or slider where the page has one, and JavaScript errors."""
    url = urljoin(server.url, page)
    driver.get(url)
    mathjax = driver.execute_async_script(MATHJAX_DONE)
    math = driver.execute_script(UNTYPESET_MATH)
    problems = []
    if math["math"] and mathjax is None:
        problems.append(f"{page}: {math['math']} math element(s) but MathJax never started")
    if math["raw"] or math["leftovers"]:
        problems.append(f"{page}: math not typeset: {math['raw']} of {math['math']} math element(s) "
                        f"raw; raw TeX delimiters in the text: {math['leftovers']}")
    if math["tex"] or math["errors"]:
        problems.append(f"{page}: raw TeX shown: {math['tex']} in the text, {math['errors']} "
                        "MathJax error(s)")
    problems += figure_widths(driver, page)
    widgets = wait_for(lambda: (lambda w: w if w["rendered"] == w["views"] else None)(
        driver.execute_script(WIDGET_VIEWS))) or driver.execute_script(WIDGET_VIEWS)
    if widgets["rendered"] < widgets["views"] or widgets["errors"]:
        problems.append(f"{page}: {widgets['rendered']} of {widgets['views']} widget(s) rendered, "
                        f"{widgets['errors']} 'Error displaying widget'")
    name = page.removesuffix(".html").replace("/", "__")
    if page == GAME_PAGE:
        problems += play_game(driver, page, shots, name)
    if page == SLIDER_PAGE:
        problems += move_slider(driver, page, shots, name)
    problems += [f"{page}: JavaScript error: {error}" for error in javascript_errors(driver)]
    print(f"{page}: {math['containers']} typeset formula(s) for {math['math']} math element(s), "
          f"{widgets['rendered']} of {widgets['views']} widget(s) rendered")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", nargs="*", help=f"pages relative to the build folder "
                        f"(default: {DEFAULT_PAGE})")
    parser.add_argument("--all", action="store_true",
                        help="the intro, every notebook page and every other page of the book")
    parser.add_argument("--build", type=Path, default=ROOT / "book" / "_build" / "html",
                        help="the built HTML (default: book/_build/html)")
    parser.add_argument("--out", type=Path, default=ROOT / "book" / "_build" / "screenshots",
                        help="where screenshots go (default: book/_build/screenshots)")
    parser.add_argument("--no-screenshots", action="store_true",
                        help="check the pages without saving the page screenshots (faster; "
                        "the game and slider screenshots are still saved)")
    args = parser.parse_args(argv)
    try:
        if not (args.build / "index.html").is_file():
            raise CannotRun(f"no built book at {args.build}: run  jupyter-book build book  first")
        named = list(args.pages) or ([] if args.all else [DEFAULT_PAGE])
        pages = list(named)
        if args.all:
            # the intro, every chapter, and the other pages of the table of contents (the
            # glossary, the API reference, ...), not Sphinx's generated index and search pages
            generated = {"index.html", "genindex.html", "search.html", "py-modindex.html"}
            others = [p for p in [*args.build.glob("*.html"), *args.build.glob("api/*.html")]
                      if p.name not in generated and p.name != "intro.html"]
            pages += ["intro.html"] + sorted(
                str(p.relative_to(args.build)) for p in (args.build / "notebooks").glob("*.html")
            ) + sorted(str(p.relative_to(args.build)) for p in others)
        pages = list(dict.fromkeys(pages))
        browser = find_chromium()
        args.out.mkdir(parents=True, exist_ok=True)
        problems = []
        with Server(args.build) as server, tempfile.TemporaryDirectory(prefix="chromium-") as profile:
            for page in pages:
                problems += check_page(browser, server, args.build, page,
                                       None if args.no_screenshots else args.out,
                                       need_figure=page in named)
            driver = start_driver(browser, profile)
            try:
                for page in pages:
                    if (args.build / page).is_file():
                        problems += check_live(driver, server, page, args.out)
            finally:
                driver.quit()
    except CannotRun as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for problem in problems:
        print(f"FAIL {problem}", file=sys.stderr)
    print("all pages rendered" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
