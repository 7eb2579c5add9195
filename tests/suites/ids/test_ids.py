"""Test ids over 64 KiB (one of which its limit OOM-kills), an id with a backslash, and a
test whose tracemalloc top list would not fit a protocol line (thousands of lines)."""
import pytest

KEEP = []


@pytest.mark.parametrize("tag", ["a" * 70000])
def test_long_passes(tag):
    assert len(tag) == 70000


@pytest.mark.parametrize("tag", ["b" * 70000])
def test_long_blowup(tag):
    hog = []
    while True:
        hog.append(bytearray(32 << 20))


def test_many_allocating_lines():
    code = "\n".join(f"KEEP.append(bytearray({i + 1000}))" for i in range(3000))
    exec(compile(code, "generated_allocations.py", "exec"), {"KEEP": KEEP})


@pytest.mark.parametrize("path", ["C:\\temp"])
def test_backslash(path):   # pytest's id escapes it: test_backslash[C:\\temp]
    assert "\\" in path
