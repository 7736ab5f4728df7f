"""Torch models: one transformer backbone with MDM and ARM heads, losses, checkpoint I/O."""
