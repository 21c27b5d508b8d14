//! The edge's HTTP API, defined once for everyone who speaks it: the Worker (`edge`) answers
//! with these types, the app and the CLI read them, and all of them build paths with [`path`].
//!
//! Serde only and wasm-compatible: no runtime, no model, no file format. What an answer means
//! (how it is computed, cached or checked) is the edge's business, not this crate's.

pub mod layer;
pub mod path;
pub mod wire;

pub use layer::{LayerName, LayerSyntaxError};
pub use wire::{
    Confidence, ErrorBody, Health, Invalidated, ModelInfo, ModelStored, PredictionBody,
    PurgeProgress, ReleaseAnswer, ReleaseRequest, UploadAnswer, UploadedWafer, WaferList,
    WaferMeta,
};
