#!/usr/bin/env python3
"""PyTorch CPU baseline of the Net2Net conditional INN (Rombach et al., NeurIPS 2020).

What it mirrors
---------------
The authors' `ConditionalFlatCouplingFlow` with the options every translation
config of theirs uses (`activation='none'`, `conditioner_use_bn=True`), trained
with their `NLL` loss and `torch.optim.Adam(lr=4.5e-6 * batch, betas=(0.5, 0.9),
amsgrad=True)`. It is written from a reading of that code, keeping its module
tree, parameter names, tensor shapes and the order of its operations, so that
its speed is the speed of the original (not of a leaner re-implementation):

* Tensors travel as [B, C, 1, 1]; every coupling squeezes them to [B, C] and
  unsqueezes its output again.
* embedder: Linear(Dc, Hc) BatchNorm1d LeakyReLU(0.01),
  conditioning_depth x [Linear(Hc, Hc) BatchNorm1d LeakyReLU], Linear(Hc, E);
  run once per pass, its output viewed as [B, E, 1, 1] and handed to every block.
* block (data -> Gaussian): ActNorm, identity activation, double coupling, Shuffle;
  logdet starts at the Python float 0.0 and each part's logdet is added in turn
  (the identity and the shuffle add 0).
  ActNorm:  y = scale * (x + loc), logdet = sum(log|scale|) * ones(B) (times 1x1 pixels); loc and
            scale are set from the first training batch (loc = -mean,
            scale = 1 / (std + 1e-6)); inverse x = y / scale - loc.
  Coupling: for i in 0, 1: if i is odd, swap the halves (cat of the reversed
            chunks); (a, b) = chunk(x, 2); h = cat(a, e);
            s = s_i(h); b' = b * exp(s) + t_i(h); x = cat(a, b'); logdet += sum(s).
            s_i, t_i: Linear(D/2 + E, H) LeakyReLU, hidden_depth x
            [Linear(H, H) LeakyReLU], Linear(H, D/2), Tanh for s_i only;
            s_i(h) and t_i(h) are separate networks evaluated separately.
  Shuffle:  a fixed random permutation, x[:, perm, ...].
* loss: mean(0.5 * sum(v^2)) - mean(logdet), plus the reference NLL of a fresh
  N(0, I) draw that the original computes for its log.
* sampling: v ~ N(0, I) of shape [B, D, 1, 1], blocks inverted in reverse
  order (no logdet), in eval mode under torch.no_grad().

How it was checked: built after the same torch.manual_seed, this model and the
original draw the same initial parameters (same module order, same state_dict
keys and shapes), and on a fixed batch, in training mode with the
data-dependent ActNorm initialisation, they gave bit-identical v, logdet,
loss and parameter gradients, and identical samples, at both sizes below
(torch 2.13 CPU, 2 threads). Their speed was compared by alternating runs of
both on one machine with the same thread count. `--check` runs the self-test
below (reverse(forward(x)) == x, forward(reverse(v)) == v, logdet ==
log|det J| in float64).

Cases: train-reference-b16, train-reference-b64, sample-reference-b1 (latency),
sample-reference-b16, sample-reference-b64, train-small-b128, sample-small-b128.
  reference: D=128, Dc=384, E=128, H=1024, hidden_depth=2, n_flows=20, Hc=256, cond_depth=2 (~189M params)
  small:     D=64,  Dc=384, E=64,  H=256,  hidden_depth=2, n_flows=12, Hc=256, cond_depth=2

A training iteration = forward, NLL loss, zero_grad(set_to_none=True),
backward, optimizer.step() on one of four fixed random batches in turn.
A sampling iteration = flow.sample(c) (embedding included); a sampling case
first runs one training-mode forward pass without gradients so that ActNorm
and BatchNorm hold data-dependent statistics, as in a trained model.

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
--check. samples_per_second is batch * iterations / total time of the timed
loop (as `net2net bench` times its own side); median_seconds_per_iteration is
also given, being less sensitive to other load. Progress messages go to stderr.
"""

import argparse
import gc
import json
import math
import statistics
import sys
import time
from dataclasses import dataclass

import torch
import torch.nn as nn

from torch_machine import describe as describe_machine  # noqa: E402


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


