//! FRAME benchmarks (written next).
