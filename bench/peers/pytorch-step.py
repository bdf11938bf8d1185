"""The baby-GPT training step in PyTorch, for bench/gpt.bench.ts to time beside wasmformer in the
same run (bench/peers/pytorch.ts spawns it). Reads one JSON object from argv[1]:
  {"threads": 1, "warmup": 10, "steps": 30, "batch": 12, "block": 64, "vocab": 65,
   "layers": 4, "heads": 4, "d": 128, "ff": 512}
and prints one JSON line: {"torch", "threads", "msPerStep": [...], "blas"}.
The model is the GPT of bench/gpt.bench.ts: learned positions, pre-LayerNorm blocks, causal
self-attention, GELU (tanh form, as wasmformer's), biases, head tied to the token embedding.
A step is what wasmformer's train() does: sample a batch, forward, cross-entropy, backward,
clip the global gradient norm to 1, AdamW (betas 0.9/0.99, weight decay 0.1), zero the gradients.
"""
import json
import math
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

cfg = json.loads(sys.argv[1])
torch.set_num_threads(cfg["threads"])
torch.manual_seed(1337)
D, H, T = cfg["d"], cfg["heads"], cfg["block"]


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(D), nn.LayerNorm(D)
        self.qkv, self.out = nn.Linear(D, 3 * D), nn.Linear(D, D)
        self.up, self.down = nn.Linear(D, cfg["ff"]), nn.Linear(cfg["ff"], D)
        self.register_buffer("future", torch.triu(torch.ones(T, T, dtype=torch.bool), 1))

    def attend(self, x):
        b, t, _ = x.shape
        q, k, v = self.qkv(x).split(D, dim=2)
        q, k, v = (z.view(b, t, H, D // H).transpose(1, 2) for z in (q, k, v))   # (b, H, t, hd)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(D // H)
        scores = scores.masked_fill(self.future[:t, :t], float("-inf"))
        y = F.softmax(scores, dim=-1) @ v
        return self.out(y.transpose(1, 2).reshape(b, t, D))

    def forward(self, x):
        x = x + self.attend(self.ln1(x))
        return x + self.down(F.gelu(self.up(self.ln2(x)), approximate="tanh"))


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok, self.pos = nn.Embedding(cfg["vocab"], D), nn.Embedding(T, D)
        self.layers = nn.ModuleList(Layer() for _ in range(cfg["layers"]))
        self.ln = nn.LayerNorm(D)

    def forward(self, idx, targets):
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1]))
        for layer in self.layers:
            x = layer(x)
        logits = self.ln(x) @ self.tok.weight.t()
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))


model = Model()
opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99), weight_decay=0.1)
data = torch.randint(0, cfg["vocab"], (200_000,))


def step():
    starts = torch.randint(0, len(data) - T - 1, (cfg["batch"],))
    x = torch.stack([data[s:s + T] for s in starts])
    y = torch.stack([data[s + 1:s + 1 + T] for s in starts])
    loss = model(x, y)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)
    return loss.item()


for _ in range(cfg["warmup"]):
    step()
ms = []
for _ in range(cfg["steps"]):
    t0 = time.perf_counter()
    step()
    ms.append((time.perf_counter() - t0) * 1000)
def loaded_blas():
    """The BLAS library this process mapped (Debian picks it by update-alternatives), else torch's build note."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "blas" in line.lower() and "/" in line}
        return ", ".join(sorted(paths)) or "none mapped"
    except OSError:
        return next((line.split("=", 1)[1].split(",")[0] for line in torch.__config__.show().splitlines() if "BLAS_INFO" in line), "unknown")


print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "msPerStep": ms, "blas": loaded_blas()}))
