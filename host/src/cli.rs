//! The command line of `charon`: clap definitions only.
//!
//! Every flag is also an environment variable (`--data` ⇔ `CHARON_DATA`,
//! …), so a service manager or a container sets them without a wrapper
//! script. What each command does lives in `main.rs` and the library.

use std::path::PathBuf;

use clap::builder::FalseyValueParser;
use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "charon",
    version,
    about = "Charon: a multi-site learning-management host",
    propagate_version = true
)]
pub struct Cli {
    /// The data directory: the registry, one file per site, and the
    /// operator API file of a running server.
    #[arg(long, env = "CHARON_DATA", default_value = "./data", global = true)]
    pub data: PathBuf,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve every site of the data dir over HTTP until SIGINT or SIGTERM.
    // Boxed: its many flags make it far larger than the other commands.
    Serve(Box<ServeArgs>),
    /// Create, list, suspend, resume and delete sites (works while the
    /// server runs, through its JSON API).
    Site(SiteArgs),
    /// Load the demo organisation (four departments, 300 users, a
    /// compliance course with a group per department) into a site.
    Demo(DemoArgs),
    /// Create, list and revoke API tokens for the JSON API (works while
    /// the server runs, through its JSON API).
    Token(TokenArgs),
    /// Install, list and uninstall enrolment-method plugins, and enable,
    /// disable or upgrade them per site (works while the server runs,
    /// through its JSON API).
    Plugin(PluginArgs),
    /// Enrolment-method sync: reconcile a site's enrolment methods with
    /// their sources now (works while the server runs, through its JSON
    /// API).
    Sync(SyncArgs),
    /// Bulk CSV imports into a site: segments, segment members, group
    /// members, users (works while the server runs, through its JSON
    /// API).
    Csv(CsvArgs),
    /// One-off actions on a user segment's members: enrol them in a course
    /// (works while the server runs, through its JSON API).
    Segment(SegmentArgs),
}

#[derive(Debug, Args)]
pub struct SegmentArgs {
    /// Print JSON instead of text.
    #[arg(long, env = "CHARON_JSON", value_parser = FalseyValueParser::new(), global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: SegmentCommand,
}

#[derive(Debug, Subcommand)]
pub enum SegmentCommand {
    /// Enrol every active member of a segment, as it is now, in a course
    /// through its manual method, once (unlike a segment-sync method, later
    /// members are not enrolled). Prints the preview's figures and, unless
    /// `--dry-run` is given, what was done, in one transaction.
    Enrol {
        /// The site's slug or id.
        #[arg(long)]
        site: String,
        /// The segment's id.
        #[arg(long)]
        segment: u64,
        /// The course's id.
        #[arg(long)]
        course: u64,
        /// learner, non-editing-teacher or teacher.
        #[arg(long, default_value = "learner")]
        role: String,
        /// Put the members into this existing group of the course (its id).
        #[arg(long, conflicts_with = "new_group")]
        group: Option<u64>,
        /// Put the members into a new group of the course with this name.
        #[arg(long)]
        new_group: Option<String>,
        /// Print the figures and write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Args)]
pub struct CsvArgs {
    /// Print the report as JSON instead of text.
    #[arg(long, env = "CHARON_JSON", value_parser = FalseyValueParser::new(), global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: CsvCommand,
}

#[derive(Debug, Subcommand)]
pub enum CsvCommand {
    /// Check a CSV file against a site and, unless it has an error or
    /// `--dry-run` is given, apply it in one transaction. Prints every
    /// error and warning with its row and column; exits non-zero when the
    /// file has errors (then nothing was written).
    Import {
        /// The site's slug or id.
        #[arg(long)]
        site: String,
        /// segments, segment-members, group-members or users.
        #[arg(long)]
        kind: String,
        /// The CSV file (UTF-8, comma or semicolon, any line ends).
        file: PathBuf,
        /// Report what would change and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// The largest file accepted, in MiB (a running server's own
        /// `--import-max-mib` applies too).
        #[arg(long, env = "CHARON_CSV_MAX_MIB", default_value_t = 10,
              value_parser = clap::value_parser!(u64).range(1..=1024))]
        max_mib: u64,
    },
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Print JSON instead of text.
    #[arg(long, env = "CHARON_JSON", value_parser = FalseyValueParser::new(), global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: SyncCommand,
}

