//! The files the pages load beside their HTML: the pages' own stylesheet and script, embedded
//! in the binary, and OpenSeadragon. OpenSeadragon is the npm package that `web/package.json`
//! pins and scripts/setup-web.sh installs; when its build folder (`viewer_assets`) holds the
//! script at start-up, its script, source map and button images are read into memory once and
//! served at `/static/openseadragon/`. Otherwise pages load the same version from jsDelivr,
//! which serves npm files byte for byte, with the Subresource Integrity hash of that file
//! (or from `viewer_url`, with `viewer_integrity`).

use bytes::Bytes;
use std::collections::HashMap;
use std::path::Path;

/// The OpenSeadragon version `web/package.json` pins.
pub const OSD_VERSION: &str = "6.1.1";

/// The pinned script on jsDelivr.
pub const OSD_CDN: &str =
    "https://cdn.jsdelivr.net/npm/openseadragon@6.1.1/build/openseadragon/openseadragon.min.js";

/// The Subresource Integrity hash of `openseadragon.min.js` in the npm package
/// `openseadragon@6.1.1` (scripts/browser-test.sh checks it against the installed file).
pub const OSD_CDN_INTEGRITY: &str =
    "sha384-KKly+4vqqBHitr2XfNKWa3+0asIVpzYs2HijkM/zz0X6rgnyLuQEVERX9HqkM5/P";

/// Where `/static/` serves OpenSeadragon's files from.
pub const OSD_PATH: &str = "openseadragon";

const CSS: &str = include_str!("browse.css");
const SCRIPT: &str = include_str!("object.js");

/// One file served below `/static/`.
#[derive(Debug, Clone)]
pub struct Asset {
    /// The bytes.
    pub body: Bytes,
    /// Its media type.
    pub content_type: &'static str,
}

/// Where pages load OpenSeadragon from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewerSource {
    /// The installed package, served by Tessera at `/static/openseadragon/`.
    Installed,
    /// A script URL (jsDelivr by default), with its integrity hash when known.
    Remote {
        /// The script.
        url: String,
        /// Its `integrity` attribute.
        integrity: Option<String>,
    },
}

/// What a page's `<script>` for OpenSeadragon says, and where the viewer's button images are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewerScript {
    /// The script's URL.
    pub src: String,
    /// Its Subresource Integrity hash, if any.
    pub integrity: Option<String>,
    /// OpenSeadragon's `prefixUrl`: the folder of its button images.
    pub buttons: String,
}

impl ViewerSource {
    /// The script element's facts, for pages under the server root `root`.
    pub fn script(&self, root: &str) -> ViewerScript {
        match self {
            ViewerSource::Installed => ViewerScript {
                src: format!("{root}/static/{OSD_PATH}/openseadragon.min.js"),
                integrity: None,
                buttons: format!("{root}/static/{OSD_PATH}/images/"),
            },
            ViewerSource::Remote { url, integrity } => ViewerScript {
                src: url.clone(),
                integrity: integrity.clone(),
                buttons: format!("{}images/", &url[..url.rfind('/').map_or(0, |i| i + 1)]),
            },
        }
    }
}

/// The files below `/static/`, and where pages load OpenSeadragon from.
#[derive(Debug, Clone)]
pub struct Assets {
    files: HashMap<String, Asset>,
    /// Where OpenSeadragon comes from.
    pub viewer: ViewerSource,
}

fn media_type(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1;
    Some(match ext {
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "map" => "application/json",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        _ => return None,
    })
}

/// A short version tag of an embedded file, for its URL, so that a new build's file is
/// never answered from a browser's cache of the old one.
fn tag(text: &str) -> String {
    format!("{:016x}", crate::digest::short(text))
}

/// The pages' stylesheet, as pages link it (below the server root).
pub fn stylesheet_path() -> String {
    format!("/static/tessera/browse.css?v={}", tag(CSS))
}

/// The object page's script, as pages link it (below the server root).
pub fn script_path() -> String {
    format!("/static/tessera/object.js?v={}", tag(SCRIPT))
}

/// OpenSeadragon's files in its build folder: the script, its source map and the button
/// images. An error names the file.
fn installed(folder: &Path) -> Result<Vec<(String, Asset)>, String> {
    let mut names = vec![
        "openseadragon.min.js".to_string(),
        "openseadragon.min.js.map".to_string(),
    ];
    let images = folder.join("images");
    let listing = std::fs::read_dir(&images).map_err(|e| format!("{}: {e}", images.display()))?;
    for entry in listing {
        let name = entry.map_err(|e| e.to_string())?.file_name();
        let name = name.to_string_lossy();
        if name.ends_with(".png") {
            names.push(format!("images/{name}"));
        }
    }
    names
        .into_iter()
        .map(|name| {
            let path = folder.join(&name);
            let body = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let content_type = media_type(&name).unwrap_or("application/octet-stream");
            Ok((
                format!("{OSD_PATH}/{name}"),
                Asset {
                    body: body.into(),
                    content_type,
                },
            ))
        })
        .collect()
}

