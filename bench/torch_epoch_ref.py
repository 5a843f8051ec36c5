"""The reference of the `torch-epoch` bench case: a plain script that trains torchvision's resnet18
for one epoch on an image folder with torchvision's transforms and a DataLoader, the recipe of
`--recipe cifar-resnet` (SGD 0.1, momentum 0.9, weight decay 5e-4, label smoothing 0.1, crop 4 +
flip), the way a user would write it. Prints `RESULT {json}`: images/s of the training loop.

    python3 bench/torch_epoch_ref.py DIR SIZE BATCH WORKERS THREADS
"""
import json
import sys
import time

import torch
import torch.nn.functional as F
import torchvision
from torchvision import transforms as T

root, size, batch, workers, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(threads)
torch.manual_seed(0)
tf = T.Compose([T.Resize((size, size)), T.RandomCrop(size, padding=4), T.RandomHorizontalFlip(), T.ToTensor(), T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
data = torchvision.datasets.ImageFolder(f"{root}/train", transform=tf)
loader = torch.utils.data.DataLoader(data, batch_size=batch, shuffle=True, num_workers=workers, persistent_workers=workers > 0)
model = torchvision.models.resnet18(num_classes=len(data.classes))
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
model.train()
t0 = time.perf_counter()
seen = 0
for x, y in loader:
    loss = F.cross_entropy(model(x), y, label_smoothing=0.1)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    seen += len(y)
loss.item()
seconds = time.perf_counter() - t0
print("RESULT " + json.dumps({"images": seen, "seconds": seconds, "imagesPerSecond": seen / seconds, "torch": torch.__version__}))