#[derive(Debug, Subcommand)]
pub enum SyncCommand {
    /// Bring every enrolment method of a site (or of one course) in line
    /// with its sources, e.g. segment sync with its segment, and report
    /// what changed.
    Reconcile {
        /// The site's slug or host name.
        #[arg(long)]
        site: String,
        /// Only this course (id or shortname).
        #[arg(long)]
        course: Option<String>,
        /// Report what would change and write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "CHARON_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,

    /// Load the demo organisation into the default site before serving.
    #[arg(long, env = "CHARON_DEMO", value_parser = FalseyValueParser::new())]
    pub demo: bool,

    /// HTTP worker threads (default: one per physical core).
    #[arg(long, env = "CHARON_WORKERS")]
    pub workers: Option<usize>,

    /// Close a site's file after this many seconds without a request.
    #[arg(long, env = "CHARON_SITE_IDLE_SECS", default_value_t = 300)]
    pub site_idle_secs: u64,

    /// How often, in seconds, to look for idle site files.
    #[arg(long, env = "CHARON_SITE_IDLE_CHECK_SECS", default_value_t = 30)]
    pub site_idle_check_secs: u64,

    /// Seconds a graceful stop waits for requests in flight.
    #[arg(long, env = "CHARON_SHUTDOWN_TIMEOUT_SECS", default_value_t = 10)]
    pub shutdown_timeout_secs: u64,

    /// Memory one plugin call may use, in MiB.
    #[arg(long, env = "CHARON_PLUGIN_MEMORY_MIB", default_value_t = 64,
          value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub plugin_memory_mib: u64,

    /// How long one plugin call may run, in milliseconds, before it is
    /// stopped.
    #[arg(long, env = "CHARON_PLUGIN_DEADLINE_MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub plugin_deadline_ms: u64,

    /// Most actions one plan of a plugin may hold.
    #[arg(long, env = "CHARON_PLUGIN_MAX_PLAN_ACTIONS", default_value_t = 20_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub plugin_max_plan_actions: u64,

    /// Reconcile every enrolment method this often, in seconds (they are
    /// always reconciled once after start-up); 0 turns the schedule off.
    #[arg(long, env = "CHARON_RECONCILE_EVERY_SECS", default_value_t = 3600)]
    pub reconcile_every_secs: u64,

    /// How often, in seconds, scheduled announcements that are due are
    /// sent (one goes out at most this late).
    #[arg(long, env = "CHARON_ANNOUNCEMENT_CHECK_SECS", default_value_t = 15,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub announcement_check_secs: u64,

    /// The longest, in milliseconds, a reconcile's pages go without
    /// waiting for the disk: what a crash can take back of a reconcile
    /// (the start-up reconcile redoes it). 0 makes every page wait.
    #[arg(long, env = "CHARON_RECONCILE_DURABLE_MS", default_value_t = 100)]
    pub reconcile_durable_ms: u64,

    /// Minutes a page session may stay unused before it ends.
    #[arg(long, env = "CHARON_SESSION_IDLE_MINUTES", default_value_t = 120,
          value_parser = clap::value_parser!(u64).range(1..=10080))]
    pub session_idle_minutes: u64,

    /// Failed sign-ins one account may have from one address in 15
    /// minutes; then that account waits out the 15 minutes there.
    #[arg(long, env = "CHARON_SIGN_IN_PAIR_FAILURES", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub sign_in_pair_failures: u64,

    /// Failed sign-ins one account may have from all addresses in 15
    /// minutes; past them, attempts from addresses that never signed it in
    /// wait a delay that doubles up to two minutes.
    #[arg(long, env = "CHARON_SIGN_IN_ACCOUNT_FAILURES", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub sign_in_account_failures: u64,

    /// Failed sign-ins one address may have in 15 minutes, whatever the
    /// accounts.
    #[arg(long, env = "CHARON_SIGN_IN_ADDRESS_FAILURES", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub sign_in_address_failures: u64,

    /// Seconds a client may take to send a request body (headers have 5 s);
    /// past them the request is answered 408 and the connection closed.
    #[arg(long, env = "CHARON_BODY_TIMEOUT_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub body_timeout_secs: u64,

    /// Uploads (plugin components, CSV files) read at once; more are
    /// answered 503 with Retry-After.
    #[arg(long, env = "CHARON_MAX_CONCURRENT_UPLOADS", default_value_t = 8,
          value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub max_concurrent_uploads: u64,

    /// The largest CSV file the import pages and the JSON API accept, in
    /// MiB (`charon csv import` has its own `--max-mib`).
    #[arg(long, env = "CHARON_IMPORT_MAX_MIB", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub import_max_mib: u64,

    /// The address people reach this host at (`https://lms.example.org`):
    /// the links in e-mails start from it (default: the listen address).
    #[arg(long, env = "CHARON_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// How often, in milliseconds, the mail worker looks for due mail
    /// (it is also woken when mail is queued again).
    #[arg(long, env = "CHARON_MAIL_POLL_MS", default_value_t = 2000,
          value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    pub mail_poll_ms: u64,

    /// Seconds the mail worker waits after a temporary failure (4xx, a
    /// server down) before trying a copy again; each next wait doubles,
    /// up to an hour.
    #[arg(long, env = "CHARON_MAIL_RETRY_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub mail_retry_secs: u64,

    /// The operator's default SMTP server, used by every site without
    /// settings of its own; without it (and without a site's own) a site
    /// keeps the inbox only.
    #[arg(long, env = "CHARON_SMTP_HOST")]
    pub smtp_host: Option<String>,

    #[arg(long, env = "CHARON_SMTP_PORT", default_value_t = 587,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub smtp_port: u16,

    /// `none`, `starttls` (required) or `tls` (SMTPS).
    #[arg(long, env = "CHARON_SMTP_SECURITY", default_value = "starttls",
          value_parser = ["none", "starttls", "tls"])]
    pub smtp_security: String,

    #[arg(long, env = "CHARON_SMTP_USERNAME")]
    pub smtp_username: Option<String>,

    /// Prefer the environment variable: a flag shows in the process list.
    #[arg(long, env = "CHARON_SMTP_PASSWORD", hide_env_values = true)]
    pub smtp_password: Option<SecretArg>,

    /// The address the default server's mail comes from (each site's
    /// name is the sender's name).
    #[arg(long, env = "CHARON_SMTP_FROM")]
    pub smtp_from: Option<String>,
}

