#!/usr/bin/env python3
"""PyTorch CPU benchmark baseline for a conditional invertible neural network (cINN).

What it is
----------
A self-contained PyTorch implementation of a conditional normalizing flow in the
style of Rombach et al., "Net2Net" (conditional INN with double affine couplings),
used as the CPU baseline for the Swift implementation of this project. The
architecture mirrors the Swift implementation exactly (see the project's
DESIGN.md for the description of the model and its math):

* condition embedder  e = MLP(c):
    Linear(Dc, Hc) -> BatchNorm1d -> LeakyReLU(0.01),
    conditioning_depth x [Linear(Hc, Hc) -> BatchNorm1d -> LeakyReLU(0.01)],
    Linear(Hc, E); computed once per forward, shared by every coupling.
* n_flows blocks (data -> Gaussian direction): ActNorm -> double affine coupling -> Shuffle.
    ActNorm:  y = (x + loc) * exp(logscale), logdet = sum(logscale).
    Coupling: a = x[:, :D//2], b = x[:, D//2:]
              b' = b * exp(S0([a, e])) + T0([a, e])
              a' = a * exp(S1([b', e])) + T1([b', e])
              y = cat([b', a']),  logdet = sum(S0) + sum(S1).
    Shuffle:  fixed random permutation per block.
  Subnets S/T: Linear(d_in + E, H) -> LeakyReLU(0.01),
               hidden_depth x [Linear(H, H) -> LeakyReLU(0.01)], Linear(H, d_out)
               (+ Tanh for S).
* loss: mean over batch of 0.5 * ||v||^2 - logdet.
* optimiser: Adam(lr = batch * 4.5e-6, betas=(0.5, 0.9), amsgrad=True), default impl.

Cases: train-reference-b16, train-reference-b64, sample-reference-b16,
sample-reference-b64, train-small-b128, sample-small-b128.
  reference: D=128, Dc=384, E=128, H=1024, hidden_depth=2, n_flows=20, Hc=256, cond_depth=2 (~189M params)
  small:     D=64,  Dc=384, E=64,  H=256,  hidden_depth=2, n_flows=12, Hc=256, cond_depth=2

A training iteration = zero_grad(set_to_none=True), forward, NLL loss, backward,
optimizer.step(). A sampling iteration = embed condition, draw v ~ N(0, I),
invert all blocks in reverse order (eval mode, torch.no_grad()).

Install (CPU-only torch)
------------------------
    pip install torch==2.13.0+cpu     # the CPU build; a plain "pip install torch" pulls CUDA

Run
---
    python3 bench/flow_baseline.py                          # all cases, readable table
    python3 bench/flow_baseline.py --json                   # one JSON object on stdout
    python3 bench/flow_baseline.py --cases train-small-b128,sample-small-b128 --min-time 1 --json
    python3 bench/flow_baseline.py --check                  # invertibility / logdet self-test

Options: --threads N (default 2), --cases a,b,... (default all), --warmup N (default 2),
--min-time SECONDS (default 3.0), --min-iters N (default 3), --json, --seed N (default 0),
--check. Progress messages go to stderr.
"""

import argparse
import gc
import json
import math
import sys
import time
from dataclasses import dataclass

import torch

from torch_machine import describe as describe_machine  # noqa: E402
import torch.nn as nn


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class FlowConfig:
    data_dim: int          # D
    cond_dim: int          # Dc
    embed_dim: int         # E
    hidden_dim: int        # H
    hidden_depth: int
    n_flows: int
    cond_hidden_dim: int = 256   # Hc
    conditioning_depth: int = 2


def _leaky():
    return nn.LeakyReLU(negative_slope=0.01)


class ConditionEmbedder(nn.Module):
    def __init__(self, cond_dim, hidden_dim, embed_dim, depth):
        super().__init__()
        layers = [nn.Linear(cond_dim, hidden_dim), nn.BatchNorm1d(hidden_dim), _leaky()]
        for _ in range(depth):
            layers += [nn.Linear(hidden_dim, hidden_dim), nn.BatchNorm1d(hidden_dim), _leaky()]
        layers.append(nn.Linear(hidden_dim, embed_dim))
        self.main = nn.Sequential(*layers)

    def forward(self, c):
        return self.main(c)


