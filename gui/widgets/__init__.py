"""Small widgets shared by the window's parts: checked spin boxes, the VRAM gauge, the wheel guard, the progress row."""
