//! The loopback operator credential: how `charon site …`, `charon token …`
//! and the other operator commands reach a running server, through the
//! public `/api/v1` operator routes like any script.
//!
//! The server holds the registry's exclusive lock, so a second process
//! cannot open the data dir while it runs. At start the server makes a
//! fresh random secret, keeps it in memory only, and writes
//! `DATA/operator-api.json` (readable by its owner only, written under a
//! temporary name and renamed) with its address, its pid and that secret; a
//! graceful stop removes the file. Presented as `Authorization: Bearer …`,
//! the secret authenticates as the operator at the console
//! ([`Services::console_operator`](crate::services::Services::console_operator))
//! on every `/api/v1` route, but only on a connection from this machine
//! that no proxy relayed ([`from_this_machine`]). It is never stored in the
//! registry and dies with the process: the file a killed server leaves
//! behind opens nothing, not even the next server on the same data dir,
//! which writes a file of its own.
//!
//! Whoever can read the data dir can read the secret, which matches who
//! could open the files directly when no server runs: filesystem access is
//! the credential. This module owns the secret, its file and the "from this
//! machine" rule; it must never decide what the operator may do (the
//! services check that, as for any operator).

use std::fs;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use actix_web::HttpRequest;
use actix_web::http::header;
use serde::{Deserialize, Serialize};

use crate::services::tokens::TOKEN_PREFIX;

/// The file's name inside the data dir.
pub const OPERATOR_API_FILE_NAME: &str = "operator-api.json";

/// What a running server tells the commands of its data dir: where it
/// listens and the secret that acts as the operator there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorApiFile {
    /// An address of the server reachable from this machine.
    pub addr: SocketAddr,
    pub pid: u32,
    /// The [`OperatorCredential`]'s secret.
    pub token: String,
}

