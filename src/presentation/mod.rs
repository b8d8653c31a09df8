//! The Presentation API 2.1 side: museum records (Harvard Art Museums, Brooklyn Museum, M+,
//! Paris Musées; see [`shapes`]) are read into one [`model`], and become manifests and paged
//! collections. `store` holds the index; `manifest`, `collection` and `html` build documents
//! as pure functions of the model.

pub mod collection;
pub mod html;
pub mod hues;
pub mod manifest;
pub mod model;
pub mod record;
pub mod shapes;
pub mod store;

pub use model::Object;
pub use record::ObjectRecord;
pub use store::{ObjectKey, RecordsFolder, Store};

/// The JSON-LD context of the Presentation API 2.
pub const CONTEXT: &str = "http://iiif.io/api/presentation/2/context.json";
