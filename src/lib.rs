//! Tessera: a IIIF Image API 2.1 server for museum images.
//!
//! The protocol ([`iiif`]) is pure; [`source`] reads files; [`pipeline`] and [`encode`] make
//! pixels; [`cache`] keeps them; [`browse`] makes the collection browser's pages; [`http`]
//! adapts all of it to axum. See the README's "Architecture" section.

pub mod access;
pub mod batch;
pub mod browse;
pub mod cache;
pub mod colors;
pub mod config;
pub mod derivative;
pub mod digest;
pub mod encode;
pub mod export;
pub mod http;
pub mod iiif;
pub mod logbuf;
pub mod outputs;
pub mod pipeline;
pub mod policy;
pub mod presentation;
pub mod proxy;
pub mod raster;
pub mod render;
pub mod report;
pub mod service;
pub mod source;
pub mod stats;
pub mod storage;
