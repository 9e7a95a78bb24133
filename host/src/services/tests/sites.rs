//! Operator services: the sites of a host and their lifecycle (PRODUCT §8).

#[test]
fn host_names_lose_their_port() {
    use crate::services::host_without_port;
    assert_eq!(host_without_port("lms.example.org:8080"), "lms.example.org");
    assert_eq!(host_without_port("localhost"), "localhost");
    assert_eq!(host_without_port("[::1]:8080"), "::1");
}

use super::{refused, says};
use crate::domain::*;
use crate::services::sites::NewSite;
use crate::services::testing::TestSite;
use crate::services::{Principal, Services};

/// The slugs of the host's sites, as an operator lists them.
fn site_slugs(services: &Services, op: &Principal) -> Vec<String> {
    services
        .list_sites(op)
        .unwrap()
        .into_iter()
        .map(|s| s.slug)
        .collect()
}

fn new_site(slug: &str, hosts: &[&str]) -> NewSite {
    NewSite {
        slug: slug.into(),
        name: format!("{slug} LMS"),
        hostnames: hosts.iter().map(|h| h.to_string()).collect(),
        brand_colour: None,
    }
}

#[test]
fn a_new_site_is_registered_routed_and_given_its_own_file() {
    let fx = TestSite::new();
    let op = &fx.operator;
    let site = fx
        .services
        .create_site(
            op,
            NewSite {
                name: " Globex LMS ".into(),
                brand_colour: Some("#ABCDEF".into()),
                ..new_site(
                    " Globex ",
                    &["LMS.Globex.test", "lms.globex.test", "globex.test"],
                )
            },
        )
        .unwrap();
    assert_eq!(
        site,
        Site {
            id: SiteId(2),
            slug: "globex".into(),
            name: "Globex LMS".into(),
            hostnames: vec!["lms.globex.test".into(), "globex.test".into()],
            status: SiteStatus::Active,
            brand_colour: "#abcdef".into(),
            created_at: site.created_at,
        }
    );
    assert!(fx.dir.path().join("sites/globex.redb").exists());
    assert_eq!(site_slugs(&fx.services, op), vec!["acme", "globex"]);
    let routed = fx.services.site_for_host("LMS.globex.test:8443").unwrap();
    assert_eq!(routed.map(|s| s.site().id), Some(site.id));
    assert_eq!(fx.services.site_by_slug("globex").unwrap().site(), &site);
    assert_eq!(fx.services.find_site(op, "2").unwrap(), site);
    assert!(fx.services.site_for_host("unknown.test").unwrap().is_none());
}

