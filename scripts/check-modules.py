#!/usr/bin/env python3
"""check-modules.py: the src/bt module graph must have no call cycle wider than two files.

Usage: scripts/check-modules.py OBJDIR|OBJ... [--max N] [--edges] [--layers]
       scripts/check-modules.py --selftest
  OBJDIR   the directory of the translator's objects (build/src/CMakeFiles/tandem_bt.dir/bt),
           or the object files themselves (ctest passes $<TARGET_OBJECTS:tandem_bt>)
  --max N  the widest strongly connected component allowed (default 2)
  --edges  also print every cross-file edge with the symbols it uses
  --selftest  compile three C files that call in a ring (cc) and check that the ring
           is reported (exit 1) and that --max 3 accepts it: 0 when both hold, else 1
  --layers also print the files by layer: a file's layer is one above the highest
           layer it calls into (the files of a two-file cycle share one)

A file is a node; file A -> file B when A's object has an undefined symbol that B's
object defines (read with nm from binutils). Strongly connected components are found
with Tarjan's algorithm. Exit status: 0 when no component is wider than N files,
1 when one is (each printed: its size, its files, and the edges inside it), 2 on bad
usage or when OBJDIR holds no objects or nm fails, 77 when nm (or cc, --selftest) is
not installed (ctest counts it as skipped).
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile


def module_of(path):
    name = os.path.basename(path)
    for suffix in (".c.o", ".S.o", ".o"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def read_graph(paths):
    if len(paths) == 1 and os.path.isdir(paths[0]):
        objs = sorted(glob.glob(os.path.join(paths[0], "*.o")))
    else:
        objs = sorted(p for p in paths if p.endswith(".o"))
    if not objs:
        raise RuntimeError("no objects in %s" % " ".join(paths))
    defs, uses = {}, {}
    for o in objs:
        mod = module_of(o)
        out = subprocess.run(["nm", o], capture_output=True, text=True, check=True).stdout
        uses[mod] = set()
        for line in out.splitlines():
            p = line.split()
            if len(p) == 3 and p[1] in "TDBR":
                defs[p[2]] = mod
            elif len(p) == 2 and p[0] == "U":
                uses[mod].add(p[1])
    edges = {}
    for mod, syms in uses.items():
        for s in syms:
            to = defs.get(s)
            if to is not None and to != mod:
                edges.setdefault((mod, to), set()).add(s)
    graph = {m: set() for m in uses}
    for a, b in edges:
        graph[a].add(b)
    return graph, edges


def sccs_of(graph):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
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
            out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def layers_of(graph, comps):
    comp_of = {m: i for i, c in enumerate(comps) for m in c}
    level = {}

    def lev(i):
        if i not in level:
            level[i] = 0
            below = {comp_of[w] for m in comps[i] for w in graph[m]} - {i}
            level[i] = 1 + max((lev(j) for j in below), default=-1)
        return level[i]

    out = {}
    for i, c in enumerate(comps):
        out.setdefault(lev(i), []).extend(c)
    return out


def selftest():
    """Three files calling in a ring a -> b -> c -> a, plus d called by a (no cycle)."""
    if not shutil.which("cc"):
        print("check-modules: no cc for --selftest", file=sys.stderr)
        return 77
    src = {
        "ring_a": "void b(void); void d(void); void a(void) { b(); d(); }",
        "ring_b": "void c(void); void b(void) { c(); }",
        "ring_c": "void a(void); void c(void) { a(); }",
        "ring_d": "void d(void) {}",
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in src.items():
            with open(os.path.join(tmp, name + ".c"), "w") as f:
                f.write(text + "\n")
            subprocess.run(["cc", "-c", "-o", os.path.join(tmp, name + ".c.o"),
                            os.path.join(tmp, name + ".c")], check=True)
        graph, _ = read_graph([tmp])
        comps = [c for c in sccs_of(graph) if len(c) > 1]
        want = [["ring_a", "ring_b", "ring_c"]]
        ok = comps == want
        wide = subprocess.run([sys.executable, __file__, tmp], capture_output=True, text=True)
        loose = subprocess.run([sys.executable, __file__, tmp, "--max", "3"],
                               capture_output=True, text=True)
        ok = ok and wide.returncode == 1 and "FAIL 3 ring_a ring_b ring_c" in wide.stdout
        ok = ok and loose.returncode == 0
    print("check-modules: selftest %s (components %s)" % ("ok" if ok else "FAILED", comps))
    return 0 if ok else 1


def main(argv):
    args = argv[1:]
    if args == ["--selftest"]:
        return selftest()
    if not shutil.which("nm"):
        print("check-modules: nm (binutils) is not installed", file=sys.stderr)
        return 77
    limit, show_edges, show_layers = 2, False, False
    if "--layers" in args:
        show_layers = True
        args.remove("--layers")
    if "--edges" in args:
        show_edges = True
        args.remove("--edges")
    if "--max" in args:
        i = args.index("--max")
        try:
            limit = int(args[i + 1])
        except (IndexError, ValueError):
            print("check-modules: --max needs a number", file=sys.stderr)
            return 2
        del args[i : i + 2]
    if not args or any(a.startswith("--") for a in args):
        print("usage: check-modules.py OBJDIR|OBJ... [--max N] [--edges] [--layers]",
              file=sys.stderr)
        return 2
    try:
        graph, edges = read_graph(args)
    except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
        print("check-modules: %s" % e, file=sys.stderr)
        return 2
    if show_edges:
        for (a, b), syms in sorted(edges.items()):
            print("%s -> %s: %s" % (a, b, " ".join(sorted(syms))))
    comps = sccs_of(graph)
    if show_layers:
        for n, mods in sorted(layers_of(graph, comps).items()):
            print("layer %d: %s" % (n, " ".join(sorted(mods))))
    bad = 0
    for comp in sorted(comps, key=len, reverse=True):
        if len(comp) <= 1:
            continue
        wide = len(comp) > limit
        bad += wide
        print("%s%d %s" % ("FAIL " if wide else "", len(comp), " ".join(comp)))
        if wide:
            inside = set(comp)
            for (a, b), syms in sorted(edges.items()):
                if a in inside and b in inside:
                    print("  %s -> %s: %s" % (a, b, " ".join(sorted(syms))))
    print("check-modules: %d files, %d cycles wider than %d files"
          % (len(graph), bad, limit))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
