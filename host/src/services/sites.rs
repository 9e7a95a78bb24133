//! Operator services: the sites of a host, operator accounts, first run.

use super::auth::Principal;
use super::error::{ServiceError, ServiceResult};
use super::{Page, Services, password, validate};
use crate::domain::*;
use crate::storage::registry::RegistryRead;
use crate::storage::site::prelude::*;

/// What an operator gives to create a site.
#[derive(Clone, Debug, Default)]
pub struct NewSite {
    pub slug: String,
    pub name: String,
    pub hostnames: Vec<String>,
    pub brand_colour: Option<String>,
}

/// What the first start of a host created.
#[derive(Clone, Debug, Default)]
pub struct FirstRun {
    /// The operator account created, and its one-time password (shown once).
    pub operator: Option<(String, String)>,
    /// The default site created.
    pub site: Option<Site>,
}

/// A site with what an operator's list shows of it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SiteSummary {
    pub site: Site,
    pub users: u64,
    pub courses: u64,
}

/// A site, its counts and where its data lives (e.g. before deleting it).
#[derive(Clone, Debug)]
pub struct SiteDetails {
    pub summary: SiteSummary,
    /// `DATA/sites/{slug}.redb`.
    pub data_file: std::path::PathBuf,
}

/// Which server process serves the host: what a client of its operator
/// routes checks it talks to.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HostStatus {
    /// The version of Charon.
    pub version: String,
    /// The process id of the server.
    pub pid: u32,
    /// The data dir it serves.
    pub data_dir: String,
}

pub const DEFAULT_SITE_SLUG: &str = "default";
pub const FIRST_OPERATOR: &str = "admin";

fn require_operator(who: &Principal) -> ServiceResult<()> {
    if who.is_operator() {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "only an operator may manage sites".into(),
        ))
    }
}

impl Services {
    /// At every start: installs the bundled plugins that are not (see
    /// [`install_bundled_plugins`](Self::install_bundled_plugins)). On an
    /// empty data dir: creates the first operator (with a generated
    /// password returned once) and a default site reachable as `localhost`,
    /// with the bundled plugins enabled. Does nothing more on a data dir
    /// that has them.
    pub fn first_run(&self) -> ServiceResult<FirstRun> {
        let mut out = FirstRun::default();
        self.install_bundled_plugins()?;
        let has_operator = self
            .registry()
            .read(|t| Ok::<_, ServiceError>(t.operator_count()? > 0))?;
        if !has_operator {
            let pw = password::generate();
            self.create_operator(&Principal::system(), FIRST_OPERATOR, &pw, true)?;
            out.operator = Some((FIRST_OPERATOR.to_owned(), pw));
        }
        let has_site = self
            .registry()
            .read(|t| Ok::<_, ServiceError>(!t.sites()?.is_empty()))?;
        if !has_site {
            let site = self.create_site(
                &Principal::system(),
                NewSite {
                    slug: DEFAULT_SITE_SLUG.into(),
                    name: "Charon".into(),
                    hostnames: vec!["localhost".into(), "127.0.0.1".into()],
                    brand_colour: None,
                },
            )?;
            out.site = Some(site);
        }
        Ok(out)
    }

    pub fn create_operator(
        &self,
        who: &Principal,
        username: &str,
        pw: &str,
        must_change_password: bool,
    ) -> ServiceResult<Operator> {
        require_operator(who)?;
        let username = validate::username(username)?;
        validate::password(pw)?;
        let hash = password::hash(pw);
        self.registry().write(|t| {
            if t.operator_id_by_username(&username)?.is_some() {
                return Err(ServiceError::duplicate(
                    "username",
                    format!("an operator named {username:?} already exists"),
                ));
            }
            let op = Operator {
                id: t.new_operator_id()?,
                username: username.clone(),
                password_hash: hash,
                must_change_password,
                created_at: Timestamp::now(),
            };
            t.put_operator(&op)?;
            Ok(op)
        })
    }

    /// The first operator, as whom the console (CLI, benches) acts: whoever
    /// can read the data dir is the operator at the console.
    pub fn console_operator(&self) -> ServiceResult<Principal> {
        let id = self
            .registry()
            .read(|t| Ok::<_, ServiceError>(t.first_operator_id()?))?;
        id.map(Principal::operator).ok_or_else(|| {
            ServiceError::not_found("operator account (run `charon serve` once to create it)")
        })
    }

