"""The engine: a single-threaded process that creates kernel objects, forks the workers,
drains their tracer rings into the event stream, probes the kernel and cleans up."""
