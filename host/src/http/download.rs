//! A stored file served for download: always as an attachment, with a
//! type browsers show passively or the generic binary type, and a
//! sandboxing CSP on top of the host's headers — an uploaded HTML or SVG
//! file is never rendered as a page of the site.
//!
//! Shared by the pages and the JSON API; it decides nothing about who may
//! download (the services did).

use actix_web::HttpResponse;
use actix_web::http::header;

use crate::domain::SubmittedFile;
use crate::services::assignments::download_content_type;

/// `name` as an ASCII `filename=` value: quotes, backslashes and anything
/// outside printable ASCII replaced.
fn ascii_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `name` percent-encoded for RFC 5987's `filename*=UTF-8''…`.
fn encoded_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The response carrying `content` as the download of `file`.
pub(crate) fn attachment(file: &SubmittedFile, content: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(download_content_type(file))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"{}\"; filename*=UTF-8''{}",
                ascii_name(&file.name),
                encoded_name(&file.name)
            ),
        ))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "sandbox; default-src 'none'",
        ))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(content)
}

/// The response carrying a gradebook export (CSV or XLSX the host wrote
/// itself) as an attachment.
pub(crate) fn export(export: crate::services::gradebook::export::Export) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(export.content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"{}\"; filename*=UTF-8''{}",
                ascii_name(&export.filename),
                encoded_name(&export.filename)
            ),
        ))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(export.bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_break_out_of_the_header() {
        assert_eq!(ascii_name("a\"b\\c\r\nd é.pdf"), "a_b_c__d _.pdf");
        assert_eq!(encoded_name("é a.pdf"), "%C3%A9%20a.pdf");
    }
}
