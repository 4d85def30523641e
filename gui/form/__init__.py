"""The form column: what to make (prompt, size, frames, steps…) and how (model folder, memory, speed). FormModel
holds its state; the panels bind to it."""
