//! Operator pages under `/operator`: the host's sites (create, suspend,
//! resume, delete) and its plugins (install a version, enable, disable or
//! upgrade one on a site).
//!
//! A plugin is uploaded as `multipart/form-data`, read by the pages' small
//! bounded parser (`upload.rs`).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::super::{HttpError, blocking};
use super::forms::{
    ConfirmPage, FormErrors, ListQuery, PAGE_SIZE, cursor, form_outcome, page_links, render,
    search_of, status_for, ticked,
};
use super::session::{OperatorPage, OperatorPost};
use super::upload::{Body, FRAMING_SLACK, content_type, read_upload, upload_fields};
use super::words::count;
use super::{Layout, page_routes};
use crate::domain::{Site, SiteId, SiteStatus};
use crate::services::ServiceError;
use crate::services::plugins::{MAX_PLUGIN_BYTES, PluginsOverview};
use crate::services::sites::{NewSite, SiteDetails, SiteSummary};

page_routes! {
    get "/operator" => sites, Operator;
    get "/operator/sites" => sites, Operator;
    get "/operator/sites/new" => new_site, Operator;
    post "/operator/sites" => create_site, Operator;
    get "/operator/sites/{site}/suspend" => confirm_suspend, Operator;
    post "/operator/sites/{site}/suspend" => suspend, Operator;
    post "/operator/sites/{site}/resume" => resume, Operator;
    get "/operator/sites/{site}/delete" => confirm_delete, Operator;
    post "/operator/sites/{site}/delete" => delete, Operator;
    get "/operator/plugins" => plugins, Operator;
    post "/operator/plugins" => install, Operator;
    post "/operator/sites/{site}/plugins/{plugin}/enable" => enable_plugin, Operator;
    post "/operator/sites/{site}/plugins/{plugin}/disable" => disable_plugin, Operator;
    post "/operator/sites/{site}/plugins/{plugin}/upgrade" => upgrade_plugin, Operator;
}

#[derive(serde::Deserialize)]
pub(crate) struct SitePath {
    site: String,
}

#[derive(serde::Deserialize)]
pub(crate) struct SitePluginPath {
    site: String,
    plugin: String,
}

#[derive(serde::Deserialize)]
pub(crate) struct Empty {}

// ----------------------------------------------------------------- sites

pub(crate) struct SiteRow {
    pub slug: String,
    pub name: String,
    pub hosts: String,
    pub suspended: bool,
    pub users: u64,
    pub courses: u64,
    pub open_href: String,
    pub suspend_href: String,
    pub resume_action: String,
    pub delete_href: String,
}

#[derive(Template)]
#[template(path = "pages/operator/sites.html")]
pub(crate) struct SitesPage {
    pub layout: Layout,
    pub q: String,
    pub rows: Vec<SiteRow>,
    pub csrf: String,
    pub action: String,
    pub new_href: String,
    pub first: Option<String>,
    pub next: Option<String>,
}

fn site_row(s: SiteSummary) -> SiteRow {
    let slug = s.site.slug;
    SiteRow {
        open_href: format!("/s/{slug}/dashboard"),
        suspend_href: format!("/operator/sites/{slug}/suspend"),
        resume_action: format!("/operator/sites/{slug}/resume"),
        delete_href: format!("/operator/sites/{slug}/delete"),
        name: s.site.name,
        hosts: s.site.hostnames.join(", "),
        suspended: s.site.status == SiteStatus::Suspended,
        users: s.users,
        courses: s.courses,
        slug,
    }
}

