"""The jobs: the worker thread that owns the engine, the controller and its queue, the queue and history
panels, and what the window shows of a running job."""
