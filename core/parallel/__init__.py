"""One clip over several GPUs or processes: the ranks, their layout and the split of the work."""
