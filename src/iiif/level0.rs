//! A static (level 0) image service: the info.json of a tree of files cut in advance, and
//! every path that info.json implies, in exactly the form OpenSeadragon and Mirador request.

use super::geometry::{Dimensions, Limits, Rect};
use super::info::Tiling;
use super::request::{Format, ImageRequest, Quality, Region, Rotation, Size};
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
    /// The height too, for a listed size asked as `w,h`.
    pub height: Option<u32>,
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
                Some(h) => Size::Exact { w: self.width, h },
                None => Size::Width(self.width),
            },
            rotation: Rotation {
                mirror: false,
                degrees: 0.0,
            },
            quality: Quality::Default,
            format,
            upscale: true,
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
            Some(h) => format!("{},{h}", self.width),
            None => format!("{},", self.width),
        };
        format!("{region}/{size}/0/default.{}", format.extension())
    }
}

/// The info.json of a static service at `id`: the server's own document (tiles, and the
/// sizes within `limits`), with the level 0 profile and nothing more.
pub fn info_json(id: &str, dims: Dimensions, tiling: &Tiling, limits: &Limits) -> Value {
    let mut doc = super::info::info_json(id, dims, tiling, limits);
    doc["profile"] = json!([LEVEL0]);
    doc
}

/// Every image that the info.json of [`info_json`] implies, without repeats: each tile at
/// each scale factor as `x,y,w,h/ceil(w/s),` (`full` when one tile covers the image), and
/// each listed size as `full/w,` and `full/w,h`.
pub fn images(dims: Dimensions, tiling: &Tiling, limits: &Limits) -> Vec<StaticImage> {
    let (tw, th) = (tiling.width.max(1), tiling.height.max(1));
    let mut out = Vec::new();
    for &s in &tiling.scale_factors {
        let (sw, sh) = (tw.saturating_mul(s), th.saturating_mul(s));
        for y in (0..dims.height).step_by(sh as usize) {
            for x in (0..dims.width).step_by(sw as usize) {
                let (w, h) = (sw.min(dims.width - x), sh.min(dims.height - y));
                let region = Some(Rect { x, y, w, h })
                    .filter(|_| (x, y, w, h) != (0, 0, dims.width, dims.height));
                out.push(StaticImage {
                    region,
                    width: w.div_ceil(s),
                    height: None,
                });
            }
        }
    }
    for d in tiling.sizes(dims, limits) {
        for height in [None, Some(d.height)] {
            out.push(StaticImage {
                region: None,
                width: d.width,
                height,
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
}
