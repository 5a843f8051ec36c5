"""Issue 24's closing table: the largest difference per target for each shipped family.

One-off measurement, not a test. For every architectures/*.yaml whose `# equals:` comment names a
torchvision model (read as in test/targets/torch/families.test.ts: the builder's name, and its
keyword arguments as Python literals through ast.literal_eval, never executed):

1. torchvision's model with those kwargs, every parameter and buffer randomised as the families
   test does (families_harness.randomise: BN running means U(-0.5, 0.5), running variances and 1-D
   gains U(0.5, 1.5) so no branch hides, the rest U(+-1.7 / sqrt(fan_in))), its state_dict saved as
   safetensors, a fixed random batch (1, 3, N, N) saved as safetensors ("input"), and its eval
   output.
2. torch: `skipgraph export FILE --target torch`, imported here, load_state_dict(strict=True), eval.
3. onnx: `skipgraph export FILE --target onnx --weights SD`, then `skipgraph infer M.onnx`.
4. tfjs: `skipgraph weights import FILE --from SD --out DIR`, then `skipgraph infer DIR`.

Each difference is max |ours - torchvision| / max |torchvision|. Everything goes through the
public CLI (node bin/skipgraph.js, which runs dist/: `npm run build` first), one step at a time.

  /usr/bin/python3 bench/families_targets.py [--only a,b] [--out results.jsonl] [--threads 2]

Prints one markdown row per file as it finishes (and appends a JSON line to --out).
safetensors is not packaged for Debian: the files are written and read by test/targets/torch/harness.py's hand-written
reader and writer (an 8-byte little-endian header length, a JSON header, the raw bytes).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import torch
import torchvision

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The torch tests' harnesses: one safetensors reader and writer, one way to build torchvision's
# model from an `# equals:` line (never executed) and to randomise it.
sys.path.insert(0, os.path.join(ROOT, "test", "targets", "torch"))
from harness import load_module, read_safetensors, write_safetensors  # noqa: E402
from families_harness import no_init, randomise, reference  # noqa: E402
CLI = ["node", os.path.join(ROOT, "bin", "skipgraph.js")]
TORCHVISION = re.compile(r"^torchvision\.models\.(\w+)(?:\((.*)\))?$")
EQUALS = re.compile(r"^# equals: (.+)$", re.M)

# The family representatives first (the brief's order), then the rest.
FIRST = ["mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small", "efficientnet_b0", "efficientnet_b4", "efficientnet_b7",
         "efficientnet_v2_s", "convnext_tiny", "convnext_base", "resnet50", "regnet_y_400mf"]


def size_of(name):
    """families.test.ts's sizes: the smallest multiple of 32 at which every conv tap meets a pixel."""
    if name.startswith("convnext"):
        return 128
    if re.match(r"efficientnet_b\d", name) or name.startswith("mobilenet_v3"):
        return 96
    return 64


def families():
    out = []
    for f in sorted(os.listdir(os.path.join(ROOT, "architectures"))):
        if not f.endswith(".yaml"):
            continue
        path = os.path.join(ROOT, "architectures", f)
        m = EQUALS.search(open(path, encoding="utf8").read())
        t = TORCHVISION.match(m.group(1).strip()) if m else None
        if t:
            out.append({"file": f[:-5], "path": path, "model": t.group(1), "args": t.group(2) or ""})
    order = {n: i for i, n in enumerate(FIRST)}
    return sorted(out, key=lambda f: (order.get(f["file"], len(FIRST)), f["file"]))


