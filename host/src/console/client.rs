//! [`OperatorClient`]: the one client of the `/api/v1` operator routes that
//! every `charon` command uses, the same whether it talks to a running
//! `charon serve` or to the console's own in-process server. Each command
//! is written here once, in the API's own request and answer types
//! ([`crate::http::wire`]: request bodies and the answers' views), and
//! hands back what the services returned (each view converted back into
//! its domain record), so that the commands print what they always
//! printed.
//!
//! It must never decide anything: every refusal is the server's, passed on
//! with its code and field.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::ConsoleError;
use crate::demo::DemoReport;
use crate::domain::{ApiToken, ApiTokenId, PluginVersion, Site, SitePlugin};
use crate::http::ErrorBody;
use crate::http::wire::Mirror;
use crate::http::wire::{
    CreateOperatorToken, CreateSite, CreateSiteUserToken, CreatedTokenView, DemoReportView,
    DisablePlugin, EnablePlugin, ForceQuery, HostStatusView, ImportQuery, ImportReportView,
    InstalledPluginView, ListQuery, MassEnrol, MassEnrolmentPreviewView, MassEnrolmentView,
    MethodReconcileView, Page, PluginVersionView, SitePluginView, SiteReconcileByKeyQuery,
    SiteView, TokenView, UpgradePlugin,
};
use crate::services::MAX_PAGE;
use crate::services::bulk::{self, ImportKind, ImportReport};
use crate::services::execution::MethodReconcile;
use crate::services::plugins::InstalledPlugin;
use crate::services::sites::HostStatus;
use crate::services::tokens::{CreatedToken, TokenTarget};

/// A client of one server's `/api/v1`, acting with one bearer secret.
pub struct OperatorClient {
    agent: ureq::Agent,
    addr: String,
    bearer: String,
}

