//! Submitted files before they are stored: a file's name, size and type
//! checked against its assignment's limits and the host's cap, its digest
//! taken, and the type a download may be served with.
//!
//! Everything here runs before the write transaction opens (a 10 MiB
//! digest is milliseconds the store need not be held for); it never
//! writes and never decides who may submit.

use sha2::{Digest, Sha256};

use crate::domain::{AssignmentSettings, SubmittedFile};
use crate::services::error::{ServiceError, ServiceResult};

/// The largest file any assignment may accept (its own limit lies within
/// it): the whole file is held in memory by the upload and the digest.
pub const HOST_MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// The most files any assignment may accept per submission.
pub const HOST_MAX_FILES: u32 = 20;
/// The longest file name, in characters.
pub const MAX_FILE_NAME: usize = 200;

/// A file as uploaded: its name, the type the uploader claimed, its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewFile {
    pub name: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// A file checked and digested, ready to be stored with its submission.
#[derive(Clone, Debug)]
pub(crate) struct CheckedFile {
    pub meta: SubmittedFile,
    pub content: Vec<u8>,
}

/// `bytes` in the unit a person reads a file size in: whole when exact,
/// else to the nearest tenth.
pub fn human_size(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    let (unit, name) = match bytes {
        b if b >= MIB => (MIB, "MiB"),
        b if b >= KIB => (KIB, "KiB"),
        b => return format!("{b} bytes"),
    };
    if bytes.is_multiple_of(unit) {
        return format!("{} {name}", bytes / unit);
    }
    let tenths = (bytes * 10 + unit / 2) / unit;
    format!("{}.{} {name}", tenths / 10, tenths % 10)
}

/// The name of an uploaded file, without any folder a browser sent and
/// with characters no file system or header should see replaced.
fn clean_name(name: &str) -> ServiceResult<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    let cleaned: String = base
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '"' | '<' | '>' | '|' | ':' | '*' | '?') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim_start_matches('.').to_owned();
    if cleaned.is_empty() {
        return Err(ServiceError::invalid("file", "has no name; choose a file"));
    }
    if cleaned.chars().count() > MAX_FILE_NAME {
        return Err(ServiceError::invalid(
            "file",
            format!("its name is longer than {MAX_FILE_NAME} characters; rename it"),
        ));
    }
    Ok(cleaned)
}

/// A MIME type as `type/subtype` in lower case, or the generic binary type
/// when the claim is not one.
fn clean_content_type(claimed: &str) -> String {
    let essence = claimed
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let token = |s: &str| {
        !s.is_empty()
            && s.len() <= 100
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    match essence.split_once('/') {
        Some((a, b)) if token(a) && token(b) => essence,
        _ => "application/octet-stream".to_owned(),
    }
}

/// Checks `file` against `settings` and digests it. Over the assignment's
/// limit (or the host's) is an error naming the limit; nothing is stored.
pub(crate) fn check_file(
    settings: &AssignmentSettings,
    file: NewFile,
) -> ServiceResult<CheckedFile> {
    if !settings.file_submissions {
        return Err(ServiceError::invalid(
            "file",
            "this assignment takes no files; type your answer instead",
        ));
    }
    let name = clean_name(&file.name)?;
    let bytes = file.content.len() as u64;
    let limit = settings.max_file_bytes.min(HOST_MAX_FILE_BYTES);
    if bytes > limit {
        return Err(ServiceError::invalid(
            "file",
            format!(
                "“{name}” is {}; this assignment accepts files of at most {}",
                human_size(bytes),
                human_size(limit)
            ),
        ));
    }
    if bytes == 0 {
        return Err(ServiceError::invalid("file", format!("“{name}” is empty")));
    }
    let sha256: [u8; 32] = Sha256::digest(&file.content).into();
    Ok(CheckedFile {
        meta: SubmittedFile {
            name,
            sha256,
            bytes,
            content_type: clean_content_type(&file.content_type),
        },
        content: file.content,
    })
}

/// The type a download of `file` is served with: its own when browsers
/// show it passively (images, PDF, plain text, archives…), else the
/// generic binary type — an uploaded HTML, SVG or script file is never
/// served as something a browser would run, whatever it claimed.
pub fn download_content_type(file: &SubmittedFile) -> &str {
    const PASSIVE: &[&str] = &[
        "application/pdf",
        "application/zip",
        "application/msword",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "text/plain",
        "text/csv",
        "audio/mpeg",
        "video/mp4",
    ];
    if PASSIVE.contains(&file.content_type.as_str()) {
        &file.content_type
    } else {
        "application/octet-stream"
    }
}

/// `hex` as a SHA-256 digest (64 hex digits), if it is one.
pub fn parse_sha256(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ActivityId, CourseId, GradeItemId};

    fn settings(max_file_bytes: u64) -> AssignmentSettings {
        AssignmentSettings {
            activity: ActivityId(1),
            course: CourseId(1),
            due_at: None,
            cutoff_at: None,
            max_grade: 10.0,
            online_text: true,
            file_submissions: true,
            max_file_bytes,
            max_files: 3,
            group_submission: false,
            grade_item: GradeItemId(1),
        }
    }

    fn file(name: &str, ty: &str, n: usize) -> NewFile {
        NewFile {
            name: name.into(),
            content_type: ty.into(),
            content: vec![b'x'; n],
        }
    }

    #[test]
    fn a_file_over_the_limit_is_refused_with_the_limit_named() {
        let err = check_file(
            &settings(1024 * 1024),
            file("big.pdf", "application/pdf", 1024 * 1024 + 1),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("at most 1 MiB"), "{text}");
        assert!(text.contains("big.pdf"), "{text}");
        assert!(
            check_file(
                &settings(1024 * 1024),
                file("ok.pdf", "application/pdf", 1024 * 1024)
            )
            .is_ok()
        );
    }

    #[test]
    fn names_lose_their_folders_and_types_their_parameters() {
        let f = check_file(
            &settings(100),
            file("C:\\x\\..\\a<b>.txt", "Text/Plain; charset=utf-8", 3),
        )
        .unwrap();
        assert_eq!(f.meta.name, "a_b_.txt");
        assert_eq!(f.meta.content_type, "text/plain");
        let f = check_file(&settings(100), file("../../etc/passwd", "nonsense", 3)).unwrap();
        assert_eq!(f.meta.name, "passwd");
        assert_eq!(f.meta.content_type, "application/octet-stream");
        assert!(check_file(&settings(100), file("/", "text/plain", 3)).is_err());
    }

    #[test]
    fn html_and_svg_are_never_served_as_themselves() {
        for ty in [
            "text/html",
            "image/svg+xml",
            "application/xhtml+xml",
            "text/javascript",
        ] {
            let f = check_file(&settings(100), file("x", ty, 3)).unwrap();
            assert_eq!(
                download_content_type(&f.meta),
                "application/octet-stream",
                "{ty}"
            );
        }
        let f = check_file(&settings(100), file("x.pdf", "application/pdf", 3)).unwrap();
        assert_eq!(download_content_type(&f.meta), "application/pdf");
    }

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(human_size(1024), "1 KiB");
        assert_eq!(human_size(1048), "1.0 KiB");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(10 * 1024 * 1024), "10 MiB");
        assert_eq!(human_size(999), "999 bytes");
    }

    #[test]
    fn digests_read_back_from_hex() {
        let f = check_file(&settings(100), file("x", "text/plain", 3)).unwrap();
        assert_eq!(parse_sha256(&f.meta.sha256_hex()), Some(f.meta.sha256));
        assert_eq!(parse_sha256("zz"), None);
    }
}