def cli(args):
    start = time.perf_counter()
    r = subprocess.run(CLI + args, cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("skipgraph %s failed (%d): %s" % (" ".join(args), r.returncode, (r.stderr or r.stdout)[-2000:]))
    return time.perf_counter() - start, r.stdout


def rel(ref, y):
    y = y.reshape(ref.shape)
    return ((y - ref).abs().max() / ref.abs().max()).item()


def measure(fam, work, threads, seed):
    n = size_of(fam["file"])
    sets = ["--set", "input.height=%d" % n, "--set", "input.width=%d" % n]
    row = {"file": fam["file"], "model": fam["model"] + ("(%s)" % fam["args"] if fam["args"] else ""), "size": n}
    sd_path, x_path = os.path.join(work, "sd.safetensors"), os.path.join(work, "x.safetensors")

    t = time.perf_counter()
    torch.manual_seed(seed)
    ref = reference(fam)
    randomise(ref)
    ref.eval()
    sd = ref.state_dict()
    write_safetensors(sd_path, sd)
    x = torch.randn(1, 3, n, n)
    write_safetensors(x_path, {"input": x})
    with torch.no_grad():
        want = ref(x)
    row["s_ref"] = time.perf_counter() - t

    _, out = cli(["compile", fam["path"], "--format", "json"] + sets)
    row["params"] = json.loads(out)["totals"]["trainableParams"]

    # PyTorch target
    py = os.path.join(work, "m_%s.py" % fam["file"])
    s_export, _ = cli(["export", fam["path"], "--target", "torch", "--out", py] + sets)
    t = time.perf_counter()
    mod = load_module(py, "emitted_" + fam["file"])
    with no_init():
        ours = mod.build_model()
    ours.load_state_dict(sd, strict=True)
    ours.eval()
    with torch.no_grad():
        row["torch"] = rel(want, ours(x))
    row["s_torch"] = s_export + time.perf_counter() - t
    del ours, mod

    # ONNX target
    onnx_path, y_onnx = os.path.join(work, "m.onnx"), os.path.join(work, "y_onnx.safetensors")
    s_export, _ = cli(["export", fam["path"], "--target", "onnx", "--weights", sd_path, "--out", onnx_path] + sets)
    s_infer, _ = cli(["infer", onnx_path, "--input", x_path, "--out", y_onnx, "--threads", str(threads), "--runs", "1"])
    row["onnx"] = rel(want, read_safetensors(y_onnx)["output"])
    row["s_onnx"] = s_export + s_infer

    # TF.js target
    folder, y_tfjs = os.path.join(work, "tfjs"), os.path.join(work, "y_tfjs.safetensors")
    s_import, _ = cli(["weights", "import", fam["path"], "--from", sd_path, "--out", folder] + sets)
    s_infer, out = cli(["infer", folder, "--input", x_path, "--out", y_tfjs, "--runs", "1"])
    row["tfjs"] = rel(want, read_safetensors(y_tfjs)["output"])
    row["s_tfjs"] = s_import + s_infer
    row["logit_scale"] = want.abs().max().item()
    return row


def fmt(row):
    if "error" in row:
        return "| %s | %s | %d | | | | | %s |" % (row["file"], row["model"], row["size"], row["error"][:200].replace("|", "/").replace("\n", " "))
    return "| %s | %s | %d | %s | %.1e | %.1e | %.1e | %.1f / %.1f / %.1f / %.1f |" % (
        row["file"], row["model"], row["size"], format(row["params"], ","), row["torch"], row["onnx"], row["tfjs"],
        row["s_ref"], row["s_torch"], row["s_onnx"], row["s_tfjs"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", help="comma-separated file names")
    ap.add_argument("--out", help="append one JSON line per file here")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    fams = families()
    if a.only:
        only = a.only.split(",")
        fams = [f for f in fams if f["file"] in only]
    print("load average at start: %.2f, %.2f, %.2f" % os.getloadavg(), flush=True)
    print("| file | torchvision | input | params | torch | onnx | tfjs | s: reference / torch / onnx / tfjs |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |", flush=True)
    start = time.perf_counter()
    for fam in fams:
        work = tempfile.mkdtemp(prefix="sg_families_")
        try:
            row = measure(fam, work, a.threads, a.seed)
        except Exception as e:
            row = {"file": fam["file"], "model": fam["model"], "size": size_of(fam["file"]), "error": "%s: %s" % (type(e).__name__, e)}
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(fmt(row), flush=True)
        if a.out:
            with open(a.out, "a") as f:
                f.write(json.dumps(row) + "\n")
    print("load average at end: %.2f, %.2f, %.2f; %.0f s in all" % (os.getloadavg() + (time.perf_counter() - start,)), flush=True)


if __name__ == "__main__":
    main()
