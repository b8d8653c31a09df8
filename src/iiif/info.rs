//! The info.json document: §5 of Image API 2.1, and §5 of 3.0. Both are written from the same
//! facts (size, tiling, the caller's limits).

use super::geometry::{Dimensions, Limits};
use super::request::{Format, Quality};
use super::{CONTEXT, LEVEL2, PROTOCOL};
use serde_json::{json, Value};

/// The features Tessera really supports, as named in §6.
pub const SUPPORTS: [&str; 18] = [
    "baseUriRedirect",
    "canonicalLinkHeader",
    "cors",
    "jsonldMediaType",
    "mirroring",
    "profileLinkHeader",
    "regionByPct",
    "regionByPx",
    "regionSquare",
    "rotationArbitrary",
    "rotationBy90s",
    "sizeAboveFull",
    "sizeByConfinedWh",
    "sizeByDistortedWh",
    "sizeByH",
    "sizeByPct",
    "sizeByW",
    "sizeByWh",
];

/// What 3.0's `level2` profile does not already promise (compliance §3 of 3.0), all really
/// supported.
pub const EXTRA_FEATURES: [&str; 5] = [
    "canonicalLinkHeader",
    "mirroring",
    "profileLinkHeader",
    "rotationArbitrary",
    "sizeUpscaling",
];

/// The formats beyond 3.0's `level2` ones (`jpg`, `png`).
pub const EXTRA_FORMATS: [Format; 5] = [
    Format::Gif,
    Format::Webp,
    Format::Tif,
    Format::Pdf,
    Format::Jp2,
];

/// The scale factors 1, 2, 4, … up to the first at which the whole image fits in one tile.
pub fn scale_factors(dims: Dimensions, tile: u32) -> Vec<u32> {
    let tile = tile.max(1);
    let mut out = vec![1u32];
    let mut s = 1u32;
    while (dims.width.div_ceil(s) > tile || dims.height.div_ceil(s) > tile) && s < (1 << 30) {
        s *= 2;
        out.push(s);
    }
    out
}

/// How the image is tiled for viewers: the tile size and the scale factors offered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tiling {
    /// Tile width.
    pub width: u32,
    /// Tile height.
    pub height: u32,
    /// Scale factors, 1 first.
    pub scale_factors: Vec<u32>,
}

impl Tiling {
    /// Square tiles of `tile` with scale factors up to one tile for the whole image.
    pub fn square(dims: Dimensions, tile: u32) -> Tiling {
        Tiling {
            width: tile,
            height: tile,
            scale_factors: scale_factors(dims, tile),
        }
    }

    /// A tiled image's stored tiles, with scale factors up to one tile for the whole image.
    pub fn stored(dims: Dimensions, tile: (u32, u32)) -> Tiling {
        let (width, height) = (tile.0.max(16), tile.1.max(16));
        let mut scale_factors = vec![1u32];
        let mut s = 1u32;
        while (dims.width.div_ceil(s) > width || dims.height.div_ceil(s) > height) && s < (1 << 30)
        {
            s *= 2;
            scale_factors.push(s);
        }
        Tiling {
            width,
            height,
            scale_factors,
        }
    }

    /// A JPEG 2000 codestream's own tiling: its tiles (or `tile` when it is untiled) and one
    /// scale factor per resolution level.
    pub fn codestream(dims: Dimensions, tile: (u32, u32), levels: u32, fallback: u32) -> Tiling {
        let untiled = tile == (dims.width, dims.height);
        let (width, height) = if untiled { (fallback, fallback) } else { tile };
        Tiling {
            width,
            height,
            scale_factors: (0..=levels.min(30)).map(|l| 1u32 << l).collect(),
        }
    }

    /// The scale factors whose tiles are within the limits' scale cap (all of them without one).
    pub fn allowed_scale_factors(&self, limits: &Limits) -> Vec<u32> {
        self.scale_factors
            .iter()
            .copied()
            .filter(|&s| limits.scale_cap.is_none_or(|c| c.allows(1, s)))
            .collect()
    }

