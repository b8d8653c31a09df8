//! The Presentation API 2.1 side: museum object records (Harvard Art Museums format) become
//! manifests and paged collections. `record` and `store` hold the data; `manifest`,
//! `collection` and `html` build documents as pure functions of it.

pub mod collection;
pub mod html;
pub mod manifest;
pub mod record;
pub mod store;

pub use record::ObjectRecord;
pub use store::Store;

/// The JSON-LD context of the Presentation API 2.
pub const CONTEXT: &str = "http://iiif.io/api/presentation/2/context.json";
