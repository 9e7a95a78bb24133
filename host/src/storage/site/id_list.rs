//! A sorted list of ids as LEB128 deltas (`FORMAT.md` §8): the recipients
//! of an announcement, fixed when it is sent. 100,000 recipients with
//! nearby ids take about 100 KB instead of 800 KB of plain `u64`s, and one
//! row per [`CHUNK_IDS`] keeps any row small.

use crate::storage::{Result, StorageError};

/// Ids per chunk row.
pub(crate) const CHUNK_IDS: usize = 4096;

/// `ids` (ascending, no repeats) as deltas from the previous one (the
/// first from 0).
pub(super) fn encode(ids: &[u64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ids.len() * 2);
    let mut previous = 0;
    for &id in ids {
        let mut delta = id - previous;
        previous = id;
        loop {
            let byte = (delta & 0x7f) as u8;
            delta >>= 7;
            if delta == 0 {
                out.push(byte);
                break;
            }
            out.push(byte | 0x80);
        }
    }
    out
}

/// The ids `encode` wrote, appended to `out`.
pub(super) fn decode(table: &'static str, bytes: &[u8], out: &mut Vec<u64>) -> Result<()> {
    let mut previous: u64 = 0;
    let mut delta: u64 = 0;
    let mut shift = 0u32;
    for &byte in bytes {
        if shift > 63 {
            return Err(corrupt(table));
        }
        delta |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            previous = previous.checked_add(delta).ok_or_else(|| corrupt(table))?;
            out.push(previous);
            delta = 0;
            shift = 0;
        } else {
            shift += 7;
        }
    }
    if shift != 0 {
        return Err(corrupt(table));
    }
    Ok(())
}

fn corrupt(table: &'static str) -> StorageError {
    StorageError::Corrupt {
        table,
        reason: "an id list ends inside a number or overflows".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for ids in [
            vec![],
            vec![1],
            vec![1, 2, 3, 1000, 1_000_000, u64::MAX],
            (1..=5000).map(|i| i * 3).collect::<Vec<u64>>(),
        ] {
            let mut back = Vec::new();
            decode("t", &encode(&ids), &mut back).unwrap();
            assert_eq!(back, ids);
        }
    }

    #[test]
    fn nearby_ids_take_a_byte_each() {
        let ids: Vec<u64> = (1000..1100).collect();
        assert_eq!(encode(&ids).len(), 2 + 99);
    }

    #[test]
    fn a_truncated_list_is_refused() {
        let mut bytes = encode(&[300]);
        bytes.pop();
        assert!(decode("t", &bytes, &mut Vec::new()).is_err());
    }
}