    /// The reductions at each scale factor, smallest first, that are within `limits`.
    pub fn sizes(&self, dims: Dimensions, limits: &Limits) -> Vec<Dimensions> {
        let mut out: Vec<Dimensions> = self
            .scale_factors
            .iter()
            .map(|&s| Dimensions {
                width: dims.width.div_ceil(s),
                height: dims.height.div_ceil(s),
            })
            .filter(|d| {
                limits.allows(d.width, d.height)
                    && limits.scale_cap.is_none_or(|c| {
                        c.allows(d.width, dims.width) && c.allows(d.height, dims.height)
                    })
            })
            .collect();
        out.reverse();
        out
    }
}

/// The power-of-two reductions of the image with square tiles, smallest first, within `limits`.
pub fn sizes(dims: Dimensions, tile: u32, limits: &Limits) -> Vec<Dimensions> {
    Tiling::square(dims, tile).sizes(dims, limits)
}

/// Builds info.json for the image service at `id` (its base URI, without a trailing slash).
pub fn info_json(id: &str, dims: Dimensions, tiling: &Tiling, limits: &Limits) -> Value {
    let sizes: Vec<Value> = tiling
        .sizes(dims, limits)
        .into_iter()
        .map(|d| json!({"width": d.width, "height": d.height}))
        .collect();
    let formats: Vec<&str> = Format::ALL.iter().map(|f| f.extension()).collect();
    let qualities: Vec<&str> = Quality::ALL.iter().map(|q| q.name()).collect();
    json!({
        "@context": CONTEXT,
        "@id": id,
        "protocol": PROTOCOL,
        "width": dims.width,
        "height": dims.height,
        "sizes": sizes,
        "tiles": [{
            "width": tiling.width,
            "height": tiling.height,
            "scaleFactors": tiling.allowed_scale_factors(limits),
        }],
        "profile": [
            LEVEL2,
            {
                "formats": formats,
                "qualities": qualities,
                "supports": SUPPORTS,
                "maxWidth": limits.max_width,
                "maxHeight": limits.max_height,
                "maxArea": limits.max_area,
            }
        ],
    })
}

