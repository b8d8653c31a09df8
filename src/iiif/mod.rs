//! The IIIF Image API, 2.1 and 3.0, as pure types and functions: no I/O happens here.
//!
//! A request travels `request` (parse the path parameters) -> `geometry` (resolve them against
//! the image's size and the server's limits) -> `canonical` (the §4.7 canonical URI form).
//! `info` builds the info.json document. `version` names what differs between 2.1 and 3.0.

pub mod canonical;
pub mod geometry;
pub mod info;
pub mod level0;
pub mod number;
pub mod path;
pub mod request;
pub mod version;

pub use geometry::{Dimensions, Limits, Plan, Rect};
pub use request::{Format, ImageRequest, ParseError, Quality, Region, Rotation, Size};
pub use version::Version;

/// The JSON-LD context of the Image API 2.
pub const CONTEXT: &str = "http://iiif.io/api/image/2/context.json";
/// The `protocol` value of info.json.
pub const PROTOCOL: &str = "http://iiif.io/api/image";
/// The compliance level URI that Tessera claims.
pub const LEVEL2: &str = "http://iiif.io/api/image/2/level2.json";