/// A secret given on the command line or in the environment: `Debug`
/// masks it, so printing the arguments never prints it.
#[derive(Clone)]
pub struct SecretArg(pub String);

impl std::str::FromStr for SecretArg {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

impl std::fmt::Debug for SecretArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("********")
    }
}

#[derive(Debug, Args)]
pub struct PluginArgs {
    /// Print JSON instead of text.
    #[arg(long, env = "CHARON_JSON", value_parser = FalseyValueParser::new(), global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: PluginCommand,
}

/// What `charon plugin new` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum NewKind {
    Enrolment,
    SegmentRule,
}

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Write a new plugin crate: NAME/ with a plugin that enrols a segment's
    /// members (or, `--kind segment-rule`, keeps a segment equal to the users
    /// of an e-mail domain), its mock unit tests (`cargo test`), its harness tests in
    /// NAME/harness-tests and a README of the next steps. Needs no data
    /// directory.
    New {
        /// The plugin's id and crate name: lower-case letters, digits, `-`.
        name: String,
        /// Where to write it (default: ./NAME).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The `sdk/` folder of a Charon checkout (default: the one this
        /// binary was built from).
        #[arg(long)]
        sdk: Option<PathBuf>,
        /// `enrolment` (an enrolment method, attached to courses) or
        /// `segment-rule` (manages a segment's members).
        #[arg(long, value_enum, default_value_t = NewKind::Enrolment)]
        kind: NewKind,
    },
    /// Install a plugin from a WebAssembly component (.wasm). The host
    /// checks it first; installing the same file again changes nothing.
    Install {
        /// The component file.
        file: PathBuf,
    },
    /// List the installed plugin versions and the sites that use each.
    List,
    /// Let a site use a plugin, pinned to a version (default: the latest
    /// installed, or the one it was pinned to before).
    // `--version` names the plugin's version here, not Charon's.
    #[command(disable_version_flag = true)]
    Enable {
        /// The site (slug or id).
        #[arg(long, env = "CHARON_PLUGIN_SITE")]
        site: String,
        /// The plugin id, e.g. `self`.
        id: String,
        /// The installed version to pin.
        #[arg(long, env = "CHARON_PLUGIN_VERSION")]
        version: Option<String>,
    },
    /// Stop a site from using a plugin. Refused while the site has
    /// enrolment methods of it, unless --force, which disables them too
    /// (their settings and enrolments are kept).
    Disable {
        /// The site (slug or id).
        #[arg(long, env = "CHARON_PLUGIN_SITE")]
        site: String,
        /// The plugin id.
        id: String,
        #[arg(long, env = "CHARON_FORCE", value_parser = FalseyValueParser::new())]
        force: bool,
    },
    /// Move a site to a newer installed version of a plugin. Every
    /// enrolment method of the plugin on the site is checked by the new
    /// version first; if one is refused, nothing changes.
    #[command(disable_version_flag = true)]
    Upgrade {
        /// The site (slug or id).
        #[arg(long, env = "CHARON_PLUGIN_SITE")]
        site: String,
        /// The plugin id.
        id: String,
        /// The installed version to move to.
        #[arg(long, env = "CHARON_PLUGIN_VERSION")]
        version: String,
    },
    /// Uninstall a plugin version. Refused while a site has it enabled,
    /// unless --force, which disables the plugin (and its enrolment
    /// methods, data kept) on those sites.
    #[command(disable_version_flag = true)]
    Uninstall {
        /// The plugin id.
        id: String,
        /// The version to remove.
        version: String,
        #[arg(long, env = "CHARON_FORCE", value_parser = FalseyValueParser::new())]
        force: bool,
    },
}

