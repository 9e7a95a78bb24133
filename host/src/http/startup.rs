//! The server's life cycle: build (open, bind, announce), run, stop.
//!
//! [`Application::build`] does everything that can fail before a request is
//! served (bind the port, open the data dir, write the operator API file,
//! first run), so the caller can report it and exit.
//! [`Application::run_until_stopped`] serves until SIGINT, SIGTERM or a
//! [`StopHandle`] asks it to stop, then stops gracefully: in-flight
//! requests finish, the background jobs (`crate::jobs`) stop, the operator
//! API file goes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpServer;
use tokio::sync::Notify;

use super::operator_credential::{OperatorApiFile, OperatorCredential};
use super::{AppState, app};
use crate::jobs::{Jobs, Schedule};
use crate::services::StorageError;
use crate::services::sites::FirstRun;
use crate::services::{ServiceError, Services};

/// How to run the server. [`Config::new`] gives the defaults.
#[derive(Clone, Debug)]
pub struct Config {
    /// The data dir: registry, site files and the operator API file.
    pub data_dir: PathBuf,
    /// `host:port` to listen on; port 0 picks a free port.
    pub listen: String,
    /// HTTP worker threads; `None` means one per physical core.
    pub workers: Option<usize>,
    /// A site file nobody used for this long is closed…
    pub site_idle_after: Duration,
    /// …by a sweep that runs this often. A host with hundreds of sites so
    /// keeps only the busy ones open.
    pub site_idle_check_every: Duration,
    /// How long a graceful stop waits for in-flight requests.
    pub shutdown_timeout: Duration,
    /// Make a loopback operator credential for this process and write it
    /// to `DATA/operator-api.json`, for the `charon` commands.
    pub operator_api_file: bool,
    /// Limits of every plugin call.
    pub runtime: crate::runtime::RuntimeConfig,
    /// How often every enrolment method is reconciled (always once after
    /// start-up); `None` only at start-up.
    pub reconcile_every: Option<Duration>,
    /// The longest a reconcile's pages go without a durable commit.
    pub reconcile_durable_every: Duration,
    /// How often scheduled announcements that are due are sent.
    pub announcements_every: Duration,
    /// Page sessions: idle timeout and sign-in throttling.
    pub sessions: crate::services::sessions::SessionPolicy,
    /// The largest CSV file the import pages and the JSON API accept.
    pub import_max_bytes: usize,
    /// How long a client may take to send a request body.
    pub body_deadline: Duration,
    /// How many uploads (components, CSV files) are read at once.
    pub concurrent_uploads: usize,
    /// Where people reach the host; the links in e-mails start from it.
    /// `None`: the listen address.
    pub public_url: Option<String>,
    /// How often the mail worker looks for due mail.
    pub mail_poll_every: Duration,
    /// The first wait after a temporary SMTP failure (each next doubles).
    pub mail_first_retry: Duration,
    /// The operator's default SMTP settings for sites without their own.
    pub smtp_default: Option<crate::domain::SmtpSettings>,
}

impl Config {
    pub fn new(data_dir: impl Into<PathBuf>, listen: impl Into<String>) -> Self {
        Self {
            data_dir: data_dir.into(),
            listen: listen.into(),
            workers: None,
            site_idle_after: Duration::from_secs(300),
            site_idle_check_every: Duration::from_secs(30),
            shutdown_timeout: Duration::from_secs(10),
            operator_api_file: true,
            runtime: crate::runtime::RuntimeConfig::default(),
            reconcile_every: Some(Duration::from_secs(3600)),
            reconcile_durable_every: crate::services::execution::DEFAULT_DURABLE_EVERY,
            announcements_every: Duration::from_secs(15),
            sessions: Default::default(),
            import_max_bytes: crate::services::bulk::DEFAULT_MAX_BYTES,
            body_deadline: super::body::DEFAULT_BODY_DEADLINE,
            concurrent_uploads: super::body::DEFAULT_CONCURRENT_UPLOADS,
            public_url: None,
            mail_poll_every: Duration::from_secs(2),
            mail_first_retry: crate::services::mail::worker::FIRST_BACKOFF,
            smtp_default: None,
        }
    }
}

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data dir could not be opened; the operator must see why (e.g.
    /// another process holds it), so the detail is shown, not hidden.
    #[error("{0}")]
    Storage(StorageError),
    #[error("{0}")]
    Service(ServiceError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the operator API file {path}: {source}")]
    OperatorApiFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the HTTP server failed: {0}")]
    Server(#[source] std::io::Error),
}

impl From<ServiceError> for StartError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Storage(s) => StartError::Storage(s),
            other => StartError::Service(other),
        }
    }
}

