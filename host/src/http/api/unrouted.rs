//! What the API answers when no route matches: 405 with `Allow` when the
//! path is one the API serves but not with this method (`TRACE`, `PUT` on a
//! collection, …), 404 otherwise. The table of paths and their methods is
//! read from the OpenAPI document, which is built from the same
//! `configure` functions as the router, so the two cannot disagree.

use std::sync::LazyLock;

use actix_web::HttpRequest;
use actix_web::dev::ResourceDef;
use actix_web::http::Method;

use crate::http::HttpError;

/// One served path and the methods it answers.
struct Served {
    path: ResourceDef,
    methods: Vec<Method>,
    /// Served under `/s/{slug}/api/v1` too (a site route).
    on_site_prefix: bool,
}

fn served() -> &'static [Served] {
    static SERVED: LazyLock<Vec<Served>> = LazyLock::new(|| {
        let operator_paths = super::operator_paths();
        let mut served: Vec<Served> = super::openapi()
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    (Method::GET, item.get.is_some()),
                    (Method::POST, item.post.is_some()),
                    (Method::PUT, item.put.is_some()),
                    (Method::PATCH, item.patch.is_some()),
                    (Method::DELETE, item.delete.is_some()),
                ]
                .into_iter()
                .filter_map(|(m, present)| present.then_some(m))
                .collect();
                Served {
                    path: ResourceDef::new(path.as_str()),
                    methods,
                    on_site_prefix: !operator_paths.contains(path),
                }
            })
            .collect();
        served.push(Served {
            path: ResourceDef::new("/api/v1/openapi.json"),
            methods: vec![Method::GET],
            on_site_prefix: false,
        });
        served
    });
    &SERVED
}

/// The error for a request no route took: 405 naming the methods the path
/// answers, or 404 when the API serves no such path.
pub(super) fn refusal(req: &HttpRequest) -> HttpError {
    let path = req.path();
    let (path, site_prefix) = match path.strip_prefix("/s/") {
        Some(rest) => match rest.find("/api/v1") {
            Some(i) => (&rest[i..], true),
            None => return HttpError::NoSuchPage,
        },
        None => (path, false),
    };
    let matching: Vec<&Served> = served()
        .iter()
        .filter(|s| (s.on_site_prefix || !site_prefix) && s.path.is_match(path))
        .collect();
    // `/groups/1/members/remove` matches `…/members/{user}` too, but the
    // document, like a reader, takes it for the path that names `remove`:
    // the fewest parameters win.
    let fewest = matching.iter().map(|s| parameters(&s.path)).min();
    let allowed: Vec<&Method> = matching
        .iter()
        .filter(|s| Some(parameters(&s.path)) == fewest)
        .flat_map(|s| &s.methods)
        .collect();
    if allowed.is_empty() || allowed.contains(&req.method()) {
        return HttpError::NoSuchPage;
    }
    let mut names: Vec<&str> = allowed.iter().map(|m| m.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    HttpError::MethodNotAllowed {
        method: req.method().to_string(),
        allow: names.join(", "),
    }
}

fn parameters(path: &ResourceDef) -> usize {
    path.pattern().map_or(0, |p| p.matches('{').count())
}
