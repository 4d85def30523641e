"""A finished clip: the mp4 and its parameters, exports, PNG frames, frame rates, decoding, fidelity."""
