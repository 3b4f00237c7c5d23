//! The YAML readers before the tape: the span-carrying tree, its decoder and the native
//! stream reader. Kept only until the equivalence test (`tests/reader_equivalence.rs`)
//! has shown that the tape gives byte-identical output; `PURPOSELINT_LEGACY_READER=1`
//! (or [`set`]) runs them instead of the tape.

use std::sync::atomic::{AtomicBool, Ordering};

pub mod decode;
pub mod yaml;

static LEGACY: AtomicBool = AtomicBool::new(false);

/// Whether the old readers run.
pub fn enabled() -> bool {
    LEGACY.load(Ordering::Relaxed)
}

pub fn set(on: bool) {
    LEGACY.store(on, Ordering::Relaxed);
}

/// Turns the old readers on when `PURPOSELINT_LEGACY_READER` is set (the binary's start).
pub fn from_env() {
    if std::env::var_os("PURPOSELINT_LEGACY_READER").is_some_and(|v| v != "0") {
        set(true);
    }
}
