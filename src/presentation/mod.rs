//! The Presentation API side: museum records (Harvard Art Museums, Brooklyn Museum, M+,
//! Paris Musées; see [`shapes`]) are read into one [`model`], and become manifests and
//! collections in Presentation 2.1 (paged collections) and 3.0 (a tree of collections).
//! `store` holds the index; `manifest`, `collection` (2.1), `manifest3`, `collection3` (3.0)
//! and `html` build documents as pure functions of the model; `search` is the browser's word
//! index of titles and object numbers, built by `store` at load time.

pub mod collection;
pub mod collection3;
pub mod html;
pub mod hues;
pub mod manifest;
pub mod manifest3;
pub mod model;
pub mod record;
pub mod search;
pub mod shapes;
pub mod store;

pub use model::Object;
pub use record::ObjectRecord;
pub use store::{ObjectKey, RecordsFolder, Store};

/// The JSON-LD context of the Presentation API 2.
pub const CONTEXT: &str = "http://iiif.io/api/presentation/2/context.json";
