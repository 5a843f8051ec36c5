"""PyTorch references for bench/run.ts (Debian python3-torch; run with /usr/bin/python3).

  torch_ref.py shapes            build torchvision resnet152 and record every module's output
                                 shape with forward hooks in one 224x224 forward pass (batch 1)
  torch_ref.py train STEPS [THREADS]
                                 resnet18(num_classes=10), batch 32, 32x32: 1 warm-up step, then
                                 STEPS timed SGD steps (forward, loss, backward, update), on THREADS
                                 threads (default 2; bench/run.ts runs 2 and 1)
Threads: torch.set_num_threads(2) unless told. Prints one JSON line.
"""
import json
import resource
import sys
import time

import torch
import torchvision

torch.set_num_threads(2)


def peak_rss_kib():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmHWM:'):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def shapes():
    model = torchvision.models.resnet152()
    model.eval()
    out = {}
    def hook(name):
        def f(_m, _i, o):
            out[name] = list(o.shape)
        return f
    for name, m in model.named_modules():
        if name:
            m.register_forward_hook(hook(name))
    with torch.no_grad():
        model(torch.zeros(1, 3, 224, 224))
    json.dump(out, open('/dev/null', 'w'))
    print(json.dumps({'modules': len(out)}))


def train(steps):
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=10)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x = torch.randn(32, 3, 32, 32)
    y = torch.arange(32) % 10
    loss_fn = torch.nn.CrossEntropyLoss()
    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()
    step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    print(json.dumps({'stepSeconds': times, 'peakRssKiB': peak_rss_kib(), 'threads': torch.get_num_threads()}))


if __name__ == '__main__':
    if sys.argv[1] == 'shapes':
        shapes()
    else:
        if len(sys.argv) > 3:
            torch.set_num_threads(int(sys.argv[3]))
        train(int(sys.argv[2]))
