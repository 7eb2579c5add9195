"""`analyze --html`: the page a person looks at, rendered by headless Chromium and checked in
its pixels: the chart is there, and the OOM marker is drawn where the killed test ran."""
import json
import re
import os
import shutil
import subprocess

import pytest

import pngread
from conftest import BIN

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
PYTEST = ["/usr/bin/python3", "-m", "pytest", "-p", "no:cacheprovider", "-q"]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def is_frame(c):
    """The plot's frame (#999), antialiased over two pixels or not: a neutral grey."""
    return c[0] == c[1] == c[2] and 100 <= c[0] <= 230


def screenshot(html, png, tmp_path):
    """Chromium's rendering of html at zoom 1, 1100 px wide. A fresh profile each time.

    Under load a headless screenshot may be taken before every tile of the page is drawn (a
    blank stretch of the chart): every compositor stage runs before the capture, and the
    capture waits on virtual time, which passes only once the page is idle."""
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                    "--run-all-compositor-stages-before-draw", "--virtual-time-budget=10000",
                    "--hide-scrollbars", "--force-device-scale-factor=1",
                    f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1100,900",
                    f"--screenshot={png}", f"file://{html}"],
                   capture_output=True, timeout=180, check=True)
    return pngread.read(str(png))


def is_red(c):
    # the killed test's band (#d62728) or its marker (the same red, 45 % over white)
    return c[0] > 180 and c[1] < 200 and c[2] < 200 and c[0] - c[1] > 50


def plot_frame(img):
    """The chart's frame as (left, right, top, bottom): its two long vertical grey lines, and
    the rows where the left one starts and ends.

    Not its horizontal lines: a killed test at the end of a short run draws its band over more
    than half of the top line, and a table's border below the chart is as long as what is left."""
    width, height = img[0], min(img[1], 500)
    gray = [[is_frame(pngread.pixel(img, x, y)) for x in range(width)] for y in range(height)]
    cols = [x for x in range(width) if sum(gray[y][x] for y in range(height)) >= 200]
    assert cols, "no plot frame in the screenshot"
    runs = [longest_run([gray[y][x] for y in range(height)]) for x in cols[:2]]
    top, bottom = max(runs, key=lambda r: r[1] - r[0])
    assert bottom - top >= 200, ("no plot frame in the screenshot", runs)
    return cols[0], cols[-1], top, bottom


def longest_run(flags, gap=3):
    """(first, last) index of the longest stretch of true values, where a gap of up to `gap`
    false values does not end a stretch (a dashed limit line crosses the frame)."""
    best, start, last = (0, -1), None, None
    for i, flag in enumerate(flags):
        if not flag:
            continue
        if last is None or i - last > gap + 1:
            start = i
        last = i
        if last - start > best[1] - best[0]:
            best = (start, last)
    return best


def red_columns(img, left, right, top, bottom):
    """The plot's columns with red down its height (every 4th row, a few of them at least), not
    on one row: the marker spans the plot, where a line or a neighbour's band may cross it on
    some rows; a red limit line is one row."""
    return [x for x in range(left, right)
            if sum(is_red(pngread.pixel(img, x, y)) for y in range(top + 2, bottom - 1, 4)) >= 5]


@pytest.mark.skipif(not CHROMIUM, reason="Debian's chromium is not installed (make deps)")
def test_the_oom_marker_is_drawn_where_the_killed_test_ran(sandbox, tmp_path):
    run_the_example(sandbox)
    html = tmp_path / "report.html"
    doc = analyze(sandbox.log, html)
    page = html.read_text()
    # Self-contained: nothing fetched from anywhere.
    for word in ("<script", "http://", "https://", "@import", "url("):
        assert word not in page.replace('xmlns="http://www.w3.org/2000/svg"', ""), word
    assert_marker(screenshot(html, tmp_path / "report.png", tmp_path), doc)


@pytest.mark.skipif(not CHROMIUM, reason="Debian's chromium is not installed (make deps)")
def test_a_killed_test_that_ends_a_short_run_is_marked_at_the_right_edge(sandbox, tmp_path):
    # The same run's log, its clock moved so the killed test covers the second half of the run
    # and nothing runs after it: the band ends on the frame and covers half of its top line;
    # the limits' labels, once drawn inside the plot's right end, stay readable beside it.
    run = run_the_example(sandbox)
    edge = tmp_path / "edge.log"
    edge.write_text(end_on_the_kill(run.log_text, "test_ensemble_blowup"))
    html = tmp_path / "edge.html"
    doc = analyze(edge, html)
    (killed,) = doc["oom_killed"]
    assert (killed["start_elapsed"], killed["duration"], doc["time_end"]) == (1.0, 1.0, 2.0)
    img = screenshot(html, tmp_path / "edge.png", tmp_path)
    assert_marker(img, doc)
    text = html.read_text()
    assert {t.split(" limit")[0] for _, _, t in limit_labels(text)} == {"sandbox", "test"}
    assert_limits_beside_the_plot(text, img)


