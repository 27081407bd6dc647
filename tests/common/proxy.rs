//! A TCP proxy on 127.0.0.1 in front of a PostgreSQL server that delays
//! every packet by a fixed time each way and counts round trips: how many
//! times the client spoke after the server had answered.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// A running proxy; stops accepting when dropped.
pub struct Proxy {
    pub port: u16,
    round_trips: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Listens on 127.0.0.1 (a free port) and forwards to `upstream`, each
    /// chunk `delay` later than it arrived, in order.
    pub async fn start(upstream: &str, delay: Duration) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let round_trips = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&round_trips);
        let upstream = upstream.to_owned();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(&upstream).await else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                // Whether the server spoke last on this connection.
                let answered = Arc::new(AtomicBool::new(true));
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                tokio::spawn(forward(
                    client_read,
                    server_write,
                    delay,
                    Some((Arc::clone(&counter), Arc::clone(&answered))),
                    Arc::clone(&answered),
                    false,
                ));
                tokio::spawn(forward(
                    server_read,
                    client_write,
                    delay,
                    None,
                    answered,
                    true,
                ));
            }
        });
        Proxy {
            port,
            round_trips,
            task,
        }
    }

    /// Round trips since the last call.
    pub fn take_round_trips(&self) -> usize {
        self.round_trips.swap(0, Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    delay: Duration,
    count: Option<(Arc<AtomicUsize>, Arc<AtomicBool>)>,
    answered: Arc<AtomicBool>,
    server_side: bool,
) {
    let (queue, mut due) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let writer = tokio::spawn(async move {
        while let Some((at, bytes)) = due.recv().await {
            tokio::time::sleep_until(at).await;
            if to.write_all(&bytes).await.is_err() {
                return;
            }
        }
    });
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Some((counter, answered)) = &count {
            // The client speaks after an answer: a new round trip.
            if answered.swap(false, Ordering::SeqCst) {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        }
        if server_side {
            answered.store(true, Ordering::SeqCst);
        }
        if queue
            .send((Instant::now() + delay, buf[..n].to_vec()))
            .is_err()
        {
            break;
        }
    }
    drop(queue);
    let _ = writer.await;
}
