//! The hand-written encoding of a write transaction's audit entries, and
//! the chunk rows of the audit table made from it.
//!
//! Each entry is encoded as it is logged, exactly as postcard encodes its
//! [`AuditEntry`], so the rows decode with serde like any other record
//! (`FORMAT.md` argues why the two agree; the test below holds them
//! together). This module owns the bytes; it never touches a table.

use super::CHUNK;
use crate::domain::{Actor, AuditEntry, AuditId, AuditTarget, Timestamp};
use crate::storage::{Result, decode, encode};

/// A write transaction's audit entries not yet in the table, encoded as
/// they are logged: each is postcard's encoding of its [`AuditEntry`],
/// back to back, so a chunk row is its count followed by a slice of
/// `bytes`. Keeping `AuditEntry` values instead cost three strings per
/// entry — made, moved, encoded at flush and freed — and a 100,000-member
/// sync logs 200,000 entries. The encoding is written by hand (postcard's
/// format: LEB128 varints, zigzag for signed, enum variant index first,
/// strings length-first): through serde it was a twentieth of such a sync.
/// `audit_entries_are_encoded_exactly_as_postcard_encodes_them` holds the
/// two together.
#[derive(Default)]
pub(super) struct EncodedAudit {
    bytes: Vec<u8>,
    /// Where each entry's encoding ends in `bytes`.
    ends: Vec<usize>,
    /// The id of the first entry; the others follow it one by one.
    first: u64,
}

/// postcard's unsigned varint (LEB128).
fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

/// Text an audit entry is made of (its action, target and reason), as it
/// is written into the entry's encoding: a postcard string, its length
/// and then its UTF-8. Strings are copied, `format_args!` is printed in
/// place, and an [`AuditTarget`] is written digit by digit: a sync logs
/// 200,000 entries, and the formatting machinery's per-argument cost was
/// most of their encoding.
pub trait AuditText {
    fn put(&self, buf: &mut Vec<u8>);
}

impl AuditText for str {
    fn put(&self, buf: &mut Vec<u8>) {
        put_varint(buf, self.len() as u64);
        buf.extend_from_slice(self.as_bytes());
    }
}

impl AuditText for String {
    fn put(&self, buf: &mut Vec<u8>) {
        self.as_str().put(buf)
    }
}

impl<T: AuditText + ?Sized> AuditText for &T {
    fn put(&self, buf: &mut Vec<u8>) {
        (**self).put(buf)
    }
}

impl AuditText for std::fmt::Arguments<'_> {
    fn put(&self, buf: &mut Vec<u8>) {
        put_display(buf, self)
    }
}

impl AuditText for AuditTarget {
    fn put(&self, buf: &mut Vec<u8>) {
        put_text(buf, |buf| {
            for (words, id) in self.pieces() {
                buf.extend_from_slice(words.as_bytes());
                let mut digits = [0u8; 20];
                let mut at = digits.len();
                let mut n = id;
                loop {
                    at -= 1;
                    digits[at] = b'0' + (n % 10) as u8;
                    n /= 10;
                    if n == 0 {
                        break;
                    }
                }
                buf.extend_from_slice(&digits[at..]);
            }
        })
    }
}

/// A `Display` value as a postcard string, printed straight into `buf`.
fn put_display(buf: &mut Vec<u8>, value: impl std::fmt::Display) {
    struct Out<'a>(&'a mut Vec<u8>);
    impl std::fmt::Write for Out<'_> {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0.extend_from_slice(s.as_bytes());
            Ok(())
        }
    }
    put_text(buf, |buf| {
        // Writing into a Vec fails only if a Display impl does.
        let _ = std::fmt::Write::write_fmt(&mut Out(buf), format_args!("{value}"));
    })
}

/// A postcard string whose length is known only once `write` has written
/// its UTF-8 into `buf`.
fn put_text(buf: &mut Vec<u8>, write: impl FnOnce(&mut Vec<u8>)) {
    let at = buf.len();
    // Room for a one-byte length, which every target and reason so far
    // needs (under 128 bytes); a longer one moves the text along.
    buf.push(0);
    write(buf);
    let len = buf.len() - at - 1;
    if len < 0x80 {
        buf[at] = len as u8;
    } else {
        let mut prefix = Vec::with_capacity(3);
        put_varint(&mut prefix, len as u64);
        buf.splice(at..=at, prefix);
    }
}

