"""`make bench`: Fayuan's throughput against bare baselines, and its memory per process.

Figures only, never assertions: docs/benchmarks.md says what each one measures and how to
read it."""