class FullyConnectedNet(nn.Module):
    """Linear [BN] LeakyReLU, depth x (Linear [BN] LeakyReLU), Linear [Tanh] as `main`."""

    def __init__(self, in_dim, depth, hidden_dim, out_dim, use_tanh=False, use_bn=False):
        super().__init__()
        layers = []
        for d in range(depth + 1):
            layers.append(nn.Linear(in_dim if d == 0 else hidden_dim, hidden_dim))
            if use_bn:
                layers.append(nn.BatchNorm1d(hidden_dim))
            layers.append(nn.LeakyReLU())
        layers.append(nn.Linear(hidden_dim, out_dim))
        if use_tanh:
            layers.append(nn.Tanh())
        self.main = nn.Sequential(*layers)

    def forward(self, x):
        return self.main(x)


class ActNorm(nn.Module):
    """y = scale * (x + loc) on [B, C, 1, 1]; data-initialised on the first training batch."""

    def __init__(self, channels):
        super().__init__()
        self.loc = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.scale = nn.Parameter(torch.ones(1, channels, 1, 1))
        self.register_buffer("initialized", torch.tensor(0, dtype=torch.uint8))

    @torch.no_grad()
    def _initialize(self, x):
        per_channel = x.permute(1, 0, 2, 3).contiguous().view(x.shape[1], -1)
        self.loc.copy_(-per_channel.mean(1).view(1, -1, 1, 1))
        self.scale.copy_(1.0 / (per_channel.std(1).view(1, -1, 1, 1) + 1e-6))

    def forward(self, x, reverse=False):
        if reverse:
            return x / self.scale - self.loc
        if self.training and self.initialized.item() == 0:
            self._initialize(x)
            self.initialized.fill_(1)
        y = self.scale * (x + self.loc)
        pixels = x.shape[2] * x.shape[3]
        logdet = pixels * torch.sum(torch.log(torch.abs(self.scale)))
        return y, logdet * torch.ones(x.shape[0]).to(x)


class IdentityActivation(nn.Module):
    """The configs' `activation: none`: an identity that contributes logdet 0."""

    def forward(self, x, reverse=False):
        return x if reverse else (x, 0.0)


class Shuffle(nn.Module):
    """A fixed random permutation of the channels; logdet 0."""

    def __init__(self, channels):
        super().__init__()
        perm = torch.randperm(channels)
        self.register_buffer("forward_shuffle_idx", perm)
        self.register_buffer("backward_shuffle_idx", torch.argsort(perm))

    def forward(self, x, reverse=False):
        if reverse:
            return x[:, self.backward_shuffle_idx, ...]
        return x[:, self.forward_shuffle_idx, ...], 0


def _swap_halves(x):
    return torch.cat(torch.chunk(x, 2, dim=1)[::-1], dim=1)


class DoubleCoupling(nn.Module):
    """Two conditional affine couplings; the second transforms the half the first kept."""

    def __init__(self, channels, cond_channels, hidden_dim, depth):
        super().__init__()
        half, width = channels // 2, channels // 2 + cond_channels
        self.s = nn.ModuleList(FullyConnectedNet(width, depth, hidden_dim, half, use_tanh=True)
                               for _ in range(2))
        self.t = nn.ModuleList(FullyConnectedNet(width, depth, hidden_dim, half)
                               for _ in range(2))

    def forward(self, x, cond, reverse=False):
        x = x.squeeze(-1).squeeze(-1)
        cond = cond.squeeze(-1).squeeze(-1)
        if reverse:
            for i in (1, 0):
                if i == 0:
                    x = _swap_halves(x)
                kept, changed = torch.chunk(x, 2, dim=1)
                h = torch.cat((kept, cond), dim=1)
                changed = (changed - self.t[i](h)) * self.s[i](h).neg().exp()
                x = torch.cat((kept, changed), dim=1)
            return x[:, :, None, None]
        logdet = 0
        for i in (0, 1):
            if i == 1:
                x = _swap_halves(x)
            kept, changed = torch.chunk(x, 2, dim=1)
            h = torch.cat((kept, cond), dim=1)
            log_scale = self.s[i](h)
            changed = changed * log_scale.exp() + self.t[i](h)
            x = torch.cat((kept, changed), dim=1)
            logdet = logdet + torch.sum(log_scale, dim=1)
        return x[:, :, None, None], logdet


