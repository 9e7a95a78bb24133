//! File uploads of page forms: `multipart/form-data`, the only way an HTML
//! form sends a file.
//!
//! The forms that upload (a plugin component, a CSV file) send one small
//! text field (`csrf`) and one file, so the body is read here with a
//! bounded parser of that shape rather than with a multipart crate: one
//! dependency fewer, and the whole body is needed in memory anyway (the
//! runtime checks a component whole; an import checks every row before it
//! writes). [`read_upload`] reads the body within a limit and says how
//! large it was when it is over, so the form can answer with the size
//! rather than a bare 413.

use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web;

use super::super::HttpError;
use super::super::body::{Limited, declared_length, read_limited};
use super::session::same_token;

/// Bytes of multipart framing (boundaries, part headers, the `csrf`
/// field) allowed around the largest file.
pub(crate) const FRAMING_SLACK: usize = 64 * 1024;

/// What a multipart upload carried.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Upload {
    /// The `csrf` field (empty when absent).
    pub csrf: String,
    /// The file part's bytes (empty when no file was chosen).
    pub file: Vec<u8>,
    /// The file name the browser sent with it.
    pub filename: String,
    /// The type the browser sent with it (empty when none).
    pub file_type: String,
    /// The form's other fields, in order (a field may repeat).
    pub fields: Vec<(String, String)>,
}

impl Upload {
    /// Whether the form's token is the session's (`expected`).
    pub fn token_is(&self, expected: &str) -> bool {
        !expected.is_empty() && same_token(&self.csrf, expected)
    }
}

/// The answer of [`read_upload`].
pub(crate) enum Body {
    /// The whole body, within the limit.
    Within(web::Bytes),
    /// Larger than the limit: how large, as far as it is known (the
    /// bytes read, or the `Content-Length` of a body too large to read).
    TooLarge(usize),
}

/// Reads a body of at most `limit` bytes (plus the framing slack), holding
/// one of the host's upload slots while it does. A body declared larger
/// is refused unread; a chunked one is kept only up to the limit and then
/// counted, up to twice the limit, and thrown away: answering before a
/// browser has sent its body makes it show a reset connection instead of
/// the page that says what is wrong.
pub(crate) async fn read_upload(
    req: &HttpRequest,
    body: web::Payload,
    limit: usize,
) -> Result<Body, HttpError> {
    let keep = limit.saturating_add(FRAMING_SLACK);
    let _permit = crate::http::body::upload_permit(req)?;
    Ok(
        match read_limited(declared_length(req), body, keep, keep.saturating_mul(2)).await? {
            Limited::Within(bytes) => Body::Within(bytes),
            Limited::TooLarge(n) => Body::TooLarge(n),
        },
    )
}

/// The whole `Content-Type` header: `HttpRequest::content_type()` drops
/// the boundary parameter.
pub(crate) fn content_type(req: &HttpRequest) -> String {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The `boundary` parameter of a `multipart/form-data` content type.
fn boundary_of(content_type: &str) -> Option<String> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_owned())
            .filter(|b| !b.is_empty() && b.len() <= 70)
    })
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// One part of a multipart body.
struct Part<'a> {
    name: String,
    filename: Option<String>,
    content_type: Option<String>,
    bytes: &'a [u8],
}

/// A `key="value"` parameter of a `Content-Disposition` header.
fn disposition_param(value: &str, key: &str) -> Option<String> {
    value.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(key)
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// The named parts of a `multipart/form-data` body, as a browser sends a
/// form's fields and files; `None` when the body is not of that shape.
fn multipart_parts<'a>(body: &'a [u8], boundary: &str) -> Option<Vec<Part<'a>>> {
    let delimiter = format!("--{boundary}");
    let next_part = format!("\r\n--{boundary}");
    let mut at = find(body, delimiter.as_bytes(), 0)? + delimiter.len();
    let mut parts = Vec::new();
    loop {
        let rest = body.get(at..)?;
        if rest.starts_with(b"--") {
            return Some(parts);
        }
        at += rest.starts_with(b"\r\n").then_some(2)?;
        let headers_end = find(body, b"\r\n\r\n", at)?;
        let headers = std::str::from_utf8(&body[at..headers_end]).ok()?;
        let disposition = headers.lines().find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("content-disposition")
                .then_some(v)
        })?;
        let name = disposition_param(disposition, "name")?;
        let filename = disposition_param(disposition, "filename");
        let content_type = headers.lines().find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("content-type")
                .then(|| v.trim().to_owned())
        });
        let start = headers_end + 4;
        let end = find(body, next_part.as_bytes(), start)?;
        parts.push(Part {
            name,
            filename,
            content_type,
            bytes: &body[start..end],
        });
        at = end + next_part.len();
    }
}

/// The CSRF token and the file `field` of an upload. A body that is not
/// multipart (or lacks its token) yields no token, so it is refused as
/// any form without one.
pub(crate) fn upload_fields(content_type: &str, body: &[u8], field: &str) -> Upload {
    let Some(parts) = boundary_of(content_type).and_then(|b| multipart_parts(body, &b)) else {
        #[derive(serde::Deserialize)]
        struct Token {
            #[serde(default)]
            csrf: String,
        }
        let csrf = serde_html_form::from_bytes::<Token>(body).map_or(String::new(), |t| t.csrf);
        return Upload {
            csrf,
            ..Upload::default()
        };
    };
    let mut upload = Upload::default();
    for part in parts {
        if part.name == "csrf" {
            upload.csrf = String::from_utf8_lossy(part.bytes).into_owned();
        } else if part.name == field {
            upload.file = part.bytes.to_vec();
            upload.filename = part.filename.unwrap_or_default();
            upload.file_type = part.content_type.unwrap_or_default();
        } else if part.filename.is_none() {
            let value = String::from_utf8_lossy(part.bytes).into_owned();
            upload.fields.push((part.name, value));
        }
    }
    upload
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_browser_upload_yields_its_token_and_file() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nt0k\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"plugin\"; filename=\"a.wasm\"\r\nContent-Type: application/wasm\r\n\r\n\0asm\r\n--X\r\n\
--XyZ--\r\n";
        let upload = upload_fields("multipart/form-data; boundary=\"XyZ\"", body, "plugin");
        assert_eq!(upload.csrf, "t0k");
        assert_eq!(upload.file, b"\0asm\r\n--X");
        assert_eq!(upload.filename, "a.wasm");
        assert!(upload.token_is("t0k"));
        assert!(!upload.token_is("t0l"));
        assert!(!upload.token_is(""));
        let other = upload_fields("multipart/form-data; boundary=\"XyZ\"", body, "file");
        assert_eq!(other.file, b"", "another field's file is not this one");
    }

    #[test]
    fn a_body_of_another_shape_yields_no_file() {
        assert_eq!(
            upload_fields("application/x-www-form-urlencoded", b"csrf=abc", "plugin"),
            Upload {
                csrf: "abc".into(),
                ..Upload::default()
            }
        );
        assert_eq!(
            upload_fields(
                "multipart/form-data; boundary=B",
                b"--B\r\nno end",
                "plugin"
            ),
            Upload::default()
        );
        assert_eq!(
            upload_fields("text/plain", b"\xff", "plugin"),
            Upload::default()
        );
    }
}
