//! The HTTP front: one single-threaded runtime per worker thread, each accepting on its own
//! `SO_REUSEPORT` socket bound to the same address. The kernel spreads connections over the
//! sockets, so a request is read, served and written on one thread, without the cross-thread
//! wake-ups of a work-stealing scheduler. Pixel work and blocking I/O still leave these
//! threads (CPU pool, blocking pools); shared state is the same `App` on every worker.
//!
//! Connections are served by hyper's HTTP/1 server directly rather than `axum::serve`, which
//! has no timer: there a client that never finishes its headers, or goes silent in the middle
//! of a body, holds its connection (and on shutdown, the process) forever. [`Timeouts`]
//! bounds both.

use std::io;
use std::net::SocketAddr;
use std::thread::JoinHandle;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::{Extension, Router};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::sync::watch;
use tower_http::timeout::RequestBodyTimeout;

/// Pending connections per socket.
const BACKLOG: u32 = 1024;
/// Default of [`Timeouts::headers`]: generous for any client that means to send a request
/// (a request line and headers are a few hundred bytes), short enough that idle or silent
/// connections do not pile up.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// Default of [`Timeouts::body_idle`]: a pause, not a duration, so a 100 MB upload over a slow
/// link takes as long as it needs while it keeps sending; a minute of silence is a dead or
/// stalled client, not a slow one.
pub const BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Pause after an accept error that is not the connection's own (out of file descriptors,
/// of buffers): accepting again at once would spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_secs(1);

/// How long a client may keep the server waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Until a request's headers are complete, counted from the accept, or on a kept-alive
    /// connection from the end of the previous response: a connection that stays silent
    /// (idle keep-alive included) or sends its headers piecemeal past it is closed.
    pub headers: Duration,
    /// Longest wait for the next piece of a request body while the handler reads it; past
    /// it, reading the body fails (the handler answers with an error) and the connection
    /// closes. The handler's own time between reads does not count.
    pub body_idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self { headers: HEADER_TIMEOUT, body_idle: BODY_IDLE_TIMEOUT }
    }
}

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
pub fn start(sockets: Sockets, router: &Router, timeouts: Timeouts) -> io::Result<Workers> {
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
                    let stop = async move {
                        let _ = stopped.wait_for(|s| *s).await;
                    };
                    serve(listener, router, timeouts, stop).await;
                    Ok(())
                });
                let _ = exit_tx.send(i);
                served
            })?;
        threads.push(thread);
    }
    Ok(Workers { threads, stop, exited })
}