async fn sites(
    page: OperatorPage,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, HttpError> {
    let q = query.q.clone().unwrap_or_default();
    let after = cursor(&query.after).map(SiteId);
    let services = page.services.clone();
    let who = page.principal().clone();
    let search = q.clone();
    let found =
        blocking(move || services.site_summaries_page(&who, search_of(&search), after, PAGE_SIZE))
            .await?;
    let (first, next) = page_links("/operator/sites", &q, after.is_none(), found.next);
    let view = SitesPage {
        layout: Layout::operator(&page, "Sites"),
        rows: found.items.into_iter().map(site_row).collect(),
        csrf: page.csrf().to_owned(),
        action: "/operator/sites".to_owned(),
        new_href: "/operator/sites/new".to_owned(),
        first,
        next,
        q,
    };
    render(&view, StatusCode::OK)
}

/// The fields of the new-site form, as typed.
#[derive(serde::Deserialize, Default, Clone)]
pub(crate) struct SiteForm {
    #[serde(default)]
    slug: String,
    #[serde(default)]
    name: String,
    /// One per line, or separated by commas or spaces.
    #[serde(default)]
    hostnames: String,
    #[serde(default)]
    brand_colour: String,
}

#[derive(Template)]
#[template(path = "pages/operator/site_form.html")]
pub(crate) struct SiteFormPage {
    pub layout: Layout,
    pub csrf: String,
    pub form: SiteForm,
    pub errors: FormErrors,
}

fn site_form_page(page: &OperatorPage, form: SiteForm, errors: FormErrors) -> SiteFormPage {
    SiteFormPage {
        layout: Layout::operator(page, "New site"),
        csrf: page.csrf().to_owned(),
        form,
        errors,
    }
}

async fn new_site(page: OperatorPage) -> Result<HttpResponse, HttpError> {
    // Asks the service too, so the form itself is the operators' alone.
    let services = page.services.clone();
    let who = page.principal().clone();
    blocking(move || services.list_sites(&who)).await?;
    let form = SiteForm {
        brand_colour: "#1f5f8b".to_owned(),
        ..SiteForm::default()
    };
    render(
        &site_form_page(&page, form, FormErrors::none()),
        StatusCode::OK,
    )
}

async fn create_site(post: OperatorPost<SiteForm>) -> Result<HttpResponse, HttpError> {
    let OperatorPost { page, form } = post;
    let new = NewSite {
        slug: form.slug.clone(),
        name: form.name.clone(),
        hostnames: form
            .hostnames
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|h| !h.is_empty())
            .map(str::to_owned)
            .collect(),
        brand_colour: Some(form.brand_colour.trim().to_owned()).filter(|c| !c.is_empty()),
    };
    let services = page.services.clone();
    let who = page.principal().clone();
    match form_outcome(blocking(move || services.create_site(&who, new)).await)? {
        Ok(site) => Ok(page.done(
            "/operator/sites",
            format!("Site “{}” created at /s/{}/.", site.name, site.slug),
        )),
        Err(errors) => {
            let view = site_form_page(&page, form, errors);
            render(&view, status_for(&view.errors))
        }
    }
}

/// The confirmation page for `verb` (`suspend`, `delete`) on the site of
/// `path`: its heading and effects written from the site's details, the
/// form posting to the site's `verb` route, cancelled back to the list.
async fn confirm_site_action(
    page: OperatorPage,
    path: web::Path<SitePath>,
    verb: &str,
    button: &str,
    words: impl FnOnce(&SiteDetails) -> (String, Vec<String>),
) -> Result<HttpResponse, HttpError> {
    let key = path.site.clone();
    let services = page.services.clone();
    let who = page.principal().clone();
    let d = blocking(move || services.site_details(&who, &key)).await?;
    let (heading, effects) = words(&d);
    let view = ConfirmPage {
        layout: Layout::operator(&page, &heading),
        effects,
        heading,
        action: format!("/operator/sites/{}/{verb}", d.summary.site.slug),
        csrf: page.csrf().to_owned(),
        button: button.to_owned(),
        cancel: "/operator/sites".to_owned(),
    };
    render(&view, StatusCode::OK)
}

/// The site's host names after `lead`, or nothing when it has none.
fn host_names(site: &Site, lead: &str) -> String {
    if site.hostnames.is_empty() {
        String::new()
    } else {
        format!("{lead}{}", site.hostnames.join(", "))
    }
}

async fn confirm_suspend(
    page: OperatorPage,
    path: web::Path<SitePath>,
) -> Result<HttpResponse, HttpError> {
    confirm_site_action(page, path, "suspend", "Suspend site", |d| {
        let site = &d.summary.site;
        let effects = vec![
            format!(
                "Stop serving {} (/s/{}/{}) to its {}: only operators can open it.",
                site.name,
                site.slug,
                host_names(site, ", "),
                count(d.summary.users, "user", "users")
            ),
            "Keep all its data; its API tokens are refused while it is suspended.".to_owned(),
            "You can resume it at any time.".to_owned(),
        ];
        (format!("Suspend site “{}”?", site.name), effects)
    })
    .await
}

