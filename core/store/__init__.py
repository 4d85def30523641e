"""What outlives the process: the job history, the job journal, durable writes, state folders."""
