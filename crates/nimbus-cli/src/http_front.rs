//! The HTTP front: one single-threaded runtime per worker thread, each accepting on its own
//! `SO_REUSEPORT` socket bound to the same address. The kernel spreads connections over the
//! sockets, so a request is read, served and written on one thread, without the cross-thread
//! wake-ups of a work-stealing scheduler. Pixel work and blocking I/O still leave these
//! threads (CPU pool, blocking pools); shared state is the same `App` on every worker.

use std::io;
use std::net::SocketAddr;
use std::thread::JoinHandle;

use axum::Router;
use axum::serve::ListenerExt as _;
use tokio::sync::watch;

/// Pending connections per socket.
const BACKLOG: u32 = 1024;

/// Listening sockets, bound before any worker starts so that a taken port fails start-up.
pub struct Sockets {
    pub addr: SocketAddr,
    listeners: Vec<std::net::TcpListener>,
}

/// Binds `workers` sockets to `addr` (the first one picks the port when it is 0).
pub fn bind(addr: SocketAddr, workers: usize) -> io::Result<Sockets> {
    let mut listeners = Vec::with_capacity(workers.max(1));
    let mut bound = addr;
    for _ in 0..workers.max(1) {
        let socket = if bound.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
        socket.set_reuseaddr(true)?;
        socket.set_reuseport(true)?;
        socket.bind(bound)?;
        let listener = socket.listen(BACKLOG)?;
        bound = listener.local_addr()?;
        listeners.push(listener.into_std()?);
    }
    Ok(Sockets { addr: bound, listeners })
}

/// The running workers.
pub struct Workers {
    threads: Vec<JoinHandle<io::Result<()>>>,
    stop: watch::Sender<bool>,
    exited: tokio::sync::mpsc::UnboundedReceiver<usize>,
}

/// Starts one worker thread per socket, each serving `router` until [`Workers::shutdown`].
pub fn start(sockets: Sockets, router: &Router) -> io::Result<Workers> {
    let (stop, stopped) = watch::channel(false);
    let (exit_tx, exited) = tokio::sync::mpsc::unbounded_channel();
    let mut threads = Vec::with_capacity(sockets.listeners.len());
    for (i, listener) in sockets.listeners.into_iter().enumerate() {
        let router = router.clone();
        let mut stopped = stopped.clone();
        let exit_tx = exit_tx.clone();
        let thread =
            std::thread::Builder::new().name(format!("nimbus-http-{i}")).spawn(move || -> io::Result<()> {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                let served = runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)?;
                    // Responses go out as headers, then body chunks: without TCP_NODELAY, Nagle's
                    // algorithm and the client's delayed ACK stall every response after the first
                    // on a connection ~40 ms.
                    let listener = listener.tap_io(|tcp| {
                        if let Err(e) = tcp.set_nodelay(true) {
                            tracing::debug!(error = %e, "TCP_NODELAY not set");
                        }
                    });
                    axum::serve(listener, router)
                        .with_graceful_shutdown(async move {
                            let _ = stopped.wait_for(|s| *s).await;
                        })
                        .await
                });
                let _ = exit_tx.send(i);
                served
            })?;
        threads.push(thread);
    }
    Ok(Workers { threads, stop, exited })
}

impl Workers {
    /// Resolves when a worker ended on its own (it failed); never during normal operation.
    pub async fn failed(&mut self) -> usize {
        match self.exited.recv().await {
            Some(i) => i,
            None => std::future::pending().await,
        }
    }

    /// Stops accepting, lets in-flight requests finish, and waits for every worker.
    pub async fn shutdown(self) -> io::Result<()> {
        let _ = self.stop.send(true);
        self.wait().await
    }

    /// Waits for the workers; the first failure is returned.
    async fn wait(self) -> io::Result<()> {
        let threads = self.threads;
        tokio::task::spawn_blocking(move || {
            let mut result = Ok(());
            for t in threads {
                let r = t.join().unwrap_or_else(|_| Err(io::Error::other("HTTP worker panicked")));
                if result.is_ok() {
                    result = r;
                }
            }
            result
        })
        .await
        .map_err(io::Error::other)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn workers_share_one_port() {
        let sockets = bind(SocketAddr::from(([127, 0, 0, 1], 0)), 3).unwrap();
        assert_ne!(sockets.addr.port(), 0);
        assert_eq!(sockets.listeners.len(), 3);
        for l in &sockets.listeners {
            assert_eq!(l.local_addr().unwrap(), sockets.addr);
        }
    }

    #[tokio::test]
    async fn a_taken_port_fails_start_up() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        assert!(bind(taken.local_addr().unwrap(), 2).is_err());
    }

    #[tokio::test]
    async fn every_worker_serves_and_shutdown_waits_for_them() {
        let sockets = bind(SocketAddr::from(([127, 0, 0, 1], 0)), 2).unwrap();
        let addr = sockets.addr;
        let router = Router::new().route("/", axum::routing::get(|| async { "ok" }));
        let workers = start(sockets, &router).unwrap();
        for _ in 0..8 {
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
            s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").await.unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).await.unwrap();
            assert!(out.starts_with("HTTP/1.1 200") && out.ends_with("ok"), "{out}");
        }
        workers.shutdown().await.unwrap();
        assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    }
}
