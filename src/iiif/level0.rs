//! A static (level 0) image service: the info.json of a tree of files cut in advance, and
//! every path that info.json implies, in exactly the form OpenSeadragon and Mirador request:
//! 2.1's `w,` (or `w,h` for a listed size), or 3.0's `w,h` (`max` for the whole image at full
//! size).

use super::geometry::{Dimensions, Limits, Rect};
use super::info::Tiling;
use super::request::{Format, ImageRequest, Quality, Region, Rotation, Size};
use super::version::Version;
use serde_json::{json, Value};

/// The compliance level URI of a static service.
pub const LEVEL0: &str = "http://iiif.io/api/image/2/level0.json";

/// One file of a static tree: its region and size, as a viewer asks for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StaticImage {
    /// A tile's `x,y,w,h`; `None` for `full`.
    pub region: Option<Rect>,
    /// The width asked for (`w,`).
    pub width: u32,
    /// The height too, for a listed size asked as `w,h` (and for every 3.0 file).
    pub height: Option<u32>,
    /// 3.0's `full/max`: the whole image at its full size.
    pub max: bool,
}

impl StaticImage {
    /// The request for this file in `format`, unrotated and in default quality.
    pub fn request(&self, format: Format) -> ImageRequest {
        ImageRequest {
            region: match self.region {
                Some(Rect { x, y, w, h }) => Region::Pixels { x, y, w, h },
                None => Region::Full,
            },
            size: match self.height {
                _ if self.max => Size::Max,
                Some(h) => Size::Exact { w: self.width, h },
                None => Size::Width(self.width),
            },
            rotation: Rotation {
                mirror: false,
                degrees: 0.0,
            },
            quality: Quality::Default,
            format,
            // A static tree is never larger than its image; `max` is 3.0's plain `max`.
            upscale: !self.max,
        }
    }

    /// The path below the image's base URI, e.g. `0,0,256,256/256,/0/default.jpg`: the
    /// spelling a viewer uses, which is the file's name in the tree.
    pub fn path(&self, format: Format) -> String {
        let region = match self.region {
            Some(Rect { x, y, w, h }) => format!("{x},{y},{w},{h}"),
            None => "full".to_string(),
        };
        let size = match self.height {
            _ if self.max => "max".to_string(),
            Some(h) => format!("{},{h}", self.width),
            None => format!("{},", self.width),
        };
        format!("{region}/{size}/0/default.{}", format.extension())
    }
}

/// The info.json of a static 2.1 service at `id`: the server's own document (tiles, and the
/// sizes within `limits`), with the level 0 profile and nothing more.
pub fn info_json(id: &str, dims: Dimensions, tiling: &Tiling, limits: &Limits) -> Value {
    let mut doc = super::info::info_json(id, dims, tiling, limits);
    doc["profile"] = json!([LEVEL0]);
    doc
}

/// The info.json of a static service at `id` in `version`, whose files are in `format`: 3.0's
/// is the server's 3.0 document with the `level0` profile, and no extra features, qualities
/// or formats beyond `format`.
pub fn info_json_as(
    version: Version,
    id: &str,
    dims: Dimensions,
    tiling: &Tiling,
    limits: &Limits,
    format: Format,
) -> Value {
    match version {
        Version::V2 => info_json(id, dims, tiling, limits),
        Version::V3 => {
            let mut doc = super::info::info_json_v3(id, dims, tiling, limits, None);
            doc["profile"] = json!("level0");
            let map = doc.as_object_mut().expect("info.json is an object");
            for extra in ["extraFeatures", "extraQualities", "extraFormats"] {
                map.remove(extra);
            }
            map.insert("preferredFormats".into(), json!([format.extension()]));
            if format != Format::Jpg {
                map.insert("extraFormats".into(), json!([format.extension()]));
            }
            doc
        }
    }
}

/// Every image that the 2.1 info.json of [`info_json`] implies (see [`images_as`]).
pub fn images(dims: Dimensions, tiling: &Tiling, limits: &Limits) -> Vec<StaticImage> {
    images_as(Version::V2, dims, tiling, limits)
}

