//! Server-rendered pages: routes, handlers and the view models the askama
//! templates in the workspace's `templates/` folder render.
//!
//! View models hold display-ready values (labels, counts in words, links);
//! templates only lay them out. Nothing here reads storage or decides who
//! may see what: the data comes from one service call per page.

mod announcements;
mod assignments;
mod audit;
mod content;
mod courses;
mod dashboard;
mod discussions;
mod forms;
mod gradebook;
mod groupings;
mod groups;
mod imports;
mod inbox;
mod mail;
mod mass_enrolments;
mod methods;
mod operator;
mod operator_mail;
mod preferences;
mod privacy;
mod profile;
mod profile_fields;
mod profile_inputs;
mod segment_rules;
mod segments;
pub(crate) mod session;
mod sign_in;
#[cfg(test)]
mod tests;
mod upload;
mod users;
mod words;

use std::sync::LazyLock;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;

use super::HttpError;
use super::blocking;
use super::site::CurrentSite;
use crate::domain::Site;
use crate::services::courses::HomeOverview;
use session::{Flash, OperatorPage, SitePage};

/// Who may open a page: what the route table promises and the route walk
/// test (`pages::tests`) checks for every route. The services enforce it;
/// this only says what to expect.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in user of the site.
    SignedIn,
    /// Site admins of this site and operators.
    SiteAdmin,
    /// Editing teachers of the course in the path, site admins, operators.
    CourseStaff,
    /// Participants of the course in the path (any role), site admins,
    /// operators; the page shows staff more than learners.
    CourseMember,
    /// Operators only (pages under `/operator`).
    Operator,
}

/// One page route, as registered.
#[derive(Copy, Clone, Debug)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct PageRoute {
    /// `get` or `post`.
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
}

/// Declares a module's page routes once: `routes` registers them and
/// `ROUTES` lists them for the route walk test, so a page cannot be added
/// without the test visiting it.
macro_rules! page_routes {
    ($( $method:ident $path:literal => $handler:path, $access:ident; )*) => {
        #[allow(unused_variables)]
        pub(crate) fn routes(cfg: &mut actix_web::web::ServiceConfig) {
            $( cfg.route($path, actix_web::web::$method().to($handler)); )*
        }

        #[cfg_attr(not(test), allow(dead_code))]
        pub(crate) const ROUTES: &[$crate::http::pages::PageRoute] = &[
            $( $crate::http::pages::PageRoute {
                method: stringify!($method),
                path: $path,
                access: $crate::http::pages::Access::$access,
            }, )*
        ];
    };
}
pub(crate) use page_routes;

/// Every site page route, for the route walk test.
#[cfg(test)]
pub(crate) fn site_page_routes() -> Vec<PageRoute> {
    [
        sign_in::ROUTES,
        dashboard::ROUTES,
        users::ROUTES,
        profile_fields::ROUTES,
        segments::ROUTES,
        segment_rules::ROUTES,
        courses::ROUTES,
        content::ROUTES,
        discussions::ROUTES,
        groupings::ROUTES,
        groups::ROUTES,
        methods::ROUTES,
        imports::ROUTES,
        mass_enrolments::ROUTES,
        audit::ROUTES,
        announcements::ROUTES,
        assignments::ROUTES,
        gradebook::ROUTES,
        inbox::ROUTES,
        mail::ROUTES,
        preferences::ROUTES,
        profile::ROUTES,
        privacy::ROUTES,
    ]
    .concat()
}

/// Every operator page route (host-wide, under `/operator`).
#[cfg(test)]
pub(crate) fn operator_page_routes() -> Vec<PageRoute> {
    [
        sign_in::OPERATOR_ROUTES,
        operator::ROUTES,
        operator_mail::ROUTES,
    ]
    .concat()
}

/// The stylesheet, bundled into the binary: no CDN, nothing to deploy.
const STYLESHEET: &str = include_str!("../../../../static/charon.css");

/// The stylesheet's URL carries a hash of its content, so browsers may
/// cache it for a year and still fetch a changed one at once.
static STYLESHEET_URL: LazyLock<String> =
    LazyLock::new(|| format!("/static/charon.css?v={:016x}", fnv1a(STYLESHEET.as_bytes())));

const DEFAULT_BRAND: &str = "#1f5f8b";

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Routes that need no site.
pub(crate) fn host_routes(cfg: &mut web::ServiceConfig) {
    // HEAD too: load balancers and uptime checks often probe with it.
    cfg.route("/healthz", web::get().to(healthz))
        .route("/healthz", web::head().to(healthz))
        .route("/static/charon.css", web::get().to(stylesheet))
        .route("/static/imports.js", web::get().to(import_script));
    sign_in::operator_routes(cfg);
    operator::routes(cfg);
    operator_mail::routes(cfg);
}

