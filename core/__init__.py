"""ContentV Studio's engine: checkpoint loading, the ContentV pipeline, memory modes, job types, video output
and the history store. Nothing here imports Qt."""

__version__ = "0.1.0"
