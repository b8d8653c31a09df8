//! The collection browser: the HTML pages a visitor reads at `/` (what the server is, and the
//! collection as a paged grid of thumbnails, or the objects a search finds) and at
//! `/objects/{key}` (an object's metadata, its images, a deep-zoom viewer, and links to its
//! manifests and info.json). Pages are rendered on the server, so the grid and the metadata
//! work with JavaScript off; every record field is printed as text through
//! [`crate::presentation::html::escape`].
//!
//! `pages` builds the HTML as pure functions of what a handler found (src/http/pages.rs);
//! `assets` holds the page's own CSS and script (embedded) and OpenSeadragon: the installed
//! npm package (`web/`, see scripts/setup-web.sh), served by Tessera itself, else the same
//! pinned version from jsDelivr with its Subresource Integrity hash.

pub mod assets;
pub mod pages;

pub use assets::{Asset, Assets, ViewerSource};

/// First path segments the pages use, which the Image API prefix may not start with.
pub const RESERVED: [&str; 2] = ["objects", "static"];

/// Objects per page of the grid and of search results.
pub const PAGE_SIZE: usize = 48;

/// The side of a grid thumbnail's box, in pixels.
pub const THUMBNAIL: u32 = 200;

/// The side of the box an object page's still image (shown without JavaScript) fits in.
pub const PREVIEW: u32 = 1024;