async fn suspend(
    post: OperatorPost<Empty>,
    path: web::Path<SitePath>,
) -> Result<HttpResponse, HttpError> {
    let page = post.page;
    let key = path.site.clone();
    let services = page.services.clone();
    let who = page.principal().clone();
    let site = blocking(move || services.suspend_site(&who, &key)).await?;
    Ok(page.done(
        "/operator/sites",
        format!("Site “{}” is suspended.", site.name),
    ))
}

async fn resume(
    post: OperatorPost<Empty>,
    path: web::Path<SitePath>,
) -> Result<HttpResponse, HttpError> {
    let page = post.page;
    let key = path.site.clone();
    let services = page.services.clone();
    let who = page.principal().clone();
    let site = blocking(move || services.resume_site(&who, &key)).await?;
    Ok(page.done(
        "/operator/sites",
        format!("Site “{}” is active again.", site.name),
    ))
}

async fn confirm_delete(
    page: OperatorPage,
    path: web::Path<SitePath>,
) -> Result<HttpResponse, HttpError> {
    confirm_site_action(page, path, "delete", "Delete site and its data", |d| {
        let site = &d.summary.site;
        let effects = vec![
            format!(
                "Delete the data file {}: its {} users, {} courses, enrolments, user segments and audit log go with it.",
                d.data_file.display(),
                d.summary.users,
                d.summary.courses
            ),
            format!(
                "Free the slug “{}”{} and revoke the site's API tokens and sessions.",
                site.slug,
                host_names(site, " and the host names ")
            ),
            "This cannot be undone: keep a copy of the data file if you may need it.".to_owned(),
        ];
        (format!("Delete site “{}”?", site.name), effects)
    })
    .await
}

async fn delete(
    post: OperatorPost<Empty>,
    path: web::Path<SitePath>,
) -> Result<HttpResponse, HttpError> {
    let page = post.page;
    let key = path.site.clone();
    let services = page.services.clone();
    let who = page.principal().clone();
    let site = blocking(move || services.delete_site(&who, &key)).await?;
    Ok(page.done(
        "/operator/sites",
        format!("Site “{}” and its data file are deleted.", site.name),
    ))
}

// --------------------------------------------------------------- plugins

pub(crate) struct VersionRow {
    pub name: String,
    pub id: String,
    pub version: String,
    pub contract: String,
    pub size: String,
    pub bundled: bool,
    pub installed_at: String,
    /// Sites enabled at this version.
    pub sites: String,
    /// The calls since the host started, and the last failure if any.
    pub calls: (String, Option<String>),
}

/// One plugin on one site.
pub(crate) struct SitePluginRow {
    pub name: String,
    pub id: String,
    /// "Enabled (1.2.0)", "Disabled (was 1.2.0)" or "Not enabled".
    pub state: String,
    pub enabled: bool,
    pub enable_action: String,
    pub disable_action: String,
    /// A newer installed version to upgrade to, and the form's action.
    pub upgrade: Option<(String, String)>,
}

pub(crate) struct SitePlugins {
    pub slug: String,
    pub name: String,
    pub rows: Vec<SitePluginRow>,
}

#[derive(Template)]
#[template(path = "pages/operator/plugins.html")]
pub(crate) struct PluginsPage {
    pub layout: Layout,
    pub csrf: String,
    pub versions: Vec<VersionRow>,
    pub sites: Vec<SitePlugins>,
    pub errors: FormErrors,
    pub max_mib: usize,
}

