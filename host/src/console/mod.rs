//! The operator console: how `charon site …`, `charon token …`, `charon
//! plugin …`, `charon sync …`, `charon csv …` and `charon demo` reach the
//! data of a data dir, whether or not a server runs on it.
//!
//! Every command speaks the public `/api/v1` operator routes through one
//! [`OperatorClient`]. A running server holds the registry's exclusive
//! lock, so the console then talks to it, acting with the loopback
//! operator credential it finds in `DATA/operator-api.json` (see
//! `http::operator_credential`). When no server answers, the console opens
//! the data dir itself and serves the very same `http::app()` in-process on
//! a loopback port, with a credential of its own held in memory
//! ([`in_process`]), and the same client talks to that. Falling back is
//! safe even on a wrong guess: if a server does hold the files, opening
//! them fails with "already open" and nothing is touched.
//!
//! This module owns that choice and the client. It has no rule of its own:
//! the server it talks to decides, through the services.

mod client;
mod in_process;
mod report;

use std::path::Path;
use std::time::Duration;

pub use client::OperatorClient;
use in_process::InProcessServer;
pub use report::{ReconcileText, reconcile_text};

use crate::http::OperatorApiFile;
use crate::services::StorageError;
use crate::services::bulk;
use crate::services::sites::FirstRun;
use crate::services::{ServiceError, Services};

/// How long one call to a running server may take: loading the demo into
/// a site takes seconds, not minutes. The in-process server has no such
/// bound, as a direct call had none.
const RUNNING_SERVER_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// The console is the operator: it sees storage errors in full.
    #[error("{0}")]
    Storage(StorageError),
    #[error("{0}")]
    Service(ServiceError),
    #[error(
        "the data dir is in use by another process ({path} is locked){}",
        match server_problem { Some(p) => format!("; {p}"), None => String::new() }
    )]
    Locked {
        path: String,
        server_problem: Option<String>,
    },
    #[error("cannot serve the data dir to this command: {0}")]
    InProcessServer(#[source] std::io::Error),
    #[error("{}", match field { Some(f) => format!("{f}: {message}"), None => message.clone() })]
    Refused {
        status: u16,
        code: String,
        message: String,
        field: Option<String>,
    },
    #[error("cannot reach the server at {addr}: {source}")]
    Transport {
        addr: String,
        #[source]
        source: Box<ureq::Error>,
    },
    #[error("unexpected answer from the server at {addr}: {detail}")]
    Protocol { addr: String, detail: String },
}

impl From<ServiceError> for ConsoleError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Storage(s) => ConsoleError::Storage(s),
            other => ConsoleError::Service(other),
        }
    }
}

/// Which server the console talks to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// The running server with this pid and address.
    Server { addr: String, pid: u32 },
    /// Its own, on the data dir it opened.
    InProcess,
}

/// What the console's own server is set to, should it need one.
#[derive(Clone, Debug)]
pub struct ConsoleConfig {
    /// The largest CSV file its import routes accept.
    pub import_max_bytes: usize,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            import_max_bytes: bulk::DEFAULT_MAX_BYTES,
        }
    }
}

pub struct Console {
    // Dropped before the in-process server, so that the connections it
    // keeps are closed and the server stops with nothing to wait for.
    client: OperatorClient,
    route: Route,
    first_run: FirstRun,
    _in_process: Option<InProcessServer>,
}

impl Console {
    /// Connects to the server running on `data_dir`, or opens it (running
    /// first-run set-up on an empty one) and serves it in-process when none
    /// answers.
    pub fn open(data_dir: &Path, config: &ConsoleConfig) -> Result<Self, ConsoleError> {
        let file_path = OperatorApiFile::path(data_dir);
        let server_problem = match OperatorApiFile::read(data_dir) {
            Ok(Some(file)) => {
                let client =
                    OperatorClient::new(file.addr, &file.token, Some(RUNNING_SERVER_TIMEOUT));
                match client.status() {
                    Ok(status) => {
                        return Ok(Console {
                            route: Route::Server {
                                addr: client.addr().to_owned(),
                                pid: status.pid,
                            },
                            client,
                            first_run: FirstRun::default(),
                            _in_process: None,
                        });
                    }
                    Err(e) => Some(format!(
                        "the server named in {} does not answer ({e})",
                        file_path.display()
                    )),
                }
            }
            Ok(None) => None,
            Err(e) => Some(format!("{} is unreadable ({e})", file_path.display())),
        };
        let services = match Services::open(data_dir) {
            Ok(s) => s,
            Err(ServiceError::Storage(StorageError::AlreadyOpen { path })) => {
                return Err(ConsoleError::Locked {
                    path,
                    server_problem,
                });
            }
            Err(e) => return Err(e.into()),
        };
        if server_problem.is_some() {
            // We hold the registry's lock, so no server runs here: the
            // file is a leftover of one that was killed.
            if let Err(e) = OperatorApiFile::remove(data_dir) {
                tracing::warn!(error = %e, "could not remove a stale operator API file");
            }
        }
        let first_run = services.first_run()?;
        services.set_import_max_bytes(config.import_max_bytes);
        let server = InProcessServer::start(services).map_err(ConsoleError::InProcessServer)?;
        Ok(Console {
            client: OperatorClient::new(server.addr(), server.credential().secret(), None),
            route: Route::InProcess,
            first_run,
            _in_process: Some(server),
        })
    }

