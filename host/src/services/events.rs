//! The in-process event stream.
//!
//! Services write each event to the site's outbox table inside the
//! transaction that made the change, then publish it here after the commit.
//! A subscriber that lags or restarts catches up from the outbox by
//! sequence number (`SiteServices::events_after`), so a missed broadcast
//! never loses an event.

use tokio::sync::broadcast;

use crate::domain::EventEnvelope;

/// Fan-out of committed events to in-process consumers (the plugin runtime).
#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<EventEnvelope>,
}

impl EventBus {
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity);
        Self { tx }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<EventEnvelope> {
        self.tx.subscribe()
    }

    /// Publishes committed events. Having no subscriber is fine: the outbox
    /// keeps them.
    pub(crate) fn publish(&self, events: Vec<EventEnvelope>) {
        if self.tx.receiver_count() == 0 {
            return;
        }
        for e in events {
            let _ = self.tx.send(e);
        }
    }
}
