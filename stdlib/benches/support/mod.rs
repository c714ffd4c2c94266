//! What the benchmarks share: timing a step.

use std::time::{Duration, Instant};

/// Runs `step` `runs` times and prints `label` with the median and the fastest time.
pub fn measure<T>(label: &str, runs: usize, mut step: impl FnMut() -> T) {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(step());
            start.elapsed()
        })
        .collect();
    times.sort();
    println!("{label} median {:>10.2?}   fastest {:>10.2?}", times[runs / 2], times[0]);
}