class Subnet(nn.Module):
    """Linear(in, H) -> LeakyReLU, depth x [Linear(H, H) -> LeakyReLU], Linear(H, out) [-> Tanh]."""

    def __init__(self, in_dim, out_dim, hidden_dim, depth, use_tanh):
        super().__init__()
        layers = [nn.Linear(in_dim, hidden_dim), _leaky()]
        for _ in range(depth):
            layers += [nn.Linear(hidden_dim, hidden_dim), _leaky()]
        layers.append(nn.Linear(hidden_dim, out_dim))
        if use_tanh:
            layers.append(nn.Tanh())
        self.main = nn.Sequential(*layers)

    def forward(self, x):
        return self.main(x)


class ActNorm(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.loc = nn.Parameter(torch.zeros(1, dim))
        self.logscale = nn.Parameter(torch.zeros(1, dim))

    def forward(self, x):
        y = (x + self.loc) * torch.exp(self.logscale)
        logdet = self.logscale.sum().expand(x.shape[0])
        return y, logdet

    def inverse(self, y):
        x = y * torch.exp(-self.logscale) - self.loc
        logdet = (-self.logscale.sum()).expand(y.shape[0])
        return x, logdet


class Shuffle(nn.Module):
    def __init__(self, dim):
        super().__init__()
        perm = torch.randperm(dim)
        self.register_buffer("perm", perm)
        self.register_buffer("inv_perm", torch.argsort(perm))

    def forward(self, x):
        return x[:, self.perm]

    def inverse(self, y):
        return y[:, self.inv_perm]


class DoubleAffineCoupling(nn.Module):
    def __init__(self, dim, embed_dim, hidden_dim, depth):
        super().__init__()
        self.d1 = dim // 2
        self.d2 = dim - self.d1
        d1, d2 = self.d1, self.d2
        # half 0: conditioned on a (d1), transforms b (d2)
        self.s0 = Subnet(d1 + embed_dim, d2, hidden_dim, depth, use_tanh=True)
        self.t0 = Subnet(d1 + embed_dim, d2, hidden_dim, depth, use_tanh=False)
        # half 1: conditioned on b' (d2), transforms a (d1)
        self.s1 = Subnet(d2 + embed_dim, d1, hidden_dim, depth, use_tanh=True)
        self.t1 = Subnet(d2 + embed_dim, d1, hidden_dim, depth, use_tanh=False)

    def forward(self, x, e):
        a, b = x[:, : self.d1], x[:, self.d1 :]
        h = torch.cat([a, e], dim=1)
        s0 = self.s0(h)
        b = b * torch.exp(s0) + self.t0(h)
        h = torch.cat([b, e], dim=1)
        s1 = self.s1(h)
        a = a * torch.exp(s1) + self.t1(h)
        logdet = s0.sum(dim=1) + s1.sum(dim=1)
        return torch.cat([b, a], dim=1), logdet

    def inverse(self, y, e):
        b, a = y[:, : self.d2], y[:, self.d2 :]
        h = torch.cat([b, e], dim=1)
        s1 = self.s1(h)
        a = (a - self.t1(h)) * torch.exp(-s1)
        h = torch.cat([a, e], dim=1)
        s0 = self.s0(h)
        b = (b - self.t0(h)) * torch.exp(-s0)
        logdet = -(s0.sum(dim=1) + s1.sum(dim=1))
        return torch.cat([a, b], dim=1), logdet


class FlowBlock(nn.Module):
    def __init__(self, dim, embed_dim, hidden_dim, depth):
        super().__init__()
        self.norm = ActNorm(dim)
        self.coupling = DoubleAffineCoupling(dim, embed_dim, hidden_dim, depth)
        self.shuffle = Shuffle(dim)

    def forward(self, x, e):
        x, ld0 = self.norm(x)
        x, ld1 = self.coupling(x, e)
        x = self.shuffle(x)
        return x, ld0 + ld1

    def inverse(self, y, e):
        y = self.shuffle.inverse(y)
        y, ld1 = self.coupling.inverse(y, e)
        y, ld0 = self.norm.inverse(y)
        return y, ld0 + ld1


class ConditionalFlow(nn.Module):
    def __init__(self, cfg: FlowConfig):
        super().__init__()
        self.cfg = cfg
        self.embedder = ConditionEmbedder(
            cfg.cond_dim, cfg.cond_hidden_dim, cfg.embed_dim, cfg.conditioning_depth
        )
        self.blocks = nn.ModuleList(
            FlowBlock(cfg.data_dim, cfg.embed_dim, cfg.hidden_dim, cfg.hidden_depth)
            for _ in range(cfg.n_flows)
        )

    def forward(self, x, c):
        """data -> Gaussian; returns (v, logdet[B])."""
        e = self.embedder(c)
        logdet = x.new_zeros(x.shape[0])
        for block in self.blocks:
            x, ld = block(x, e)
            logdet = logdet + ld
        return x, logdet

    def inverse(self, v, c):
        """Gaussian -> data; returns (x, logdet[B]) of the inverse map."""
        e = self.embedder(c)
        logdet = v.new_zeros(v.shape[0])
        for block in reversed(self.blocks):
            v, ld = block.inverse(v, e)
            logdet = logdet + ld
        return v, logdet

    @torch.no_grad()
    def sample(self, c):
        v = torch.randn(c.shape[0], self.cfg.data_dim, dtype=torch.float32)
        x, _ = self.inverse(v, c)
        return x


def nll_loss(v, logdet):
    return (0.5 * v.pow(2).sum(dim=1) - logdet).mean()


# --------------------------------------------------------------------------- cases

CONFIGS = {
    "reference": FlowConfig(data_dim=128, cond_dim=384, embed_dim=128, hidden_dim=1024,
                            hidden_depth=2, n_flows=20, cond_hidden_dim=256, conditioning_depth=2),
    "small": FlowConfig(data_dim=64, cond_dim=384, embed_dim=64, hidden_dim=256,
                        hidden_depth=2, n_flows=12, cond_hidden_dim=256, conditioning_depth=2),
}

# name -> (mode, config name, batch)
CASES = {
    "train-reference-b16": ("train", "reference", 16),
    "train-reference-b64": ("train", "reference", 64),
    "sample-reference-b16": ("sample", "reference", 16),
    "sample-reference-b64": ("sample", "reference", 64),
    "train-small-b128": ("train", "small", 128),
    "sample-small-b128": ("sample", "small", 128),
}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def count_parameters(model):
    return sum(p.numel() for p in model.parameters())


def run_case(name, args):
    mode, cfg_name, batch = CASES[name]
    cfg = CONFIGS[cfg_name]
    torch.manual_seed(args.seed)
    model = ConditionalFlow(cfg)
    n_params = count_parameters(model)
    x = torch.randn(batch, cfg.data_dim)
    c = torch.randn(batch, cfg.cond_dim)

    if mode == "train":
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=batch * 4.5e-6,
                               betas=(0.5, 0.9), amsgrad=True)

        def step():
            opt.zero_grad(set_to_none=True)
            v, logdet = model(x, c)
            loss = nll_loss(v, logdet)
            loss.backward()
            opt.step()
            return loss
    else:
        model.eval()
        opt = None

        def step():
            with torch.no_grad():
                return model.sample(c)

    log(f"[{name}] params={n_params:,} warmup={args.warmup}")
    for _ in range(args.warmup):
        out = step()

    iters = 0
    start = time.perf_counter()
    while True:
        out = step()
        iters += 1
        elapsed = time.perf_counter() - start
        if iters >= args.min_iters and elapsed >= args.min_time:
            break

    if mode == "train":
        value = out.item()
        finite = math.isfinite(value)
        log(f"[{name}] final loss = {value:.4f} ({'finite' if finite else 'NOT FINITE'})")
    else:
        finite = bool(torch.isfinite(out).all())
        log(f"[{name}] samples {'finite' if finite else 'NOT FINITE'}")
    if not finite:
        log(f"[{name}] WARNING: non-finite values")

    result = {
        "case": name,
        "samples_per_second": batch * iters / elapsed,
        "seconds_per_iteration": elapsed / iters,
        "iterations": iters,
        "parameters": n_params,
    }
    log(f"[{name}] {result['samples_per_second']:.2f} samples/s, "
        f"{result['seconds_per_iteration'] * 1e3:.2f} ms/iter, {iters} iters")

    del model, opt, out, x, c, step
    gc.collect()
    return result