class FlowBlock(nn.Module):
    """ActNorm -> identity activation -> double coupling -> Shuffle."""

    def __init__(self, channels, cond_channels, hidden_dim, depth):
        super().__init__()
        self.norm_layer = ActNorm(channels)
        self.coupling = DoubleCoupling(channels, cond_channels, hidden_dim, depth)
        self.activation = IdentityActivation()
        self.shuffle = Shuffle(channels)

    def forward(self, x, cond, reverse=False):
        if reverse:
            x = self.shuffle(x, reverse=True)
            x = self.coupling(x, cond, reverse=True)
            x = self.activation(x, reverse=True)
            return self.norm_layer(x, reverse=True)
        logdet = 0.0
        x, part = self.norm_layer(x)
        logdet += part
        x, part = self.activation(x)
        logdet += part
        x, part = self.coupling(x, cond)
        logdet += part
        x, part = self.shuffle(x)
        logdet += part
        return x, logdet


class ConditionalFlow(nn.Module):
    """Embedder (run once) + n_flows blocks; forward returns (v [B, D, 1, 1], logdet [B])."""

    def __init__(self, cfg: FlowConfig):
        super().__init__()
        self.cfg = cfg
        self.embedder = FullyConnectedNet(cfg.cond_dim, cfg.conditioning_depth, cfg.cond_hidden_dim,
                                          cfg.embed_dim, use_bn=True)
        self.sub_layers = nn.ModuleList(
            FlowBlock(cfg.data_dim, cfg.embed_dim, cfg.hidden_dim, cfg.hidden_depth)
            for _ in range(cfg.n_flows))

    def forward(self, x, cond, reverse=False):
        # The original casts with cond.float(); casting to the weights' type is the same
        # no-op in float32 and lets the self-test run in float64.
        embedding = self.embedder(cond.to(self.embedder.main[0].weight.dtype))[:, :, None, None]
        conds = [embedding] * self.cfg.n_flows
        if reverse:
            for i in reversed(range(self.cfg.n_flows)):
                x = self.sub_layers[i](x, conds[i], reverse=True)
            return x
        logdet = 0.0
        for i in range(self.cfg.n_flows):
            x, part = self.sub_layers[i](x, conds[i])
            logdet = logdet + part
        return x, logdet

    def sample(self, cond):
        v = torch.randn(cond.shape[0], self.cfg.data_dim, 1, 1).to(cond)
        return self(v, cond, reverse=True)


def nll_loss(v, logdet):
    """mean(0.5 ||v||^2) - mean(logdet); the N(0, I) reference NLL is drawn as the original does."""
    nll = torch.mean(0.5 * torch.sum(torch.pow(v, 2), dim=[1, 2, 3]))
    loss = nll + -torch.mean(logdet)
    reference = torch.mean(0.5 * torch.sum(torch.pow(torch.randn_like(v), 2), dim=[1, 2, 3]))
    return loss, reference


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
    "sample-reference-b1": ("sample", "reference", 1),
    "sample-reference-b16": ("sample", "reference", 16),
    "sample-reference-b64": ("sample", "reference", 64),
    "train-small-b128": ("train", "small", 128),
    "sample-small-b128": ("sample", "small", 128),
}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run_case(name, args):
    mode, cfg_name, batch = CASES[name]
    cfg = CONFIGS[cfg_name]
    torch.manual_seed(args.seed)
    model = ConditionalFlow(cfg)
    n_params = sum(p.numel() for p in model.parameters())
    g = torch.Generator().manual_seed(args.seed + 1)
    xs = [torch.randn(batch, cfg.data_dim, 1, 1, generator=g) for _ in range(4)]
    cs = [torch.randn(batch, cfg.cond_dim, generator=g) for _ in range(4)]
    model.train()

    if mode == "train":
        opt = torch.optim.Adam(model.parameters(), lr=batch * 4.5e-6, betas=(0.5, 0.9), amsgrad=True)
        turn = [0]

        def step():
            x, c = xs[turn[0] % 4], cs[turn[0] % 4]
            turn[0] += 1
            v, logdet = model(x, c)
            loss, _ = nll_loss(v, logdet)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return loss.detach()
    else:
        opt = None
        with torch.no_grad():
            # Data-dependent ActNorm and BatchNorm statistics (BatchNorm needs
            # more than one row in training mode, hence 16 rows at least).
            rows = max(batch, 16)
            model(torch.randn(rows, cfg.data_dim, 1, 1, generator=g), torch.randn(rows, cfg.cond_dim, generator=g))
        model.eval()

        def step():
            with torch.no_grad():
                return model.sample(cs[0])

    log(f"[{name}] params={n_params:,} warmup={args.warmup}")
    for _ in range(args.warmup):
        out = step()

    times = []
    start = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        out = step()
        times.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - start
        if len(times) >= args.min_iters and elapsed >= args.min_time:
            break
    iters = len(times)

    finite = bool(torch.isfinite(out).all())
    if mode == "train":
        log(f"[{name}] final loss = {out.item():.4f} ({'finite' if finite else 'NOT FINITE'})")
    else:
        log(f"[{name}] samples {'finite' if finite else 'NOT FINITE'}")
    if not finite:
        log(f"[{name}] WARNING: non-finite values")

    result = {
        "case": name,
        "samples_per_second": batch * iters / elapsed,
        "seconds_per_iteration": elapsed / iters,
        "median_seconds_per_iteration": statistics.median(times),
        "iterations": iters,
        "parameters": n_params,
    }
    log(f"[{name}] {result['samples_per_second']:.2f} samples/s, "
        f"{result['seconds_per_iteration'] * 1e3:.2f} ms/iter "
        f"(median {result['median_seconds_per_iteration'] * 1e3:.2f}), {iters} iters")

    del model, opt, out, xs, cs, step
    gc.collect()
    return result


