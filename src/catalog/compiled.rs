//! The matcher compiled ahead of time: `catalog/matcher.bin`, checked in, embedded in the
//! binary and deserialized on first use, so that `explain` does not normalize and index the
//! whole catalog at every start (tens of milliseconds).
//!
//! The file begins with the hash of what it was built from (the catalog, the matcher's code,
//! the locked dependencies: see `build.rs`). When that differs from the hash of this build,
//! the file is stale and the matcher is built at run time, as before: slower, never wrong.
//! The test suite fails on a stale file and says how to write it again:
//! `LEADCHECK_BLESS=1 cargo test --test testsuite compiled_matcher`.

use super::embedded::SOURCE_HASH;
use super::matcher::Matcher;

static BLOB: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/catalog/matcher.bin"));

/// The embedded matcher, when the file is current. Layout: the source hash (8 bytes, little
/// endian), the length of the core (8 bytes), the core, then the part only `triage` needs,
/// which is deserialized when first asked for.
pub fn load() -> Option<Matcher> {
    let (head, rest) = BLOB.split_at_checked(16)?;
    if u64::from_le_bytes(head[..8].try_into().ok()?) != SOURCE_HASH {
        return None;
    }
    let core_len = usize::try_from(u64::from_le_bytes(head[8..].try_into().ok()?)).ok()?;
    let (core, bulk) = rest.split_at_checked(core_len)?;
    let m: Matcher = bincode::deserialize(core).ok()?;
    Some(m.with_bulk_from(bulk))
}

/// The bytes `catalog/matcher.bin` must hold for `m` built from this build's sources.
pub fn serialize(m: &Matcher) -> Vec<u8> {
    // Serializing plain data into a Vec cannot fail.
    let core = bincode::serialize(m).unwrap_or_default();
    let bulk = m.serialize_bulk();
    let mut out = SOURCE_HASH.to_le_bytes().to_vec();
    out.extend((core.len() as u64).to_le_bytes());
    out.extend(core);
    out.extend(bulk);
    out
}

/// Whether the embedded file was current for this build (for tests and `-v`).
pub fn is_current() -> bool {
    BLOB.get(..8)
        .is_some_and(|h| h == SOURCE_HASH.to_le_bytes())
}

/// The embedded file's bytes (for the test that checks them).
pub fn embedded() -> &'static [u8] {
    BLOB
}
