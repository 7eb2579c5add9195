#!/usr/bin/python3
"""The pytest plugin's sources: the shape of its package, and its protocol the runner's.

The plugin (runner/pytest/wcmem_pytest/) is a package of modules, one concern each. Its
protocol.py holds the protocol's constants under the runner's names; the runner's are in
runner/control/protocol.h and the C files beside it. Fails (exit 1) when
  - a module of the package is over 450 lines, or is missing from the order that
    __init__'s docstring gives, or imports a module listed after it there (or they import
    each other in a circle);
  - protocol.py and the runner differ: a RUN_* number of protocol.h, the verbs (the
    parser's table), the key=value fields (the keys it compares, and which verb takes
    each), the characters a field keeps unencoded, the WAKE line, START's " next=",
    VERDICT's " again=1", the resume file's DONE and KILLED;
  - the plugin's own bounds (test ids, where, extras, reports) do not fit the runner's.

Usage: plugin_check.py                (from the top of the source tree, as make does)
       plugin_check.py --self-test    (the checks find a planted circle, a long module, an
                                       import upwards, and constants that differ)
"""
import ast
import glob
import importlib.util
import os
import re
import sys
import types

from graph_check import circles

PACKAGE = "runner/pytest/wcmem_pytest"
HEADER = "runner/control/protocol.h"
# The protocol's C side: the parser and handlers, and the fields' percent-encoding.
C_SOURCES = ("runner/control/*.c", "runner/config/field.c")
LINES_MAX = 450
# Verb and key=value words of a line besides its fields: the most a START or END adds.
LINE_SLACK = 256


# -- the package's shape ---------------------------------------------------------------------

def imports(text):
    """The package's own modules that a module's source imports (relative imports)."""
    found = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
    return found


def declared_order(init_text):
    """The modules in the order __init__'s docstring lists them: an indented name, two
    blanks, what it holds."""
    doc = ast.get_docstring(ast.parse(init_text), clean=False) or ""
    return re.findall(r"^    (\w+) {2,}\S", doc, re.M)


def shape_problems(sources):
    """sources: {module name: text}, __init__ among them."""
    out = []
    for name in sorted(sources):
        n = sources[name].count("\n")
        if n > LINES_MAX:
            out.append(f"{name}.py: {n} lines, over {LINES_MAX}: split it by concern")
    order = declared_order(sources.get("__init__", ""))
    edges = {name: imports(text) & set(sources) for name, text in sources.items()}
    for name in sorted(set(sources) - set(order) - {"__init__"}):
        out.append(f"{name}.py: not in the order of __init__'s docstring: add it there")
    for name in order:
        for used in sorted(edges.get(name, ())):
            if used == "__init__" or (used in order and order.index(used) > order.index(name)):
                out.append(f"{name}.py imports {used}, listed after it in __init__'s "
                           "docstring: a module imports only those before it")
    for comp in circles(edges):
        out.append("an import circle: " + ", ".join(
            f"{a} -> {b}" for a in comp for b in sorted(edges[a]) if b in comp))
    return out


# -- the protocol, the runner's and the plugin's --------------------------------------------

def c_sources():
    return sorted(f for pattern in C_SOURCES for f in glob.glob(pattern))


def protocol_problems(p, header, c_text):
    """p: the plugin's protocol module; header: protocol.h's text; c_text: the runner's C
    sources beside it, together."""
    out = []
    theirs = {k: int(v) for k, v in re.findall(r"#define\s+(RUN_\w+)\s+(\d+)\b", header)}
    ours = {k: v for k, v in vars(p).items() if k.startswith("RUN_")}
    for key in sorted(set(theirs) | set(ours)):
        if theirs.get(key) != ours.get(key):
            out.append(f"{key}: protocol.h has {theirs.get(key)}, the plugin's protocol.py "
                       f"{ours.get(key)}: make them equal")
    verbs = set(re.findall(r'\{\s*"([A-Z]+)",\s*RUN_MSG_\w+\s*\}', c_text))
    if verbs != set(p.OPTIONS):
        out.append(f"verbs: the runner parses {sorted(verbs)}, protocol.py's OPTIONS has "
                   f"{sorted(p.OPTIONS)}")
    keys = set(re.findall(r'strcmp\(key, "(\w+)"\)', c_text))
    known = {key for allowed in p.OPTIONS.values() for key in allowed}
    if keys != known:
        out.append(f"fields: the runner takes {sorted(keys)}, protocol.py's OPTIONS "
                   f"{sorted(known)}")
    branch = re.compile(r'm->verb == RUN_MSG_(\w+) && \(?strcmp\(key, "(\w+)"\)'
                        r'(?: == 0)?(?:\s*\|\|\s*strcmp\(key, "(\w+)"\))?')
    for verb, *names in branch.findall(c_text):
        for key in filter(None, names):
            if key not in p.OPTIONS.get(verb, ()):
                out.append(f"{verb} {key}=: the runner takes it, protocol.py's OPTIONS "
                           f"does not")
    plain = re.search(r'plain\[\]\s*=\s*"([^"]*)"', c_text)
    if not plain or plain.group(1) != p.PLAIN:
        out.append(f"PLAIN: cfg_field_encode keeps {plain and plain.group(1)!r} as it is, "
                   f"protocol.py {p.PLAIN!r}")
    for name, word in (("WAKE", f'"{p.WAKE}%s"'), ("NEXT", f'"{p.NEXT}"'), ("AGAIN", f'"{p.AGAIN}"'),
                       ("RESUME_DONE", f'"{p.RESUME_DONE}"'),
                       ("RESUME_KILLED", f'"{p.RESUME_KILLED}"')):
        if word not in c_text:
            out.append(f"{name}: the runner never writes {word}")
    return out + fit_problems(p)