# --------------------------------------------------------------------------- self-check


def run_check(seed):
    """Tiny-config test: reverse(forward(x)) == x, forward(reverse(v)) == v, logdet == log|det J|."""
    torch.manual_seed(seed)
    cfg = FlowConfig(data_dim=6, cond_dim=3, embed_dim=4, hidden_dim=16, hidden_depth=2,
                     n_flows=3, cond_hidden_dim=16, conditioning_depth=2)
    model = ConditionalFlow(cfg)
    x = torch.randn(8, cfg.data_dim, 1, 1)
    c = torch.randn(8, cfg.cond_dim)
    model.train()
    with torch.no_grad():
        model(x * 2.0 + 0.5, c)  # initialises ActNorm away from the identity, sets BN statistics
    model.eval()

    ok = True
    with torch.no_grad():
        v, logdet = model(x, c)
        x_rec = model(v, c, reverse=True)
        z = torch.randn(8, cfg.data_dim, 1, 1)
        z_rec, _ = model(model(z, c, reverse=True), c)
    rec_err = (x_rec - x).abs().max().item()
    samp_err = (z_rec - z).abs().max().item()
    log(f"[check] max |reverse(forward(x)) - x| = {rec_err:.3e}")
    log(f"[check] max |forward(reverse(v)) - v| = {samp_err:.3e}")
    ok &= rec_err < 1e-4 and samp_err < 1e-4

    # logdet against the autograd Jacobian (float64), per sample.
    m64 = model.double()
    x64, c64 = x.double(), c.double()
    with torch.no_grad():
        _, ld64 = m64(x64, c64)
    jac_err = 0.0
    for i in range(x64.shape[0]):
        def f(xi, i=i):  # eval mode: BatchNorm uses running statistics, samples are independent
            return m64(xi.view(1, -1, 1, 1), c64[i:i + 1])[0].flatten()
        J = torch.autograd.functional.jacobian(f, x64[i].flatten())
        jac_err = max(jac_err, abs(torch.linalg.slogdet(J).logabsdet.item() - ld64[i].item()))
    log(f"[check] max |logdet - log|det J||     = {jac_err:.3e}")
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
        header = f"{'case':<22} {'samples/s':>12} {'ms/iter':>12} {'median ms':>10} {'iters':>6} {'params':>13}"
        print(header)
        print("-" * len(header))
        for r in results:
            print(f"{r['case']:<22} {r['samples_per_second']:>12.2f} "
                  f"{r['seconds_per_iteration'] * 1e3:>12.2f} "
                  f"{r['median_seconds_per_iteration'] * 1e3:>10.2f} {r['iterations']:>6d} "
                  f"{r['parameters']:>13,}")


if __name__ == "__main__":
    main()
