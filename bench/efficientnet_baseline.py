#!/usr/bin/env python3
"""PyTorch CPU baseline for the EfficientNet-Lite0 image expert (asset `efficientnet-lite0`).

efficientnet-lite-pytorch 0.1.0's model with the published weights, eval
mode, torch.no_grad(), NCHW float input [N, 3, 224, 224], at batch 1 and 16;
the timed call returns the logits (the pooled features are one GEMM before).
Reference: torch 2.13.0+cpu. Install with `pip install torch==2.13.0+cpu`
and `pip install --no-deps efficientnet-lite-pytorch==0.1.0`.

Usage: python3 bench/efficientnet_baseline.py ASSET_DIR [--threads 2] [--seconds 3] [--json]
JSON: {"framework": "pytorch", "version": ..., "threads": T,
       "results": [{"case": "encode-b1", "images_per_second": ...}, {"case": "encode-b16", ...}]}
"""
import argparse
import json
import os
import sys
import time

import torch

from torch_machine import describe as describe_machine  # noqa: E402

# The model is built once, beside the parity fixture.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "fixtures"))
from make_efficientnet_lite0 import model  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("asset_dir")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    net = model(args.asset_dir)
    results = []
    for batch in (1, 16):
        x = torch.rand(batch, 3, 224, 224, generator=torch.Generator().manual_seed(0)) * 2 - 1
        with torch.no_grad():
            net(x)
            count, start = 0, time.perf_counter()
            while True:
                net(x)
                count += batch
                elapsed = time.perf_counter() - start
                if elapsed >= args.seconds:
                    break
        results.append({"case": f"encode-b{batch}", "images_per_second": count / elapsed})
        print(f"encode-b{batch}: {count / elapsed:.1f} images/s", file=sys.stderr)
    out = {"framework": "pytorch", "version": torch.__version__, "threads": args.threads, "results": results, "machine": describe_machine()}
    print(json.dumps(out) if args.json else out)


if __name__ == "__main__":
    main()
