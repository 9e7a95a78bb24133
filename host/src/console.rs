//! The operator console: what `charon site …`, `charon token …`, `charon
//! plugin …` and `charon demo` do, whether or not a server runs on the data dir.
//!
//! A running server holds the registry's exclusive lock, so the console
//! then goes through the server's control API (found in `DATA/control.json`,
//! see `http::control`). When no server answers, the console opens the data
//! dir itself and acts as the first operator. Falling back is safe even on
//! a wrong guess: if a server does hold the files, opening them fails with
//! "already open" and nothing is touched.
//!
//! This module owns that choice and the control API client. It has no rule
//! of its own: both paths end in the same service calls, which decide.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::demo::{self, DemoReport};
use crate::domain::{ApiToken, ApiTokenId, PluginVersion, Site, SitePlugin};
use crate::http::{
    ControlFile, ControlStatus, CreateSiteRequest, CreateTokenRequest, DisablePluginRequest,
    EnablePluginRequest, ErrorBody, PluginList, SiteList, TokenList, UpgradePluginRequest,
};
use crate::services::bulk::{ImportKind, ImportOptions, ImportReport};
use crate::services::execution::InstanceReconcile;
use crate::services::plugins::InstalledPlugin;
use crate::services::sites::{FirstRun, NewSite};
use crate::services::tokens::{CreatedToken, TokenTarget};
use crate::services::{Principal, ServiceError, Services};
use crate::storage::StorageError;

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

/// How the console reaches the data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// Through the control API of the server with this pid and address.
    Server { addr: String, pid: u32 },
    /// By opening the data dir directly.
    Direct,
}

pub struct Console {
    inner: Inner,
    route: Route,
    first_run: FirstRun,
}

enum Inner {
    Remote(ControlClient),
    Direct {
        services: Services,
        operator: Principal,
    },
}

impl Console {
    /// Connects to the server running on `data_dir`, or opens it directly
    /// (running first-run set-up on an empty one) when none answers.
    pub fn open(data_dir: &Path) -> Result<Self, ConsoleError> {
        let control_path = ControlFile::path(data_dir);
        let server_problem = match ControlFile::read(data_dir) {
            Ok(Some(file)) => {
                let client = ControlClient::new(file);
                match client.status() {
                    Ok(status) => {
                        return Ok(Console {
                            route: Route::Server {
                                addr: client.addr.clone(),
                                pid: status.pid,
                            },
                            inner: Inner::Remote(client),
                            first_run: FirstRun::default(),
                        });
                    }
                    Err(e) => Some(format!(
                        "the server named in {} does not answer ({e})",
                        control_path.display()
                    )),
                }
            }
            Ok(None) => None,
            Err(e) => Some(format!("{} is unreadable ({e})", control_path.display())),
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
            // control file is a leftover of one that was killed.
            if let Err(e) = ControlFile::remove(data_dir) {
                tracing::warn!(error = %e, "could not remove a stale control file");
            }
        }
        let first_run = services.first_run()?;
        let operator = services.console_operator()?;
        Ok(Console {
            inner: Inner::Direct { services, operator },
            route: Route::Direct,
            first_run,
        })
    }

    pub fn route(&self) -> &Route {
        &self.route
    }

    /// What opening an empty data dir directly created (the operator's
    /// one-time password among it), for the caller to show once.
    pub fn first_run(&self) -> &FirstRun {
        &self.first_run
    }

    pub fn list_sites(&self) -> Result<Vec<Site>, ConsoleError> {
        match &self.inner {
            Inner::Remote(c) => Ok(c.get::<SiteList>("/sites")?.sites),
            Inner::Direct { services, operator } => Ok(services.list_sites(operator)?),
        }
    }

    pub fn create_site(&self, new: CreateSiteRequest) -> Result<Site, ConsoleError> {
        match &self.inner {
            Inner::Remote(c) => c.post("/sites", Some(&new)),
            Inner::Direct { services, operator } => {
                Ok(services.create_site(operator, NewSite::from(new))?)
            }
        }
    }

    pub fn suspend_site(&self, key: &str) -> Result<Site, ConsoleError> {
        match &self.inner {
            Inner::Remote(c) => c.post::<(), _>(&format!("/sites/{}/suspend", segment(key)), None),
            Inner::Direct { services, operator } => Ok(services.suspend_site(operator, key)?),
        }
    }

    pub fn resume_site(&self, key: &str) -> Result<Site, ConsoleError> {
        match &self.inner {
            Inner::Remote(c) => c.post::<(), _>(&format!("/sites/{}/resume", segment(key)), None),
            Inner::Direct { services, operator } => Ok(services.resume_site(operator, key)?),
        }
    }

