"""Samplers for masked diffusion models (EB, top-k, threshold, random) and ARM decoding."""
from sampling.arm import ar_decode, pick_beam_decode, pick_decode
from sampling.rules import OPTIONS, SAMPLERS, run_sampler

__all__ = ["OPTIONS", "SAMPLERS", "ar_decode", "pick_beam_decode", "pick_decode", "run_sampler"]
