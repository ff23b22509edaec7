#!/usr/bin/env python3
"""PyTorch CPU baseline for the DCGAN face generator (asset `dcgan-faces`).

The PyTorch-tutorial DCGAN generator (nz 100, ngf 64, nc 3) with the
published weights, eval mode, torch.no_grad(), at batch 1 and 64.
Reference: torch 2.13.0+cpu. Install with `pip install torch==2.13.0+cpu`.

Usage: python3 bench/dcgan_baseline.py ASSET_DIR [--threads 2] [--seconds 3] [--json]
JSON: {"framework": "pytorch", "version": ..., "threads": T,
       "results": [{"case": "decode-b1", "images_per_second": ...}, {"case": "decode-b64", ...}]}
"""
import argparse
import json
import os
import sys
import time

import torch

from torch_machine import describe as describe_machine  # noqa: E402

# The architecture is defined once, beside the parity fixture.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "fixtures"))
from make_dcgan_faces import generator  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("asset_dir")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    checkpoint = torch.load(os.path.join(args.asset_dir, "weights.pth"), map_location="cpu", weights_only=True)
    net = generator()
    net.load_state_dict({k[len("main."):]: v for k, v in checkpoint["netG_state_dict"].items()}, strict=True)
    net.eval()
    results = []
    for batch in (1, 64):
        z = torch.randn(batch, 100, 1, 1, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            net(z)
            count, start = 0, time.perf_counter()
            while True:
                net(z)
                count += batch
                elapsed = time.perf_counter() - start
                if elapsed >= args.seconds:
                    break
        results.append({"case": f"decode-b{batch}", "images_per_second": count / elapsed})
        print(f"decode-b{batch}: {count / elapsed:.1f} images/s", file=sys.stderr)
    out = {"framework": "pytorch", "version": torch.__version__, "threads": args.threads, "results": results, "machine": describe_machine()}
    print(json.dumps(out) if args.json else out)


if __name__ == "__main__":
    main()