impl Assets {
    /// The embedded files, and OpenSeadragon from `folder` when it holds its script (read
    /// now, once), else from `url` (jsDelivr's copy of the pinned version when `None`).
    pub fn load(folder: &Path, url: Option<&str>, integrity: Option<&str>) -> Assets {
        let mut files = HashMap::new();
        for (name, text, content_type) in [
            ("tessera/browse.css", CSS, "text/css; charset=utf-8"),
            (
                "tessera/object.js",
                SCRIPT,
                "text/javascript; charset=utf-8",
            ),
        ] {
            files.insert(
                name.to_string(),
                Asset {
                    body: Bytes::from_static(text.as_bytes()),
                    content_type,
                },
            );
        }
        let remote = || ViewerSource::Remote {
            url: url.unwrap_or(OSD_CDN).to_string(),
            integrity: match url {
                None => Some(OSD_CDN_INTEGRITY.to_string()),
                Some(_) => integrity.map(str::to_string),
            },
        };
        let viewer = if folder.join("openseadragon.min.js").is_file() {
            match installed(folder) {
                Ok(list) => {
                    tracing::info!(folder = %folder.display(), files = list.len(), "OpenSeadragon: served from the installed package");
                    files.extend(list);
                    ViewerSource::Installed
                }
                Err(e) => {
                    tracing::warn!("OpenSeadragon: the installed package cannot be read ({e}); pages load it from its URL");
                    remote()
                }
            }
        } else {
            let source = remote();
            if let ViewerSource::Remote { url, .. } = &source {
                tracing::info!(
                    folder = %folder.display(),
                    "OpenSeadragon is not installed there (scripts/setup-web.sh installs it); pages load it from {url}"
                );
            }
            source
        };
        Assets { files, viewer }
    }

    /// The file at `path` below `/static/`.
    pub fn get(&self, path: &str) -> Option<&Asset> {
        self.files.get(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pinned_version_is_the_one_web_package_json_declares() {
        let package: serde_json::Value =
            serde_json::from_str(include_str!("../../web/package.json")).unwrap();
        assert_eq!(package["dependencies"]["openseadragon"], OSD_VERSION);
        assert!(OSD_CDN.contains(&format!("openseadragon@{OSD_VERSION}/")));
    }

    #[test]
    fn an_installed_package_is_served_else_the_pinned_cdn_copy_with_its_hash() {
        let dir = tempfile::tempdir().unwrap();
        let a = Assets::load(dir.path(), None, None);
        assert_eq!(
            a.viewer.script("http://h"),
            ViewerScript {
                src: OSD_CDN.into(),
                integrity: Some(OSD_CDN_INTEGRITY.into()),
                buttons:
                    "https://cdn.jsdelivr.net/npm/openseadragon@6.1.1/build/openseadragon/images/"
                        .into(),
            }
        );
        assert!(a.get("openseadragon/openseadragon.min.js").is_none());
        assert!(a.get("tessera/browse.css").is_some());
        let own = Assets::load(dir.path(), Some("https://x.org/osd/osd.js"), None);
        assert_eq!(
            own.viewer,
            ViewerSource::Remote {
                url: "https://x.org/osd/osd.js".into(),
                integrity: None
            }
        );
        std::fs::create_dir(dir.path().join("images")).unwrap();
        std::fs::write(dir.path().join("openseadragon.min.js"), "var OSD;").unwrap();
        std::fs::write(dir.path().join("openseadragon.min.js.map"), "{}").unwrap();
        std::fs::write(dir.path().join("images/home_rest.png"), b"\x89PNG").unwrap();
        std::fs::write(dir.path().join("images/notes.txt"), "not served").unwrap();
        let a = Assets::load(dir.path(), None, None);
        assert_eq!(a.viewer, ViewerSource::Installed);
        assert_eq!(
            a.viewer.script("http://h").buttons,
            "http://h/static/openseadragon/images/"
        );
        let js = a.get("openseadragon/openseadragon.min.js").unwrap();
        assert_eq!(&js.body[..], b"var OSD;");
        assert_eq!(
            a.get("openseadragon/images/home_rest.png")
                .unwrap()
                .content_type,
            "image/png"
        );
        assert!(a.get("openseadragon/images/notes.txt").is_none());
        assert!(a.get("openseadragon/../Cargo.toml").is_none());
    }
}