impl OperatorApiFile {
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join(OPERATOR_API_FILE_NAME)
    }

    /// The file of `data_dir`, if there is one. A file that cannot be
    /// parsed is an `InvalidData` error.
    pub fn read(data_dir: &Path) -> io::Result<Option<OperatorApiFile>> {
        match fs::read(Self::path(data_dir)) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes the file readable by its owner only. It is written under a
    /// temporary name and renamed, so a reader never sees half of it.
    pub(crate) fn write(&self, data_dir: &Path) -> io::Result<()> {
        let path = Self::path(data_dir);
        let tmp = data_dir.join(format!("{OPERATOR_API_FILE_NAME}.tmp"));
        // A leftover temporary file may have other permissions; `mode`
        // applies only to files it creates.
        match fs::remove_file(&tmp) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp)?;
        let json = serde_json::to_vec_pretty(self).map_err(io::Error::other)?;
        file.write_all(&json)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, &path)
    }

    /// Removes the file; a missing file is fine.
    pub fn remove(data_dir: &Path) -> io::Result<()> {
        match fs::remove_file(Self::path(data_dir)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// The secret of one server process that acts as the operator at the
/// console. Made fresh by each process, never stored but in its file.
#[derive(Clone)]
pub struct OperatorCredential(String);

impl OperatorCredential {
    /// `chr_local_` and 256 random bits from the OS-seeded CSPRNG, as hex:
    /// an API token's prefix, so clients treat it as one, and `local_`, so
    /// a prefix in a log tells it from a token of the registry.
    pub fn generate() -> Self {
        use rand::Rng;
        let bytes: [u8; 32] = rand::rng().random();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Self(format!("{TOKEN_PREFIX}local_{hex}"))
    }

    pub fn secret(&self) -> &str {
        &self.0
    }

    /// Compares in time independent of where the strings differ, so the
    /// secret cannot be guessed byte by byte from response times. (Its
    /// length is not secret: every one has the same.)
    pub fn matches(&self, presented: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), presented.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl std::fmt::Debug for OperatorCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OperatorCredential(…)")
    }
}

/// Whether `req` came from this machine: its peer is a loopback address,
/// or the address the server listens on (a client of this machine that
/// connects to a server bound to one interface comes from that address;
/// the kernel drops such a source arriving from outside), and no proxy
/// relayed it. Defence in depth behind the secret: a reverse proxy on this
/// machine, whose own connections are loopback ones, must not make the
/// credential usable from anywhere.
pub(crate) fn from_this_machine(req: &HttpRequest) -> bool {
    let relayed = [
        header::FORWARDED,
        header::HeaderName::from_static("x-forwarded-for"),
        header::HeaderName::from_static("x-real-ip"),
    ]
    .iter()
    .any(|h| req.headers().contains_key(h));
    if relayed {
        return false;
    }
    let local = req.app_config().local_addr().ip().to_canonical();
    match req.peer_addr() {
        Some(peer) => {
            let peer = peer.ip().to_canonical();
            peer.is_loopback() || (peer == local && !local.is_unspecified())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn each_credential_is_new_and_matches_only_itself() {
        let a = OperatorCredential::generate();
        let b = OperatorCredential::generate();
        assert_ne!(a.secret(), b.secret(), "a fresh secret per process");
        assert!(a.secret().starts_with("chr_local_"), "{:?}", a.secret());
        assert_eq!(a.secret().len(), "chr_local_".len() + 64);
        assert!(a.matches(a.secret()));
        assert!(!a.matches(b.secret()), "another process's secret");
        let mut near = a.secret().to_owned();
        near.pop();
        assert!(!a.matches(&near), "a prefix");
        near.push('x');
        assert!(!a.matches(&near), "one character off");
        assert!(!a.matches(""));
        assert_eq!(format!("{a:?}"), "OperatorCredential(…)", "never logged");
    }

    fn from(peer: &str) -> TestRequest {
        TestRequest::get().peer_addr(peer.parse().expect("address"))
    }

    #[test]
    fn on_a_loopback_server_only_loopback_peers_are_this_machine() {
        for local in ["127.0.0.1:40000", "[::1]:40000", "[::ffff:127.0.0.1]:40000"] {
            assert!(from_this_machine(&from(local).to_http_request()), "{local}");
        }
        for remote in ["203.0.113.9:40000", "[2001:db8::1]:40000", "10.0.0.1:40000"] {
            assert!(
                !from_this_machine(&from(remote).to_http_request()),
                "{remote}"
            );
        }
        assert!(
            !from_this_machine(&TestRequest::get().to_http_request()),
            "no peer address"
        );
    }

    #[test]
    fn a_request_relayed_by_a_proxy_is_not_from_this_machine() {
        for relay in ["forwarded", "x-forwarded-for", "x-real-ip"] {
            let req = from("127.0.0.1:40000")
                .insert_header((relay, "203.0.113.9"))
                .to_http_request();
            assert!(!from_this_machine(&req), "{relay}");
        }
    }

    #[test]
    fn the_file_is_the_owners_alone_replaced_whole_and_removed_once() {
        let dir = tempfile::tempdir().expect("dir");
        assert_eq!(OperatorApiFile::read(dir.path()).expect("readable"), None);
        let file = OperatorApiFile {
            addr: "127.0.0.1:8080".parse().expect("address"),
            pid: 42,
            token: OperatorCredential::generate().secret().to_owned(),
        };
        file.write(dir.path()).expect("written");
        // A second server's file replaces a stale one.
        let next = OperatorApiFile { pid: 43, ..file };
        next.write(dir.path()).expect("replaced");
        assert_eq!(
            OperatorApiFile::read(dir.path()).expect("readable"),
            Some(next)
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(OperatorApiFile::path(dir.path()))
                .expect("metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "only the owner may read the secret");
        }
        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, [OPERATOR_API_FILE_NAME], "no temporary file left");
        OperatorApiFile::remove(dir.path()).expect("removed");
        OperatorApiFile::remove(dir.path()).expect("removing twice is fine");
        assert_eq!(OperatorApiFile::read(dir.path()).expect("readable"), None);

        fs::write(OperatorApiFile::path(dir.path()), b"{\"addr\":").expect("junk");
        let junk = OperatorApiFile::read(dir.path()).expect_err("half a file");
        assert_eq!(junk.kind(), io::ErrorKind::InvalidData);
    }
}