/// The pages of a site. Mounted twice, at `/` (site by `Host`) and under
/// `/s/{slug}` (site by prefix), so both forms serve the same pages.
pub(crate) fn site_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home));
    sign_in::routes(cfg);
    dashboard::routes(cfg);
    users::routes(cfg);
    profile_fields::routes(cfg);
    segments::routes(cfg);
    segment_rules::routes(cfg);
    courses::routes(cfg);
    content::routes(cfg);
    discussions::routes(cfg);
    groupings::routes(cfg);
    groups::routes(cfg);
    methods::routes(cfg);
    imports::routes(cfg);
    mass_enrolments::routes(cfg);
    audit::routes(cfg);
    announcements::routes(cfg);
    assignments::routes(cfg);
    gradebook::routes(cfg);
    inbox::routes(cfg);
    mail::routes(cfg);
    preferences::routes(cfg);
    profile::routes(cfg);
    privacy::routes(cfg);
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body("ok")
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(STYLESHEET)
}

async fn import_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(imports::SCRIPT)
}

/// `/s/{slug}` → `/s/{slug}/`: relative links resolve against the folder.
pub(crate) async fn add_trailing_slash(req: HttpRequest) -> HttpResponse {
    let location = match req.query_string() {
        "" => format!("{}/", req.path()),
        q => format!("{}/?{q}", req.path()),
    };
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, location))
        .finish()
}

pub(crate) async fn no_such_page() -> Result<HttpResponse, HttpError> {
    Err(HttpError::NoSuchPage)
}

async fn home(site: CurrentSite) -> Result<HomePage, HttpError> {
    let services = site.services.clone();
    let overview = blocking(move || services.home_overview()).await?;
    Ok(HomePage::new(&site, overview))
}

// ------------------------------------------------------------------ views

/// What `layouts/base.html` needs from every page.
pub(crate) struct Layout {
    /// The whole `<title>`.
    pub title: String,
    pub site_name: String,
    /// The site's home page, if the page belongs to a reachable site.
    pub home: Option<String>,
    pub brand: String,
    /// Black or white, whichever reads better on `brand`.
    pub brand_text: &'static str,
    pub stylesheet: &'static str,
    /// The signed-in visitor's navigation; `None` on public pages.
    pub nav: Option<Nav>,
    /// The sign-in link of a public site page.
    pub sign_in: Option<String>,
    pub flash: Option<Flash>,
}

/// The header of a signed-in page: where to go, who is signed in, and the
/// sign-out form (a POST, so a link elsewhere cannot sign anyone out).
pub(crate) struct Nav {
    pub links: Vec<NavLink>,
    /// The inbox with its unread count, for a site user.
    pub inbox: Option<InboxLink>,
    pub user: String,
    pub csrf: String,
    pub sign_out: String,
}

pub(crate) struct InboxLink {
    pub href: String,
    pub unread: u64,
    pub current: bool,
}

pub(crate) struct NavLink {
    pub label: &'static str,
    pub href: String,
    pub current: bool,
}

/// The sections of a site's signed-in pages, for the navigation.
#[derive(Copy, Clone, PartialEq, Eq)]
pub(crate) enum Section {
    Dashboard,
    Users,
    Segments,
    Courses,
    Imports,
    Audit,
    Announcements,
    Inbox,
    Mail,
    Preferences,
}

impl Layout {
    fn for_site(site: &Site, base: &str, page: Option<&str>) -> Self {
        let title = match page {
            Some(page) => format!("{page} · {}", site.name),
            None => site.name.clone(),
        };
        Self {
            title,
            site_name: site.name.clone(),
            home: Some(format!("{base}/")),
            brand: site.brand_colour.clone(),
            brand_text: text_colour_on(&site.brand_colour),
            stylesheet: STYLESHEET_URL.as_str(),
            nav: None,
            sign_in: Some(format!("{base}/sign-in")),
            flash: None,
        }
    }

    /// The layout of a signed-in site page titled `page`, in `section`.
    pub(crate) fn signed_in(page: &SitePage, title: &str, section: Section) -> Self {
        let mut layout = Self::for_site(page.site.services.site(), page.base(), Some(title));
        layout.home = Some(page.link("/dashboard"));
        layout.sign_in = None;
        let admin = page.session.is_site_admin;
        let mut links = Vec::new();
        let mut link = |label, path: &str, s| {
            links.push(NavLink {
                label,
                href: page.link(path),
                current: s == section,
            })
        };
        if admin {
            link("Dashboard", "/dashboard", Section::Dashboard);
            link("Users", "/users", Section::Users);
            link("User segments", "/segments", Section::Segments);
        }
        link("Courses", "/courses", Section::Courses);
        if admin {
            link("Announcements", "/announcements", Section::Announcements);
            link("Imports", "/imports", Section::Imports);
            link("Audit log", "/audit", Section::Audit);
            link("Mail", "/mail", Section::Mail);
        }
        link("Preferences", "/preferences", Section::Preferences);
        // Operators have no inbox on a site.
        let inbox = (!page.principal().is_operator()).then(|| InboxLink {
            href: page.link("/inbox"),
            unread: page.session.unread,
            current: section == Section::Inbox,
        });
        layout.nav = Some(Nav {
            links,
            inbox,
            user: page.session.display_name.clone(),
            csrf: page.csrf().to_owned(),
            sign_out: page.link("/sign-out"),
        });
        layout.flash = page.flash.clone();
        layout
    }

