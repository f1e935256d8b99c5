"""Project tooling: the generated catalog sections, the reviewer's diff and the benchmarks."""
