//! Request bodies: how long a client may take to send one, how large one
//! may be, and how many uploads are read at once, so that slow or
//! oversized clients cannot pin connections or memory.
//!
//! - **A deadline.** Headers are cut at 5 s by actix; a body gets
//!   [`BodyLimits::deadline`] from the moment its headers arrived
//!   ([`with_deadline`] wraps every request's payload). Past it the body
//!   read fails, the request is answered 408 and the connection closed.
//! - **Size before reading.** [`read_limited`] refuses a body whose
//!   `Content-Length` is over the limit without reading a byte of it, and
//!   counts a chunked body without keeping anything past the limit.
//!   (actix's JSON and form extractors already refuse on `Content-Length`.)
//! - **Uploads at once.** Reading a large body (a component, a CSV file)
//!   holds one of [`BodyLimits::uploads`] permits; when none is free the
//!   answer is 503 with `Retry-After`, at once.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::dev::{Payload, ServiceRequest};
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::web::{self, Bytes, BytesMut};
use actix_web::{HttpMessage, HttpRequest};
use futures_core::Stream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::HttpError;

/// The default of [`BodyLimits::deadline`] (`serve --body-timeout-secs`).
pub const DEFAULT_BODY_DEADLINE: Duration = Duration::from_secs(30);
/// The default of how many uploads are read at once
/// (`serve --max-concurrent-uploads`).
pub const DEFAULT_CONCURRENT_UPLOADS: usize = 8;

/// What every request body is held to.
#[derive(Clone, Debug)]
pub struct BodyLimits {
    pub deadline: Duration,
    uploads: Arc<Semaphore>,
}

impl Default for BodyLimits {
    fn default() -> Self {
        Self::new(DEFAULT_BODY_DEADLINE, DEFAULT_CONCURRENT_UPLOADS)
    }
}

impl BodyLimits {
    pub fn new(deadline: Duration, concurrent_uploads: usize) -> Self {
        Self {
            deadline,
            uploads: Arc::new(Semaphore::new(concurrent_uploads.max(1))),
        }
    }

    /// A permit to read one upload, or 503 at once when all are taken.
    pub(crate) fn upload_permit(&self) -> Result<OwnedSemaphorePermit, HttpError> {
        self.uploads
            .clone()
            .try_acquire_owned()
            .map_err(|_| HttpError::UploadsBusy)
    }
}

/// A permit to read one upload under the server's cap, or 503 at once when
/// all are taken. (An app without state, as in unit tests, has a cap of
/// its own.)
pub(crate) fn upload_permit(req: &HttpRequest) -> Result<OwnedSemaphorePermit, HttpError> {
    req.app_data::<web::Data<super::AppState>>()
        .map(|s| s.body_limits().clone())
        .unwrap_or_default()
        .upload_permit()
}

/// Gives the request's body, if it has one, the deadline of `limits`.
pub(crate) fn with_deadline(req: &mut ServiceRequest, limits: &BodyLimits) {
    let has_body = req.headers().contains_key(header::TRANSFER_ENCODING)
        || req
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0");
    if !has_body {
        return;
    }
    let inner = req.take_payload();
    let timed = Deadline {
        inner,
        sleep: Box::pin(tokio::time::sleep(limits.deadline)),
        after: limits.deadline,
        expired: false,
    };
    req.set_payload(Payload::from(
        Box::pin(timed) as Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>
    ));
}

/// A payload that fails once its deadline has passed.
struct Deadline {
    inner: Payload,
    sleep: Pin<Box<tokio::time::Sleep>>,
    after: Duration,
    expired: bool,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.expired {
            return Poll::Ready(None);
        }
        if self.sleep.as_mut().poll(cx).is_ready() {
            self.expired = true;
            return Poll::Ready(Some(Err(PayloadError::Io(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "the request body was not sent within {} s",
                    self.after.as_secs()
                ),
            )))));
        }
        Pin::new(&mut self.inner).poll_next(cx)
    }
}

/// Whether a body read failed because its deadline passed.
pub(crate) fn is_timeout(e: &PayloadError) -> bool {
    matches!(e, PayloadError::Io(io) if io.kind() == io::ErrorKind::TimedOut)
}

/// The error of a failed body read: 408 for the deadline, 400 otherwise.
pub(crate) fn read_error(e: PayloadError, what: &str) -> HttpError {
    if is_timeout(&e) {
        HttpError::BodyTimeout
    } else {
        HttpError::BadRequest(format!("the {what} could not be read: {e}"))
    }
}

/// The `Content-Length` a request declares, if any.
pub(crate) fn declared_length(req: &HttpRequest) -> Option<usize> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
}