#[test]
fn site_slugs_and_host_names_are_unique_on_the_host() {
    let fx = TestSite::new();
    let op = &fx.operator;
    let before = fx.services.list_sites(op).unwrap();
    assert_eq!(
        refused(fx.services.create_site(op, new_site("ACME", &[]))),
        says("Duplicate", r#"slug: a site "acme" already exists"#)
    );
    assert_eq!(
        refused(
            fx.services
                .create_site(op, new_site("globex", &["globex.test", "Acme.Test"]))
        ),
        says(
            "Duplicate",
            r#"hostnames: host name "acme.test" already routes to site #1"#
        )
    );
    assert_eq!(fx.services.list_sites(op).unwrap(), before);
    assert!(!fx.dir.path().join("sites/globex.redb").exists());
}

#[test]
fn bad_site_input_is_refused_and_nothing_is_registered() {
    let fx = TestSite::new();
    let op = &fx.operator;
    let before = fx.services.list_sites(op).unwrap();
    let slug_rule = "slug: must be 1 to 63 lower-case letters, digits or hyphens, not starting or ending with a hyphen";
    let cases = [
        (new_site("-x", &[]), says("Invalid", slug_rule)),
        (new_site("a/b", &[]), says("Invalid", slug_rule)),
        (new_site(&"s".repeat(64), &[]), says("Invalid", slug_rule)),
        (
            new_site("globex", &["a b"]),
            says("Invalid", r#"hostnames: "a b" is not a host name"#),
        ),
        (
            NewSite {
                name: " ".into(),
                ..new_site("globex", &[])
            },
            says("Invalid", "name: is required"),
        ),
        (
            NewSite {
                brand_colour: Some("red".into()),
                ..new_site("globex", &[])
            },
            says("Invalid", "brand_colour: must be a colour like #1f6feb"),
        ),
    ];
    for (new, expected) in cases {
        let described = format!("{new:?}");
        assert_eq!(
            refused(fx.services.create_site(op, new)),
            expected,
            "{described}"
        );
    }
    assert_eq!(fx.services.list_sites(op).unwrap(), before);
}

#[test]
fn a_leftover_data_file_is_not_adopted_by_a_new_site() {
    let fx = TestSite::new();
    let op = &fx.operator;
    let ghost = fx.dir.path().join("sites/ghost.redb");
    std::fs::write(&ghost, b"old data").unwrap();
    let before = fx.services.list_sites(op).unwrap();
    assert_eq!(
        refused(fx.services.create_site(op, new_site("ghost", &[]))),
        says(
            "Conflict",
            &format!(
                "a data file {} already exists; move it away or restore it as a site",
                ghost.display()
            )
        )
    );
    assert_eq!(fx.services.list_sites(op).unwrap(), before);
    assert_eq!(std::fs::read(&ghost).unwrap(), b"old data");
}

#[test]
fn deleting_a_site_removes_it_its_routes_and_its_file() {
    let (a, b) = TestSite::two_sites();
    let op = &a.operator;
    let globex_id = b.id();
    drop(b);
    let deleted = a.services.delete_site(op, "globex").unwrap();
    assert_eq!(deleted.id, globex_id);
    assert!(!a.dir.path().join("sites/globex.redb").exists());
    assert_eq!(site_slugs(&a.services, op), vec!["acme"]);
    assert_eq!(
        refused(a.services.site(globex_id).map(|s| s.site().clone())),
        says("NotFound", "site #2 not found")
    );
    assert!(a.services.site_for_host("globex.test").unwrap().is_none());
    // The slug is free again, for an empty site.
    let again = a
        .services
        .create_site(op, new_site("globex", &["globex.test"]));
    let again = a.services.site(again.unwrap().id).unwrap();
    let users = again.list_users(op, None, None, 10).unwrap();
    assert!(users.items.is_empty());
    // The other site is untouched.
    assert_eq!(
        a.site
            .list_users(&a.admin, None, None, 10)
            .unwrap()
            .items
            .len(),
        7
    );
}

#[test]
fn operators_see_every_site_with_its_size() {
    let (a, b) = TestSite::two_sites();
    b.bulk_users(3);
    let summaries: Vec<(String, u64, u64)> = a
        .services
        .site_summaries(&Principal::operator(OperatorId(1)))
        .unwrap()
        .into_iter()
        .map(|s| (s.site.slug, s.users, s.courses))
        .collect();
    assert_eq!(
        summaries,
        vec![("acme".into(), 7, 1), ("globex".into(), 10, 1)]
    );
}

#[test]
fn the_first_run_creates_one_operator_and_a_default_site_once() {
    let dir = tempfile::tempdir().unwrap();
    let services = Services::open(dir.path()).unwrap();
    let first = services.first_run().unwrap();
    let (username, password) = first.operator.expect("an operator");
    assert_eq!(username, "admin");
    assert_eq!(password.chars().count(), 20);
    let site = first.site.expect("a default site");
    assert_eq!(
        (site.slug.as_str(), site.hostnames.clone()),
        (
            "default",
            vec!["localhost".to_string(), "127.0.0.1".to_string()]
        )
    );
    let operator = services
        .verify_operator("admin", &password)
        .unwrap()
        .expect("the printed password logs in");
    assert!(operator.must_change_password);
    assert_eq!(
        services.verify_operator("admin", "wrong password").unwrap(),
        None
    );

    let again = services.first_run().unwrap();
    assert!(again.operator.is_none() && again.site.is_none());
    let op = Principal::operator(operator.id);
    assert_eq!(services.list_sites(&op).unwrap(), vec![site]);
    assert_eq!(
        refused(services.create_operator(&op, "Admin", "another password", false)),
        says(
            "Duplicate",
            r#"username: an operator named "admin" already exists"#
        )
    );
}

#[test]
fn site_summaries_page_by_id_and_search_slugs_names_and_host_names() {
    let fx = TestSite::new();
    let op = &fx.operator;
    for slug in ["beta", "gamma", "delta"] {
        fx.services
            .create_site(op, new_site(slug, &[&format!("{slug}.example.org")]))
            .unwrap();
    }
    let first = fx.services.site_summaries_page(op, None, None, 2).unwrap();
    let slugs: Vec<&str> = first.items.iter().map(|s| s.site.slug.as_str()).collect();
    assert_eq!(slugs, ["acme", "beta"]);
    assert_eq!(first.items[0].users, 7);
    let rest = fx
        .services
        .site_summaries_page(op, None, first.next, 2)
        .unwrap();
    let slugs: Vec<&str> = rest.items.iter().map(|s| s.site.slug.as_str()).collect();
    assert_eq!(slugs, ["gamma", "delta"]);
    assert_eq!(rest.next, None);
    let found = fx
        .services
        .site_summaries_page(op, Some("DELTA.example"), None, 10)
        .unwrap();
    assert_eq!(found.items.len(), 1);
    assert_eq!(found.items[0].site.slug, "delta");
    let details = fx.services.site_details(op, "delta").unwrap();
    assert!(details.data_file.ends_with("sites/delta.redb"));
    assert!(details.data_file.exists());
    assert_eq!(
        refused(fx.services.site_summaries_page(&fx.admin, None, None, 10)).0,
        "Forbidden"
    );
    assert_eq!(
        refused(fx.services.site_details(&fx.admin, "acme")).0,
        "Forbidden"
    );
}
