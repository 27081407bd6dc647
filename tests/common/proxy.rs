//! A TCP proxy on 127.0.0.1 in front of a PostgreSQL server that delays
//! every packet by a fixed time each way and counts round trips: how many
//! times the client spoke after the server had answered.
//!
//! Plain threads and blocking sockets rather than tokio tasks: a tokio
//! timer has a resolution of one millisecond, which would round a 0.5 ms
//! delay up to 1 ms or more; `std::thread::sleep` keeps it to a few tens
//! of microseconds.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A running proxy; stops accepting when dropped.
pub struct Proxy {
    pub port: u16,
    round_trips: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    /// While set, the server is unreachable: connections are refused.
    down: Arc<AtomicBool>,
    open: Arc<std::sync::Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    /// Listens on 127.0.0.1 (a free port) and forwards to `upstream`, each
    /// chunk `delay` later than it arrived, in order.
    pub fn start(upstream: &str, delay: Duration) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let round_trips = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let down = Arc::new(AtomicBool::new(false));
        let open = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (counter, stopped) = (Arc::clone(&round_trips), Arc::clone(&stop));
        let (refusing, connections) = (Arc::clone(&down), Arc::clone(&open));
        let upstream = upstream.to_owned();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    return;
                }
                if refusing.load(Ordering::SeqCst) {
                    continue;
                }
                let (Ok(client), Ok(server)) = (client, TcpStream::connect(&upstream)) else {
                    continue;
                };
                if let (Ok(a), Ok(b)) = (client.try_clone(), server.try_clone()) {
                    let mut open = connections.lock().unwrap_or_else(|e| e.into_inner());
                    open.push(a);
                    open.push(b);
                }
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                // Whether the server spoke last on this connection.
                let answered = Arc::new(AtomicBool::new(true));
                let pipe = |from: &TcpStream, to: &TcpStream, count: Option<Arc<AtomicUsize>>| {
                    let (from, to) = (from.try_clone().unwrap(), to.try_clone().unwrap());
                    let answered = Arc::clone(&answered);
                    std::thread::spawn(move || forward(from, to, delay, count, &answered));
                };
                pipe(&client, &server, Some(Arc::clone(&counter)));
                pipe(&server, &client, None);
            }
        });
        Proxy {
            port,
            round_trips,
            stop,
            down,
            open,
        }
    }

    /// Makes the server unreachable: cuts every open connection and
    /// refuses new ones until [`Proxy::up`].
    pub fn down(&self) {
        self.down.store(true, Ordering::SeqCst);
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        for stream in open.drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// Lets connections through again.
    pub fn up(&self) {
        self.down.store(false, Ordering::SeqCst);
    }

    /// Round trips since the last call.
    pub fn take_round_trips(&self) -> usize {
        self.round_trips.swap(0, Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accepting thread so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Copies `from` to `to`, each chunk `delay` after it arrived. `count` is
/// set on the client's side: a chunk from the client after an answer from
/// the server starts a round trip; the server's side marks the answer.
fn forward(
    mut from: TcpStream,
    mut to: TcpStream,
    delay: Duration,
    count: Option<Arc<AtomicUsize>>,
    answered: &AtomicBool,
) {
    let (queue, due) = mpsc::channel::<(Instant, Vec<u8>)>();
    let writer = std::thread::spawn(move || {
        for (at, bytes) in due {
            let wait = at.saturating_duration_since(Instant::now());
            if !wait.is_zero() {
                std::thread::sleep(wait);
            }
            if to.write_all(&bytes).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        match &count {
            Some(counter) => {
                if answered.swap(false, Ordering::SeqCst) {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
            }
            None => answered.store(true, Ordering::SeqCst),
        }
        if queue
            .send((Instant::now() + delay, buf[..n].to_vec()))
            .is_err()
        {
            break;
        }
    }
    drop(queue);
    let _ = writer.join();
}
