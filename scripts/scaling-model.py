#!/usr/bin/env python3
"""Expected data-parallel scaling of tau training over N machines (ring allreduce model).

    step(N) = compute(local batch) + allreduce(N)
    allreduce(N) = 2(N-1)/N * bytes / bandwidth + 2(N-1) * latency

with no overlap of the allreduce and backward (the trainer reduces after
backward). Speed-up = N * step(1) / step(N) at a fixed local batch (weak
scaling: the global batch grows with N). The compute times are arguments:
by default this project's quiet-machine measurements on a 2-core AMD EPYC
(README, `net2net bench`): the reference flow at batch 16 in 0.327 s and
at batch 64 in 0.595 s, the small flow at batch 128 in 0.055 s.

    scripts/scaling-model.py [--latency-us 50] [--compression 1]
"""
import argparse

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--latency-us", type=float, default=50.0, help="per-hop latency (TCP: ~50 us)")
parser.add_argument("--compression", type=float, default=1.0, help="gradient bytes divided by this (2 = fp16)")
args = parser.parse_args()

cases = [  # name, gradient bytes (float32), compute seconds per step at that local batch
    ("reference, local batch 16", 757.1e6, 0.327),
    ("reference, local batch 64", 757.1e6, 0.595),
    ("small, local batch 128", 32.6e6, 0.055),
]
links = [("10 Gb/s", 10e9 / 8), ("100 Gb/s", 100e9 / 8)]
machines = [2, 4, 8, 16]

print("| case | link | allreduce at N = " + ", ".join(map(str, machines)) + " (s) | speed-up at N = "
      + ", ".join(map(str, machines)) + " |")
print("|---|---|---|---|")
for name, size, compute in cases:
    size /= args.compression
    for link, bandwidth in links:
        times, speedups = [], []
        for n in machines:
            allreduce = 2 * (n - 1) / n * size / bandwidth + 2 * (n - 1) * args.latency_us * 1e-6
            times.append(f"{allreduce:.3f}")
            speedups.append(f"{n * compute / (compute + allreduce):.1f}×")
        print(f"| {name} | {link} | {' / '.join(times)} | {' / '.join(speedups)} |")
