//! One handler per route, grouped by resource (wasm32 only): each reads what its route needs
//! from the runtime ([`crate::io`]), asks the pure modules what to do, and returns an
//! [`crate::answer::Answer`].

pub(crate) mod admin;
pub(crate) mod predictions;
pub(crate) mod tiles;
pub(crate) mod wafers;