#[derive(Debug, Args)]
pub struct SiteArgs {
    /// Print JSON instead of text.
    #[arg(long, env = "CHARON_JSON", value_parser = FalseyValueParser::new(), global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: SiteCommand,
}

#[derive(Debug, Subcommand)]
pub enum SiteCommand {
    /// List the sites: id, slug, name, status and host names.
    List,
    /// Create a site, reachable at /s/SLUG/ and by each host name.
    Create {
        /// Short unique name: lower-case letters, digits and dashes.
        #[arg(long, env = "CHARON_SITE_SLUG")]
        slug: String,
        /// The site's display name.
        #[arg(long, env = "CHARON_SITE_NAME")]
        name: String,
        /// A host name that routes to the site; repeat for several.
        #[arg(long = "host", env = "CHARON_SITE_HOSTS", value_delimiter = ',')]
        hosts: Vec<String>,
        /// Branding colour as #rrggbb.
        #[arg(long, env = "CHARON_SITE_BRAND_COLOUR")]
        brand_colour: Option<String>,
    },
    /// Stop serving a site's pages; its data stays.
    Suspend {
        /// The site's slug or id.
        key: String,
    },
    /// Serve a suspended site again.
    Resume {
        /// The site's slug or id.
        key: String,
    },
    /// Delete a site and its data file. Asks for confirmation unless --yes.
    Delete {
        /// The site's slug or id.
        key: String,
        /// Do not ask for confirmation.
        #[arg(long, env = "CHARON_YES", value_parser = FalseyValueParser::new())]
        yes: bool,
    },
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// Print JSON instead of text.
    #[arg(long, env = "CHARON_JSON", value_parser = FalseyValueParser::new(), global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print its secret, which is shown only this once.
    /// It acts as a user of a site (--user, with --site) or as the
    /// operator on every site (--operator).
    Create {
        /// What the token is for, e.g. "HR system sync".
        #[arg(long, env = "CHARON_TOKEN_NAME")]
        name: String,
        /// The site of the user the token acts as (slug or id).
        #[arg(
            long,
            env = "CHARON_TOKEN_SITE",
            default_value = "default",
            conflicts_with = "operator"
        )]
        site: String,
        /// The username of the user the token acts as, with their roles.
        #[arg(
            long,
            env = "CHARON_TOKEN_USER",
            required_unless_present = "operator",
            conflicts_with = "operator"
        )]
        user: Option<String>,
        /// Make a token that acts as the operator, on every site.
        #[arg(long, env = "CHARON_TOKEN_OPERATOR", value_parser = FalseyValueParser::new())]
        operator: bool,
    },
    /// List the tokens (never their secrets), revoked ones too.
    List {
        /// Only the tokens of this site (slug or id).
        #[arg(long, env = "CHARON_TOKEN_SITE")]
        site: Option<String>,
    },
    /// Revoke a token at once: its next request is refused.
    Revoke {
        /// The token's id, as `token list` shows it.
        id: u64,
    },
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The site to load the demo into (slug or id).
    #[arg(long, env = "CHARON_DEMO_SITE", default_value = "default")]
    pub site: String,

    /// Print JSON instead of text.
    #[arg(long, env = "CHARON_JSON", value_parser = FalseyValueParser::new())]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }

    #[test]
    fn a_token_acts_as_a_user_or_as_the_operator_never_both_nor_neither() {
        use super::{Command, TokenCommand};
        use clap::Parser;
        let parse = |args: &[&str]| super::Cli::try_parse_from(args).map(|c| c.command);
        let created = parse(&[
            "charon", "token", "create", "--name", "ci", "--user", "admin",
        ]);
        assert!(
            matches!(
                created,
                Ok(Command::Token(super::TokenArgs {
                    command: TokenCommand::Create { ref site, user: Some(ref user), operator: false, .. },
                    ..
                })) if site == "default" && user == "admin"
            ),
            "{created:?}"
        );
        assert!(parse(&["charon", "token", "create", "--name", "ops", "--operator"]).is_ok());
        assert!(parse(&["charon", "token", "create", "--name", "x"]).is_err());
        assert!(
            parse(&[
                "charon",
                "token",
                "create",
                "--name",
                "x",
                "--operator",
                "--user",
                "admin"
            ])
            .is_err()
        );
        assert!(
            parse(&[
                "charon",
                "token",
                "create",
                "--name",
                "x",
                "--operator",
                "--site",
                "acme"
            ])
            .is_err()
        );
    }

    #[test]
    fn plugin_commands_parse() {
        use super::{Command, PluginArgs, PluginCommand};
        use clap::Parser;
        let parse = |args: &[&str]| super::Cli::try_parse_from(args).map(|c| c.command);
        assert!(matches!(
            parse(&["charon", "plugin", "enable", "--site", "acme", "self", "--version", "1.0.0"]),
            Ok(Command::Plugin(PluginArgs {
                command: PluginCommand::Enable { ref site, ref id, version: Some(ref v) },
                ..
            })) if site == "acme" && id == "self" && v == "1.0.0"
        ));
        assert!(parse(&["charon", "plugin", "upgrade", "--site", "acme", "self"]).is_err());
        assert!(matches!(
            parse(&[
                "charon",
                "plugin",
                "uninstall",
                "self",
                "1.0.0",
                "--force",
                "--json"
            ]),
            Ok(Command::Plugin(PluginArgs {
                json: true,
                command: PluginCommand::Uninstall { force: true, .. },
            }))
        ));
        let serve = super::Cli::try_parse_from(["charon", "serve", "--plugin-memory-mib", "32"]);
        assert!(
            matches!(serve, Ok(super::Cli { command: Command::Serve(ref s), .. })
                if s.plugin_memory_mib == 32 && s.plugin_deadline_ms == 1000),
            "{serve:?}"
        );
        assert!(
            super::Cli::try_parse_from(["charon", "serve", "--plugin-deadline-ms", "0"]).is_err()
        );
    }

    #[test]
    fn site_commands_take_data_after_the_subcommand() {
        use clap::Parser;
        let cli =
            super::Cli::try_parse_from(["charon", "site", "list", "--data", "/tmp/x", "--json"])
                .expect("parses");
        assert_eq!(cli.data, std::path::PathBuf::from("/tmp/x"));
    }
}
