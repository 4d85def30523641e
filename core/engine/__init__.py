"""The engine: the loaded pipeline across jobs (runner.py), the transformer, its speed and memory."""
