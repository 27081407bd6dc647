//! Fixed `malloc` thresholds for the benches that compare with hand-written code.

/// glibc's `malloc` hands the top of its heap back to the kernel when, after
/// a `free`, more than a threshold is free there, and it moves that
/// threshold as it goes. Whether a loop of loads trims (and then faults
/// every page back in on the next load) depends on which small allocation
/// happens to sit highest when a load's memory is freed: the same preload
/// code measured 20 page faults per load in one build and 300 in the next
/// (1.72 against 2.02 s for 1,000 loads of 10,000 posts' authors), and
/// the hand-written code drew its own numbers. So a bench that compares
/// the library with hand-written code calls this first: it runs the binary
/// again with the thresholds fixed (glibc's `MALLOC_TRIM_THRESHOLD_` and
/// `MALLOC_MMAP_THRESHOLD_`, inherited by its child processes) and returns
/// that run's exit code, so the ratios measure the code. `None` (go on in
/// this process) when they are fixed already, on another C library, or
/// with `LOADER_BENCH_MALLOC=dynamic`, which keeps glibc's defaults.
pub fn run_with_fixed_thresholds() -> Option<i32> {
    const SET: [(&str, &str); 2] = [
        ("MALLOC_TRIM_THRESHOLD_", "1073741824"),
        ("MALLOC_MMAP_THRESHOLD_", "33554432"),
    ];
    if !cfg!(all(target_os = "linux", target_env = "gnu"))
        || std::env::var_os(SET[0].0).is_some()
        || std::env::var("LOADER_BENCH_MALLOC").is_ok_and(|v| v == "dynamic")
    {
        return None;
    }
    let status = std::process::Command::new(std::env::current_exe().ok()?)
        .args(std::env::args_os().skip(1))
        .envs(SET)
        .status()
        .ok()?;
    Some(status.code().unwrap_or(1))
}
