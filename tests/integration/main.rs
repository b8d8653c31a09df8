//! Tessera's integration tests but the connection loop's (tests/server.rs), in one test binary:
//! every test binary links the whole library and its dependencies (about 70 MB each in a debug
//! build), and CI's disk is limited. Each module was a test binary of its own before; run one
//! with `cargo test --test integration fidelity::`.
//!
//! HTTP semantics are tested against the router in process ([`common::App`], no socket).
//! The few tests here that need a real connection run the binary ([`common::spawn_binary`]).

#[path = "../common/mod.rs"]
mod common;

mod access;
mod browse;
mod cli;
mod colors;
mod derivatives;
mod faults;
mod fidelity;
mod image_api;
mod image_api3;
mod ops;
mod presentation;
mod presentation3;
mod properties;
mod records;
mod s3;
mod storage;
mod thumbnails;
mod tiles;
