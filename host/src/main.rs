//! `charon`: the host's binary. Parses the command line, sets up logging
//! and hands each command to the library; what it prints is the only thing
//! decided here. Logs go to stderr; stdout carries what the user (or a
//! script) asked for, and `serve` prints `listening on http://ADDR` there,
//! as its last line, once connections are accepted.

mod cli;

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;
use tracing_subscriber::EnvFilter;

use charon_host::console::{Console, ConsoleConfig, Route};
use charon_host::demo::{self, DemoReport};
use charon_host::domain::{
    ApiToken, ApiTokenId, Site, SitePlugin, SiteStatus, SmtpSecurity, SmtpSettings, TokenScope,
};
use charon_host::http::wire::{
    CourseGroupIdView, CourseIdView, CreateSite, MassEnrol, MassEnrolmentFiguresView, RoleView,
};
use charon_host::http::{Application, Config};
use charon_host::services::Services;
use charon_host::services::bulk::ImportKind;
use charon_host::services::plugins::InstalledPlugin;
use charon_host::services::sites::{DEFAULT_SITE_SLUG, FirstRun};
use charon_host::services::tokens::TokenTarget;

use cli::{
    Cli, Command, CsvArgs, CsvCommand, DemoArgs, PluginArgs, PluginCommand, SegmentArgs,
    SegmentCommand, ServeArgs, SiteArgs, SiteCommand, SyncArgs, SyncCommand, TokenArgs,
    TokenCommand,
};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let serving = matches!(cli.command, Command::Serve(_));
    if !serving {
        exit_when_stdout_closes();
    }
    init_tracing(serving);
    let outcome = match cli.command {
        Command::Serve(args) => serve(&cli.data, *args),
        Command::Site(args) => site(&cli.data, args),
        Command::Demo(args) => load_demo(&cli.data, args),
        Command::Token(args) => token(&cli.data, args),
        Command::Plugin(args) => plugin(&cli.data, args),
        Command::Sync(args) => sync(&cli.data, args),
        Command::Csv(args) => csv(&cli.data, args),
        Command::Segment(args) => segment(&cli.data, args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// A one-shot command whose output is piped into a reader that stops
/// early (`charon site list | head -1`) ends there, as Unix tools do. Rust
/// ignores SIGPIPE, so the next `println!` would panic on the closed pipe
/// instead. The server keeps ignoring it: a client that closes its socket
/// is an error to answer, not a reason to exit.
fn exit_when_stdout_closes() {
    #[cfg(unix)]
    // SAFETY: called first thing in `main`, before any thread exists;
    // setting a signal back to its default disposition installs no handler
    // and touches no Rust state.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// `RUST_LOG` decides; by default the server logs at `info` and the other
/// commands only warn, so their output stays what was asked for.
fn init_tracing(serving: bool) {
    let default = if serving { "info" } else { "warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

fn serve(data: &Path, args: ServeArgs) -> Result<()> {
    let mut config = Config::new(data, args.listen.clone());
    config.workers = args.workers;
    config.site_idle_after = Duration::from_secs(args.site_idle_secs);
    config.site_idle_check_every = Duration::from_secs(args.site_idle_check_secs.max(1));
    config.shutdown_timeout = Duration::from_secs(args.shutdown_timeout_secs);
    config.runtime.memory_limit = usize::try_from(args.plugin_memory_mib << 20)
        .context("--plugin-memory-mib is too large for this machine")?;
    config.runtime.deadline = Duration::from_millis(args.plugin_deadline_ms);
    config.reconcile_every =
        (args.reconcile_every_secs > 0).then(|| Duration::from_secs(args.reconcile_every_secs));
    config.reconcile_durable_every = Duration::from_millis(args.reconcile_durable_ms);
    config.announcements_every = Duration::from_secs(args.announcement_check_secs);
    config.sessions = charon_host::services::sessions::SessionPolicy {
        idle_timeout: Duration::from_secs(args.session_idle_minutes * 60),
        pair_failures: usize::try_from(args.sign_in_pair_failures).unwrap_or(usize::MAX),
        account_failures: usize::try_from(args.sign_in_account_failures).unwrap_or(usize::MAX),
        address_failures: usize::try_from(args.sign_in_address_failures).unwrap_or(usize::MAX),
        ..Default::default()
    };
    config.body_deadline = Duration::from_secs(args.body_timeout_secs);
    config.concurrent_uploads = usize::try_from(args.max_concurrent_uploads).unwrap_or(1024);
    config.import_max_bytes = usize::try_from(args.import_max_mib << 20)
        .context("--import-max-mib is too large for this machine")?;
    config.runtime.max_plan_actions = usize::try_from(args.plugin_max_plan_actions)
        .context("--plugin-max-plan-actions is too large for this machine")?;
    config.public_url = args.public_url.clone();
    config.mail_poll_every = Duration::from_millis(args.mail_poll_ms);
    config.mail_first_retry = Duration::from_secs(args.mail_retry_secs);
    config.smtp_default = default_smtp(&args)?;
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(config)
            .with_context(|| format!("cannot serve the data dir {}", data.display()))?;
        print_first_run(app.first_run(), &mut std::io::stdout());
        if args.demo {
            let services = app.services();
            let operator = services.console_operator()?;
            let report = demo::load_into(services, &operator, DEFAULT_SITE_SLUG)
                .context("cannot load the demo")?;
            print_demo(&report);
        }
        print_default_site(&app);
        // Last, and alone on its line: scripts and tests wait for it.
        println!("listening on {}", app.url());
        app.run_until_stopped().await?;
        Ok(())
    })
}

/// The operator's default SMTP settings from the `--smtp-…` flags, if a
/// host is given (then a from address is required too).
fn default_smtp(args: &ServeArgs) -> Result<Option<SmtpSettings>> {
    let Some(host) = args.smtp_host.clone() else {
        return Ok(None);
    };
    let from_address = args
        .smtp_from
        .clone()
        .context("--smtp-host needs --smtp-from, the address mail comes from")?;
    let security = match args.smtp_security.as_str() {
        "none" => SmtpSecurity::None,
        "tls" => SmtpSecurity::Tls,
        _ => SmtpSecurity::StartTls,
    };
    Ok(Some(SmtpSettings {
        host,
        port: args.smtp_port,
        security,
        username: args.smtp_username.clone(),
        password: args.smtp_password.clone().map(|p| p.0),
        from_address,
    }))
}

fn print_first_run(first: &FirstRun, out: &mut dyn Write) {
    if let Some((username, password)) = &first.operator {
        // Best effort: a closed stdout must not stop the server.
        let _ = writeln!(
            out,
            "operator account created — username: {username}  one-time password: {password}\n  \
             (shown only this once; only an Argon2id hash of it is stored)"
        );
    }
}

fn print_default_site(app: &Application) {
    let Some(site) = default_site(app.services()) else {
        return;
    };
    let addr = app.reachable_addr();
    let url = app.url();
    let prefixed = format!("{url}/s/{}/", site.slug);
    let by_host = if site.hostnames.contains(&addr.ip().to_string()) {
        Some(format!("{url}/"))
    } else if addr.ip().is_loopback() && site.hostnames.iter().any(|h| h == "localhost") {
        Some(format!("http://localhost:{}/", addr.port()))
    } else {
        None
    };
    match by_host {
        Some(u) => println!("default site: {u}  (also {prefixed})"),
        None => println!("default site: {prefixed}"),
    }
}

fn default_site(services: &Services) -> Option<Site> {
    let operator = services.console_operator().ok()?;
    services.find_site(&operator, DEFAULT_SITE_SLUG).ok()
}

fn open_console(data: &Path) -> Result<Console> {
    open_console_with(data, &ConsoleConfig::default())
}

fn open_console_with(data: &Path, config: &ConsoleConfig) -> Result<Console> {
    let console = Console::open(data, config)
        .with_context(|| format!("cannot open the data dir {}", data.display()))?;
    // Opening an empty data dir directly created the operator: this is the
    // only moment its password can be shown. stderr keeps stdout parseable.
    print_first_run(console.first_run(), &mut std::io::stderr());
    if let Route::Server { addr, pid } = console.route() {
        tracing::info!(%addr, pid, "using the running server's operator API");
    }
    Ok(console)
}

fn site(data: &Path, args: SiteArgs) -> Result<()> {
    let console = open_console(data)?;
    let api = console.api();
    let json = args.json;
    match args.command {
        SiteCommand::List => {
            let sites = api.list_sites()?;
            if json {
                print_json(&sites)?;
            } else {
                print_site_table(&sites);
            }
        }
        SiteCommand::Create {
            slug,
            name,
            hosts,
            brand_colour,
        } => {
            let site = api.create_site(&CreateSite {
                slug,
                name,
                hostnames: hosts,
                brand_colour,
            })?;
            report_site(json, "created", &site)?;
        }
        SiteCommand::Suspend { key } => report_site(json, "suspended", &api.suspend_site(&key)?)?,
        SiteCommand::Resume { key } => report_site(json, "resumed", &api.resume_site(&key)?)?,
        SiteCommand::Delete { key, yes } => {
            if !yes {
                confirm_delete(&key)?;
            }
            report_site(json, "deleted", &api.delete_site(&key)?)?;
        }
    }
    Ok(())
}

fn confirm_delete(key: &str) -> Result<()> {
    if !std::io::stdin().is_terminal() {
        bail!("refusing to delete site {key:?} without --yes (no terminal to ask on)");
    }
    eprint!(
        "Delete site {key:?} and all its data? This cannot be undone.\n\
         Type {key:?} to confirm: "
    );
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if answer.trim() != key {
        bail!("not confirmed; nothing was deleted");
    }
    Ok(())
}

fn token(data: &Path, args: TokenArgs) -> Result<()> {
    let console = open_console(data)?;
    let json = args.json;
    match args.command {
        TokenCommand::Create {
            name,
            site,
            user,
            operator,
        } => {
            let target = match user {
                Some(username) if !operator => TokenTarget::SiteUser { site, username },
                _ => TokenTarget::Operator,
            };
            let created = console.api().create_token(&name, &target)?;
            if json {
                return print_json(&created);
            }
            let acting = match &target {
                TokenTarget::Operator => "as the operator, on every site".to_owned(),
                TokenTarget::SiteUser { site, username } => {
                    format!("as user {username:?} of site {site:?}")
                }
            };
            println!(
                "created API token #{} {:?}, acting {acting}",
                created.token.id, created.token.name
            );
            println!("secret: {}", created.secret);
            println!("  (shown only this once; the host keeps only its hash)");
        }
        TokenCommand::List { site } => {
            let tokens = console.api().list_tokens(site.as_deref())?;
            if json {
                print_json(&tokens)?;
            } else {
                print_token_table(&tokens);
            }
        }
        TokenCommand::Revoke { id } => {
            let token = console.api().revoke_token(ApiTokenId(id))?;
            if json {
                print_json(&token)?;
            } else {
                println!("revoked API token #{} {:?}", token.id, token.name);
            }
        }
    }
    Ok(())
}

fn plugin(data: &Path, args: PluginArgs) -> Result<()> {
    // Writing a crate touches no data directory.
    if let PluginCommand::New {
        name,
        dir,
        sdk,
        kind,
    } = &args.command
    {
        let dir = dir.clone().unwrap_or_else(|| PathBuf::from(name));
        let sdk = sdk
            .clone()
            .unwrap_or_else(|| PathBuf::from(charon_host::scaffold::BUILT_SDK));
        let kind = match kind {
            cli::NewKind::Enrolment => charon_host::scaffold::Kind::Enrolment,
            cli::NewKind::SegmentRule => charon_host::scaffold::Kind::SegmentRule,
        };
        let done = charon_host::scaffold::new_plugin(name, kind, &dir, &sdk)?;
        if args.json {
            return print_json(&serde_json::json!({
                "dir": done.dir,
                "files": done.files,
                "component": done.component,
            }));
        }
        println!("wrote plugin {name:?} in {}", done.dir.display());
        println!("next:");
        println!("  cd {} && cargo test", done.dir.display());
        println!("  (cd harness-tests && cargo test)");
        println!("  cargo build --release --target wasm32-wasip2");
        println!(
            "  charon --data PATH/TO/DATA plugin install {}",
            done.component.display()
        );
        return Ok(());
    }
    let console = open_console(data)?;
    let api = console.api();
    let json = args.json;
    match args.command {
        // Answered above, before any data directory is opened.
        PluginCommand::New { .. } => {}
        PluginCommand::Install { file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let v = api.install_plugin(&bytes)?;
            if json {
                return print_json(&v);
            }
            println!(
                "installed plugin {:?} {} ({}), contract {}, sha256 {}",
                v.id, v.version, v.name, v.contract, v.sha256
            );
        }
        PluginCommand::List => {
            let plugins = api.list_plugins()?;
            if json {
                print_json(&plugins)?;
            } else {
                print_plugin_table(&plugins);
            }
        }
        PluginCommand::Enable { site, id, version } => {
            let record = api.enable_plugin(&site, &id, version.as_deref())?;
            report_plugin(json, &site, &record)?;
        }
        PluginCommand::Disable { site, id, force } => {
            let record = api.disable_plugin(&site, &id, force)?;
            report_plugin(json, &site, &record)?;
        }
        PluginCommand::Upgrade { site, id, version } => {
            let record = api.upgrade_plugin(&site, &id, &version)?;
            report_plugin(json, &site, &record)?;
        }
        PluginCommand::Uninstall { id, version, force } => {
            let v = api.uninstall_plugin(&id, &version, force)?;
            if json {
                return print_json(&v);
            }
            println!("uninstalled plugin {:?} {}", v.id, v.version);
        }
    }
    Ok(())
}

fn sync(data: &Path, args: SyncArgs) -> Result<()> {
    let console = open_console(data)?;
    match args.command {
        SyncCommand::Reconcile {
            site,
            course,
            dry_run,
        } => {
            let results = console.api().reconcile(&site, course.as_deref(), dry_run)?;
            if args.json {
                return print_json(&results);
            }
            let told = charon_host::console::reconcile_text(&results, dry_run);
            print!("{}", told.text);
            let (failed, would_fail) = (told.failed, told.would_fail);
            if failed > 0 {
                bail!("{failed} enrolment method(s) failed to reconcile");
            }
            if would_fail > 0 {
                bail!(
                    "{would_fail} enrolment method(s) would fail: their plans have refused actions"
                );
            }
        }
    }
    Ok(())
}

fn csv(data: &Path, args: CsvArgs) -> Result<()> {
    match args.command {
        CsvCommand::Import {
            site,
            kind,
            file,
            dry_run,
            max_mib,
        } => {
            let max_bytes = usize::try_from(max_mib * 1024 * 1024).unwrap_or(usize::MAX);
            let console = open_console_with(
                data,
                &ConsoleConfig {
                    import_max_bytes: max_bytes,
                },
            )?;
            let kind: ImportKind = kind.parse()?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let report = console
                .api()
                .import_csv(&site, kind, &bytes, dry_run, max_bytes)?;
            if args.json {
                print_json(&report)?;
            } else {
                for (severity, list) in [("error", &report.errors), ("warning", &report.warnings)] {
                    for i in list {
                        match &i.column {
                            Some(c) => {
                                println!("row {}, column {c}: {severity}: {}", i.row, i.reason)
                            }
                            None => println!("row {}: {severity}: {}", i.row, i.reason),
                        }
                    }
                }
                let c = &report.changes;
                let verb = if report.applied {
                    "changed"
                } else {
                    "would change"
                };
                println!(
                    "{} row(s), {} error(s), {} warning(s)",
                    report.rows, report.error_count, report.warning_count
                );
                if !report.has_errors() {
                    println!(
                        "{verb}: {} segment(s) created, {} user(s) created, {} segment member(s) \
                         added, {} enrolment(s), {} group(s) created, {} group member(s) added; \
                         {} unchanged",
                        c.segments_created,
                        c.users_created,
                        c.segment_members_added,
                        c.enrolments_changed,
                        c.groups_created,
                        c.group_members_added,
                        c.unchanged
                    );
                }
            }
            if report.has_errors() {
                bail!(
                    "the file has {} error(s); nothing was written",
                    report.error_count
                );
            }
        }
    }
    Ok(())
}

fn segment(data: &Path, args: SegmentArgs) -> Result<()> {
    match args.command {
        SegmentCommand::Enrol {
            site,
            segment,
            course,
            role,
            group,
            new_group,
            dry_run,
        } => {
            let role_view = match role.replace('-', "_").as_str() {
                "learner" => RoleView::Learner,
                "non_editing_teacher" => RoleView::NonEditingTeacher,
                "teacher" => RoleView::Teacher,
                other => {
                    bail!("unknown role {other:?}: use learner, non-editing-teacher or teacher")
                }
            };
            let body = MassEnrol {
                course: CourseIdView(course),
                role: Some(role_view),
                group: group.map(CourseGroupIdView),
                new_group,
            };
            let console = open_console(data)?;
            let (preview, done) = console.api().mass_enrol(&site, segment, &body, dry_run)?;
            if args.json {
                return print_json(&serde_json::json!({"preview": preview, "applied": done}));
            }
            println!(
                "segment #{} {:?} into course #{} {} as {role}{}",
                preview.segment.0,
                preview.segment_name,
                preview.course.0,
                preview.course_shortname,
                match (&preview.group_name, preview.group_created) {
                    (Some(name), true) => format!(", into a new group {name:?}"),
                    (Some(name), false) => format!(", into the group {name:?}"),
                    (None, _) => String::new(),
                }
            );
            print_mass_figures("preview", &preview.figures);
            match done {
                None => println!("dry run: nothing was written"),
                Some(done) => {
                    print_mass_figures("applied", &done.figures);
                    println!(
                        "mass enrolment #{} done; undo it on its page or with POST \
                         /api/v1/mass-enrolments/{}/undo",
                        done.id.0, done.id.0
                    );
                }
            }
        }
    }
    Ok(())
}

fn print_mass_figures(what: &str, f: &MassEnrolmentFiguresView) {
    println!(
        "{what}: {} member(s): {} to enrol, {} already enrolled, {} suspended account(s) and {} \
         suspended enrolment(s) skipped, {} into the group",
        f.members,
        f.to_enrol,
        f.already_enrolled,
        f.suspended_accounts,
        f.suspended_enrolments,
        f.grouped
    );
}

fn report_plugin(json: bool, site: &str, record: &SitePlugin) -> Result<()> {
    if json {
        return print_json(record);
    }
    let state = if record.enabled {
        "enabled"
    } else {
        "disabled"
    };
    println!(
        "plugin {:?} is {state} on site {site:?} (pinned to {})",
        record.plugin, record.version
    );
    Ok(())
}

fn print_plugin_table(plugins: &[InstalledPlugin]) {
    let rows: Vec<[String; 5]> = plugins
        .iter()
        .map(|p| {
            let sites: Vec<String> = p
                .sites
                .iter()
                .map(|s| {
                    if s.enabled {
                        s.slug.clone()
                    } else {
                        format!("{} (disabled)", s.slug)
                    }
                })
                .collect();
            [
                p.plugin.id.clone(),
                p.plugin.version.clone(),
                p.plugin.name.clone(),
                if p.plugin.bundled {
                    "bundled"
                } else {
                    "installed"
                }
                .to_owned(),
                sites.join(", "),
            ]
        })
        .collect();
    print_table(["ID", "VERSION", "NAME", "ORIGIN", "SITES"], &rows);
}

fn print_token_table(tokens: &[ApiToken]) {
    let rows: Vec<[String; 6]> = tokens
        .iter()
        .map(|t| {
            [
                t.id.to_string(),
                t.name.clone(),
                match t.scope {
                    TokenScope::Operator { operator } => format!("operator #{operator}"),
                    TokenScope::SiteUser { site, user } => format!("user #{user} of site #{site}"),
                },
                format!("{}…", t.prefix),
                t.last_used_at
                    .map_or_else(|| "never".to_owned(), |at| at.to_string()),
                match t.revoked_at {
                    Some(at) => format!("revoked {at}"),
                    None => "active".to_owned(),
                },
            ]
        })
        .collect();
    print_table(
        ["ID", "NAME", "ACTS AS", "PREFIX", "LAST USED", "STATUS"],
        &rows,
    );
}

fn load_demo(data: &Path, args: DemoArgs) -> Result<()> {
    let console = open_console(data)?;
    let report = console
        .api()
        .load_demo(&args.site)
        .with_context(|| format!("cannot load the demo into site {:?}", args.site))?;
    if args.json {
        print_json(&report)?;
    } else {
        print_demo(&report);
    }
    Ok(())
}

fn print_demo(report: &DemoReport) {
    if report.was_already_loaded() {
        println!(
            "the demo is already loaded into site {:?}; nothing changed",
            report.site
        );
    } else {
        println!(
            "demo loaded into site {:?}: {} users, {} segments, {} course, {} groups, {} enrolments created",
            report.site,
            report.users_created,
            report.segments_created,
            u8::from(report.course_created),
            report.groups_created,
            report.enrolments_created,
        );
    }
    match &report.site_admin_password {
        Some(pw) => println!(
            "  site admin: username {}  password: {pw}  (shown only this once)",
            demo::SITE_ADMIN
        ),
        None => println!(
            "  site admin: username {} (already existed; its password is unchanged)",
            demo::SITE_ADMIN
        ),
    }
}

fn report_site(json: bool, what: &str, site: &Site) -> Result<()> {
    if json {
        return print_json(site);
    }
    println!("{what} site #{} {:?} ({})", site.id, site.slug, site.name);
    Ok(())
}

fn print_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    println!("{text}");
    Ok(())
}

fn print_site_table(sites: &[Site]) {
    let rows: Vec<[String; 5]> = sites
        .iter()
        .map(|s| {
            [
                s.id.to_string(),
                s.slug.clone(),
                s.name.clone(),
                match s.status {
                    SiteStatus::Active => "active".to_owned(),
                    SiteStatus::Suspended => "suspended".to_owned(),
                },
                s.hostnames.join(", "),
            ]
        })
        .collect();
    print_table(["ID", "SLUG", "NAME", "STATUS", "HOST NAMES"], &rows);
}

/// Columns padded to their widest cell, without trailing spaces.
fn print_table<const N: usize>(header: [&str; N], rows: &[[String; N]]) {
    let header = header.map(str::to_owned);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(rows) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
}
