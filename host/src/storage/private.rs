//! The data dir is the host's alone: its files hold password, token and
//! session hashes, so only the user the host runs as may read them.
//!
//! Folders are created `0700` and files `0600`, whatever the process's
//! umask. At start [`secure_data_dir`] refuses a data dir that belongs to
//! another user (serving it would either fail later or, worse, keep
//! someone else's secrets readable) and tightens whatever an older Charon
//! or a copy left open to others, with one log line naming what changed.
//! Elsewhere (no Unix modes) these are plain creates.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use super::{Result, StorageError};

fn io_error(path: &Path, source: io::Error) -> StorageError {
    StorageError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Creates `dir` and any missing parents, readable by the owner only.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|e| io_error(dir, e))
}

/// Options that create a file readable by the owner only (a file that
/// exists keeps its mode: [`secure_data_dir`] saw to it at start).
pub fn private_file_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// Makes sure `path` exists as a file only the owner may read, without
/// touching its contents: redb then opens it (an empty file is a new
/// database to redb), and the mode it was created with stays.
pub fn touch_private_file(path: &Path) -> Result<File> {
    private_file_options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| io_error(path, e))
}

/// Creates the data dir if it is missing, refuses one owned by another
/// user, and takes group and other permissions away from everything in
/// it. Returns the paths it tightened.
pub fn secure_data_dir(dir: &Path) -> Result<Vec<PathBuf>> {
    create_private_dir(dir)?;
    check_owner(dir)?;
    let mut tightened = Vec::new();
    tighten(dir, true, &mut tightened)?;
    if !tightened.is_empty() {
        let shown: Vec<String> = tightened
            .iter()
            .take(5)
            .map(|p| p.display().to_string())
            .collect();
        tracing::warn!(
            data_dir = %dir.display(),
            count = tightened.len(),
            "took group and other permissions away from {} path(s) of the data dir, which hold \
             password, token and session hashes: {}{}",
            tightened.len(),
            shown.join(", "),
            if tightened.len() > shown.len() { ", …" } else { "" }
        );
    }
    Ok(tightened)
}

#[cfg(unix)]
fn check_owner(dir: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let owner = fs::metadata(dir).map_err(|e| io_error(dir, e))?.uid();
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if owner == me {
        Ok(())
    } else {
        Err(StorageError::ForeignDataDir {
            path: dir.display().to_string(),
            owner,
            me,
        })
    }
}

#[cfg(not(unix))]
fn check_owner(_dir: &Path) -> Result<()> {
    Ok(())
}

#[cfg(unix)]
fn tighten(path: &Path, is_dir: bool, tightened: &mut Vec<PathBuf>) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = fs::symlink_metadata(path).map_err(|e| io_error(path, e))?;
    if meta.file_type().is_symlink() {
        // A link's target may be anyone's; following it could change
        // modes outside the data dir.
        return Ok(());
    }
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        fs::set_permissions(path, fs::Permissions::from_mode(mode & !0o077))
            .map_err(|e| io_error(path, e))?;
        tightened.push(path.to_owned());
    }
    if is_dir {
        for entry in fs::read_dir(path).map_err(|e| io_error(path, e))? {
            let entry = entry.map_err(|e| io_error(path, e))?;
            let kind = entry.file_type().map_err(|e| io_error(&entry.path(), e))?;
            tighten(&entry.path(), kind.is_dir(), tightened)?;
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn tighten(_path: &Path, _is_dir: bool, _tightened: &mut Vec<PathBuf>) -> Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_data_dir_and_its_files_are_the_owners_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("a/data");
        assert!(secure_data_dir(&data).unwrap().is_empty());
        assert_eq!(mode(&data), 0o700);
        let file = data.join("registry.redb");
        drop(touch_private_file(&file).unwrap());
        assert_eq!(mode(&file), 0o600);
    }

    #[test]
    fn an_open_data_dir_is_tightened_at_start_and_says_so() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        fs::create_dir_all(data.join("sites")).unwrap();
        fs::write(data.join("sites/acme.redb"), b"x").unwrap();
        fs::write(data.join("registry.redb"), b"x").unwrap();
        for (p, m) in [
            (data.clone(), 0o755),
            (data.join("sites"), 0o775),
            (data.join("sites/acme.redb"), 0o644),
            (data.join("registry.redb"), 0o600),
        ] {
            fs::set_permissions(&p, fs::Permissions::from_mode(m)).unwrap();
        }
        let tightened = secure_data_dir(&data).unwrap();
        assert_eq!(tightened.len(), 3, "{tightened:?}");
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&data.join("sites")), 0o700);
        assert_eq!(mode(&data.join("sites/acme.redb")), 0o600);
        assert_eq!(fs::read(data.join("sites/acme.redb")).unwrap(), b"x");
        assert!(secure_data_dir(&data).unwrap().is_empty(), "once is enough");
    }

    #[test]
    fn a_data_dir_of_another_user_is_refused_untouched() {
        // SAFETY: no preconditions.
        let me = unsafe { libc::geteuid() };
        let (dir, _tmp) = if me == 0 {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path().join("theirs");
            fs::create_dir(&dir).unwrap();
            fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
            std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).unwrap();
            (dir, Some(tmp))
        } else {
            // Not root: `/` is someone else's, and the refusal comes
            // before anything would be changed.
            (PathBuf::from("/"), None)
        };
        let before = fs::metadata(&dir).unwrap();
        let refused = secure_data_dir(&dir).unwrap_err();
        assert!(
            matches!(refused, StorageError::ForeignDataDir { .. }),
            "{refused}"
        );
        assert!(refused.to_string().contains("owned by"), "{refused}");
        let after = fs::metadata(&dir).unwrap();
        assert_eq!(before.mode(), after.mode());
    }
}