    /// Checks an operator's password. Unknown names cost a hash too, so
    /// timing does not tell which names exist.
    pub fn verify_operator(&self, username: &str, pw: &str) -> ServiceResult<Option<Operator>> {
        let op = self
            .registry()
            .read(|t| match t.operator_id_by_username(username)? {
                Some(id) => Ok::<_, ServiceError>(t.operator(id)?),
                None => Ok(None),
            })?;
        match op {
            Some(op) if password::verify(pw, &op.password_hash) => Ok(Some(op)),
            Some(_) => Ok(None),
            None => {
                password::verify(pw, password::dummy_hash());
                Ok(None)
            }
        }
    }

    /// Creates a site and its data file, with the bundled plugins enabled.
    pub fn create_site(&self, who: &Principal, new: NewSite) -> ServiceResult<Site> {
        require_operator(who)?;
        let slug = validate::slug(&new.slug)?;
        let name = validate::required_text("name", &new.name, validate::MAX_NAME)?;
        let mut hostnames = Vec::new();
        for h in &new.hostnames {
            let h = validate::hostname(h)?;
            if !hostnames.contains(&h) {
                hostnames.push(h);
            }
        }
        let brand_colour = match &new.brand_colour {
            Some(c) => validate::colour(c)?,
            None => "#1f5f8b".to_owned(),
        };
        // Before the site exists: a host whose bundled plugins cannot be
        // installed must not gain a site without them.
        self.ensure_bundled()?;
        let site = self.registry().write(|t| {
            if t.site_id_by_slug(&slug)?.is_some() {
                return Err(ServiceError::duplicate(
                    "slug",
                    format!("a site {slug:?} already exists"),
                ));
            }
            for h in &hostnames {
                if let Some(other) = t.site_id_by_host(h)? {
                    return Err(ServiceError::duplicate(
                        "hostnames",
                        format!("host name {h:?} already routes to site #{other}"),
                    ));
                }
            }
            let site = Site {
                id: t.new_site_id()?,
                slug: slug.clone(),
                name: name.clone(),
                hostnames: hostnames.clone(),
                status: SiteStatus::Active,
                brand_colour: brand_colour.clone(),
                created_at: Timestamp::now(),
            };
            // A leftover file of a deleted site with this slug must not
            // resurface as the new site's data.
            let path = self.inner_pool_path(&site);
            if path.exists() {
                return Err(ServiceError::Conflict(format!(
                    "a data file {} already exists; move it away or restore it as a site",
                    path.display()
                )));
            }
            t.put_site(&site)?;
            Ok(site)
        })?;
        // Create the site file (and its schema) now, so the first request
        // does not pay for it and errors surface here.
        let services = self.site(site.id)?;
        services.write(|t| {
            t.audit_log(
                who.actor(),
                "site.created",
                format!("site {:?}", site.slug),
                "site created",
            )?;
            Ok(())
        })?;
        self.enable_bundled_plugins(&site)?;
        Ok(site)
    }

    fn inner_pool_path(&self, site: &Site) -> std::path::PathBuf {
        self.data_dir()
            .join("sites")
            .join(format!("{}.redb", site.slug))
    }

    /// Finds a site by slug or numeric id.
    pub fn find_site(&self, who: &Principal, key: &str) -> ServiceResult<Site> {
        require_operator(who)?;
        self.registry()
            .read(|t| {
                let id = match t.site_id_by_slug(key)? {
                    Some(id) => Some(id),
                    None => key.parse().ok().map(SiteId),
                };
                match id {
                    Some(id) => Ok::<_, ServiceError>(t.site(id)?),
                    None => Ok(None),
                }
            })?
            .ok_or_else(|| ServiceError::not_found(format!("site {key:?}")))
    }

    /// This process and its data dir (operators).
    pub fn host_status(&self, who: &Principal) -> ServiceResult<HostStatus> {
        require_operator(who)?;
        Ok(HostStatus {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            pid: std::process::id(),
            data_dir: self.data_dir().display().to_string(),
        })
    }

    pub fn list_sites(&self, who: &Principal) -> ServiceResult<Vec<Site>> {
        require_operator(who)?;
        self.registry().read(|t| Ok::<_, ServiceError>(t.sites()?))
    }