    /// The client of the server this console talks to.
    pub fn api(&self) -> &OperatorClient {
        &self.client
    }

    pub fn route(&self) -> &Route {
        &self.route
    }

    /// What opening an empty data dir created (the operator's one-time
    /// password among it), for the caller to show once.
    pub fn first_run(&self) -> &FirstRun {
        &self.first_run
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use super::*;
    use crate::http::{Application, Config, OperatorCredential};
    use crate::services::testing::TestSite;

    /// An address nothing listens on any more.
    fn dead_addr() -> std::net::SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address")
    }

    fn slugs(console: &Console) -> Vec<String> {
        let sites = console.api().list_sites().expect("sites");
        sites.into_iter().map(|s| s.slug).collect()
    }

    #[test]
    fn a_killed_servers_file_is_removed_and_the_data_dir_served_in_process() {
        let dir = tempfile::tempdir().expect("dir");
        let stale = OperatorApiFile {
            addr: dead_addr(),
            pid: u32::MAX,
            token: OperatorCredential::generate().secret().to_owned(),
        };
        stale.write(dir.path()).expect("file");

        let console = Console::open(dir.path(), &ConsoleConfig::default()).expect("opened");
        assert_eq!(console.route(), &Route::InProcess);
        assert!(
            !OperatorApiFile::path(dir.path()).exists(),
            "the stale file is gone"
        );
        assert!(console.first_run().operator.is_some(), "set up on the way");
        assert_eq!(slugs(&console), ["default"]);
        let created = console
            .api()
            .create_site(&crate::http::wire::CreateSite {
                slug: "acme".into(),
                name: "Acme".into(),
                hostnames: vec![],
                brand_colour: None,
            })
            .expect("created");
        assert_eq!(created.slug, "acme");
        drop(console);

        // Closed cleanly: the next command opens the same files again.
        let again = Console::open(dir.path(), &ConsoleConfig::default()).expect("reopened");
        assert_eq!(again.route(), &Route::InProcess);
        assert!(again.first_run().operator.is_none(), "no second operator");
        assert_eq!(slugs(&again), ["default", "acme"]);
        let refused = again
            .api()
            .suspend_site("nowhere")
            .expect_err("no such site");
        assert_eq!(refused.to_string(), "site \"nowhere\" not found");
    }

    #[actix_web::test]
    async fn a_running_server_is_reached_through_its_file_and_only_with_its_secret() {
        let fx = TestSite::new();
        fx.services.first_run().expect("first run");
        let dir = fx.dir.path().to_owned();
        let mut config = Config::new(&dir, "127.0.0.1:0");
        config.workers = Some(1);
        let app = Application::build_with_services(config, fx.services.clone()).expect("build");
        let stop = app.stop_handle();
        let running = actix_web::rt::spawn(app.run_until_stopped());

        let file = OperatorApiFile::read(&dir)
            .expect("readable")
            .expect("written");
        let (route, sites, refused) = tokio::task::spawn_blocking(move || {
            let console = Console::open(&dir, &ConsoleConfig::default()).expect("opened");
            let route = console.route().clone();
            let sites = slugs(&console);
            drop(console);
            // Another process's secret: the server does not answer it, and
            // the data dir is the server's.
            let wrong = OperatorApiFile {
                token: OperatorCredential::generate().secret().to_owned(),
                ..file
            };
            wrong.write(&dir).expect("file");
            let refused = Console::open(&dir, &ConsoleConfig::default())
                .err()
                .map(|e| e.to_string());
            (route, sites, refused)
        })
        .await
        .expect("client thread");
        assert!(
            matches!(route, Route::Server { pid, .. } if pid == std::process::id()),
            "{route:?}"
        );
        assert_eq!(sites, ["acme"]);
        let refused = refused.expect("a locked data dir");
        assert!(
            refused.starts_with("the data dir is in use by another process")
                && refused.contains("does not answer")
                && refused.contains("a valid API token is required"),
            "{refused}"
        );
        stop.stop();
        running.await.expect("joined").expect("graceful stop");
    }
}
