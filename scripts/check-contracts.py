#!/usr/bin/env python3
"""check-contracts.py: every function a header exports has a contract comment.

Usage: scripts/check-contracts.py [--list] [HEADER ...]
  (no HEADER: every .h under src/, bench/ and guests/)

A function declaration in a header (a prototype, or a static inline definition) passes
when a comment documents it: a comment on the declaration's own line, or a comment that
ends on the line just above it, or, for a family sharing one contract (foo_bar_begin and
foo_bar_end), a documented declaration of the same family (the name up to its last '_',
at least two words) just above it.
Exit status: 0 all documented, 1 some are not (one line each: FILE:LINE: NAME), 2 bad use.
"""
import os
import re
import sys

ROOTS = ("src", "bench", "guests")
# A declaration's first line: return type words, then NAME( ; not a macro, typedef or call.
DECL = re.compile(
    r"^(?:extern\s+)?(?:static\s+inline\s+|static\s+__inline__\s+|inline\s+)?"
    r"(?:(?:const|unsigned|signed|struct|enum|union|volatile|_Noreturn|__attribute__\(\(.*?\)\))\s+)*"
    r"[A-Za-z_][A-Za-z0-9_]*[\s\*]+\**([A-Za-z_][A-Za-z0-9_]*)\s*\(")
SKIP_WORDS = {"return", "if", "while", "for", "switch", "sizeof", "typedef", "else", "do"}


def strip_strings(line):
    return re.sub(r'"(\\.|[^"\\])*"', '""', line)


def check(path):
    """Return [(line number, name)] of undocumented declarations in one header."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    missing = []
    depth = 0          # brace depth (declarations only count at file scope)
    in_comment = False
    comment_end = -2   # index of the last line on which a comment ended
    last_decl = None   # (name, documented, last line) of the previous declaration
    paren = 0          # open parentheses of a declaration spanning lines
    cont = False       # inside a multi-line macro
    for i, raw in enumerate(lines):
        line = strip_strings(raw)
        stripped = line.strip()
        if not stripped:
            continue
        if cont:
            cont = line.rstrip().endswith("\\")
            continue
        starts_comment = stripped.startswith("/*") or stripped.startswith("//")
        if in_comment:
            if "*/" in line:
                in_comment = False
                comment_end = i
            continue
        if starts_comment:
            if "/*" in stripped and "*/" not in stripped[2:]:
                in_comment = True
            else:
                comment_end = i
            continue
        if stripped.startswith("#"):
            cont = line.rstrip().endswith("\\")
            continue
        code = re.sub(r"/\*.*?\*/", "", line)
        code = re.sub(r"//.*", "", code)
        if depth == 0 and paren == 0:
            m = None if code.strip().startswith("typedef") else DECL.match(code.strip())
            if m and m.group(1) not in SKIP_WORDS:
                name = m.group(1)
                documented = "/*" in line or "//" in line or comment_end == i - 1
                if not documented and last_decl and last_decl[2] == i - 1 and last_decl[1]:
                    documented = family(name) is not None and family(name) == family(last_decl[0])
                if not documented:
                    missing.append((i + 1, name))
                last_decl = [name, documented, i]
        if last_decl and last_decl[2] == i - 1 and (paren > 0 or depth > 0):
            last_decl[2] = i  # a declaration (or inline body) spanning lines
        paren += code.count("(") - code.count(")")
        if paren < 0:
            paren = 0
        depth += code.count("{") - code.count("}")
        if depth < 0:
            depth = 0
    return missing


def family(name):
    """foo_bar_begin -> foo_bar_ (a family needs at least two words before the last)."""
    k = name.rfind("_")
    return name[:k + 1] if k > 0 and "_" in name[:k] else None


def headers(args):
    if args:
        return args
    found = []
    for root in ROOTS:
        for d, _, files in os.walk(root):
            found += [os.path.join(d, f) for f in files if f.endswith(".h")]
    return sorted(found)


def main():
    args = sys.argv[1:]
    listing = "--list" in args
    args = [a for a in args if a != "--list"]
    if any(a.startswith("-") for a in args):
        print("check-contracts.py: unknown option (usage: [--list] [HEADER ...])", file=sys.stderr)
        return 2
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    total = bad = 0
    for h in headers(args):
        if not os.path.isfile(h):
            print(f"check-contracts.py: {h}: no such header", file=sys.stderr)
            return 2
        miss = check(h)
        bad += len(miss)
        for ln, name in miss:
            print(f"{h}:{ln}: {name}: exported without a contract comment")
        if listing:
            print(f"{h}: {len(miss)} undocumented", file=sys.stderr)
        total += 1
    print(f"check-contracts.py: {total} headers, {bad} functions without a contract comment")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
