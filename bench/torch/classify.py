"""The classifier's network in PyTorch on the CPU, with the shipped weights: the baseline of
`cargo bench -p model --bench infer`, which writes DIR (weights, the 25 input grids and its own
probabilities) and runs this with its own medians, so the ratio comes from one invocation.

    python classify.py DIR NATIVE_SINGLE_MS NATIVE_BATCH25_MS TEMPERATURE [POOLING [CHANNELS]]

The probabilities are softmax(logits / TEMPERATURE), the shipped model's calibration. POOLING is
the manifest's: "max" (every stage) or "avg-max" (average in the first two stages). CHANNELS is
the input's: 1 (the map), or 2 with the radius channel (the manifest's "radial"); the inputs
file holds them as the network reads them.
"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(2)  # the machines this project measures on have two cores


class Cnn(nn.Module):
    # Same layers as crates/model/src/lib.rs.
    def __init__(self, pooling="max", channels=1):
        super().__init__()
        self.pooling = pooling
        ch = [channels, 16, 32, 64, 64]
        for i in range(4):
            setattr(self, f"conv{i + 1}", nn.Conv2d(ch[i], ch[i + 1], 3, padding=1))
        self.fc1 = nn.Linear(64 * 4 * 4, 64)
        self.fc2 = nn.Linear(64, 9)

    def forward(self, x):
        for i in range(4):
            pool = F.avg_pool2d if self.pooling == "avg-max" and i < 2 else F.max_pool2d
            x = pool(F.relu(getattr(self, f"conv{i + 1}")(x)), 2)
        return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def main():
    d, native_single, native_b25 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    temperature = float(sys.argv[4])
    pooling = sys.argv[5] if len(sys.argv) > 5 else "max"
    channels = int(sys.argv[6]) if len(sys.argv) > 6 else 1
    weights = json.load(open(f"{d}/weights.json"))
    inputs = torch.tensor(json.load(open(f"{d}/inputs.json")), dtype=torch.float32).reshape(-1, channels, 64, 64)
    expected = torch.tensor(json.load(open(f"{d}/expected.json")), dtype=torch.float32)
    m = Cnn(pooling, channels).eval()
    m.load_state_dict({k: torch.tensor(v["data"], dtype=torch.float32).reshape(v["shape"]) for k, v in weights.items()})
    with torch.inference_mode():
        got = F.softmax(m(inputs) / temperature, dim=1)
        diff = (got - expected).abs().max().item()
        assert diff < 1e-4, f"PyTorch and burn disagree by {diff}"
        one = inputs[-1:]
        t = time.perf_counter()
        m(one)
        first = (time.perf_counter() - t) * 1e3

        def timed(x, n):
            out = []
            for _ in range(n):
                t = time.perf_counter()
                F.softmax(m(x) / temperature, dim=1)
                out.append((time.perf_counter() - t) * 1e3)
            return median(out)

        single = timed(one, 200)
        b25 = timed(inputs, 40)
    print(f"PyTorch {torch.__version__} on the CPU, 2 threads (same weights; outputs agree within {diff:.1e})")
    print(f"  first inference              {first:8.2f} ms")
    print(f"  one wafer, warm (median)     {single:8.3f} ms   burn/PyTorch {native_single / single:.2f}x the time")
    print(f"  batch of 25, warm (median)   {b25:8.3f} ms   burn/PyTorch {native_b25 / b25:.2f}x the time")


if __name__ == "__main__":
    main()
