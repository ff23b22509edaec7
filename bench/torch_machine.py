"""What a PyTorch baseline ran on: PyTorch's own BLAS and CPU kernel level.

Every baseline script adds `"machine": describe()` to its JSON, and
`net2net bench` prints it beside our own machine description, so that a ratio
always names both sides' BLAS (MKL's speed differs between Intel and AMD CPUs).
"""
import re

import torch


def describe():
    config = torch.__config__.show()
    blas = re.search(r"BLAS_INFO=(\w+)", config)
    capability = torch.backends.cpu.get_cpu_capability() if hasattr(torch.backends, "cpu") else ""
    return {
        "torch": torch.__version__,
        "blas": blas.group(1) if blas else "unknown",
        "mkl": torch.backends.mkl.is_available(),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "cpu_capability": capability,
        "threads": torch.get_num_threads(),
    }
