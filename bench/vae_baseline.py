#!/usr/bin/env python3
"""PyTorch CPU baseline for training our convolutional VAE (net2net autoencoder).

The same architecture as `AutoencoderArchitecture` (Sources/Experts/Generators/ConvolutionalVAE.swift),
the same loss (Gaussian reconstruction with a learned scalar log γ, + β·KL),
Adam (0.9, 0.999), random [-1, 1] images, one training step per batch; the
rate is the best of three windows of --seconds/3 (as `net2net bench` times its side).
Reference: torch 2.13.0+cpu. Install with `pip install torch==2.13.0+cpu`.

Usage: python3 bench/vae_baseline.py [--threads 2] [--seconds 5] [--latent 64] [--width 32] [--json]
JSON: {"framework": "pytorch", "version": ..., "threads": T,
       "results": [{"case": "vae-train-b64", "images_per_second": ...}, {"case": "vae-train-b128", ...}]}
"""
import argparse
import json
import math
import sys
import time

import torch

from torch_machine import describe as describe_machine  # noqa: E402
from torch import nn


def vae(latent=64, width=32, slope=0.2):
    w = width
    encoder = nn.Sequential(
        nn.Conv2d(1, w, 4, 2, 1), nn.LeakyReLU(slope),
        nn.Conv2d(w, 2 * w, 4, 2, 1), nn.BatchNorm2d(2 * w), nn.LeakyReLU(slope),
        nn.Conv2d(2 * w, 4 * w, 3, 2, 1), nn.BatchNorm2d(4 * w), nn.LeakyReLU(slope),
        nn.Flatten(), nn.Linear(4 * w * 16, 2 * latent))
    decoder = nn.Sequential(
        nn.Linear(latent, 4 * w * 16), nn.Unflatten(1, (4 * w, 4, 4)),
        nn.BatchNorm2d(4 * w), nn.LeakyReLU(slope),
        nn.ConvTranspose2d(4 * w, 2 * w, 3, 2, 1), nn.BatchNorm2d(2 * w), nn.LeakyReLU(slope),
        nn.ConvTranspose2d(2 * w, w, 4, 2, 1), nn.BatchNorm2d(w), nn.LeakyReLU(slope),
        nn.ConvTranspose2d(w, 1, 4, 2, 1), nn.Tanh())
    return encoder, decoder


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--latent", type=int, default=64)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--beta", type=float, default=1.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    encoder, decoder = vae(args.latent, args.width)
    log_gamma = nn.Parameter(torch.zeros(()))
    params = list(encoder.parameters()) + list(decoder.parameters()) + [log_gamma]
    optimizer = torch.optim.Adam(params, lr=1e-4, betas=(0.9, 0.999))
    D = 784
    results = []
    for batch in (64, 128):
        x = torch.rand(batch, 1, 28, 28) * 2 - 1

        def step():
            optimizer.zero_grad(set_to_none=True)
            h = encoder(x)
            mu, logvar = h[:, :args.latent], h[:, args.latent:].clamp(-20, 12)
            z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
            x_hat = decoder(z)
            sse = ((x - x_hat) ** 2).flatten(1).sum(1)
            rec = sse * torch.exp(-2 * log_gamma) / 2 + D * log_gamma + D / 2 * math.log(2 * math.pi)
            kl = 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).sum(1)
            loss = (rec + args.beta * kl).mean()
            loss.backward()
            optimizer.step()

        for _ in range(3):
            step()
        # The best of three windows, as `net2net bench` times its side.
        best = 0.0
        for _ in range(3):
            count, start = 0, time.perf_counter()
            while True:
                step()
                count += batch
                elapsed = time.perf_counter() - start
                if elapsed >= args.seconds / 3:
                    break
            best = max(best, count / elapsed)
        results.append({"case": f"vae-train-b{batch}", "images_per_second": best})
        print(f"vae-train-b{batch}: {best:.1f} images/s", file=sys.stderr)
    out = {"framework": "pytorch", "version": torch.__version__, "threads": args.threads, "results": results, "machine": describe_machine()}
    print(json.dumps(out) if args.json else out)


if __name__ == "__main__":
    main()
