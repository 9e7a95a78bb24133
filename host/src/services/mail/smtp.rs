//! One SMTP server as the worker talks to it: a lettre connection opened
//! once and reused for every copy after it (checked with NOOP when it was
//! idle), dropped when it broke, and every command under a timeout.
//!
//! lettre's own pooled transport writes a message's end (`.`) as a write of
//! its own, and its sockets keep Nagle's algorithm on: against a server that
//! delays its ACKs (Linux does, for 40 ms) each message then waits 40 ms —
//! about 25 messages a second. Here the socket is opened with TCP_NODELAY
//! and handed to lettre, which then speaks SMTP (EHLO, STARTTLS, AUTH) on
//! it. Implicit TLS (SMTPS) goes through lettre's own connect, Nagle
//! included, as lettre takes no socket for it.

use std::time::Duration;

use lettre::Message;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;

use crate::domain::{SmtpSecurity, SmtpSettings};

/// How long connecting, or one message's whole conversation, may take.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a copy was not accepted.
#[derive(Debug)]
pub enum SendError {
    /// The server refused this copy for good (5xx): its answer.
    Permanent(String),
    /// The server refused this copy for now (4xx): its answer.
    Transient(String),
    /// The connection failed (refused, timed out, TLS, cut off).
    Connection(String),
}

/// A reusable connection to one SMTP server.
pub struct SmtpClient {
    settings: SmtpSettings,
    connection: Option<AsyncSmtpConnection>,
    /// The connection has sent since it was last checked.
    fresh: bool,
}

impl SmtpClient {
    pub fn new(settings: SmtpSettings) -> Self {
        Self {
            settings,
            connection: None,
            fresh: false,
        }
    }

    pub fn settings(&self) -> &SmtpSettings {
        &self.settings
    }

    /// A connection this pass has not used yet is checked (NOOP) before
    /// its first copy: the server may have closed it meanwhile.
    pub fn new_pass(&mut self) {
        self.fresh = false;
    }

    /// Hands `message` to the server, connecting first if needed.
    pub async fn send(&mut self, message: &Message) -> Result<(), SendError> {
        let sent = tokio::time::timeout(SMTP_TIMEOUT, self.send_now(message)).await;
        let outcome = match sent {
            Ok(outcome) => outcome,
            Err(_) => Err(SendError::Connection(format!(
                "the server did not answer within {} s",
                SMTP_TIMEOUT.as_secs()
            ))),
        };
        // lettre closes a connection on any refusal; a timed-out one is
        // in an unknown state. Either way the next copy connects again.
        if (outcome.is_err() || self.connection.as_ref().is_some_and(|c| c.has_broken()))
            && let Some(mut c) = self.connection.take()
        {
            let _ = tokio::time::timeout(Duration::from_secs(1), c.abort()).await;
        }
        outcome
    }

    async fn send_now(&mut self, message: &Message) -> Result<(), SendError> {
        let usable = match self.connection.as_mut() {
            Some(_) if self.fresh => true,
            Some(c) => c.test_connected().await,
            None => false,
        };
        if !usable {
            // Any failure to connect, a 5xx included (say, 535 on AUTH), waits:
            // no copy can go out until the server or the settings change.
            self.connection = Some(self.connect().await.map_err(SendError::Connection)?);
        }
        let Some(c) = self.connection.as_mut() else {
            return Err(SendError::Connection("no connection".into()));
        };
        self.fresh = true;
        match c.send(message.envelope(), &message.formatted()).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            Err(e) if e.is_transient() => Err(SendError::Transient(e.to_string())),
            Err(e) => Err(SendError::Connection(e.to_string())),
        }
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, String> {
        let s = &self.settings;
        let hello = ClientId::Domain(
            s.from_address
                .rsplit_once('@')
                .map_or("localhost", |(_, d)| d)
                .to_owned(),
        );
        let text = |e: lettre::transport::smtp::Error| e.to_string();
        let tls = || TlsParameters::new(s.host.clone()).map_err(text);
        let mut c = match s.security {
            SmtpSecurity::Tls => AsyncSmtpConnection::connect_tokio1(
                (s.host.as_str(), s.port),
                Some(SMTP_TIMEOUT),
                &hello,
                Some(tls()?),
                None,
            )
            .await
            .map_err(text)?,
            SmtpSecurity::None | SmtpSecurity::StartTls => {
                let tcp = tokio::net::TcpStream::connect((s.host.as_str(), s.port))
                    .await
                    .map_err(|e| format!("cannot connect to {}:{}: {e}", s.host, s.port))?;
                tcp.set_nodelay(true)
                    .map_err(|e| format!("TCP_NODELAY: {e}"))?;
                let mut c = AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello)
                    .await
                    .map_err(text)?;
                if s.security == SmtpSecurity::StartTls {
                    c.starttls(tls()?, &hello).await.map_err(text)?;
                }
                c
            }
        };
        if let (Some(user), Some(password)) = (&s.username, &s.password) {
            c.auth(
                DEFAULT_MECHANISMS,
                &Credentials::new(user.clone(), password.clone()),
            )
            .await
            .map_err(text)?;
        }
        Ok(c)
    }
}
