"""Watching clips: the video player, the live preview of a running job, and the compare view."""