def run_the_example(sandbox):
    """The bundled example under a test limit its blow-up test runs into."""
    run = sandbox.run("--limit", "512M", "--test-limit", "256M", "--", *PYTEST,
                      "etc/example", cwd=TOP)
    assert run.rc == 1, run.stdout + run.stderr
    return run


def analyze(log, html):
    """analyze's JSON document of log, writing its page to html."""
    out = subprocess.run([BIN, "analyze", "--json", "-", "--html", str(html), str(log)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def stamps_at_start(lines):
    """lines with every entry stamped as the first one: the page places an entry by its stamp
    only where the stamp agrees with its Elapsed, which a rewritten Elapsed must decide alone
    (a slow run's real stamps may agree with the figures written in by chance)."""
    first = next((line[:line.index("]") + 1] for line in lines if line.startswith("[")), "")
    return [first + line[line.index("]") + 1:] if line.startswith("[") and "]" in line
            else line for line in lines]


def end_on_the_kill(log, name):
    """log with every Elapsed before the killed test's END at 0.0 s but its START at 1.0 s,
    everything from its END on at 2.0 s, its Duration 1.0 s and every other one 0.0 s (on a
    busy machine a unit's own may reach past 2.0 s)."""
    out, when, in_end = [], "0.0s", False
    for line in log.splitlines(keepends=True):
        if line.startswith("["):
            in_end = name in line and "TEST_END" in line
            if in_end:
                when = "2.0s"
            elif name in line and "TEST_START" in line:
                when = "1.0s"
        if line.startswith("  Elapsed: "):
            line = f"  Elapsed: {when}\n"
        if line.startswith("  Duration: "):
            line = "  Duration: 1.0s\n" if in_end else "  Duration: 0.0s\n"
        out.append(line)
    return "".join(stamps_at_start(out))


def assert_marker(img, doc):
    """The killed test's red is on the chart where it ran, and nowhere else on the chart."""
    (killed,) = doc["oom_killed"]
    left, right, top, bottom = plot_frame(img)
    assert right - left > 500, (left, right)
    # Where the killed test ran on the time axis, and where the red is.
    t0 = killed["start_elapsed"]
    t1 = t0 + killed["duration"]
    red = red_columns(img, left, right, top, bottom)
    page_red = sum(is_red(pngread.pixel(img, x, y))
                   for x in range(img[0]) for y in range(0, img[1], 4))
    assert red, (f"no OOM marker on the chart: plot x {left}..{right}, y {top}..{bottom}, the "
                 f"killed test {t0}..{t1} s of {doc['time_end']} s, {page_red} red pixels in "
                 "every 4th row of the page")
    got = ((min(red) + max(red)) / 2 - left) / (right - left)
    want = (t0 + t1) / 2 / doc["time_end"]
    assert abs(got - want) < 0.05, (got, want, t0, t1, doc["time_end"])
    # Red only there: no other test was killed.
    assert max(red) - min(red) <= (t1 - t0) / doc["time_end"] * (right - left) + 12

def test_a_run_writes_its_page_at_the_end(sandbox, tmp_path):
    # --html on the run itself: the page of the run's own log, once the log is complete.
    page = tmp_path / "out" / "run.html"
    run = sandbox.run("--limit", "512M", "--test-limit", "256M", "--html", str(page), "--",
                      *PYTEST, "etc/example", cwd=TOP)
    assert run.rc == 1, run.stdout + run.stderr
    text = page.read_text()
    assert text.count('<rect class="test') == 7  # the tests, not the enclosing command
    assert text.count('<rect class="test oom"') == 1
    assert "etc/example/test_weather.py::test_ensemble_blowup\npeak 256.0 MB\nOOM-killed" in text
    assert '<polyline class="timeline"' in text  # the run's own samples


def test_a_page_that_cannot_be_written_stops_the_run_before_it_starts(sandbox, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    run = sandbox.run("--html", str(blocker / "run.html"), "--", "true")
    assert run.rc == 125
    assert f"open folder {blocker}: Not a directory" in run.stderr, run.stderr
    assert run.log_text is None  # nothing ran: no log


# ---- the chart read as a profiler's timeline ----

FRAME = re.compile(r'<rect class="frame" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" '
                   r'height="([\d.]+)"')
RECT = re.compile(r'<rect class="(test|test oom|oom-marker|startup)"[^>]* '
                  r'x="([-\d.]+)" y="[-\d.]+" width="([\d.]+)"')
BOX = re.compile(r'<rect class="box[^"]*" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)"')
SHADES = {(158, 202, 225), (107, 174, 214)}  # the track's two blues


def svg_frame(page):
    """The plot's (left, right, top, bottom) in SVG units."""
    x, y, w, h = (float(v) for v in FRAME.search(page).groups())
    return x, x + w, y, y + h


def assert_round_ticks(page):
    """Each axis' labels: 0, then one round step (1, 2 or 5 times a power of ten) apart, in
    one unit."""
    for cls in ("ytick", "xtick"):
        labels = re.findall(rf'<text class="{cls}"[^>]*>([^<]*)</text>', page)
        assert len(labels) >= 3, (cls, labels)
        units = {label.split()[1] for label in labels}
        values = [float(label.split()[0]) for label in labels]
        assert len(units) == 1 and values[0] == 0, (cls, labels)
        step = values[1]
        mantissa = float(f"{step:e}".split("e")[0])
        assert mantissa in (1.0, 2.0, 5.0), (cls, labels)
        for i, value in enumerate(values):
            assert abs(value - i * step) < step * 1e-6, (cls, labels)


def limit_labels(page):
    """The limits' labels as (x, y, text)."""
    return [(float(x), float(y), " ".join(re.findall(r">([^<]+)</tspan>", body)))
            for x, y, body in re.findall(r'<text class="limit-label" x="([\d.]+)" '
                                         r'y="([\d.]+)"[^>]*>(.*?)</text>', page)]


def assert_limits_beside_the_plot(page, img):
    """Every limit's label is right of the plot, where no band, marker or box reaches, and
    in the screenshot its colour is there and no red is."""
    left, right, top, bottom = svg_frame(page)
    labels = limit_labels(page)
    assert labels, "no limit label"
    for kind, x, w in RECT.findall(page):
        assert float(x) + float(w) <= right + 0.05, (kind, x, w, right)
    fleft, fright, ftop, fbottom = plot_frame(img)
    scale = (fbottom - ftop) / (bottom - top)
    for x, y, text in labels:
        assert x > right, (x, right, text)
        assert re.fullmatch(r"(sandbox|test) limit \d+\.\d MB", text), text
        # the label's two lines in the screenshot, right of the frame
        rows = range(ftop + int((y - 12 - top) * scale), ftop + int((y + 14 - top) * scale))
        cols = range(fright + 3, min(img[0], fright + 110))
        pixels = [pngread.pixel(img, c, r) for r in rows for c in cols]
        coloured = [p for p in pixels if max(p) - min(p) > 60]
        assert len(coloured) > 20, (text, len(coloured))
        # no killed test's red over it (red: green and blue alike; the orange label's not)
        assert not any(is_red(p) and abs(p[1] - p[2]) < 25 for p in pixels), text


def assert_phases_before_the_tests(page, tests_take_time=True):
    """The start-up's phase (and its label) is on the time axis before the first test's box,
    and ends where that box begins; the tests' phase begins there (when they took time)."""
    first = min(float(x) for x, _, _ in BOX.findall(page))
    start = re.search(r'<rect class="phase" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"[^>]*>'
                      r'<title>start-up and collection: ', page)
    assert start, "no start-up phase"
    assert abs(float(start[1]) + float(start[2]) - first) < 0.2, (start.groups(), first)
    label = re.search(r'<text class="phase-label" x="([\d.]+)"[^>]*>(start-up[^<]*)</text>',
                      page)
    assert label and float(label[1]) < first, (label, first)
    tests = re.search(r'<text class="phase-label" x="([\d.]+)"[^>]*>tests</text>', page)
    assert tests or not tests_take_time, re.findall(r'<text class="phase-label".*', page)
    assert not tests or float(tests[1]) >= first, (tests, first)


def track_boxes(img, page):
    """The boxes of the track in the screenshot: per lane, the runs of one shade along the
    lane's middle row, as (lane, first column, width)."""
    left, right, top, bottom = svg_frame(page)
    fleft, fright, ftop, fbottom = plot_frame(img)
    scale = (fbottom - ftop) / (bottom - top)
    lanes = sorted({float(y) for _, y, _ in BOX.findall(page)})
    found = []
    for lane, y in enumerate(lanes):
        row = ftop + round((y + 6 - top) * scale)
        run = None
        for col in range(fleft, fright + 1):
            c = pngread.pixel(img, col, row)
            shade = c if c in SHADES else None
            if run and shade != run[1]:
                found.append((lane, run[0], col - run[0]))
                run = None
            if shade and not run:
                run = (col, shade)
    return found


@pytest.mark.skipif(not CHROMIUM, reason="Debian's chromium is not installed (make deps)")
def test_the_run_page_reads_like_a_timeline(sandbox, tmp_path):
    # The example's own page: round ticks, the limits labelled beside the plot, the phases
    # before the first test, the killed test's name in its box.
    page = tmp_path / "run.html"
    run = sandbox.run("--limit", "512M", "--test-limit", "256M", "--html", str(page), "--",
                      *PYTEST, "etc/example", cwd=TOP)
    assert run.rc == 1, run.stdout + run.stderr
    text = page.read_text()
    img = screenshot(page, tmp_path / "run.png", tmp_path)
    assert_round_ticks(text)
    assert_limits_beside_the_plot(text, img)
    assert_phases_before_the_tests(text)
    names = re.findall(r'<text class="box-name" x="([\d.]+)"[^>]*>([^<]*)</text>', text)
    assert ("test_ensemble_blowup" in [n for _, n in names]), names
    for x, name in names:  # each inside its own box
        (box,) = [(float(bx), float(w)) for bx, _, w in BOX.findall(text)
                  if float(bx) < float(x) < float(bx) + float(w)]
        assert float(x) + len(name) * 6.5 <= box[0] + box[1] + 2, (name, box)


@pytest.mark.skipif(not CHROMIUM, reason="Debian's chromium is not installed (make deps)")
def test_tests_started_together_each_get_a_box(sandbox, tmp_path):
    # 16 tests logged as starting at one instant and taking no time (Elapsed rewritten, so
    # the stamps no longer count): each is a box of its own in the screenshot, at least 3 px
    # wide, in a shade unlike its neighbour's.
    run = sandbox.run("--limit", "512M", "--", *PYTEST, "tests/suites/many", cwd=TOP)
    assert run.rc == 0, run.stdout + run.stderr
    # As they ran, one after another, each is placed where it started, by the log's stamps:
    # where its Elapsed (a tenth of a second) says, and apart from the others.
    analyze(sandbox.log, tmp_path / "many.html")
    starts = sorted(float(t) for t in re.findall(r"\nstarted at ([\d.]+) s,",
                                                 (tmp_path / "many.html").read_text()))
    elapsed = sorted(float(t) for t in re.findall(r"\] TEST_START: .*\n  Elapsed: ([\d.]+)s",
                                                  run.log_text))
    assert len(starts) == len(elapsed) == 16 and len(set(starts)) == 16, starts
    assert all(abs(s - e) <= 0.06 for s, e in zip(starts, elapsed)), (starts, elapsed)
    log = tmp_path / "together.log"
    # At half the run (its timeline's end, however long a slow machine took): well inside
    # the plot, whatever the axis' length.
    end = float(re.findall(r"\] SESSION_END: .*\n  Elapsed: ([\d.]+)s", run.log_text)[-1])
    at = round(end / 2, 1)
    log.write_text(all_at_once(run.log_text, at))
    shutil.copy(f"{sandbox.log}.timeline", f"{log}.timeline")  # the run's end
    html = tmp_path / "together.html"
    doc = analyze(log, html)
    assert {u["start_elapsed"] for u in doc["biggest"]} == {at}
    text = html.read_text()
    assert_round_ticks(text)
    assert_phases_before_the_tests(text, tests_take_time=False)
    boxes = track_boxes(screenshot(html, tmp_path / "together.png", tmp_path), text)
    assert len(boxes) == 16, boxes
    assert all(width >= 3 for _, _, width in boxes), boxes
    assert len({lane for lane, _, _ in boxes}) >= 2, boxes


def all_at_once(log, at):
    """log with every test's START and END at `at` seconds and each Duration 0.0 s."""
    out, in_test = [], False
    for line in log.splitlines(keepends=True):
        if line.startswith("["):
            in_test = "] TEST_" in line
        if in_test and line.startswith("  Elapsed: "):
            line = f"  Elapsed: {at:.1f}s\n"
        if in_test and line.startswith("  Duration: "):
            line = "  Duration: 0.0s\n"
        out.append(line)
    return "".join(stamps_at_start(out))