impl OperatorClient {
    /// A client of the server at `addr`; `timeout`, if any, bounds each
    /// call as a whole.
    pub(crate) fn new(addr: SocketAddr, secret: &str, timeout: Option<Duration>) -> Self {
        let config = ureq::Agent::config_builder()
            // The server is on this machine: never send the secret through
            // a proxy named in the environment.
            .proxy(None)
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(2)))
            .timeout_global(timeout)
            .build();
        Self {
            agent: config.into(),
            addr: addr.to_string(),
            bearer: format!("Bearer {secret}"),
        }
    }

    /// The server's address, as the errors name it.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Which server answers; proves the secret opens it.
    pub fn status(&self) -> Result<HostStatus, ConsoleError> {
        Ok(self.get::<HostStatusView>("/operator/status")?.into())
    }

    pub fn list_sites(&self) -> Result<Vec<Site>, ConsoleError> {
        Ok(self.all::<SiteView>("/sites")?.mirror())
    }

    pub fn create_site(&self, new: &CreateSite) -> Result<Site, ConsoleError> {
        Ok(self.post_json::<_, SiteView>("/sites", new)?.into())
    }

    pub fn suspend_site(&self, key: &str) -> Result<Site, ConsoleError> {
        let site: SiteView = self.post_empty(&format!("/sites/{}/suspend", segment(key)))?;
        Ok(site.into())
    }

    pub fn resume_site(&self, key: &str) -> Result<Site, ConsoleError> {
        let site: SiteView = self.post_empty(&format!("/sites/{}/resume", segment(key)))?;
        Ok(site.into())
    }

    /// Deletes the site `key` and answers it as it was (the route itself
    /// answers nothing). The site deleted is the one read, by its id.
    pub fn delete_site(&self, key: &str) -> Result<Site, ConsoleError> {
        let site: SiteView = self.get(&format!("/sites/{}", segment(key)))?;
        self.delete::<()>(&format!("/sites/{}", site.id.0))?;
        Ok(site.into())
    }

    /// Loads the demo organisation into the site `key` (see [`crate::demo`]).
    pub fn load_demo(&self, key: &str) -> Result<DemoReport, ConsoleError> {
        let report: DemoReportView = self.post_empty(&format!("/sites/{}/demo", segment(key)))?;
        Ok(report.into())
    }

    /// Reconciles every enrolment method of a site, or of one course (id
    /// or shortname).
    pub fn reconcile(
        &self,
        key: &str,
        course: Option<&str>,
        dry_run: bool,
    ) -> Result<Vec<MethodReconcile>, ConsoleError> {
        let query = SiteReconcileByKeyQuery {
            course: course.map(str::to_owned),
            dry_run: Some(dry_run),
        };
        let done: Vec<MethodReconcileView> = self.post_empty(&format!(
            "/sites/{}/reconcile?{}",
            segment(key),
            self.query(&query)?
        ))?;
        Ok(done.mirror())
    }

    /// Imports a CSV file of `kind` into the site `key` (see
    /// `services::bulk`); the report says whether it was applied. A file
    /// over `max_bytes` is refused here, as the services refuse it, before
    /// it is sent; a running server refuses one over its own limit too.
    pub fn import_csv(
        &self,
        key: &str,
        kind: ImportKind,
        bytes: &[u8],
        dry_run: bool,
        max_bytes: usize,
    ) -> Result<ImportReport, ConsoleError> {
        if bytes.len() > max_bytes {
            return Err(bulk::too_large(bytes.len(), max_bytes).into());
        }
        let query = self.query(&ImportQuery { dry_run })?;
        let report: ImportReportView = self.post_raw(
            &format!("/sites/{}/imports/{kind}?{query}", segment(key)),
            "text/csv",
            bytes,
        )?;
        Ok(report.into())
    }

    /// Enrols the members of `segment` of the site `key` once, as `body`
    /// says (see `services::mass_enrolments`): the preview's figures, and
    /// unless `dry_run` what the apply then did (it checks everything
    /// again, so its figures may differ). Through the site's own routes.
    pub fn mass_enrol(
        &self,
        key: &str,
        segment_id: u64,
        body: &MassEnrol,
        dry_run: bool,
    ) -> Result<(MassEnrolmentPreviewView, Option<MassEnrolmentView>), ConsoleError> {
        let site: SiteView = self.get(&format!("/sites/{}", segment(key)))?;
        let path = format!("/segments/{segment_id}/mass-enrolments");
        let preview = self.post_site_json(&site.slug, &format!("{path}/preview"), body)?;
        if dry_run {
            return Ok((preview, None));
        }
        let done = self.post_site_json(&site.slug, &path, body)?;
        Ok((preview, Some(done)))
    }

    /// Creates an API token; the answer holds its secret, shown only now.
    pub fn create_token(
        &self,
        name: &str,
        target: &TokenTarget,
    ) -> Result<CreatedToken, ConsoleError> {
        let name = name.to_owned();
        let created: CreatedTokenView = match target {
            TokenTarget::Operator => {
                self.post_json("/operator/tokens", &CreateOperatorToken { name })?
            }
            TokenTarget::SiteUser { site, username } => self.post_json(
                &format!("/sites/{}/tokens", segment(site)),
                &CreateSiteUserToken {
                    name,
                    username: username.clone(),
                },
            )?,
        };
        Ok(created.into())
    }

    /// Every token, or those of the site `key` (slug or id).
    pub fn list_tokens(&self, site: Option<&str>) -> Result<Vec<ApiToken>, ConsoleError> {
        let path = match site {
            Some(key) => format!("/sites/{}/tokens", segment(key)),
            None => "/operator/tokens".to_owned(),
        };
        Ok(self.all::<TokenView>(&path)?.mirror())
    }

    pub fn revoke_token(&self, id: ApiTokenId) -> Result<ApiToken, ConsoleError> {
        let token: TokenView = self.delete(&format!("/operator/tokens/{id}"))?;
        Ok(token.into())
    }

    /// Installs a plugin component (the bytes of a `.wasm` file).
    pub fn install_plugin(&self, bytes: &[u8]) -> Result<PluginVersion, ConsoleError> {
        let installed: PluginVersionView =
            self.post_raw("/operator/plugins", "application/wasm", bytes)?;
        Ok(installed.into())
    }

    pub fn list_plugins(&self) -> Result<Vec<InstalledPlugin>, ConsoleError> {
        Ok(self
            .all::<InstalledPluginView>("/operator/plugins")?
            .mirror())
    }

    pub fn enable_plugin(
        &self,
        site: &str,
        id: &str,
        version: Option<&str>,
    ) -> Result<SitePlugin, ConsoleError> {
        let body = EnablePlugin {
            version: version.map(str::to_owned),
        };
        let record: SitePluginView =
            self.post_json(&site_plugin_path(site, id, "enable"), &body)?;
        Ok(record.into())
    }

    pub fn disable_plugin(
        &self,
        site: &str,
        id: &str,
        force: bool,
    ) -> Result<SitePlugin, ConsoleError> {
        let body = DisablePlugin { force: Some(force) };
        let record: SitePluginView =
            self.post_json(&site_plugin_path(site, id, "disable"), &body)?;
        Ok(record.into())
    }

    pub fn upgrade_plugin(
        &self,
        site: &str,
        id: &str,
        version: &str,
    ) -> Result<SitePlugin, ConsoleError> {
        let body = UpgradePlugin {
            version: version.to_owned(),
        };
        let record: SitePluginView =
            self.post_json(&site_plugin_path(site, id, "upgrade"), &body)?;
        Ok(record.into())
    }

    /// Uninstalls a plugin version and answers it as it was (the route
    /// itself answers nothing). The list is read first so that a refusal
    /// stays the uninstall's own (e.g. "version 9 of plugin … not found").
    pub fn uninstall_plugin(
        &self,
        id: &str,
        version: &str,
        force: bool,
    ) -> Result<PluginVersion, ConsoleError> {
        let listed = self
            .list_plugins()?
            .into_iter()
            .map(|p| p.plugin)
            .find(|p| p.id == id && p.version == version);
        let query = self.query(&ForceQuery { force: Some(force) })?;
        self.delete::<()>(&format!(
            "/operator/plugins/{}/versions/{}?{query}",
            segment(id),
            segment(version)
        ))?;
        listed.ok_or_else(|| {
            self.protocol(format!(
                "version {version} of plugin {id:?} was uninstalled but was not in the list before"
            ))
        })
    }
}

