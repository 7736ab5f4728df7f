"""The training library: ``config`` (TrainConfig, the JSON configs, resume state),
``data`` (pools, fresh mazes, batches, held-out keys) and ``loop`` (the model, the loop,
in-run validation, checkpoints). ``python -m scripts.train`` is its command line."""