    pub fn delete_site(&self, key: &str) -> Result<Site, ConsoleError> {
        match &self.inner {
            Inner::Remote(c) => c.delete(&format!("/sites/{}", segment(key))),
            Inner::Direct { services, operator } => Ok(services.delete_site(operator, key)?),
        }
    }

    /// Creates an API token; the answer holds its secret, shown only now.
    pub fn create_token(
        &self,
        name: &str,
        target: TokenTarget,
    ) -> Result<CreatedToken, ConsoleError> {
        match &self.inner {
            Inner::Remote(c) => c.post(
                "/tokens",
                Some(&CreateTokenRequest {
                    name: name.to_owned(),
                    target,
                }),
            ),
            Inner::Direct { services, operator } => {
                Ok(services.create_token_for(operator, name, &target)?)
            }
        }
    }

    /// Every token, or those of the site `key` (slug or id).
    pub fn list_tokens(&self, site: Option<&str>) -> Result<Vec<ApiToken>, ConsoleError> {
        match &self.inner {
            Inner::Remote(c) => {
                let path = match site {
                    Some(key) => format!("/tokens?site={}", segment(key)),
                    None => "/tokens".to_owned(),
                };
                Ok(c.get::<TokenList>(&path)?.tokens)
            }
            Inner::Direct { services, operator } => {
                Ok(services.list_tokens_by_key(operator, site)?)
            }
        }
    }

    pub fn revoke_token(&self, id: ApiTokenId) -> Result<ApiToken, ConsoleError> {
        match &self.inner {
            Inner::Remote(c) => c.delete(&format!("/tokens/{id}")),
            Inner::Direct { services, operator } => {
                Ok(services.revoke_token_as_operator(operator, id)?)
            }
        }
    }

    /// Loads the demo organisation into the site `key` (see [`demo`]).
    pub fn load_demo(&self, key: &str) -> Result<DemoReport, ConsoleError> {
        match &self.inner {
            Inner::Remote(c) => c.post::<(), _>(&format!("/sites/{}/demo", segment(key)), None),
            Inner::Direct { services, operator } => Ok(demo::load_into(services, operator, key)?),
        }
    }
}

impl Console {
    /// Reconciles every enrolment method of a site, or of one course (id
    /// or shortname).
    pub fn reconcile(
        &self,
        key: &str,
        course: Option<&str>,
        dry_run: bool,
    ) -> Result<Vec<InstanceReconcile>, ConsoleError> {
        match &self.inner {
            Inner::Remote(c) => {
                let mut path = format!("/sites/{}/reconcile?dry_run={dry_run}", segment(key));
                if let Some(course) = course {
                    path.push_str(&format!("&course={}", segment(course)));
                }
                c.post::<(), _>(&path, None)
            }
            Inner::Direct { services, operator } => {
                Ok(services.reconcile_site_by_key(operator, key, course, dry_run)?)
            }
        }
    }

    /// Imports a CSV file of `kind` into the site `key` (see
    /// `services::bulk`); the report says whether it was applied.
    pub fn import_csv(
        &self,
        key: &str,
        kind: ImportKind,
        bytes: &[u8],
        dry_run: bool,
        options: &ImportOptions,
    ) -> Result<ImportReport, ConsoleError> {
        match &self.inner {
            Inner::Remote(c) => c.post_bytes(
                &format!(
                    "/sites/{}/imports/{kind}?dry_run={dry_run}&max_bytes={}",
                    segment(key),
                    options.max_bytes
                ),
                "text/csv",
                bytes,
            ),
            Inner::Direct { services, operator } => {
                Ok(services.import_csv_by_key(operator, key, kind, bytes, dry_run, options)?)
            }
        }
    }

    /// Installs a plugin component (the bytes of a `.wasm` file).
    pub fn install_plugin(&self, bytes: &[u8]) -> Result<PluginVersion, ConsoleError> {
        match &self.inner {
            Inner::Remote(c) => c.post_wasm("/plugins", bytes),
            Inner::Direct { services, operator } => Ok(services.install_plugin(operator, bytes)?),
        }
    }

    pub fn list_plugins(&self) -> Result<Vec<InstalledPlugin>, ConsoleError> {
        match &self.inner {
            Inner::Remote(c) => Ok(c.get::<PluginList>("/plugins")?.plugins),
            Inner::Direct { services, operator } => Ok(services.list_plugins(operator)?),
        }
    }

    pub fn enable_plugin(
        &self,
        site: &str,
        id: &str,
        version: Option<&str>,
    ) -> Result<SitePlugin, ConsoleError> {
        match &self.inner {
            Inner::Remote(c) => c.post(
                &format!("/sites/{}/plugins/{}/enable", segment(site), segment(id)),
                Some(&EnablePluginRequest {
                    version: version.map(str::to_owned),
                }),
            ),
            Inner::Direct { services, operator } => {
                Ok(services.enable_plugin(operator, site, id, version)?)
            }
        }
    }

