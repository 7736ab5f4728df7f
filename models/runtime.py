"""Where and how fast a model runs: device, CPU threads and numeric precision.

Shared by training and every decoding entry point, so that ``--device``,
``--threads`` and ``--precision`` mean the same thing everywhere.

Precision is autocast only: weights and optimizer state stay float32, matrix
products run in bfloat16, and the model's head returns float32 logits (see
``PuzzleTransformer._head``), so log-softmax, entropies, EB's prefix test and NFE
counting are computed exactly as in float32 runs.

``auto`` picks bf16 where the hardware runs it natively and fp32 elsewhere:
CUDA devices that report bf16 support, and CPUs with AVX512-BF16 or AMX-BF16
(read from the CPU's feature flags, not assumed). On other CPUs bf16 autocast is
emulated and slower than fp32.
"""
from __future__ import annotations

import contextlib
from functools import lru_cache

import torch

from puzzles.pmap import cores as machine_cores  # CPU cores this process may run on

PRECISIONS = ("auto", "fp32", "bf16")
DEVICES = ("auto", "cpu", "cuda", "mps")


class RuntimeChoiceError(ValueError):
    """A device, thread count or precision that this machine cannot honour."""


@lru_cache(maxsize=1)
def cpu_has_fast_bf16() -> bool:
    """True when the CPU has native bf16 matrix instructions (AVX512-BF16 or AMX-BF16)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            flags = set()
            for line in f:
                if line.startswith("flags"):
                    flags.update(line.split(":", 1)[1].split())
                    break
        return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:     # not Linux: ask oneDNN, which checks the same instructions
        try:
            return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        except (AttributeError, RuntimeError):
            return False


def bf16_fast(device: str) -> bool:
    """Whether bf16 autocast is native (fast) on ``device``."""
    kind = torch.device(device).type
    if kind == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if kind == "cpu":
        return cpu_has_fast_bf16()
    return False


def resolve_precision(name: str, device: str) -> str:
    """'auto' -> 'bf16' or 'fp32' for this device; others are checked and returned."""
    if name not in PRECISIONS:
        raise RuntimeChoiceError(f"--precision: {name!r} is not one of {', '.join(PRECISIONS)}")
    if name == "auto":
        return "bf16" if bf16_fast(device) else "fp32"
    return name


def pick_device(name: str) -> str:
    """'auto' -> cuda, then mps, then cpu; an explicit device is checked to exist."""
    if name not in DEVICES and not name.startswith("cuda:"):
        raise RuntimeChoiceError(f"--device: {name!r} is not one of {', '.join(DEVICES)} (or cuda:N)")
    has_mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "mps" if has_mps else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeChoiceError(f"--device: {name} asked for, but this machine has no CUDA device")
    if name == "mps" and not has_mps:
        raise RuntimeChoiceError("--device: mps asked for, but this machine has no MPS device")
    return name


def set_threads(n: int) -> int:
    """Use ``n`` torch CPU threads (0: every core of the machine); returns the count."""
    if n < 0:
        raise RuntimeChoiceError(f"--threads: {n} is negative (0 means every core)")
    n = n or machine_cores()
    torch.set_num_threads(n)
    return n


def autocast(device: str, precision: str):
    """Context manager: bf16 autocast on ``device`` when ``precision == 'bf16'``."""
    if precision != "bf16":
        return contextlib.nullcontext()
    return torch.autocast(torch.device(device).type, dtype=torch.bfloat16)
