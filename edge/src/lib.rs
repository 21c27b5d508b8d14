//! The edge: a Cloudflare Worker that stores uploaded wafers, renders map tiles, runs the
//! classifier, and caches tiles and predictions close to users.
//!
//! Everything that decides something is plain Rust in the modules below and unit-tests
//! natively: routes ([`route`]), cache keys ([`keys`]), tokens ([`auth`]), what a stored wafer is
//! ([`store`]), model checks ([`models`]), errors ([`error`]) and what a failing tier answers
//! ([`outage`]), platform limits ([`limits`]), release purges ([`release`]), list cursors
//! ([`cursor`]), byte-capped memory ([`lru`]), single-flight ([`flight`]), the tiered lookup
//! ([`tiers`]), the response policy ([`answer`]) and the dev counters ([`metrics`]). The wire
//! types and paths are the `api` crate's, shared with the app and the CLI.
//!
//! The Worker glue (wasm32 only: `glue`, the entry point; `io`, the runtime's storage calls;
//! `handlers`, one module per resource) only moves bytes between these functions and the
//! runtime's R2, KV and Cache API.
//!
//! # Correctness of cached answers
//! Every cached prediction is keyed by its [`features::FeatureHash`] *and* the model version that
//! computed it ([`keys`]); the current version is read on every request, so after a release no
//! lookup can reach an entry of an older model. Tiles are keyed by the wafer's content hash and
//! [`paint::RENDERER_VERSION`]. Clients never write cache entries: every entry is computed by the
//! worker from stored data.

pub mod answer;
pub mod auth;
pub mod cursor;
pub mod error;
pub mod flight;
pub mod keys;
pub mod limits;
pub mod lru;
pub mod metrics;
#[cfg(feature = "classifier")]
pub mod models;
pub mod outage;
#[cfg(feature = "classifier")]
pub mod predict;
pub mod release;
pub mod route;
pub mod store;
pub mod tiers;
pub mod tiles;

#[cfg(all(target_arch = "wasm32", feature = "classifier"))]
mod glue;
#[cfg(all(target_arch = "wasm32", feature = "classifier"))]
mod handlers;
#[cfg(all(target_arch = "wasm32", feature = "classifier"))]
mod io;

/// Largest tester file accepted by `PUT /api/v1/wafers`, as sent (compressed or not).
pub const MAX_UPLOAD_BYTES: usize = 32 << 20;
/// Largest tester file once decompressed. The reader streams through a 1 MB window and keeps
/// only columns (the corpus's 142 MB Teradyne file parses to about 12 MB of dies and values),
/// so this bounds parse time, not memory; it stops a small compressed bomb from running on.
pub const MAX_STDF_BYTES: u64 = 256 << 20;
/// What a read may hold (the reader's estimate, which runs above the real figure: the corpus's
/// 142 MB Teradyne file is estimated at 47 MB). With the upload body (at most 32 MB) and an xz
/// dictionary (at most 16 MiB) this keeps a parse inside the isolate's 128 MB.
pub const READ_LIMITS: wafer::Limits = wafer::Limits {
    per_byte: 16,
    fixed: 8 << 20,
    max: 64 << 20,
};
/// Largest xz dictionary accepted, in KiB: xz -7 and below (the default -6 uses 8 MiB).
pub const XZ_MAX_KIB: u32 = 16 * 1024;
/// Largest model upload (weights and manifest together).
pub const MAX_MODEL_BYTES: usize = 8 << 20;
/// Pixels per side of a map tile.
pub const TILE_SIZE: u32 = 256;
