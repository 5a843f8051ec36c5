"""Reads emitted PyTorch modules the way Python does, for test/targets/torch/emit_*.test.ts.

stdin: a JSON list of jobs {"id", "path", "run"}; stdout: one JSON line per job with what Python
sees in the file: its bytes (printable ASCII?), a PEP 263 declaration in its first two lines, its
comments, its top-level statements and the literals of SKIPGRAPH, ZERO_INIT_RESIDUAL and the model's
docstring; with "run", also what importing it and calling build_model() gives (module names with
parameters, output shape, the weights zero_init_residual zeroes). One process checks every job.
"""
import ast
import importlib.util
import io
import json
import re
import sys
import tokenize
import traceback

PEP263 = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-_.a-zA-Z0-9]+)")


def summary(node):
    if isinstance(node, ast.Import):
        return ["import", ", ".join(f"{a.name} as {a.asname}" if a.asname else a.name for a in node.names)]
    if isinstance(node, ast.ImportFrom):
        return ["from", f"{node.module}: " + ", ".join(a.name for a in node.names)]
    if isinstance(node, ast.Assign):
        return ["assign", ", ".join(t.id if isinstance(t, ast.Name) else ast.dump(t) for t in node.targets)]
    if isinstance(node, ast.ClassDef):
        return ["class", node.name]
    if isinstance(node, ast.FunctionDef):
        return ["def", node.name]
    return [type(node).__name__, ast.dump(node)[:200]]


def read(job):
    raw = open(job["path"], "rb").read()
    res = {
        "ascii": all(b == 10 or 32 <= b <= 126 for b in raw),
        "coding": any(PEP263.match(line) for line in raw.split(b"\n")[:2]),
        "encoding": tokenize.detect_encoding(io.BytesIO(raw).readline)[0],
    }
    text = raw.decode("utf-8")
    res["comments"] = [t.string for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type == tokenize.COMMENT]
    tree = ast.parse(text)
    res["top"] = [summary(n) for n in tree.body]
    bound = [n.name if isinstance(n, (ast.ClassDef, ast.FunctionDef)) else None for n in tree.body]
    for n in tree.body:
        if isinstance(n, (ast.Import, ast.ImportFrom)):
            bound += [(a.asname or a.name).split(".")[0] for a in n.names]
        if isinstance(n, ast.Assign):
            bound += [t.id for t in n.targets if isinstance(t, ast.Name)]
    bound = [b for b in bound if b]
    res["bound_twice"] = sorted({b for b in bound if bound.count(b) > 1})
    res["imports_anywhere"] = sum(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(tree))
    # Class bodies: an optional docstring, then methods only (nothing that runs when the class is made).
    res["class_bodies"] = all(
        all(isinstance(s, ast.FunctionDef) or (k == 0 and isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)) for k, s in enumerate(n.body))
        for n in tree.body
        if isinstance(n, ast.ClassDef)
    )
    for n in tree.body:
        if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name) and n.targets[0].id in ("SKIPGRAPH", "ZERO_INIT_RESIDUAL"):
            res[n.targets[0].id] = ast.literal_eval(n.value)
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    res["model_doc"] = ast.get_docstring(classes[-1], clean=False) if classes else None
    return res


def run(job, res):
    spec = importlib.util.spec_from_file_location(f"emitted_{job['id']}", job["path"])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    import torch

    torch.manual_seed(0)
    model = module.build_model().eval()
    c, h, w = module.SKIPGRAPH["input"]
    with torch.no_grad():
        res["out_shape"] = list(model(torch.zeros(2, c, h, w)).shape)
    res["param_modules"] = sorted({k.rsplit(".", 1)[0] for k in model.state_dict().keys()})
    zeroed = dict(module.build_model(zero_init_residual=True).named_modules())
    res["zeroed"] = sorted(n for n, m in zeroed.items() if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)) and bool((m.weight == 0).all()))


def main():
    for job in json.load(sys.stdin):
        res = {"id": job["id"], "ok": True}
        try:
            res.update(read(job))
            if job.get("run"):
                run(job, res)
        except BaseException as e:  # noqa: BLE001 - every failure is a result for the test to report
            res["ok"] = False
            res["error"] = "".join(traceback.format_exception_only(type(e), e)).strip()[-2000:]
        print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