/// Asks a running [`Application`] to stop gracefully, as SIGTERM does.
#[derive(Clone, Debug, Default)]
pub struct StopHandle(Arc<Notify>);

impl StopHandle {
    /// Safe to call before the server runs: it then stops at once.
    pub fn stop(&self) {
        self.0.notify_one();
    }
}

/// A bound, not yet running server.
pub struct Application {
    listener: TcpListener,
    local_addr: SocketAddr,
    services: Services,
    first_run: FirstRun,
    config: Config,
    credential: Option<OperatorCredential>,
    operator_api_file: Option<OperatorApiFileGuard>,
    stop: StopHandle,
}

impl Application {
    /// Binds the listener, opens `config.data_dir`, writes
    /// `operator-api.json` (unless turned off) and, last, runs first-run set-up on an
    /// empty data dir. First run goes last because the operator's password
    /// it generates exists only in memory: a failure after it would lose
    /// the password with an account already created.
    pub fn build(config: Config) -> Result<Self, StartError> {
        let listener = bind(&config.listen)?;
        let services = Services::open_with(&config.data_dir, config.runtime.clone())?;
        services.set_session_policy(config.sessions.clone());
        services.set_import_max_bytes(config.import_max_bytes);
        services.set_reconcile_durable_every(config.reconcile_durable_every);
        services.set_default_smtp(config.smtp_default.clone())?;
        services.set_mail_first_retry(config.mail_first_retry);
        let mut app = Self::assemble(config, services, listener)?;
        app.first_run = app.services.first_run()?;
        Ok(app)
    }

    /// As [`build`](Self::build) on services already open (tests, or a
    /// caller that prepared the data), without first run; `config.data_dir`
    /// is not used, the operator API file goes into the services' data dir.
    pub fn build_with_services(config: Config, services: Services) -> Result<Self, StartError> {
        let listener = bind(&config.listen)?;
        Self::assemble(config, services, listener)
    }