    /// The layout of an operator page.
    pub(crate) fn operator(page: &OperatorPage, title: &str) -> Self {
        let mut layout = Self::plain(title, "Charon operator");
        layout.home = Some("/operator".to_owned());
        layout.nav = Some(Nav {
            links: vec![
                NavLink {
                    label: "Sites",
                    href: "/operator/sites".to_owned(),
                    current: title == "Sites",
                },
                NavLink {
                    label: "Plugins",
                    href: "/operator/plugins".to_owned(),
                    current: title == "Plugins",
                },
                NavLink {
                    label: "Mail",
                    href: "/operator/mail".to_owned(),
                    current: title == "Mail",
                },
            ],
            inbox: None,
            user: page.session.display_name.clone(),
            csrf: page.csrf().to_owned(),
            sign_out: "/operator/sign-out".to_owned(),
        });
        layout.flash = page.flash.clone();
        layout
    }

    fn plain(title: &str, site_name: &str) -> Self {
        Self {
            title: format!("{title} · {site_name}"),
            site_name: site_name.to_owned(),
            home: None,
            brand: DEFAULT_BRAND.to_owned(),
            brand_text: text_colour_on(DEFAULT_BRAND),
            stylesheet: STYLESHEET_URL.as_str(),
            nav: None,
            sign_in: None,
            flash: None,
        }
    }
}

/// The text colour with the higher WCAG contrast ratio on `#rrggbb`, so a
/// light brand colour never leaves white text unreadable.
fn text_colour_on(background: &str) -> &'static str {
    let channel = |i: usize| {
        let c = background
            .get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .map_or(0.0, |v| f64::from(v) / 255.0);
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
    let on_white = 1.05 / (luminance + 0.05);
    let on_black = (luminance + 0.05) / 0.05;
    if on_white >= on_black {
        "#ffffff"
    } else {
        "#000000"
    }
}

pub(crate) struct CourseView {
    pub fullname: String,
    pub shortname: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/home.html")]
pub(crate) struct HomePage {
    pub layout: Layout,
    pub courses: Vec<CourseView>,
}

impl HomePage {
    fn new(site: &CurrentSite, overview: HomeOverview) -> Self {
        let courses = overview
            .courses
            .into_iter()
            .map(|c| CourseView {
                fullname: c.fullname,
                shortname: c.shortname,
            })
            .collect();
        Self {
            layout: Layout::for_site(site.services.site(), &site.base, None),
            courses,
        }
    }
}

#[derive(Template)]
#[template(path = "pages/error.html")]
pub(crate) struct ErrorPage {
    pub layout: Layout,
    pub status: u16,
    pub heading: &'static str,
    pub message: String,
}

/// The HTML answer to a failed page request, in the base layout.
pub(crate) fn error_page(error: &HttpError) -> HttpResponse {
    if let HttpError::SignInRequired { location } = error {
        return HttpResponse::SeeOther()
            .insert_header((header::LOCATION, location.clone()))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish();
    }
    let status = error.status();
    let heading = match status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::UNAUTHORIZED => "Sign-in required",
        StatusCode::UNPROCESSABLE_ENTITY => "Please check your input",
        StatusCode::CONFLICT => "This cannot be done now",
        StatusCode::SERVICE_UNAVAILABLE => "Site suspended",
        s if s.is_client_error() => "The request could not be handled",
        _ => "Something went wrong",
    };
    let (site_name, message) = match error {
        HttpError::SiteSuspended { name } => (
            name.as_str(),
            format!("{name} is suspended by its operator and serves no pages at the moment."),
        ),
        HttpError::UnknownSite(asked) if asked.is_empty() => (
            "Charon",
            "The request names no host, so no site can answer it.".to_owned(),
        ),
        HttpError::UnknownSite(asked) => (
            "Charon",
            format!("No site on this server answers to “{asked}”."),
        ),
        other => ("Charon", other.public_message()),
    };
    let page = ErrorPage {
        layout: Layout::plain(heading, site_name),
        status: status.as_u16(),
        heading,
        message,
    };
    let mut response = HttpResponse::build(status);
    response.insert_header((header::CACHE_CONTROL, "no-store"));
    match page.render() {
        Ok(html) => response.content_type("text/html; charset=utf-8").body(html),
        Err(e) => {
            tracing::error!(error = %e, "cannot render the error page");
            response
                .content_type("text/plain; charset=utf-8")
                .body(format!("{} {heading}", status.as_u16()))
        }
    }
}

#[cfg(test)]
mod colour_tests {
    use super::text_colour_on;

    #[test]
    fn brand_text_is_white_on_dark_and_black_on_light_colours() {
        assert_eq!(text_colour_on("#1f5f8b"), "#ffffff");
        assert_eq!(text_colour_on("#000000"), "#ffffff");
        assert_eq!(text_colour_on("#ffff00"), "#000000");
        assert_eq!(text_colour_on("#ffffff"), "#000000");
    }
}
