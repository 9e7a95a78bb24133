//! What every benchmark binary shares.

/// The machine a figure was taken on, printed first by every bench so a
/// recorded figure always names it (BENCHMARKS.md).
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cpu}, {cores} cores")
}

/// A fresh data dir with one site, "bench", holding `n` users
/// (`user000000`, …), and the operator who made them.
// Not every bench binary that includes this module builds a site.
#[allow(dead_code)]
pub fn site_with_users(
    n: usize,
) -> (
    tempfile::TempDir,
    charon_host::services::SiteServices,
    charon_host::services::Principal,
    Vec<charon_host::domain::UserId>,
) {
    let (dir, _, site, op, users) = host_with_users(n);
    (dir, site, op, users)
}

/// [`site_with_users`] with the host's services too (to serve HTTP, or
/// for what runs over every site, such as the mail worker's pass).
#[allow(dead_code, clippy::type_complexity)]
pub fn host_with_users(
    n: usize,
) -> (
    tempfile::TempDir,
    charon_host::services::Services,
    charon_host::services::SiteServices,
    charon_host::services::Principal,
    Vec<charon_host::domain::UserId>,
) {
    use charon_host::services::Services;
    use charon_host::services::sites::NewSite;
    use charon_host::services::users::NewUser;
    let dir = tempfile::tempdir().expect("temp dir");
    let services = Services::open(dir.path()).expect("services");
    services.first_run().expect("first run");
    let op = services.console_operator().expect("operator");
    let site = services
        .create_site(
            &op,
            NewSite {
                slug: "bench".into(),
                name: "Bench".into(),
                ..Default::default()
            },
        )
        .expect("site");
    let site = services.site(site.id).expect("site services");
    let users = site
        .create_users(
            &op,
            (0..n)
                .map(|i| NewUser {
                    username: format!("user{i:06}"),
                    email: format!("user{i:06}@example.org"),
                    firstname: "Bench".into(),
                    lastname: format!("User {i}"),
                    ..Default::default()
                })
                .collect(),
        )
        .expect("users");
    (dir, services, site, op, users)
}

/// CPU time this thread has run so far (`/proc/thread-self/schedstat`, in
/// ns), or zero where that file does not exist. Printed beside wall-clock
/// figures: on a shared two-core machine another process's build can
/// double a wall-clock time, while the CPU time the work itself took moves
/// far less — it tells a slower change from a busier machine.
#[allow(dead_code)]
pub fn thread_cpu() -> std::time::Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(std::time::Duration::ZERO, std::time::Duration::from_nanos)
}

/// A segment "Everyone" of `site` holding `members`.
#[allow(dead_code)]
pub fn segment_of(
    site: &charon_host::services::SiteServices,
    op: &charon_host::services::Principal,
    members: &[charon_host::domain::UserId],
) -> charon_host::domain::SegmentId {
    let segment = site
        .create_segment(
            op,
            charon_host::services::segments::NewSegment {
                name: "Everyone".into(),
                ..Default::default()
            },
        )
        .expect("segment")
        .id;
    site.add_segment_members(op, segment, members)
        .expect("members");
    segment
}

/// Runs `f` with the base URL of the real HTTP server on loopback serving
/// `host` from `data` (a single-threaded actix system of its own, as
/// `charon serve` runs it) and one keep-alive client; stops it after.
#[allow(dead_code)]
pub fn serve(
    data: &std::path::Path,
    host: charon_host::services::Services,
    f: impl FnOnce(&str, &ureq::Agent),
) {
    let mut config = charon_host::http::Config::new(data, "127.0.0.1:0");
    config.operator_api_file = false;
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let server = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let app =
                charon_host::http::Application::build_with_services(config, host).expect("server");
            addr_tx
                .send((app.url(), app.stop_handle()))
                .expect("address");
            app.run_until_stopped().await.expect("serve");
        })
    });
    let (base, stop) = addr_rx.recv().expect("the server's address");
    let agent = ureq::Agent::new_with_defaults();
    f(&base, &agent);
    stop.stop();
    let _ = server.join();
}

/// The `p` quantile (0.0–1.0) of `sorted` durations.
#[allow(dead_code)]
pub fn percentile(sorted: &[std::time::Duration], p: f64) -> std::time::Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}
