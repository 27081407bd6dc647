//! CPU pinning for the benches that measure PostgreSQL on this machine.
//!
//! Over loopback the bench and the server processes it talks to share the
//! machine's cores, and where the scheduler puts each connection's server
//! process, next to the bench thread or not, decided a small load's time
//! for a whole run: 1,000 posts → their authors on the sync `Db`, five
//! runs, 1.13 / 1.17 / 0.96 / 1.12 / 0.97 of the fastest hand-written code
//! (each run's quartiles tight around its own value), and pinned
//! 0.94 / 0.94 / 0.93 / 0.97 / 0.96. So the bench runs on CPU 0 and the
//! server's connections on the others, as a database on its own host
//! would, for every variant alike (and only for PostgreSQL: SQLite runs
//! in the bench's process, with no server to keep apart). `LOADER_BENCH_PIN=off` leaves the
//! scheduler alone; on a machine with one CPU, without `taskset`
//! (util-linux) or without the right to move the server's processes, the
//! bench says so and runs unpinned.

use std::process::{Command, Stdio};

/// The CPUs the server's processes were given, once this process runs on
/// CPU 0.
pub struct Pinning {
    server_cpus: String,
}

/// Pins this process, every thread of it, to CPU 0, and returns what to
/// pin the server to; `None` (with a line on stderr) when it cannot.
pub fn pin_bench() -> Option<Pinning> {
    if std::env::var("LOADER_BENCH_PIN").is_ok_and(|v| v == "off") {
        eprintln!("not pinned (LOADER_BENCH_PIN=off)");
        return None;
    }
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    if cpus < 2 {
        eprintln!("not pinned: one CPU");
        return None;
    }
    let pid = std::process::id().to_string();
    if !taskset(&["-a", "-p", "-c", "0", &pid]) {
        eprintln!("not pinned: `taskset` is missing or refused");
        return None;
    }
    Some(Pinning {
        server_cpus: format!("1-{}", cpus - 1),
    })
}

impl Pinning {
    /// Moves the server processes `pids` (this bench's connections) off
    /// the bench's CPU; says on stderr if it could not.
    pub fn pin_server(&self, pids: &[i32]) {
        let refused = pids
            .iter()
            .filter(|pid| !taskset(&["-p", "-c", &self.server_cpus, &pid.to_string()]))
            .count();
        if refused > 0 {
            eprintln!("could not pin {refused} of {} server processes", pids.len());
        }
    }
}

/// Whether the server at `url` runs on this machine (a loopback address or
/// a Unix socket): a remote one shares no CPU with the bench, and its
/// process ids mean nothing here.
pub fn local(url: &str) -> bool {
    use loader_runtime::tokio_postgres::config::{Config, Host};
    let Ok(config) = url.parse::<Config>() else {
        return false;
    };
    config.get_hosts().iter().all(|host| match host {
        Host::Tcp(name) => matches!(name.as_str(), "localhost" | "127.0.0.1" | "::1"),
        #[cfg(unix)]
        Host::Unix(_) => true,
    })
}

/// The SQL that lists the server processes of the connections to the
/// current database (the bench's own, on a machine it has to itself).
pub const SERVER_PIDS: &str = "SELECT pid FROM pg_stat_activity
     WHERE datname = current_database() AND backend_type = 'client backend'";

/// Whether `taskset args` ran and succeeded.
fn taskset(args: &[&str]) -> bool {
    Command::new("taskset")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}
