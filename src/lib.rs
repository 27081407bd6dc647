//! Examples, integration tests and benchmarks of the loader workspace.