/// Every image that the info.json of `version` implies, without repeats, as viewers spell
/// them. 2.1: each tile at each scale factor as `x,y,w,h/ceil(w/s),` (`full` when one tile
/// covers the image), and each listed size as `full/w,` and `full/w,h`. 3.0: the same tiles
/// and sizes as `w,h`, and the whole image at full size as `full/max`.
pub fn images_as(
    version: Version,
    dims: Dimensions,
    tiling: &Tiling,
    limits: &Limits,
) -> Vec<StaticImage> {
    let v3 = version == Version::V3;
    let (tw, th) = (tiling.width.max(1), tiling.height.max(1));
    let mut out = Vec::new();
    let full = |width, height| (width, height) == (dims.width, dims.height);
    for &s in &tiling.scale_factors {
        let (sw, sh) = (tw.saturating_mul(s), th.saturating_mul(s));
        for y in (0..dims.height).step_by(sh as usize) {
            for x in (0..dims.width).step_by(sw as usize) {
                let (w, h) = (sw.min(dims.width - x), sh.min(dims.height - y));
                let region = Some(Rect { x, y, w, h })
                    .filter(|_| (x, y, w, h) != (0, 0, dims.width, dims.height));
                let (width, height) = (w.div_ceil(s), h.div_ceil(s));
                out.push(StaticImage {
                    region,
                    width,
                    height: v3.then_some(height),
                    max: v3 && region.is_none() && full(width, height),
                });
            }
        }
    }
    for d in tiling.sizes(dims, limits) {
        let forms: &[Option<u32>] = if v3 {
            &[Some(d.height)]
        } else {
            &[None, Some(d.height)]
        };
        for &height in forms {
            out.push(StaticImage {
                region: None,
                width: d.width,
                height,
                max: false,
            });
        }
        if v3 && full(d.width, d.height) {
            out.push(StaticImage {
                region: None,
                width: d.width,
                height: Some(d.height),
                max: true,
            });
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|i| seen.insert(*i));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tile_and_size_is_listed_once() {
        let dims = Dimensions {
            width: 600,
            height: 400,
        };
        let tiling = Tiling::square(dims, 256);
        assert_eq!(tiling.scale_factors, vec![1, 2, 4]);
        let limits = Limits {
            max_width: 10_000,
            max_height: 10_000,
            max_area: 100_000_000,
            scale_cap: None,
        };
        let all = images(dims, &tiling, &limits);
        let paths: Vec<String> = all.iter().map(|i| i.path(Format::Jpg)).collect();
        // Scale 1: 3×2 tiles; scale 2: 2×1; scale 4: the whole image in one tile.
        for p in [
            "0,0,256,256/256,/0/default.jpg",
            "512,256,88,144/88,/0/default.jpg",
            "0,0,512,400/256,/0/default.jpg",
            "512,0,88,400/44,/0/default.jpg",
            "full/150,/0/default.jpg",
            "full/150,100/0/default.jpg",
            "full/600,/0/default.jpg",
            "full/300,200/0/default.jpg",
        ] {
            assert!(paths.contains(&p.to_string()), "{p} missing from {paths:?}");
        }
        // 6 + 2 tiles, one `full` tile that is also a size, and 3 sizes in two forms.
        assert_eq!(all.len(), 6 + 2 + 6);
        let info = info_json("https://x.org/iiif/a", dims, &tiling, &limits);
        assert_eq!(info["profile"], json!([LEVEL0]));
        assert_eq!(info["tiles"][0]["scaleFactors"], json!([1, 2, 4]));
        assert_eq!(info["sizes"][0], json!({"width": 150, "height": 100}));
    }

    #[test]
    fn a_3_0_tree_lists_what_viewers_ask_for_in_3_0() {
        let dims = Dimensions {
            width: 600,
            height: 400,
        };
        let tiling = Tiling::square(dims, 256);
        let limits = Limits {
            max_width: 10_000,
            max_height: 10_000,
            max_area: 100_000_000,
            scale_cap: None,
        };
        let all = images_as(Version::V3, dims, &tiling, &limits);
        let paths: Vec<String> = all.iter().map(|i| i.path(Format::Jpg)).collect();
        // OpenSeadragon's 3.0 spelling: `w,h` everywhere, `max` for the whole image.
        for p in [
            "0,0,256,256/256,256/0/default.jpg",
            "512,256,88,144/88,144/0/default.jpg",
            "0,0,512,400/256,200/0/default.jpg",
            "512,0,88,400/44,200/0/default.jpg",
            "full/150,100/0/default.jpg",
            "full/300,200/0/default.jpg",
            "full/600,400/0/default.jpg",
            "full/max/0/default.jpg",
        ] {
            assert!(paths.contains(&p.to_string()), "{p} missing from {paths:?}");
        }
        assert!(paths.iter().all(|p| !p.contains(",/")), "{paths:?}");
        // Each names the pixels its spelling asks for.
        for img in &all {
            let req = img.request(Format::Jpg);
            let p = crate::iiif::geometry::plan(&req, dims, &limits).unwrap();
            if let Some(h) = img.height {
                assert_eq!(
                    (p.width, p.height),
                    (img.width, h),
                    "{}",
                    img.path(Format::Jpg)
                );
            }
        }
        let info = info_json_as(
            Version::V3,
            "https://x.org/iiif/a",
            dims,
            &tiling,
            &limits,
            Format::Jpg,
        );
        assert_eq!(info["profile"], "level0");
        assert_eq!(info["type"], "ImageService3");
        assert_eq!(info["id"], "https://x.org/iiif/a");
        assert!(info.get("extraFeatures").is_none());
        assert_eq!(info["preferredFormats"], json!(["jpg"]));
    }
}
