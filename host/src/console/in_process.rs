//! The console's own server, for a data dir no `charon serve` holds: the
//! very same `http::app()` on an ephemeral loopback port, for as long as
//! one command runs, so that the console's client talks to it exactly as
//! to a running server and no command is written twice.
//!
//! It serves HTTP only: no event dispatcher, no reconcile schedule, no
//! idle sweep. Today's direct calls ran none either; the next `charon
//! serve` catches up on the outbox. Its credential is made here, held in
//! memory and written nowhere, and it answers only this machine.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use actix_web::HttpServer;
use actix_web::dev::ServerHandle;

use crate::http::{AppState, OperatorCredential, StateReleased, app};
use crate::services::Services;

/// How long stopping waits for a request still in flight (none is, once
/// the command has its answer).
const SHUTDOWN_SECS: u64 = 5;

/// How long dropping waits, after that, for the workers to let go of the
/// services; a bound, not a pace: the wait ends when they do.
const RELEASE_TIMEOUT: Duration = Duration::from_secs(SHUTDOWN_SECS + 5);

/// A running in-process server; dropping it stops it, and with it the
/// last handle on the data dir's files.
pub(super) struct InProcessServer {
    addr: SocketAddr,
    credential: OperatorCredential,
    handle: ServerHandle,
    thread: Option<JoinHandle<io::Result<()>>>,
    released: StateReleased,
}

impl InProcessServer {
    /// Serves `services` on `127.0.0.1:0` from a thread of its own (the
    /// commands call it synchronously from the main thread).
    pub(super) fn start(services: Services) -> io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        let credential = OperatorCredential::generate();
        let (state, released) = AppState::new(services)
            .with_operator_credential(credential.clone())
            .watch_release();
        let (handles, handed) = mpsc::channel();
        let thread = thread::Builder::new()
            .name("charon-console-http".into())
            .spawn(move || {
                actix_web::rt::System::new().block_on(async move {
                    let server = HttpServer::new(move || app(state.clone()))
                        .workers(1)
                        .disable_signals()
                        .shutdown_timeout(SHUTDOWN_SECS)
                        .listen(listener)?
                        .run();
                    // The receiver waits for this or for the thread's end.
                    let _ = handles.send(server.handle());
                    server.await
                })
            })?;
        match handed.recv() {
            Ok(handle) => Ok(Self {
                addr,
                credential,
                handle,
                thread: Some(thread),
                released,
            }),
            // The thread ended before it served: its outcome says why.
            Err(_) => Err(match thread.join() {
                Ok(Err(e)) => e,
                Ok(Ok(())) => io::Error::other("the server stopped before it served"),
                Err(_) => io::Error::other("the server's thread panicked"),
            }),
        }
    }

    pub(super) fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub(super) fn credential(&self) -> &OperatorCredential {
        &self.credential
    }
}

impl Drop for InProcessServer {
    fn drop(&mut self) {
        // The stop is sent at once; the thread ends once the server has
        // stopped, dropping the services and closing the files cleanly.
        drop(self.handle.stop(true));
        if let Some(thread) = self.thread.take() {
            match thread.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "the console's server failed"),
                Err(_) => tracing::warn!("the console's server thread panicked"),
            }
        }
        // The workers drop their copies of the app, and so of the services,
        // on their own threads after they report being stopped: wait for
        // the last, so that the files are closed before the process exits.
        if !self.released.wait(RELEASE_TIMEOUT) {
            tracing::warn!("the console's server still held the data dir after it stopped");
        }
    }
}
