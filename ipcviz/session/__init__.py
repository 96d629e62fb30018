"""Sessions: unique names for kernel objects, and the registry that lets any exit path clean up."""
