//! `charon plugin new NAME`: a plugin crate that builds, tests (mock unit
//! tests, then harness tests in a sibling crate) and installs as written.
//!
//! The harness tests live in `NAME/harness-tests/`, a crate of their own:
//! the harness runs components in Charon's real runtime (wasmtime and
//! cranelift), and as a dev-dependency of the plugin it would be compiled
//! before the first mock unit test could run. Both crates name the SDK and
//! the harness by path, in the Charon checkout this binary was built from
//! (or `--sdk`), and start from that checkout's `Cargo.lock`, so they build
//! with the dependency versions Charon is tested with.

use std::path::{Path, PathBuf};

/// The checkout's `sdk/` folder, as this binary was built.
pub const BUILT_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../sdk");

const PLUGIN_CARGO: &str = include_str!("scaffold/plugin_Cargo.toml");
const HARNESS_CARGO: &str = include_str!("scaffold/harness_Cargo.toml");
const LIB: &str = include_str!("scaffold/lib.rs.txt");
const HARNESS: &str = include_str!("scaffold/harness.rs.txt");
const RULE_LIB: &str = include_str!("scaffold/rule_lib.rs.txt");
const RULE_HARNESS: &str = include_str!("scaffold/rule_harness.rs.txt");
const README: &str = include_str!("scaffold/README.md");
const LOCK: &str = include_str!("../../Cargo.lock");

/// Which kind of plugin to write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Kind {
    /// An enrolment method: enrols a segment's members into a course.
    #[default]
    Enrolment,
    /// A segment rule: keeps a segment equal to the users of an e-mail
    /// domain.
    SegmentRule,
}

/// Why no plugin was written.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    #[error(
        "{0:?} is not a plugin name: lower-case letters, digits and -, starting with a letter, at most 64"
    )]
    BadName(String),
    #[error("{} exists already; choose another name or folder", .0.display())]
    Exists(PathBuf),
    #[error(
        "no Charon SDK at {}: pass --sdk with the sdk/ folder of a Charon checkout",
        .0.display()
    )]
    NoSdk(PathBuf),
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What was written.
#[derive(Debug)]
pub struct Scaffolded {
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
    /// The component `cargo build --release --target wasm32-wasip2` makes.
    pub component: PathBuf,
}

fn valid_name(name: &str) -> bool {
    name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
}

/// "email-domain" → "Email domain" (the plugin's name in forms).
fn title(name: &str) -> String {
    let spaced = name.replace('-', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => spaced,
    }
}

/// "email-domain" → "EmailDomain" (its Rust type).
fn type_name(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

/// Writes plugin `name` into `dir` (which must not exist), naming the SDK
/// at `sdk` (its harness is `sdk/harness`).
pub fn new_plugin(
    name: &str,
    kind: Kind,
    dir: &Path,
    sdk: &Path,
) -> Result<Scaffolded, ScaffoldError> {
    if !valid_name(name) {
        return Err(ScaffoldError::BadName(name.to_owned()));
    }
    if dir.exists() {
        return Err(ScaffoldError::Exists(dir.to_owned()));
    }
    let sdk = sdk
        .canonicalize()
        .ok()
        .filter(|s| s.join("Cargo.toml").is_file())
        .ok_or_else(|| ScaffoldError::NoSdk(sdk.to_owned()))?;
    let file = name.replace('-', "_");
    let fill = |template: &str| {
        template
            .replace("{{name}}", name)
            .replace("{{title}}", &title(name))
            .replace("{{type}}", &type_name(name))
            .replace("{{file}}", &file)
            .replace("{{sdk}}", &sdk.display().to_string())
            .replace("{{harness}}", &sdk.join("harness").display().to_string())
    };
    let (lib, harness) = match kind {
        Kind::Enrolment => (LIB, HARNESS),
        Kind::SegmentRule => (RULE_LIB, RULE_HARNESS),
    };
    let files = [
        ("Cargo.toml", fill(PLUGIN_CARGO)),
        ("Cargo.lock", LOCK.to_owned()),
        ("src/lib.rs", fill(lib)),
        ("README.md", fill(README)),
        (".gitignore", "/target\n/harness-tests/target\n".to_owned()),
        ("harness-tests/Cargo.toml", fill(HARNESS_CARGO)),
        ("harness-tests/Cargo.lock", LOCK.to_owned()),
        ("harness-tests/tests/harness.rs", fill(harness)),
    ];
    let mut written = Vec::new();
    for (relative, text) in files {
        let path = dir.join(relative);
        let write = || -> std::io::Result<()> {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&path, text)
        };
        write().map_err(|source| ScaffoldError::Write {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(Scaffolded {
        dir: dir.to_owned(),
        files: written,
        component: dir.join(format!("target/wasm32-wasip2/release/{file}.wasm")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_titles_types_and_file_names() {
        assert_eq!(title("email-domain"), "Email domain");
        assert_eq!(type_name("email-domain"), "EmailDomain");
        for bad in ["", "Demo", "1demo", "de_mo", "demo-", &"d".repeat(65)] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn it_writes_a_plugin_and_its_harness_tests_and_refuses_an_existing_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("demo");
        let done = new_plugin("demo", Kind::Enrolment, &dir, Path::new(BUILT_SDK)).unwrap();
        let lib = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
        assert!(
            lib.contains("pub struct Demo;") && lib.contains(r#"Manifest::new("demo", "Demo""#)
        );
        let cargo = std::fs::read_to_string(dir.join("harness-tests/Cargo.toml")).unwrap();
        assert!(cargo.contains("/sdk/harness\""), "{cargo}");
        assert!(!lib.contains("{{") && !cargo.contains("{{"));
        assert_eq!(
            done.component,
            dir.join("target/wasm32-wasip2/release/demo.wasm")
        );
        assert!(matches!(
            new_plugin("demo", Kind::Enrolment, &dir, Path::new(BUILT_SDK)),
            Err(ScaffoldError::Exists(_))
        ));
        assert!(matches!(
            new_plugin(
                "other",
                Kind::Enrolment,
                &tmp.path().join("other"),
                tmp.path()
            ),
            Err(ScaffoldError::NoSdk(_))
        ));
        let rule = tmp.path().join("domain-rule");
        new_plugin(
            "domain-rule",
            Kind::SegmentRule,
            &rule,
            Path::new(BUILT_SDK),
        )
        .unwrap();
        let lib = std::fs::read_to_string(rule.join("src/lib.rs")).unwrap();
        assert!(lib.contains("impl SegmentRule for DomainRule") && !lib.contains("{{"));
        let harness = std::fs::read_to_string(rule.join("harness-tests/tests/harness.rs")).unwrap();
        assert!(harness.contains("rule_scenario"));
    }
}