# --------------------------------------------------------------------------- self-check


def run_check(seed):
    """Tiny-config test: inverse(forward(x)) == x, logdets cancel, logdet == log|det J|."""
    torch.manual_seed(seed)
    cfg = FlowConfig(data_dim=5, cond_dim=3, embed_dim=4, hidden_dim=16, hidden_depth=2,
                     n_flows=3, cond_hidden_dim=16, conditioning_depth=2)
    model = ConditionalFlow(cfg)
    # Non-trivial ActNorm parameters so that path is exercised too.
    with torch.no_grad():
        for block in model.blocks:
            block.norm.loc.normal_(0.0, 0.5)
            block.norm.logscale.normal_(0.0, 0.3)
    # One train-mode pass so BatchNorm running stats are not the defaults.
    model.train()
    x = torch.randn(8, cfg.data_dim)
    c = torch.randn(8, cfg.cond_dim)
    with torch.no_grad():
        model(x, c)
    model.eval()

    ok = True
    with torch.no_grad():
        v, ld_fwd = model(x, c)
        x_rec, ld_inv = model.inverse(v, c)
    rec_err = (x_rec - x).abs().max().item()
    ld_err = (ld_fwd + ld_inv).abs().max().item()
    log(f"[check] max |inverse(forward(x)) - x| = {rec_err:.3e}")
    log(f"[check] max |logdet_fwd + logdet_inv|  = {ld_err:.3e}")
    ok &= rec_err < 1e-4 and ld_err < 1e-4

    # Sampling direction round trip: forward(inverse(v)) == v.
    with torch.no_grad():
        z = torch.randn(8, cfg.data_dim)
        xs, _ = model.inverse(z, c)
        z_rec, _ = model(xs, c)
    samp_err = (z_rec - z).abs().max().item()
    log(f"[check] max |forward(inverse(v)) - v|  = {samp_err:.3e}")
    ok &= samp_err < 1e-4

    # logdet vs. autograd Jacobian (float64), per sample.
    m64 = model.double()
    x64, c64 = x.double(), c.double()
    with torch.no_grad():
        _, ld64 = m64(x64, c64)
        e64 = m64.embedder(c64)
    jac_err = 0.0
    for i in range(x64.shape[0]):
        def f(xi, i=i):
            h = xi.unsqueeze(0)
            for block in m64.blocks:
                h, _ = block(h, e64[i : i + 1])
            return h.squeeze(0)
        J = torch.autograd.functional.jacobian(f, x64[i])
        jac_err = max(jac_err, abs(torch.linalg.slogdet(J).logabsdet.item() - ld64[i].item()))
    log(f"[check] max |logdet - log|det J||      = {jac_err:.3e}")
    ok &= jac_err < 1e-8

    log(f"[check] {'PASSED' if ok else 'FAILED'}")
    return ok