/// `/sites/{site}/plugins/{id}/{action}`.
fn site_plugin_path(site: &str, id: &str, action: &str) -> String {
    format!("/sites/{}/plugins/{}/{action}", segment(site), segment(id))
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

// The transport: one request, one answer or one error.
impl OperatorClient {
    fn url(&self, path: &str) -> String {
        format!("http://{}/api/v1{path}", self.addr)
    }

    /// A query string from the route's own query type.
    fn query<Q: Serialize>(&self, query: &Q) -> Result<String, ConsoleError> {
        serde_html_form::to_string(query).map_err(|e| self.protocol(format!("query: {e}")))
    }

    /// Every item of a collection, page by page, in the largest pages the
    /// API serves.
    fn all<T: DeserializeOwned>(&self, path: &str) -> Result<Vec<T>, ConsoleError> {
        let mut items = Vec::new();
        let mut cursor = None;
        loop {
            let query = self.query(&ListQuery {
                cursor,
                limit: Some(MAX_PAGE.into()),
            })?;
            let page: Page<T> = self.get(&format!("{path}?{query}"))?;
            items.extend(page.items);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(items),
            }
        }
    }

    fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ConsoleError> {
        let response = self
            .agent
            .get(self.url(path))
            .header("Authorization", &self.bearer)
            .call();
        self.answer(response)
    }

    fn post_empty<T: DeserializeOwned>(&self, path: &str) -> Result<T, ConsoleError> {
        let response = self
            .agent
            .post(self.url(path))
            .header("Authorization", &self.bearer)
            .send_empty();
        self.answer(response)
    }

    fn post_json<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ConsoleError> {
        self.post_json_to(self.url(path), body)
    }

    /// Posts `body` to a site route of the site `slug` (`/s/{slug}/api/v1`),
    /// which the operator credential opens like every `/api/v1` route.
    fn post_site_json<B: Serialize, T: DeserializeOwned>(
        &self,
        slug: &str,
        path: &str,
        body: &B,
    ) -> Result<T, ConsoleError> {
        let url = format!("http://{}/s/{}/api/v1{path}", self.addr, segment(slug));
        self.post_json_to(url, body)
    }

    fn post_json_to<B: Serialize, T: DeserializeOwned>(
        &self,
        url: String,
        body: &B,
    ) -> Result<T, ConsoleError> {
        let response = self
            .agent
            .post(url)
            .header("Authorization", &self.bearer)
            .send_json(body);
        self.answer(response)
    }

    /// Posts a file as the raw body.
    fn post_raw<T: DeserializeOwned>(
        &self,
        path: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Result<T, ConsoleError> {
        let response = self
            .agent
            .post(self.url(path))
            .header("Authorization", &self.bearer)
            .header("Content-Type", content_type)
            .send(bytes);
        self.answer(response)
    }

    fn delete<T: DeserializeOwned>(&self, path: &str) -> Result<T, ConsoleError> {
        let response = self
            .agent
            .delete(self.url(path))
            .header("Authorization", &self.bearer)
            .call();
        self.answer(response)
    }

    fn protocol(&self, detail: String) -> ConsoleError {
        ConsoleError::Protocol {
            addr: self.addr.clone(),
            detail,
        }
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
        if status == ureq::http::StatusCode::NO_CONTENT {
            // "Done; no content" is what a caller expecting `()` expects.
            return serde_json::from_value(serde_json::Value::Null)
                .map_err(|e| self.protocol(format!("{status}: {e}")));
        }
        if status.is_success() {
            return response
                .body_mut()
                .read_json::<T>()
                .map_err(|e| self.protocol(format!("{status}: {e}")));
        }
        match response.body_mut().read_json::<ErrorBody>() {
            Ok(body) => Err(ConsoleError::Refused {
                status: status.as_u16(),
                code: body.error.code,
                message: body.error.message,
                field: body.error.field,
            }),
            Err(e) => Err(self.protocol(format!("{status} without a JSON error ({e})"))),
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