    /// Sites with their user and course counts (opens each site's file).
    pub fn site_summaries(&self, who: &Principal) -> ServiceResult<Vec<SiteSummary>> {
        self.list_sites(who)?
            .into_iter()
            .map(|site| self.summary_of(site))
            .collect()
    }

    /// A page of sites in id order, searched by slug, name and host name,
    /// with their counts: only the page's site files are opened.
    pub fn site_summaries_page(
        &self,
        who: &Principal,
        query: Option<&str>,
        after: Option<SiteId>,
        limit: usize,
    ) -> ServiceResult<Page<SiteSummary, SiteId>> {
        let limit = super::clamp_limit(limit);
        let mut sites: Vec<Site> = self
            .list_sites(who)?
            .into_iter()
            .filter(|s| after.is_none_or(|a| s.id > a))
            .filter(|s| {
                let mut fields = vec![s.slug.as_str(), s.name.as_str()];
                fields.extend(s.hostnames.iter().map(String::as_str));
                super::matches_query(query, &fields)
            })
            .collect();
        sites.sort_by_key(|s| s.id);
        let more = sites.len() > limit;
        sites.truncate(limit);
        let next = more.then(|| sites.last().map(|s| s.id)).flatten();
        let mut items = Vec::with_capacity(sites.len());
        for site in sites {
            items.push(self.summary_of(site)?);
        }
        Ok(Page { items, next })
    }

    /// One site with its counts and the data file that holds it.
    pub fn site_details(&self, who: &Principal, key: &str) -> ServiceResult<SiteDetails> {
        let site = self.find_site(who, key)?;
        let data_file = self.inner_pool_path(&site);
        Ok(SiteDetails {
            summary: self.summary_of(site)?,
            data_file,
        })
    }

    fn summary_of(&self, site: Site) -> ServiceResult<SiteSummary> {
        let (users, courses) = self
            .site(site.id)?
            .read(|t| Ok((t.user_count()?, t.all_courses()?.len() as u64)))?;
        Ok(SiteSummary {
            site,
            users,
            courses,
        })
    }

    pub fn suspend_site(&self, who: &Principal, key: &str) -> ServiceResult<Site> {
        self.set_site_status(who, key, SiteStatus::Suspended)
    }

    pub fn resume_site(&self, who: &Principal, key: &str) -> ServiceResult<Site> {
        self.set_site_status(who, key, SiteStatus::Active)
    }

    fn set_site_status(
        &self,
        who: &Principal,
        key: &str,
        status: SiteStatus,
    ) -> ServiceResult<Site> {
        let site = self.find_site(who, key)?;
        let site = self.registry().write(|t| {
            let mut site = t
                .site(site.id)?
                .ok_or_else(|| ServiceError::not_found(format!("site {key:?}")))?;
            site.status = status;
            t.put_site(&site)?;
            Ok::<_, ServiceError>(site)
        })?;
        let action = match status {
            SiteStatus::Active => "site.resumed",
            SiteStatus::Suspended => "site.suspended",
        };
        self.site(site.id)?.write(|t| {
            t.audit_log(
                who.actor(),
                action,
                format!("site {:?}", site.slug),
                action.replace("site.", "site "),
            )?;
            Ok(())
        })?;
        Ok(site)
    }

    /// Deletes a site from the registry and removes its data file.
    pub fn delete_site(&self, who: &Principal, key: &str) -> ServiceResult<Site> {
        let site = self.find_site(who, key)?;
        self.registry().write(|t| {
            t.delete_site_row(&site)?;
            t.delete_site_api_tokens(site.id)?;
            t.delete_site_plugins(site.id)?;
            t.delete_sessions_where(|s| {
                matches!(s.subject, crate::domain::SessionSubject::SiteUser { site: id, .. } if id == site.id)
            })?;
            Ok::<_, ServiceError>(())
        })?;
        self.inner.pool.evict(site.id);
        let path = self.inner_pool_path(&site);
        if let Err(e) = std::fs::remove_file(&path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            // The registry no longer names the site, so a leftover file is
            // harmless but should be visible to the operator.
            tracing::warn!(file = %path.display(), error = %e, "could not remove the data file of a deleted site");
        }
        Ok(site)
    }
}