/// `MAJOR.MINOR.PATCH` as numbers, for "is newer".
fn version_key(v: &str) -> (u64, u64, u64) {
    let mut parts = v.split('.').map(|p| p.parse::<u64>().unwrap_or(0));
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

/// "12 calls, 1 failed; mean 0.4 ms, longest 3.1 ms" (since the host started).
fn calls_text(stats: Option<&crate::runtime::CallStats>) -> (String, Option<String>) {
    let Some(s) = stats.filter(|s| s.calls > 0) else {
        return ("No calls yet".to_owned(), None);
    };
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    let failed = match s.failures {
        0 => String::new(),
        n => format!(", {n} failed"),
    };
    (
        format!(
            "{} call{}{failed}; mean {:.2} ms, longest {:.2} ms",
            s.calls,
            if s.calls == 1 { "" } else { "s" },
            ms(s.mean()),
            ms(s.longest)
        ),
        s.last_failure
            .as_ref()
            .map(|(code, message)| format!("last failure ({code}): {message}")),
    )
}

fn plugins_page(page: &OperatorPage, o: PluginsOverview, errors: FormErrors) -> PluginsPage {
    let versions = o
        .versions
        .iter()
        .map(|v| VersionRow {
            calls: calls_text(
                o.call_stats
                    .iter()
                    .find(|((id, version), _)| *id == v.plugin.id && *version == v.plugin.version)
                    .map(|(_, s)| s),
            ),
            name: v.plugin.name.clone(),
            id: v.plugin.id.clone(),
            version: v.plugin.version.clone(),
            contract: v.plugin.contract.clone(),
            size: format!("{:.1} KiB", v.plugin.size as f64 / 1024.0),
            bundled: v.plugin.bundled,
            installed_at: v.plugin.installed_at.to_string(),
            sites: {
                let slugs: Vec<&str> = v
                    .sites
                    .iter()
                    .filter(|s| s.enabled)
                    .map(|s| s.slug.as_str())
                    .collect();
                if slugs.is_empty() {
                    "None".to_owned()
                } else {
                    slugs.join(", ")
                }
            },
        })
        .collect();
    // The plugin ids in order, each with its latest version and name.
    let mut plugins: Vec<(&str, &str, &str)> = Vec::new();
    for v in &o.versions {
        match plugins.iter_mut().find(|(id, _, _)| *id == v.plugin.id) {
            Some(p) if version_key(&v.plugin.version) > version_key(p.2) => {
                p.1 = &v.plugin.name;
                p.2 = &v.plugin.version;
            }
            Some(_) => {}
            None => plugins.push((&v.plugin.id, &v.plugin.name, &v.plugin.version)),
        }
    }
    let sites = o
        .sites
        .iter()
        .map(|site| {
            let rows = plugins
                .iter()
                .map(|&(id, name, latest)| {
                    let pin = o.versions.iter().find_map(|v| {
                        v.sites
                            .iter()
                            .find(|s| v.plugin.id == id && s.site == site.id)
                            .map(|s| (v.plugin.version.as_str(), s.enabled))
                    });
                    let base = format!("/operator/sites/{}/plugins/{id}", site.slug);
                    let (state, enabled) = match pin {
                        Some((v, true)) => (format!("Enabled ({v})"), true),
                        Some((v, false)) => (format!("Disabled (was {v})"), false),
                        None => ("Not enabled".to_owned(), false),
                    };
                    let upgrade = match pin {
                        Some((v, true)) if version_key(latest) > version_key(v) => {
                            Some((latest.to_owned(), format!("{base}/upgrade")))
                        }
                        _ => None,
                    };
                    SitePluginRow {
                        name: name.to_owned(),
                        id: id.to_owned(),
                        state,
                        enabled,
                        enable_action: format!("{base}/enable"),
                        disable_action: format!("{base}/disable"),
                        upgrade,
                    }
                })
                .collect();
            SitePlugins {
                slug: site.slug.clone(),
                name: site.name.clone(),
                rows,
            }
        })
        .collect();
    PluginsPage {
        layout: Layout::operator(page, "Plugins"),
        csrf: page.csrf().to_owned(),
        versions,
        sites,
        errors,
        max_mib: MAX_PLUGIN_BYTES >> 20,
    }
}

async fn overview(page: &OperatorPage) -> Result<PluginsOverview, HttpError> {
    let services = page.services.clone();
    let who = page.principal().clone();
    blocking(move || services.plugins_overview(&who)).await
}

async fn plugins(page: OperatorPage) -> Result<HttpResponse, HttpError> {
    let o = overview(&page).await?;
    render(&plugins_page(&page, o, FormErrors::none()), StatusCode::OK)
}

/// The plugins page again with a refusal's messages (422).
async fn refused(page: &OperatorPage, e: ServiceError) -> Result<HttpResponse, HttpError> {
    let errors = FormErrors::from_service(e)?;
    let o = overview(page).await?;
    let view = plugins_page(page, o, errors);
    render(&view, status_for(&view.errors))
}

async fn install(page: OperatorPage, body: web::Payload) -> Result<HttpResponse, HttpError> {
    let body = match read_upload(&page.request, body, MAX_PLUGIN_BYTES).await? {
        Body::Within(body) => body,
        Body::TooLarge(_) => {
            return Err(HttpError::PayloadTooLarge {
                limit: MAX_PLUGIN_BYTES + FRAMING_SLACK,
            });
        }
    };
    let upload = upload_fields(&content_type(&page.request), &body, "plugin");
    if !upload.token_is(page.csrf()) {
        return Err(HttpError::CsrfRejected);
    }
    let component = upload.file;
    if component.is_empty() {
        let e = ServiceError::invalid(
            "plugin",
            "choose a plugin component (a .wasm file) to upload",
        );
        return refused(&page, e).await;
    }
    let services = page.services.clone();
    let who = page.principal().clone();
    match blocking(move || services.install_plugin(&who, &component)).await {
        Ok(v) => Ok(page.done(
            "/operator/plugins",
            format!(
                "Plugin “{}” {} is installed. Enable it on the sites that should use it.",
                v.name, v.version
            ),
        )),
        Err(HttpError::Service(e)) => refused(&page, e).await,
        Err(e) => Err(e),
    }
}

#[derive(serde::Deserialize)]
pub(crate) struct DisableForm {
    force: Option<String>,
}

#[derive(serde::Deserialize)]
pub(crate) struct UpgradeForm {
    #[serde(default)]
    version: String,
}

async fn enable_plugin(
    post: OperatorPost<Empty>,
    path: web::Path<SitePluginPath>,
) -> Result<HttpResponse, HttpError> {
    let page = post.page;
    let SitePluginPath { site, plugin } = path.into_inner();
    let services = page.services.clone();
    let who = page.principal().clone();
    match blocking(move || services.enable_plugin(&who, &site, &plugin, None)).await {
        Ok(r) => Ok(page.done(
            "/operator/plugins",
            format!(
                "Plugin “{}” {} is enabled on the site.",
                r.plugin, r.version
            ),
        )),
        Err(HttpError::Service(e)) => refused(&page, e).await,
        Err(e) => Err(e),
    }
}

async fn disable_plugin(
    post: OperatorPost<DisableForm>,
    path: web::Path<SitePluginPath>,
) -> Result<HttpResponse, HttpError> {
    let OperatorPost { page, form } = post;
    let SitePluginPath { site, plugin } = path.into_inner();
    let force = ticked(&form.force);
    let services = page.services.clone();
    let who = page.principal().clone();
    match blocking(move || services.disable_plugin(&who, &site, &plugin, force)).await {
        Ok(r) => Ok(page.done(
            "/operator/plugins",
            format!("Plugin “{}” is disabled on the site.", r.plugin),
        )),
        Err(HttpError::Service(e)) => refused(&page, e).await,
        Err(e) => Err(e),
    }
}

async fn upgrade_plugin(
    post: OperatorPost<UpgradeForm>,
    path: web::Path<SitePluginPath>,
) -> Result<HttpResponse, HttpError> {
    let OperatorPost { page, form } = post;
    let SitePluginPath { site, plugin } = path.into_inner();
    let services = page.services.clone();
    let who = page.principal().clone();
    match blocking(move || services.upgrade_plugin(&who, &site, &plugin, form.version.trim())).await
    {
        Ok(r) => Ok(page.done(
            "/operator/plugins",
            format!(
                "Plugin “{}” is upgraded to {} on the site.",
                r.plugin, r.version
            ),
        )),
        Err(HttpError::Service(e)) => refused(&page, e).await,
        Err(e) => Err(e),
    }
}
