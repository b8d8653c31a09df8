//! The `tessera` binary: flags, the config file and their precedence, run as a real process.

use crate::common::{wait_until, BIN};
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn help_lists_the_serve_flags() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--bind",
        "--images",
        "--prefix",
        "--public-base",
        "--config",
        "serve",
    ] {
        assert!(text.contains(flag), "{flag} missing from --help:\n{text}");
    }
}

#[test]
fn bad_settings_stop_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.toml");
    std::fs::write(&cfg, "tile_sise = 256\n").unwrap();
    let out = Command::new(BIN)
        .arg("--config")
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("bad.toml") && err.contains("tile_sise"),
        "{err}"
    );

    let out = Command::new(BIN)
        .args(["serve", "--images", "/no/such/folder"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("/no/such/folder"));
}

#[test]
fn flags_override_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = dir.path().join("tessera.toml");
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    std::fs::write(
        &cfg,
        format!("bind = \"127.0.0.1:1\"\nimages = \"{fixtures}\"\nprefix = \"from-file\"\ntile_size = 128\n"),
    )
    .unwrap();
    let mut child = Command::new(BIN)
        .arg("--config")
        .arg(&cfg)
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/from-file/grid.png/info.json");
    let mut body = String::new();
    let started = wait_until(Duration::from_secs(20), || {
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
            return false;
        };
        write!(
            s,
            "GET {} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n",
            &url[url.find("/from-file").unwrap()..]
        )
        .unwrap();
        s.read_to_string(&mut body).unwrap();
        true
    });
    child.kill().unwrap();
    let _ = child.wait();
    assert!(started, "server did not start");
    assert!(
        body.starts_with("HTTP/1.0 200") || body.starts_with("HTTP/1.1 200"),
        "{body}"
    );
    let json = &body[body.find("\r\n\r\n").unwrap() + 4..];
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(
        v["@id"],
        format!("http://127.0.0.1:{port}/from-file/grid.png")
    );
    assert_eq!(v["tiles"][0]["width"], 128);
}