/// Builds a 3.0 info.json for the image service at `id` (its base URI, without a trailing
/// slash); `rights` is the record's rights URI, where it gives one that 3.0 allows.
pub fn info_json_v3(
    id: &str,
    dims: Dimensions,
    tiling: &Tiling,
    limits: &Limits,
    rights: Option<&str>,
) -> Value {
    let sizes: Vec<Value> = tiling
        .sizes(dims, limits)
        .into_iter()
        .map(|d| json!({"width": d.width, "height": d.height}))
        .collect();
    let qualities: Vec<&str> = Quality::ALL[1..].iter().map(|q| q.name()).collect();
    let formats: Vec<&str> = EXTRA_FORMATS.iter().map(|f| f.extension()).collect();
    let mut v = json!({
        "@context": super::Version::V3.context(),
        "id": id,
        "type": "ImageService3",
        "protocol": PROTOCOL,
        "profile": "level2",
        "width": dims.width,
        "height": dims.height,
        "maxWidth": limits.max_width,
        "maxHeight": limits.max_height,
        "maxArea": limits.max_area,
        "sizes": sizes,
        "tiles": [{
            "width": tiling.width,
            "height": tiling.height,
            "scaleFactors": tiling.allowed_scale_factors(limits),
        }],
        "preferredFormats": ["jpg"],
        "extraFormats": formats,
        "extraQualities": qualities,
        "extraFeatures": EXTRA_FEATURES,
    });
    if let Some(rights) = rights {
        v["rights"] = json!(rights);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIM: Limits = Limits {
        max_width: 10_000,
        max_height: 10_000,
        max_area: 50_000_000,

        scale_cap: None,
    };

    #[test]
    fn scale_factors_reach_one_tile() {
        let d = Dimensions {
            width: 4800,
            height: 3200,
        };
        assert_eq!(scale_factors(d, 256), vec![1, 2, 4, 8, 16, 32]);
        let small = Dimensions {
            width: 200,
            height: 100,
        };
        assert_eq!(scale_factors(small, 256), vec![1]);
        let exact = Dimensions {
            width: 512,
            height: 256,
        };
        assert_eq!(scale_factors(exact, 256), vec![1, 2]);
    }

    #[test]
    fn sizes_are_the_reductions_within_limits() {
        let d = Dimensions {
            width: 1001,
            height: 750,
        };
        let s = sizes(d, 256, &LIM);
        let pairs: Vec<(u32, u32)> = s.iter().map(|d| (d.width, d.height)).collect();
        assert_eq!(pairs, vec![(251, 188), (501, 375), (1001, 750)]);
        let tight = Limits {
            max_width: 600,
            max_height: 600,
            max_area: 360_000,
            scale_cap: None,
        };
        let s = sizes(d, 256, &tight);
        assert_eq!(s.last().map(|d| d.width), Some(501));
    }

    #[test]
    fn codestream_tiling() {
        let d = Dimensions {
            width: 600,
            height: 400,
        };
        let t = Tiling::codestream(d, (256, 256), 3, 512);
        assert_eq!(
            (t.width, t.height, t.scale_factors.clone()),
            (256, 256, vec![1, 2, 4, 8])
        );
        let untiled = Tiling::codestream(d, (600, 400), 5, 512);
        assert_eq!((untiled.width, untiled.scale_factors.len()), (512, 6));
        let sizes: Vec<u32> = t.sizes(d, &LIM).iter().map(|s| s.width).collect();
        assert_eq!(sizes, [75, 150, 300, 600]);
    }

    #[test]
    fn document_shape() {
        let d = Dimensions {
            width: 1000,
            height: 1000,
        };
        let v = info_json("http://h/iiif/x", d, &Tiling::square(d, 256), &LIM);
        assert_eq!(v["@context"], CONTEXT);
        assert_eq!(v["@id"], "http://h/iiif/x");
        assert_eq!(v["protocol"], PROTOCOL);
        assert_eq!(v["width"], 1000);
        assert_eq!(v["profile"][0], LEVEL2);
        assert_eq!(v["profile"][1]["maxArea"], 50_000_000);
        assert_eq!(v["tiles"][0]["scaleFactors"], json!([1, 2, 4]));
        assert_eq!(v["sizes"][0], json!({"width": 250, "height": 250}));
        let supports = v["profile"][1]["supports"].as_array().unwrap();
        assert!(supports.contains(&json!("mirroring")));
    }

    #[test]
    fn document_shape_v3() {
        // The fields of §5.2–§5.7 of 3.0, as in its examples.
        let d = Dimensions {
            width: 6000,
            height: 4000,
        };
        let lim = Limits {
            max_width: 3000,
            max_height: 2000,
            max_area: 4_000_000,
            scale_cap: None,
        };
        let rights = "http://rightsstatements.org/vocab/InC-EDU/1.0/";
        let v = info_json_v3(
            "https://example.org/iiif/3/abcd",
            d,
            &Tiling::square(d, 512),
            &lim,
            Some(rights),
        );
        assert_eq!(v["@context"], "http://iiif.io/api/image/3/context.json");
        assert_eq!(v["id"], "https://example.org/iiif/3/abcd");
        assert_eq!(v["type"], "ImageService3");
        assert_eq!(v["protocol"], "http://iiif.io/api/image");
        assert_eq!(v["profile"], "level2");
        assert_eq!(
            (v["width"].as_u64(), v["height"].as_u64()),
            (Some(6000), Some(4000))
        );
        assert_eq!(v["maxWidth"], 3000);
        assert_eq!(v["maxHeight"], 2000);
        assert_eq!(v["maxArea"], 4_000_000);
        assert_eq!(v["rights"], rights);
        assert_eq!(v["preferredFormats"], json!(["jpg"]));
        assert_eq!(v["extraQualities"], json!(["color", "gray", "bitonal"]));
        assert_eq!(
            v["extraFormats"],
            json!(["gif", "webp", "tif", "pdf", "jp2"])
        );
        assert!(v["extraFeatures"]
            .as_array()
            .unwrap()
            .contains(&json!("sizeUpscaling")));
        assert_eq!(v["tiles"][0]["width"], 512);
        assert_eq!(v["tiles"][0]["scaleFactors"], json!([1, 2, 4, 8, 16]));
        // Sizes within the limits only: 3000×2000 is over maxArea, so 1500×1000 is the largest.
        let sizes = v["sizes"].as_array().unwrap();
        assert_eq!(
            sizes.last().unwrap(),
            &json!({"width": 1500, "height": 1000})
        );
        // No 2.1 names, and no rights unless given.
        for old in ["@id", "@type", "supports", "formats", "qualities"] {
            assert!(v.get(old).is_none(), "{old}");
        }
        let none = info_json_v3("x", d, &Tiling::square(d, 512), &lim, None);
        assert!(none.get("rights").is_none());
    }
}