def fit_problems(p):
    """The plugin's bounds inside the runner's."""
    out = []
    if p.ID_MAX > p.RUN_NAME_MAX:
        out.append(f"ID_MAX {p.ID_MAX} is over the runner's RUN_NAME_MAX {p.RUN_NAME_MAX}")
    if p.ID_HEAD + len(" ...[1000000000 bytes, sha256 0123456789ab]") > p.ID_MAX:
        out.append(f"ID_HEAD {p.ID_HEAD}: a cut id with its tail is over ID_MAX")
    if p.EXTRAS_SENT_MAX > p.RUN_EXTRAS_MAX:
        out.append(f"EXTRAS_SENT_MAX {p.EXTRAS_SENT_MAX} is over the runner's "
                   f"RUN_EXTRAS_MAX {p.RUN_EXTRAS_MAX}")
    if p.EXTRAS_MAX * 3 > p.EXTRAS_SENT_MAX:
        out.append(f"EXTRAS_MAX {p.EXTRAS_MAX} characters may encode to more than "
                   f"EXTRAS_SENT_MAX {p.EXTRAS_SENT_MAX} bytes")
    if p.MESSAGE_MAX > p.RUN_FAILURE_MAX or p.FAILURE_MAX > p.RUN_FAILURE_MAX:
        out.append(f"MESSAGE_MAX {p.MESSAGE_MAX} or FAILURE_MAX {p.FAILURE_MAX} is over the "
                   f"runner's RUN_FAILURE_MAX {p.RUN_FAILURE_MAX}")
    if 3 * (p.MESSAGE_MAX + p.FAILURE_MAX) > p.FAILURE_SENT_MAX:
        out.append(f"MESSAGE_MAX and FAILURE_MAX bytes may encode to more than "
                   f"FAILURE_SENT_MAX {p.FAILURE_SENT_MAX}")
    # START has where=, END message= and failure=: the larger of the two
    line = (3 * p.ID_MAX + max(3 * p.WHERE_MAX, p.FAILURE_SENT_MAX) + p.EXTRAS_SENT_MAX
            + p.REPORTS_MAX + LINE_SLACK)
    if line > p.RUN_LINE_MAX:
        out.append(f"a START or END may need {line} bytes, over RUN_LINE_MAX {p.RUN_LINE_MAX}")
    return out


# -- running it --------------------------------------------------------------------------------

def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def load_protocol(path):
    """protocol.py alone: it imports nothing of the package (nor pytest)."""
    spec = importlib.util.spec_from_file_location("wcmem_protocol", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def self_test():
    init = '"""Doc.\n\n    a  first\n    b  second\n"""\nfrom . import b\n'
    clean = {"__init__": init, "a": "import os\n", "b": "from .a import x\n"}
    assert shape_problems(clean) == [], shape_problems(clean)
    upward = dict(clean, a="from . import b\n")
    found = shape_problems(upward)
    assert any("a.py imports b, listed after it" in f for f in found), found
    assert any(f.startswith("an import circle: a -> b, b -> a") for f in found), found
    long = dict(clean, b="x = 1\n" * (LINES_MAX + 1))
    assert any("b.py: 451 lines" in f for f in shape_problems(long)), shape_problems(long)
    stray = dict(clean, c="")
    assert any("c.py: not in the order" in f for f in shape_problems(stray))

    p = load_protocol(os.path.join(PACKAGE, "protocol.py"))
    header, c_text = read(HEADER), "".join(read(f) for f in c_sources())
    assert protocol_problems(p, header, c_text) == [], protocol_problems(p, header, c_text)
    changed = header.replace(f"RUN_NAME_MAX {p.RUN_NAME_MAX}", "RUN_NAME_MAX 2048")
    found = protocol_problems(p, changed, c_text)
    assert any(f.startswith("RUN_NAME_MAX: protocol.h has 2048") for f in found), found
    wide = types.SimpleNamespace(**dict(vars(p), ID_MAX=9000))
    found = fit_problems(wide)
    assert any(f.startswith("ID_MAX 9000 is over") for f in found), found
    assert any(f.startswith("a START or END may need") for f in found), found
    found = protocol_problems(p, header, c_text.replace('strcmp(key, "moved")',
                                                        'strcmp(key, "moves")'))
    assert any("fields:" in f for f in found) and any("START moves=" in f for f in found), found
    found = protocol_problems(p, header, c_text.replace('"STANDBY", RUN_MSG', '"SLEEP", RUN_MSG'))
    assert any(f.startswith("verbs:") for f in found), found
    print("plugin_check: self-test passed")
    return 0


def main(argv):
    if "--self-test" in argv[1:]:
        return self_test()
    sources = {os.path.basename(f)[:-3]: read(f)
               for f in sorted(glob.glob(os.path.join(PACKAGE, "*.py")))}
    p = load_protocol(os.path.join(PACKAGE, "protocol.py"))
    c_text = "".join(read(f) for f in c_sources())
    found = shape_problems(sources) + protocol_problems(p, read(HEADER), c_text)
    for f in found:
        print(f"plugin_check: {f}")
    if found:
        print(f"plugin_check: {len(found)} problem(s) in {PACKAGE} and its protocol")
        return 1
    longest = max(text.count("\n") for text in sources.values())
    print(f"plugin_check: {len(sources)} modules (the longest {longest} lines), imports one "
          "way, the protocol's constants the runner's")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
