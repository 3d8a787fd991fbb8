//! How the process's heap gives memory back.
//!
//! glibc's malloc raises its trim and mmap thresholds the first time a large
//! block is freed (its "dynamic threshold"); from then on, memory freed by
//! the server's threads mostly stays with the process. An export moves
//! thousands of 64–128 KiB buffers from the threads that format to those
//! that compress, and the server's resident memory grew well past what was
//! live: a bundle of a year of a demo vehicle's data raised it by 71–79 MiB
//! with about 30 MiB live (`benches/bundle.rs`, BENCHMARKS.md). Fixed
//! thresholds keep freed memory returning to the system: +39–41 MiB, no
//! slower.

/// Free memory above 1 MiB at the top of the heap goes back to the system.
const TRIM_THRESHOLD: i32 = 1024 * 1024;

/// Fixes glibc's trim threshold (which also turns its dynamic thresholds
/// off). Called once at start-up; elsewhere than glibc it does nothing.
pub fn keep_heap_trimmed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes malloc's parameters, under malloc's own lock.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
    }
}
