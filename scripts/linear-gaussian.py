#!/usr/bin/env python3
"""Pairs of a linear conditional Gaussian, for checking what τ learns.

    c ~ N(0, I_Dc),   z | c ~ N(A c + b, Σ),   Σ = L Lᵀ (a random full covariance)

drawn like the library's `ConditionalGaussian` (the same distribution of
problems, not the same bits): A ~ N(0, 1/Dc), b ~ N(0, 1), L lower-triangular
with off-diagonal entries ~ U(-0.4, 0.4) and a diagonal ~ U(0.2, 1).

The conditional entropy per target dimension is

    h(z | c) / D = ½ · log((2πe)^D · det Σ) / D = ½ · (log 2πe + log det Σ / D),

which is the lowest expected held-out NLL (nats/dim) any model can reach.
One seed fixes A and Σ (the problem); --sample-seed draws the pairs, so
training and held-out pairs of one problem come from different sample seeds.

    scripts/linear-gaussian.py --dc 12 --d 7 --n 20000 --seed 1 --sample-seed 0 --out train
    scripts/linear-gaussian.py --dc 12 --d 7 --n 20000 --seed 1 --sample-seed 1 --out test

writes train_c.npy, train_z.npy (float32) and prints the analytic entropy.
"""
import argparse
import json

import numpy as np


def problem(dc, d, seed):
    """A [d, dc], b [d] and the Cholesky factor L [d, d] of Σ for problem `seed`."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((d, dc)) / np.sqrt(dc)
    b = rng.standard_normal(d)
    cholesky = np.tril(rng.uniform(-0.4, 0.4, (d, d)), -1) + np.diag(rng.uniform(0.2, 1.0, d))
    return a, b, cholesky


def entropy_per_dimension(cholesky):
    d = cholesky.shape[0]
    log_det = 2 * np.log(np.diag(cholesky)).sum()
    return 0.5 * (np.log(2 * np.pi * np.e) + log_det / d)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dc", type=int, default=12)
    p.add_argument("--d", type=int, default=7)
    p.add_argument("--n", type=int, default=20000)
    p.add_argument("--seed", type=int, default=0, help="fixes A and Σ")
    p.add_argument("--sample-seed", type=int, default=0, help="draws the pairs")
    p.add_argument("--out", default="pairs", help="prefix of PREFIX_c.npy and PREFIX_z.npy")
    args = p.parse_args()
    a, b, cholesky = problem(args.dc, args.d, args.seed)
    rng = np.random.default_rng([args.seed, args.sample_seed, 7])
    c = rng.standard_normal((args.n, args.dc))
    z = c @ a.T + b + rng.standard_normal((args.n, args.d)) @ cholesky.T
    np.save(args.out + "_c.npy", c.astype(np.float32))
    np.save(args.out + "_z.npy", z.astype(np.float32))
    print(json.dumps({"entropy_nats_per_dim": entropy_per_dimension(cholesky)}))


if __name__ == "__main__":
    main()
