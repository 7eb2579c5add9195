#!/usr/bin/python3
"""The include-and-call graph of the C sources: no circle, and no arrow against the layers.

A module is a .c file with the .h of the same name beside it. Module A points at module B
when A includes B's header or calls a function B defines. Calls are read off the objects
the build made (`nm`: what each defines, what each needs), so a macro or a comment cannot
fool it; includes are read off the sources. A folder points at another when one of its
modules points at one of the other's.

Fails (exit 1) when
  - two or more modules reach each other (a circle of files),
  - two or more folders reach each other (a circle of folders, though no file circle), or
  - a module points at a folder above its own in FOLDERS: cgroup/ knows nothing of report/
    or runner/, report/ nothing of runner/, and inside runner/ each folder uses only those
    below it.

Usage: graph_check.py BUILD_DIR [--dot]   (--dot prints the graph for Graphviz instead)
       graph_check.py BUILD_DIR --folders (prints the folders' arrows, each with one cause)
       graph_check.py --self-test          (the checks find a planted circle and arrow)
"""
import os
import re
import subprocess
import sys

ROOTS = ("cgroup", "report", "runner")
# The folders from the top down: a folder may use itself and those after it, never one
# before it. runner/ itself is main.c, which orders a run. Below it the front ends
# (commands/), then a job (exec/: it runs the command and serves the socket while it
# supervises), the environment that loads the plugin (pytest/), the control socket
# (control/: its handlers open units and check budgets), budgets (budget/: the file and
# peaks), one run's state and what it says (session/), and options (config/), which
# everything reads.
FOLDERS = ("runner", "runner/commands", "runner/exec", "runner/pytest", "runner/control",
           "runner/budget", "runner/session", "runner/config", "report", "cgroup")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources():
    for root in ROOTS:
        for d, _, files in os.walk(root):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield os.path.join(d, f)


def module(path):
    return os.path.splitext(path)[0]


def includes(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for name in INCLUDE.findall(text):
        for base in (".", os.path.dirname(path)):  # -I. first, as the build does
            cand = os.path.normpath(os.path.join(base, name))
            if os.path.exists(cand):
                yield cand
                break


def symbols(obj):
    out = subprocess.run(["nm", "--defined-only", obj], capture_output=True, text=True,
                         check=True).stdout
    defined = {l.split()[-1] for l in out.splitlines() if l.split()[-2:-1] in (["T"], ["D"], ["B"], ["R"])}
    out = subprocess.run(["nm", "--undefined-only", obj], capture_output=True, text=True,
                         check=True).stdout
    needed = {l.split()[-1] for l in out.splitlines() if l.strip()}
    return defined, needed


def graph(build):
    edges = {}
    for src in sources():
        m = module(src)
        edges.setdefault(m, set())
        for inc in includes(src):
            if module(inc) != m:
                edges[m].add(module(inc))
    owner, needs = {}, {}
    for src in sources():
        if not src.endswith(".c"):
            continue
        obj = os.path.join(build, module(src) + ".o")
        if not os.path.exists(obj):
            sys.exit(f"graph_check: {obj} is missing: build first (make)")
        defined, needed = symbols(obj)
        for s in defined:
            owner[s] = module(src)
        needs[module(src)] = needed
    for m, needed in needs.items():
        for s in needed:
            if s in owner and owner[s] != m:
                edges[m].add(owner[s])
    return edges


def circles(edges):
    """Tarjan's strongly connected components of more than one module."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def folder(m):
    return os.path.dirname(m)


def folder_edges(edges):
    """Folder A -> folder B, each arrow with the first module arrow that makes it."""
    out = {}
    for a in sorted(edges):
        out.setdefault(folder(a), {})
        for b in sorted(edges[a]):
            if folder(b) != folder(a):
                out[folder(a)].setdefault(folder(b), f"{a} -> {b}")
    return out


def problems(edges, order=FOLDERS):
    out = []
    for comp in circles(edges):
        inner = [f"{a} -> {b}" for a in comp for b in sorted(edges[a]) if b in comp]
        out.append(f"a circle of {len(comp)} modules: " + ", ".join(inner))
    fe = folder_edges(edges)
    for comp in circles(fe):
        inner = [f"{a}/ -> {b}/ ({fe[a][b]})" for a in comp for b in sorted(fe[a]) if b in comp]
        out.append(f"a circle of {len(comp)} folders: " + ", ".join(inner))
    for f in sorted(set(fe) - set(order)):
        out.append(f"{f}/ is not in FOLDERS: place it in the order")
    for a in sorted(edges):
        for b in sorted(edges[a]):
            fa, fb = folder(a), folder(b)
            if fa in order and fb in order and order.index(fb) < order.index(fa):
                out.append(f"{a} -> {b}: {fa}/ must not need {fb}/ (it is above)")
    return out


def self_test():
    clean = {"runner/a": {"runner/b", "report/x"}, "runner/b": {"cgroup/y"},
             "report/x": {"cgroup/y"}, "cgroup/y": set()}
    assert problems(clean) == [], problems(clean)
    circle = dict(clean, **{"cgroup/y": {"cgroup/z"}, "cgroup/z": {"cgroup/y"}})
    found = problems(circle)
    assert len(found) == 1 and found[0].startswith("a circle of 2 modules"), found
    upward = dict(clean, **{"cgroup/y": {"report/x"}})
    found = problems(upward)
    assert any("cgroup/ must not need report/" in f for f in found), found
    # Folders: a/ and b/ reach each other through different files, no file circle.
    order = ("runner/a", "runner/b")
    apart = {"runner/a/x": {"runner/b/y"}, "runner/b/y": set(), "runner/b/z": {"runner/a/w"},
             "runner/a/w": set()}
    found = problems(apart, order)
    assert any(f.startswith("a circle of 2 folders: runner/a/ -> runner/b/ (runner/a/x -> "
                            "runner/b/y)") for f in found), found
    assert not any("modules" in f for f in found), found
    assert any("runner/b/z -> runner/a/w: runner/b/ must not need runner/a/" in f
               for f in found), found
    down = dict(apart, **{"runner/b/z": set()})
    assert problems(down, order) == [], problems(down, order)
    stray = dict(down, **{"runner/c/v": {"runner/b/y"}})
    assert problems(stray, order) == ["runner/c/ is not in FOLDERS: place it in the order"]
    print("graph_check: self-test passed")
    return 0


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    if argv[1] == "--self-test":
        return self_test()
    edges = graph(argv[1])
    if "--dot" in argv:
        print("digraph wcmem {")
        for a in sorted(edges):
            for b in sorted(edges[a]):
                print(f'  "{a}" -> "{b}";')
        print("}")
        return 0
    if "--folders" in argv:
        for a, out in sorted(folder_edges(edges).items()):
            for b, why in sorted(out.items()):
                print(f"{a}/ -> {b}/  ({why})")
        return 0
    found = problems(edges)
    for f in found:
        print(f"graph_check: {f}")
    bad = len(found)
    n = sum(len(v) for v in edges.values())
    if bad:
        print(f"graph_check: {bad} problem(s) in {len(edges)} modules, {n} arrows")
        return 1
    print(f"graph_check: {len(edges)} modules in {len(folder_edges(edges))} folders, {n} arrows, "
          "no circle, folders one way")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
