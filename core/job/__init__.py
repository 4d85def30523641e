"""A job: its typed request and result, progress and previews, time left, a clip's settings read back."""