# --------------------------------------------------------------------------- main


def main():
    p = argparse.ArgumentParser(description="PyTorch CPU cINN benchmark baseline")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--cases", type=str, default=",".join(CASES),
                   help="comma-separated case names: " + ",".join(CASES))
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--min-time", type=float, default=3.0)
    p.add_argument("--min-iters", type=int, default=3)
    p.add_argument("--json", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--check", action="store_true",
                   help="run the tiny-config invertibility/logdet self-test and exit")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    if args.check:
        sys.exit(0 if run_check(args.seed) else 1)

    names = [n.strip() for n in args.cases.split(",") if n.strip()]
    unknown = [n for n in names if n not in CASES]
    if unknown:
        p.error(f"unknown case(s): {', '.join(unknown)}; known: {', '.join(CASES)}")

    log(f"torch {torch.__version__}, threads={torch.get_num_threads()}")
    results = [run_case(n, args) for n in names]

    if args.json:
        print(json.dumps({
            "framework": "pytorch",
            "version": torch.__version__,
            "threads": args.threads,
            "results": results,
            "machine": describe_machine(),
        }))
    else:
        print(f"PyTorch {torch.__version__}, {args.threads} threads")
        header = f"{'case':<22} {'samples/s':>12} {'ms/iter':>12} {'iters':>6} {'params':>13}"
        print(header)
        print("-" * len(header))
        for r in results:
            print(f"{r['case']:<22} {r['samples_per_second']:>12.2f} "
                  f"{r['seconds_per_iteration'] * 1e3:>12.2f} {r['iterations']:>6d} "
                  f"{r['parameters']:>13,}")


if __name__ == "__main__":
    main()