impl EncodedAudit {
    pub(super) fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub(super) fn push(
        &mut self,
        id: AuditId,
        at: Timestamp,
        actor: Actor,
        action: &str,
        target: impl AuditText,
        reason: impl AuditText,
    ) {
        if self.ends.is_empty() {
            self.first = id.0;
        }
        let buf = &mut self.bytes;
        put_varint(buf, id.0);
        put_varint(buf, ((at.0 << 1) ^ (at.0 >> 63)) as u64);
        // Variant indices in declaration order, as serde numbers them.
        match actor {
            Actor::Operator(o) => {
                put_varint(buf, 0);
                put_varint(buf, o.0);
            }
            Actor::User(u) => {
                put_varint(buf, 1);
                put_varint(buf, u.0);
            }
            Actor::Method(m) => {
                put_varint(buf, 2);
                put_varint(buf, m.0);
            }
            Actor::System => put_varint(buf, 3),
            Actor::Rule(s) => {
                put_varint(buf, 4);
                put_varint(buf, s.0);
            }
        }
        action.put(buf);
        target.put(buf);
        reason.put(buf);
        self.ends.push(buf.len());
    }

    pub(super) fn last_id(&self) -> Option<u64> {
        (!self.ends.is_empty()).then(|| self.first + self.ends.len() as u64 - 1)
    }

    pub(super) fn entries(&self) -> Result<Vec<AuditEntry>> {
        let mut start = 0;
        let mut out = Vec::with_capacity(self.ends.len());
        for &end in &self.ends {
            out.push(decode("audit", &self.bytes[start..end])?);
            start = end;
        }
        Ok(out)
    }

    /// The audit table's rows: `(first id, encoded Vec<AuditEntry>)` of at
    /// most [`CHUNK`] entries each.
    pub(super) fn rows(&self) -> impl Iterator<Item = (u64, Vec<u8>)> + '_ {
        self.ends.chunks(CHUNK).enumerate().map(|(i, ends)| {
            let start = match i * CHUNK {
                0 => 0,
                n => self.ends[n - 1],
            };
            let end = ends[ends.len() - 1];
            // A sequence's encoding: its length, then its elements.
            let mut row = encode(&ends.len());
            row.extend_from_slice(&self.bytes[start..end]);
            (self.first + (i * CHUNK) as u64, row)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::*;

    #[test]
    fn audit_entries_are_encoded_exactly_as_postcard_encodes_them() {
        let long = "x".repeat(300);
        let actors = [
            Actor::Operator(OperatorId(1)),
            Actor::User(UserId(u64::MAX)),
            Actor::Method(EnrolmentMethodId(300)),
            Actor::System,
        ];
        let times = [
            Timestamp(0),
            Timestamp(-1),
            Timestamp(1_700_000_000_000),
            Timestamp(i64::MIN),
        ];
        let mut audit = EncodedAudit::default();
        let mut want = Vec::new();
        for (i, (actor, at)) in actors.into_iter().zip(times).enumerate() {
            let id = AuditId(127 + i as u64);
            let (target, reason) = if i % 2 == 0 {
                ("", long.as_str())
            } else {
                ("é #7", "why")
            };
            audit.push(id, at, actor, "a.b", target, reason);
            want.push(AuditEntry {
                id,
                at,
                actor,
                action: "a.b".into(),
                target: target.into(),
                reason: reason.into(),
            });
        }
        // Targets written digit by digit read as their Display text, and
        // so do texts printed in place or past 127 bytes.
        let targets = [
            AuditTarget::Enrolment {
                user: UserId(0),
                course: CourseId(u64::MAX - 1),
                method: EnrolmentMethodId(10),
            },
            AuditTarget::GroupMember {
                user: UserId(9),
                group: CourseGroupId(1_000_000),
            },
            AuditTarget::SegmentMember {
                user: UserId(123_456_789),
                segment: SegmentId(7),
            },
        ];
        for (i, target) in targets.into_iter().enumerate() {
            let id = AuditId(131 + i as u64);
            let at = Timestamp(5);
            audit.push(
                id,
                at,
                Actor::System,
                "a.c",
                target,
                format_args!("{long}{i}"),
            );
            want.push(AuditEntry {
                id,
                at,
                actor: Actor::System,
                action: "a.c".into(),
                target: target.to_string(),
                reason: format!("{long}{i}"),
            });
        }
        assert_eq!(
            want[4].target,
            "user #0 in course #18446744073709551614 via method #10"
        );
        assert_eq!(want[5].target, "user #9 in group #1000000");
        assert_eq!(want[6].target, "user #123456789 in segment #7");
        let mut start = 0;
        for (end, entry) in audit.ends.iter().zip(&want) {
            assert_eq!(
                &audit.bytes[start..*end],
                encode(entry).as_slice(),
                "{entry:?}"
            );
            start = *end;
        }
        assert_eq!(audit.entries().unwrap(), want);
        let rows: Vec<_> = audit.rows().collect();
        assert_eq!(rows, [(127, encode(&want))]);
    }
}