/// Accepts on `listener` until `stop` resolves, then closes the listener, asks every open
/// connection to finish (an idle one closes at once, one in the middle of a request after
/// its response) and waits for them.
async fn serve(listener: tokio::net::TcpListener, router: Router, timeouts: Timeouts, stop: impl Future<Output = ()>) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(timeouts.headers);
    let graceful = GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let (tcp, peer) = tokio::select! {
            biased;
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(&e).await;
                    continue;
                }
            },
        };
        // Responses go out as headers, then body chunks: without TCP_NODELAY, Nagle's
        // algorithm and the client's delayed ACK stall every response after the first on a
        // connection ~40 ms.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
        // Each connection's requests carry its peer's address (the client, or a proxy the
        // operator trusts to name it: see `nimbus_app::client_ip`).
        let service = TowerToHyperService::new(RequestBodyTimeout::new(
            tower::Layer::layer(&Extension(ConnectInfo(peer)), router.clone()),
            timeouts.body_idle,
        ));
        let conn = graceful.watch(http.serve_connection(TokioIo::new(tcp), service));
        tokio::spawn(async move {
            // A timeout or a client going away ends the connection with an error; there is
            // nobody left to answer.
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection closed");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Handles a failed accept: a connection reset before it was accepted is that client's
/// business; anything else (no file descriptors left) is logged and waited out.
async fn accept_failed(e: &io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(e.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed");
    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
}

impl Workers {
    /// Resolves when a worker ended on its own (it failed); never during normal operation.
    pub async fn failed(&mut self) -> usize {
        match self.exited.recv().await {
            Some(i) => i,
            None => std::future::pending().await,
        }
    }

    /// Stops accepting, lets in-flight requests finish, and waits for every worker. Idle
    /// connections close at once; one still sending its headers gets at most
    /// [`Timeouts::headers`], a request body that stops at most [`Timeouts::body_idle`].
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
    use std::sync::Arc;
    use std::time::Instant;

    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpStream;

    use super::*;

    /// Long enough to tell apart from an immediate close, short enough for a test.
    const SHORT: Duration = Duration::from_millis(300);
    /// How long a test waits for something that should happen within [`SHORT`] or at once.
    const PATIENCE: Duration = Duration::from_secs(2);

    fn one_worker(router: &Router, timeouts: Timeouts) -> (SocketAddr, Workers) {
        let sockets = bind(SocketAddr::from(([127, 0, 0, 1], 0)), 1).unwrap();
        let addr = sockets.addr;
        (addr, start(sockets, router, timeouts).unwrap())
    }

    fn hello() -> Router {
        Router::new().route("/", axum::routing::get(|| async { "ok" }))
    }

    /// Reads one response (whose body has a `content-length`) off a connection left open.
    async fn read_response(s: &mut TcpStream) -> String {
        let read = async {
            let mut buf = Vec::new();
            loop {
                let mut chunk = [0u8; 4096];
                let n = s.read(&mut chunk).await.unwrap();
                assert_ne!(n, 0, "closed before a whole response: {}", String::from_utf8_lossy(&buf));
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).into_owned();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                        })
                        .map_or(0, |v| v.parse::<usize>().unwrap());
                    if buf.len() >= end + 4 + len {
                        return text;
                    }
                }
            }
        };
        tokio::time::timeout(PATIENCE, read).await.expect("no response")
    }

    /// Reads until the server closes the connection; `None` when it is still open after [`PATIENCE`].
    async fn read_until_closed(s: &mut TcpStream) -> Option<String> {
        let mut out = Vec::new();
        // A reset is a close too.
        let _ = tokio::time::timeout(PATIENCE, s.read_to_end(&mut out)).await.ok()?;
        Some(String::from_utf8_lossy(&out).into_owned())
    }

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
        let workers = start(sockets, &router, Timeouts::default()).unwrap();
        for _ in 0..8 {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").await.unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).await.unwrap();
            assert!(out.starts_with("HTTP/1.1 200") && out.ends_with("ok"), "{out}");
        }
        workers.shutdown().await.unwrap();
        assert!(TcpStream::connect(addr).await.is_err());
    }

    #[tokio::test]
    async fn requests_carry_their_connections_peer() {
        let router = Router::new().route(
            "/",
            axum::routing::get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
        );
        let (addr, workers) = one_worker(&router, Timeouts::default());
        let mut s = TcpStream::connect(addr).await.unwrap();
        let me = s.local_addr().unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        assert!(out.ends_with(&me.to_string()), "{out}");
        workers.shutdown().await.unwrap();
    }

    #[tokio::test]
    async fn a_client_that_never_finishes_its_headers_is_disconnected() {
        let (addr, workers) = one_worker(&hello(), Timeouts { headers: SHORT, ..Timeouts::default() });
        let started = Instant::now();
        let mut partial = TcpStream::connect(addr).await.unwrap();
        partial.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n").await.unwrap();
        let mut silent = TcpStream::connect(addr).await.unwrap();
        let (partial, silent) = tokio::join!(read_until_closed(&mut partial), read_until_closed(&mut silent));
        let partial = partial.expect("a connection with half its headers is still open");
        assert!(silent.is_some(), "a connection that sent nothing is still open");
        assert!(started.elapsed() >= SHORT - Duration::from_millis(50), "closed before the timeout");
        assert!(!partial.contains("200"), "{partial}");
        workers.shutdown().await.unwrap();
    }

    #[tokio::test]
    async fn keep_alive_serves_several_requests_then_closes_when_idle() {
        let (addr, workers) = one_worker(&hello(), Timeouts { headers: SHORT, ..Timeouts::default() });
        let mut s = TcpStream::connect(addr).await.unwrap();
        for _ in 0..2 {
            s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
            let out = read_response(&mut s).await;
            assert!(out.starts_with("HTTP/1.1 200") && out.ends_with("ok"), "{out}");
        }
        let idle = Instant::now();
        assert_eq!(read_until_closed(&mut s).await.as_deref(), Some(""), "an idle kept-alive connection stays open");
        assert!(idle.elapsed() >= SHORT - Duration::from_millis(50), "closed before the timeout");
        workers.shutdown().await.unwrap();
    }

    #[tokio::test]
    async fn a_stalled_body_ends_the_request_but_a_slow_one_is_served() {
        let router = Router::new()
            .route("/", axum::routing::post(|body: axum::body::Bytes| async move { body.len().to_string() }));
        let (addr, workers) = one_worker(&router, Timeouts { body_idle: SHORT, ..Timeouts::default() });
        let head = b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 8\r\n\r\n";

        // Eight bytes over ~800 ms, more than the timeout, each within it.
        let mut slow = TcpStream::connect(addr).await.unwrap();
        slow.set_nodelay(true).unwrap();
        slow.write_all(head).await.unwrap();
        for _ in 0..8 {
            tokio::time::sleep(SHORT / 3).await;
            slow.write_all(b"x").await.unwrap();
        }
        let out = read_response(&mut slow).await;
        assert!(out.starts_with("HTTP/1.1 200") && out.ends_with("\r\n8"), "{out}");

        let mut stalled = TcpStream::connect(addr).await.unwrap();
        stalled.write_all(head).await.unwrap();
        stalled.write_all(b"xx").await.unwrap();
        let out = read_until_closed(&mut stalled).await.expect("a stalled body keeps its connection open");
        assert!(out.starts_with("HTTP/1.1 4"), "{out}");
        workers.shutdown().await.unwrap();
    }

    #[tokio::test]
    async fn shutdown_closes_idle_connections_and_lets_an_in_flight_request_finish() {
        let (entered, mut inside) = tokio::sync::mpsc::unbounded_channel();
        let release = Arc::new(tokio::sync::Notify::new());
        let release_handler = release.clone();
        let router = hello().route(
            "/slow",
            axum::routing::get(move || async move {
                let _ = entered.send(());
                release_handler.notified().await;
                "done"
            }),
        );
        let (addr, workers) = one_worker(&router, Timeouts::default());

        let mut idle = TcpStream::connect(addr).await.unwrap();
        idle.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
        read_response(&mut idle).await;
        let mut busy = TcpStream::connect(addr).await.unwrap();
        busy.write_all(b"GET /slow HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
        inside.recv().await.unwrap();

        let shutdown = tokio::spawn(workers.shutdown());
        // The idle connection closes at once, not after the 30 s header timeout.
        assert_eq!(read_until_closed(&mut idle).await.as_deref(), Some(""));
        assert!(TcpStream::connect(addr).await.is_err(), "new connections are still accepted");
        assert!(!shutdown.is_finished(), "shutdown did not wait for the in-flight request");

        release.notify_one();
        let out = read_until_closed(&mut busy).await.expect("the in-flight request's connection stays open");
        assert!(out.starts_with("HTTP/1.1 200") && out.ends_with("done"), "{out}");
        tokio::time::timeout(PATIENCE, shutdown).await.expect("shutdown hangs").unwrap().unwrap();
    }
}
