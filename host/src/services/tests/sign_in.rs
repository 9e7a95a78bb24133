//! Sign-in throttling under bursts of parallel attempts: what the limits
//! promise must hold when the attempts overlap, not only one by one.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::Barrier;

use crate::services::sessions::SignIn;
use crate::services::testing::TestSite;

const PASSWORD: &str = "correct horse battery";

fn address(n: u8) -> Option<IpAddr> {
    Some(IpAddr::from([192, 0, 2, n]))
}

/// `attempts` sign-ins started at once, each `(username, password,
/// address)`; their outcomes in the same order.
fn burst(fx: &TestSite, attempts: Vec<(String, String, Option<IpAddr>)>) -> Vec<SignIn> {
    let barrier = Arc::new(Barrier::new(attempts.len()));
    let handles: Vec<_> = attempts
        .into_iter()
        .map(|(user, password, from)| {
            let (services, site, barrier) = (fx.services.clone(), fx.site.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                services
                    .sign_in_site_user(&site, &user, &password, from, None)
                    .unwrap()
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

fn checked(outcomes: &[SignIn]) -> usize {
    outcomes
        .iter()
        .filter(|o| !matches!(o, SignIn::Throttled { .. }))
        .count()
}

#[test]
fn a_burst_for_one_account_from_one_address_gets_five_password_checks() {
    let fx = TestSite::new();
    fx.site
        .set_user_password(&fx.operator, fx.admin_id, PASSWORD)
        .unwrap();
    let mut attempts: Vec<_> = (0..39)
        .map(|_| ("admin".to_owned(), "wrong".to_owned(), address(1)))
        .collect();
    // The right password inside the burst must not be let through past
    // the limit either.
    attempts.insert(20, ("admin".to_owned(), PASSWORD.to_owned(), address(1)));
    let outcomes = burst(&fx, attempts);
    assert!(checked(&outcomes) <= 5, "{} checked", checked(&outcomes));
    assert!(
        checked(&outcomes) >= 1,
        "the limit is five, not none: {outcomes:?}"
    );
}

#[test]
fn a_burst_from_one_address_over_many_accounts_gets_thirty_password_checks() {
    let fx = TestSite::new();
    let attempts = (0..45)
        .map(|n| (format!("nobody{n}"), "wrong".to_owned(), address(2)))
        .collect();
    let outcomes = burst(&fx, attempts);
    assert_eq!(checked(&outcomes), 30);
}

#[test]
fn strangers_failing_from_many_addresses_never_keep_the_user_out_where_they_sign_in() {
    let fx = TestSite::new();
    fx.site
        .set_user_password(&fx.operator, fx.admin_id, PASSWORD)
        .unwrap();
    let home = address(250);
    let signed_in = |from| {
        fx.services
            .sign_in_site_user(&fx.site, "admin", PASSWORD, from, None)
            .unwrap()
    };
    assert!(matches!(signed_in(home), SignIn::SignedIn { .. }));
    // Ten addresses, each under its own pair limit, fail for the account.
    for n in 0..10u8 {
        for _ in 0..4 {
            let refused = fx
                .services
                .sign_in_site_user(&fx.site, "admin", "guess", address(n), None)
                .unwrap();
            assert!(!matches!(refused, SignIn::SignedIn { .. }), "{refused:?}");
        }
    }
    // A new address now waits, however right its password…
    assert!(matches!(signed_in(address(100)), SignIn::Throttled { .. }));
    // …but the user's own address signs straight in.
    assert!(matches!(signed_in(home), SignIn::SignedIn { .. }));
}
