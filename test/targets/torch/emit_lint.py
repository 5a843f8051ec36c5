"""Lints Python files for test/targets/torch/emit_helpers_py.test.ts: pyflakes where installed,
else the same two checks that matter here, from the standard library: names read but never bound
(symtable), and imports never used (nor listed in __all__). Prints one JSON object:
{"linter": "pyflakes" | "symtable", "problems": ["file:line: message", ...]}.
"""
import ast
import builtins
import json
import symtable
import sys


def fallback(path):
    text = open(path).read()
    tree = ast.parse(text, path)
    problems = []
    module_names = set()
    for n in tree.body:
        if isinstance(n, (ast.Import, ast.ImportFrom)):
            module_names |= {(a.asname or a.name).split(".")[0] for a in n.names}
        elif isinstance(n, (ast.ClassDef, ast.FunctionDef)):
            module_names.add(n.name)
        elif isinstance(n, ast.Assign):
            module_names |= {t.id for t in n.targets if isinstance(t, ast.Name)}
    known = module_names | set(dir(builtins))

    def walk(table):
        for sym in table.get_symbols():
            if sym.is_referenced() and sym.is_global() and not sym.is_assigned() and sym.get_name() not in known:
                problems.append(f"{path}: undefined name {sym.get_name()!r} in {table.get_name()}")
        for child in table.get_children():
            walk(child)

    walk(symtable.symtable(text, path, "exec"))
    exported = set()
    for n in tree.body:
        if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in n.targets):
            exported = set(ast.literal_eval(n.value))
    for name in sorted(exported - module_names):
        problems.append(f"{path}: undefined name {name!r} in __all__")
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    for n in tree.body:
        if isinstance(n, (ast.Import, ast.ImportFrom)):
            for a in n.names:
                bound = (a.asname or a.name).split(".")[0]
                if bound not in used and bound not in exported:
                    problems.append(f"{path}:{n.lineno}: {bound!r} imported but unused")
    return problems


def main():
    try:
        from pyflakes.api import check
        from pyflakes.reporter import Reporter
        import io

        out = io.StringIO()
        for path in sys.argv[1:]:
            check(open(path).read(), path, Reporter(out, out))
        print(json.dumps({"linter": "pyflakes", "problems": [line for line in out.getvalue().splitlines() if line]}))
    except ImportError:
        print(json.dumps({"linter": "symtable", "problems": [p for path in sys.argv[1:] for p in fallback(path)]}))


if __name__ == "__main__":
    main()
