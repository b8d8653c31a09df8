//! Tessera's integration tests, in one test binary: every test binary links the whole library
//! and its dependencies (about 70 MB each in a debug build), and CI's disk is limited. Each
//! module was a test binary of its own before; run one with `cargo test --test integration
//! fidelity::`.
//!
//! HTTP semantics are tested against the router in process ([`common::App`], no socket);
//! what needs a real connection (timeouts, slow clients, oversized heads, shutdown, the
//! spawned binary) keeps one ([`common::start`], [`common::spawn_binary`]).

#[path = "../common/mod.rs"]
mod common;

mod access;
mod cli;
mod derivatives;
mod faults;
mod fidelity;
mod image_api;
mod presentation;
mod properties;
mod server;
mod thumbnails;
mod tiles;
