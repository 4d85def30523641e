"""What the window stands on, with no widgets of its own: data paths, settings, translations, resources, theme,
background tasks, the system monitor, the single-instance server, formatting."""