    fn assemble(
        config: Config,
        services: Services,
        listener: TcpListener,
    ) -> Result<Self, StartError> {
        let local_addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: config.listen.clone(),
            source,
        })?;
        let mut app = Self {
            listener,
            local_addr,
            services,
            first_run: FirstRun::default(),
            config,
            credential: None,
            operator_api_file: None,
            stop: StopHandle::default(),
        };
        let public_url = app.config.public_url.clone().unwrap_or_else(|| app.url());
        app.services.set_public_url(&public_url);
        if app.config.operator_api_file {
            let credential = OperatorCredential::generate();
            let file = OperatorApiFile {
                addr: app.reachable_addr(),
                pid: std::process::id(),
                token: credential.secret().to_owned(),
            };
            let dir = app.services.data_dir().to_owned();
            file.write(&dir)
                .map_err(|source| StartError::OperatorApiFile {
                    path: OperatorApiFile::path(&dir).display().to_string(),
                    source,
                })?;
            app.credential = Some(credential);
            app.operator_api_file = Some(OperatorApiFileGuard { data_dir: dir });
        }
        Ok(app)
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    /// The address to reach the server from this machine: the bound one,
    /// with a wildcard (`0.0.0.0`, `::`) replaced by loopback.
    pub fn reachable_addr(&self) -> SocketAddr {
        let ip = match self.local_addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        SocketAddr::new(ip, self.local_addr.port())
    }

    /// `http://addr` for people and for the end-to-end tests.
    pub fn url(&self) -> String {
        format!("http://{}", self.reachable_addr())
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    /// What [`build`](Self::build) created on an empty data dir (the
    /// operator's one-time password among it), for the caller to show once.
    pub fn first_run(&self) -> &FirstRun {
        &self.first_run
    }

    /// This process's loopback operator credential, unless turned off.
    pub fn operator_credential(&self) -> Option<&OperatorCredential> {
        self.credential.as_ref()
    }

    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// Serves until SIGINT, SIGTERM or the [`StopHandle`], then stops
    /// gracefully and removes the operator API file. Must run inside a tokio
    /// runtime (`actix_web::rt::System`, `#[actix_web::main]`,
    /// `#[actix_web::test]`).
    pub async fn run_until_stopped(self) -> Result<(), StartError> {
        let Application {
            listener,
            local_addr,
            services,
            config,
            credential,
            operator_api_file,
            stop,
            ..
        } = self;
        // Signal handlers go in before the first request is served, so a
        // SIGTERM from anyone who saw the server answer stops it gracefully.
        let signals = Signals::install().map_err(StartError::Server)?;

        let mut state = AppState::new(services.clone()).with_body_limits(super::BodyLimits::new(
            config.body_deadline,
            config.concurrent_uploads,
        ));
        if let Some(credential) = credential {
            state = state.with_operator_credential(credential);
        }
        let mut server = HttpServer::new(move || app(state.clone()))
            .disable_signals()
            .shutdown_timeout(config.shutdown_timeout.as_secs());
        if let Some(workers) = config.workers {
            server = server.workers(workers.max(1));
        }
        let server = server.listen(listener).map_err(StartError::Server)?.run();
        let handle = server.handle();
        let mut serving = tokio::spawn(server);
        let jobs = Jobs::start(
            &services,
            &Schedule {
                reconcile_every: config.reconcile_every,
                site_idle_after: config.site_idle_after,
                site_idle_check_every: config.site_idle_check_every,
                announcements_every: config.announcements_every,
                mail_poll_every: config.mail_poll_every,
            },
        );
        tracing::info!(addr = %local_addr, "serving");

        let outcome = tokio::select! {
            finished = &mut serving => Some(finished),
            name = signals.recv() => {
                tracing::info!(signal = name, "stopping gracefully");
                None
            }
            () = stop.0.notified() => {
                tracing::info!("stop requested; stopping gracefully");
                None
            }
        };
        let result = match outcome {
            Some(finished) => flatten(finished),
            None => {
                handle.stop(true).await;
                flatten(serving.await)
            }
        };
        // A dispatch in progress finishes on the blocking pool; each plan
        // is its own transaction and the cursor only moves after delivery.
        jobs.stop();
        drop(operator_api_file);
        tracing::info!("stopped");
        result
    }
}

fn bind(listen: &str) -> Result<TcpListener, StartError> {
    TcpListener::bind(listen).map_err(|source| StartError::Bind {
        addr: listen.to_owned(),
        source,
    })
}

fn flatten(joined: Result<std::io::Result<()>, tokio::task::JoinError>) -> Result<(), StartError> {
    match joined {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(StartError::Server(e)),
        Err(e) => Err(StartError::Server(std::io::Error::other(e))),
    }
}

/// Removes the operator API file when the server that wrote it goes away.
struct OperatorApiFileGuard {
    data_dir: PathBuf,
}

impl Drop for OperatorApiFileGuard {
    fn drop(&mut self) {
        if let Err(e) = OperatorApiFile::remove(&self.data_dir) {
            tracing::warn!(error = %e, "could not remove the operator API file");
        }
    }
}

/// SIGINT and SIGTERM, handled by us rather than by actix so that the
/// server, the background jobs and the operator API file stop together.
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Self {})
        }
    }

    async fn recv(mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => "SIGINT",
                _ = self.terminate.recv() => "SIGTERM",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}
