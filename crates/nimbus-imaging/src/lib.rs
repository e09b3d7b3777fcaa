//! Nimbus's synchronous image work. For now: probing a file's format and dimensions from its
//! header, without decoding pixels, and sniffing whether bytes are an image, a video or raw.
//! Decoding, resizing and encoding for transformations land here later.
//!
//! Everything here is blocking CPU/file work: callers run it on the CPU pool, never on an
//! async worker thread. Must not depend on tokio, sqlx, axum or object_store.

mod image_metadata;
mod probe;
pub mod render;

pub use image_metadata::image_metadata;
pub use probe::{MediaKind, ProbeError, Probed, probe_file, sniff, video_format};