/// What [`read_limited`] found.
pub(crate) enum Limited {
    /// The whole body, within the limit.
    Within(Bytes),
    /// Larger than the limit: how large, as far as it is known (the
    /// declared length, or the bytes counted before reading stopped).
    TooLarge(usize),
}

/// Reads a body of at most `limit` bytes (`declared`: its `Content-Length`,
/// see [`declared_length`]). One declared larger is refused
/// before a byte is read; a chunked one is kept only up to `limit` and
/// then merely counted, up to `count_to` bytes (so a browser that sent a
/// little too much still reads the page saying so), then reading stops.
pub(crate) async fn read_limited<S>(
    declared: Option<usize>,
    mut payload: S,
    limit: usize,
    count_to: usize,
) -> Result<Limited, HttpError>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    if let Some(n) = declared.filter(|&n| n > limit) {
        return Ok(Limited::TooLarge(n));
    }
    let mut kept = BytesMut::new();
    let mut seen = 0usize;
    while let Some(chunk) = std::future::poll_fn(|cx| Pin::new(&mut payload).poll_next(cx)).await {
        let chunk = chunk.map_err(|e| read_error(e, "body"))?;
        seen = seen.saturating_add(chunk.len());
        if seen <= limit {
            kept.extend_from_slice(&chunk);
        } else {
            // Past the limit nothing more is kept: the memory of an
            // oversized body is the limit, not the body.
            kept = BytesMut::new();
            if seen > count_to {
                break;
            }
        }
    }
    Ok(if seen <= limit {
        Limited::Within(kept.freeze())
    } else {
        Limited::TooLarge(seen)
    })
}

#[cfg(test)]
mod tests {
    use actix_web::http::StatusCode;
    use actix_web::test::{self, TestRequest};
    use actix_web::{App, HttpResponse, web};

    use super::*;

    async fn echo_length(req: HttpRequest, body: web::Payload) -> Result<HttpResponse, HttpError> {
        match read_limited(declared_length(&req), body, 10, 20).await? {
            Limited::Within(b) => Ok(HttpResponse::Ok().body(b.len().to_string())),
            Limited::TooLarge(n) => Ok(HttpResponse::PayloadTooLarge().body(n.to_string())),
        }
    }

    #[actix_web::test]
    async fn a_declared_length_over_the_limit_is_refused_unread() {
        let app = test::init_service(App::new().route("/", web::post().to(echo_length))).await;
        let small = test::call_service(
            &app,
            TestRequest::post()
                .uri("/")
                .set_payload("0123456789")
                .to_request(),
        )
        .await;
        assert_eq!(small.status(), StatusCode::OK);
        // The header says 50 MB; the body (never read) is 11 bytes.
        // (`set_payload` sets a length of its own, so the header goes after.)
        let big = test::call_service(
            &app,
            TestRequest::post()
                .uri("/")
                .set_payload("01234567890")
                .insert_header((header::CONTENT_LENGTH, "52428800"))
                .to_request(),
        )
        .await;
        assert_eq!(big.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(test::read_body(big).await, "52428800");
    }

    /// A client that sent its headers and then nothing more.
    struct Silent;

    impl Stream for Silent {
        type Item = Result<Bytes, PayloadError>;
        fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            Poll::Pending
        }
    }

    #[actix_web::test]
    async fn a_body_past_its_deadline_fails_as_a_timeout() {
        let limits = BodyLimits::new(Duration::from_millis(20), 1);
        let mut req = TestRequest::post()
            .insert_header((header::TRANSFER_ENCODING, "chunked"))
            .to_srv_request();
        req.set_payload(Payload::from(
            Box::pin(Silent) as Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>
        ));
        with_deadline(&mut req, &limits);
        let mut payload = req.take_payload();
        let first = std::future::poll_fn(|cx| Pin::new(&mut payload).poll_next(cx)).await;
        assert!(
            matches!(first, Some(Err(ref e)) if is_timeout(e)),
            "{first:?}"
        );
        let after = std::future::poll_fn(|cx| Pin::new(&mut payload).poll_next(cx)).await;
        assert!(after.is_none(), "one error, then the end");
    }

    #[test]
    fn uploads_past_the_cap_are_told_to_come_back() {
        let limits = BodyLimits::new(DEFAULT_BODY_DEADLINE, 2);
        let held = (
            limits.upload_permit().unwrap(),
            limits.upload_permit().unwrap(),
        );
        assert!(matches!(
            limits.upload_permit(),
            Err(HttpError::UploadsBusy)
        ));
        drop(held);
        assert!(limits.upload_permit().is_ok());
    }
}