    pub fn disable_plugin(
        &self,
        site: &str,
        id: &str,
        force: bool,
    ) -> Result<SitePlugin, ConsoleError> {
        match &self.inner {
            Inner::Remote(c) => c.post(
                &format!("/sites/{}/plugins/{}/disable", segment(site), segment(id)),
                Some(&DisablePluginRequest { force }),
            ),
            Inner::Direct { services, operator } => {
                Ok(services.disable_plugin(operator, site, id, force)?)
            }
        }
    }

    pub fn upgrade_plugin(
        &self,
        site: &str,
        id: &str,
        version: &str,
    ) -> Result<SitePlugin, ConsoleError> {
        match &self.inner {
            Inner::Remote(c) => c.post(
                &format!("/sites/{}/plugins/{}/upgrade", segment(site), segment(id)),
                Some(&UpgradePluginRequest {
                    version: version.to_owned(),
                }),
            ),
            Inner::Direct { services, operator } => {
                Ok(services.upgrade_plugin(operator, site, id, version)?)
            }
        }
    }

    pub fn uninstall_plugin(
        &self,
        id: &str,
        version: &str,
        force: bool,
    ) -> Result<PluginVersion, ConsoleError> {
        match &self.inner {
            Inner::Remote(c) => c.delete(&format!(
                "/plugins/{}/versions/{}?force={force}",
                segment(id),
                segment(version)
            )),
            Inner::Direct { services, operator } => {
                Ok(services.uninstall_plugin(operator, id, version, force)?)
            }
        }
    }
}

/// Percent-encodes a path segment (dots too, so `..` stays a name): site
/// keys are slugs or ids, but what the user typed must not change the path.
fn segment(key: &str) -> String {
    key.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// A client of one server's control API.
pub struct ControlClient {
    agent: ureq::Agent,
    addr: String,
    token: String,
}

impl ControlClient {
    pub fn new(file: ControlFile) -> Self {
        let config = ureq::Agent::config_builder()
            // The server is on this machine: never send its token through
            // a proxy named in the environment.
            .proxy(None)
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(2)))
            // Loading the demo into a site takes seconds, not minutes.
            .timeout_global(Some(Duration::from_secs(300)))
            .build();
        Self {
            agent: config.into(),
            addr: file.addr.to_string(),
            token: file.token,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}/control/v1{path}", self.addr)
    }

    fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }

    pub fn status(&self) -> Result<ControlStatus, ConsoleError> {
        self.get("/status")
    }

    fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ConsoleError> {
        let response = self
            .agent
            .get(self.url(path))
            .header("Authorization", self.bearer())
            .call();
        self.answer(response)
    }

    fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, ConsoleError> {
        let request = self
            .agent
            .post(self.url(path))
            .header("Authorization", self.bearer());
        let response = match body {
            Some(body) => request.send_json(body),
            None => request.send_empty(),
        };
        self.answer(response)
    }

    /// Posts a component as the raw body.
    fn post_wasm<T: DeserializeOwned>(&self, path: &str, bytes: &[u8]) -> Result<T, ConsoleError> {
        self.post_bytes(path, "application/wasm", bytes)
    }

    /// Posts a file as the raw body.
    fn post_bytes<T: DeserializeOwned>(
        &self,
        path: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Result<T, ConsoleError> {
        let response = self
            .agent
            .post(self.url(path))
            .header("Authorization", self.bearer())
            .header("Content-Type", content_type)
            .send(bytes);
        self.answer(response)
    }

    fn delete<T: DeserializeOwned>(&self, path: &str) -> Result<T, ConsoleError> {
        let response = self
            .agent
            .delete(self.url(path))
            .header("Authorization", self.bearer())
            .call();
        self.answer(response)
    }

    fn answer<T: DeserializeOwned>(
        &self,
        response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<T, ConsoleError> {
        let mut response = response.map_err(|source| ConsoleError::Transport {
            addr: self.addr.clone(),
            source: Box::new(source),
        })?;
        let status = response.status();
        let protocol = |detail: String| ConsoleError::Protocol {
            addr: self.addr.clone(),
            detail,
        };
        if status.is_success() {
            return response
                .body_mut()
                .read_json::<T>()
                .map_err(|e| protocol(format!("{status}: {e}")));
        }
        match response.body_mut().read_json::<ErrorBody>() {
            Ok(body) => Err(ConsoleError::Refused {
                status: status.as_u16(),
                code: body.error.code,
                message: body.error.message,
                field: body.error.field,
            }),
            Err(e) => Err(protocol(format!("{status} without a JSON error ({e})"))),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_cannot_escape_their_path_segment() {
        assert_eq!(super::segment("acme-2"), "acme-2");
        assert_eq!(super::segment("../x?y"), "%2E%2E%2Fx%3Fy");
    }
}
