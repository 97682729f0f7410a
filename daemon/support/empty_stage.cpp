// Compiled into a stage library that has no sources of its own yet, so the
// library target exists for its dependents.
