//! The image request's path parameters (§4.1–§4.5) and their hand-written parser, for 2.1 and
//! 3.0. The two differ only in the size: 3.0 has no `full`, and a size may be larger than its
//! region only when it is prefixed with `^` ([`ImageRequest::upscale`]).
//!
//! Parsing is pure syntax: whether a region lies inside the image, or a size is within the
//! limits, is decided later by [`crate::iiif::geometry`].

use super::number::{parse_decimal, parse_uint};
use super::version::Version;
use std::fmt;

/// The region parameter (§4.1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Region {
    /// `full`: the whole image.
    Full,
    /// `square`: the largest centred square.
    Square,
    /// `x,y,w,h` in pixels.
    Pixels { x: u32, y: u32, w: u32, h: u32 },
    /// `pct:x,y,w,h` in percent of the full image.
    Percent { x: f64, y: f64, w: f64, h: f64 },
}

/// The size parameter (§4.2).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Size {
    /// `full`: the region unscaled.
    Full,
    /// `max`: as large as the server's limits allow.
    Max,
    /// `w,`: this width, the height keeps the aspect ratio.
    Width(u32),
    /// `,h`: this height, the width keeps the aspect ratio.
    Height(u32),
    /// `pct:n`: scaled by n percent.
    Percent(f64),
    /// `w,h`: exactly this size, possibly distorted.
    Exact { w: u32, h: u32 },
    /// `!w,h`: the largest size that fits inside w×h and keeps the aspect ratio.
    BestFit { w: u32, h: u32 },
}

/// The rotation parameter (§4.3): an optional mirror, then clockwise degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rotation {
    /// `!` prefix: mirror on the vertical axis before rotating.
    pub mirror: bool,
    /// Clockwise degrees, 0 ≤ degrees ≤ 360.
    pub degrees: f64,
}

/// The quality parameter (§4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quality {
    /// `default`: the image as it is.
    Default,
    /// `color`: full colour.
    Color,
    /// `gray`: luma only.
    Gray,
    /// `bitonal`: pure black and white.
    Bitonal,
}

/// The format parameter (§4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// JPEG.
    Jpg,
    /// PNG.
    Png,
    /// GIF.
    Gif,
    /// WebP.
    Webp,
    /// TIFF.
    Tif,
    /// PDF, one page holding the image.
    Pdf,
    /// JPEG 2000 (JP2 container).
    Jp2,
}

/// A parsed image request: `{region}/{size}/{rotation}/{quality}.{format}`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImageRequest {
    /// Which part of the image.
    pub region: Region,
    /// How large the result is.
    pub size: Size,
    /// Mirroring and rotation.
    pub rotation: Rotation,
    /// Colour, gray or bitonal.
    pub quality: Quality,
    /// The output format.
    pub format: Format,
    /// Whether the size may be larger than the region: a 3.0 size prefixed with `^`, and every
    /// 2.1 size but `max` (2.1 allows sizes above full; its `max` never upscales).
    pub upscale: bool,
}

/// Which path parameter was malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The region parameter.
    Region,
    /// The size parameter.
    Size,
    /// The rotation parameter.
    Rotation,
    /// The quality parameter.
    Quality,
    /// The format parameter.
    Format,
}

/// A syntax error in one path parameter; it maps to 400 Bad Request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The parameter at fault.
    pub part: Part,
    /// The offending text, for the message.
    pub value: String,
    /// The API version the request was parsed as (the expected forms differ).
    pub version: Version,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, expected) = match self.part {
            Part::Region => ("region", "full, square, x,y,w,h or pct:x,y,w,h"),
            Part::Size if self.version == Version::V3 => (
                "size",
                "max, w,  ,h  pct:n  w,h or !w,h, each optionally prefixed by ^",
            ),
            Part::Size => ("size", "full, max, w,  ,h  pct:n  w,h or !w,h"),
            Part::Rotation => (
                "rotation",
                "a number from 0 to 360, optionally prefixed by !",
            ),
            Part::Quality => ("quality", "default, color, gray or bitonal"),
            Part::Format => ("format", "jpg, png, gif, webp, tif, pdf or jp2"),
        };
        let shown: String = self.value.chars().take(64).collect();
        write!(f, "invalid {name} {shown:?}: expected {expected}")
    }
}

impl std::error::Error for ParseError {}

impl Format {
    /// Every supported format, in the order info.json lists them.
    pub const ALL: [Format; 7] = [
        Format::Jpg,
        Format::Png,
        Format::Gif,
        Format::Webp,
        Format::Tif,
        Format::Pdf,
        Format::Jp2,
    ];

    /// The extension used in URLs.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Jpg => "jpg",
            Format::Png => "png",
            Format::Gif => "gif",
            Format::Webp => "webp",
            Format::Tif => "tif",
            Format::Pdf => "pdf",
            Format::Jp2 => "jp2",
        }
    }

    /// The media type of §4.5.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Jpg => "image/jpeg",
            Format::Png => "image/png",
            Format::Gif => "image/gif",
            Format::Webp => "image/webp",
            Format::Tif => "image/tiff",
            Format::Pdf => "application/pdf",
            Format::Jp2 => "image/jp2",
        }
    }

    /// Whether the format can carry transparency (used for rotation corners).
    pub fn has_alpha(self) -> bool {
        matches!(self, Format::Png | Format::Gif | Format::Webp | Format::Tif)
    }

    fn parse(s: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.extension() == s)
    }
}

impl Quality {
    /// Every supported quality, in the order info.json lists them.
    pub const ALL: [Quality; 4] = [
        Quality::Default,
        Quality::Color,
        Quality::Gray,
        Quality::Bitonal,
    ];

    /// The name used in URLs.
    pub fn name(self) -> &'static str {
        match self {
            Quality::Default => "default",
            Quality::Color => "color",
            Quality::Gray => "gray",
            Quality::Bitonal => "bitonal",
        }
    }

    fn parse(s: &str) -> Option<Quality> {
        Quality::ALL.into_iter().find(|q| q.name() == s)
    }
}

impl ImageRequest {
    /// Parses the four path segments that follow the identifier, as Image API 2.1.
    pub fn parse(region: &str, size: &str, rotation: &str, file: &str) -> Result<Self, ParseError> {
        ImageRequest::parse_as(Version::V2, region, size, rotation, file)
    }

    /// Parses the four path segments that follow the identifier, as `version` writes them.
    pub fn parse_as(
        version: Version,
        region: &str,
        size: &str,
        rotation: &str,
        file: &str,
    ) -> Result<Self, ParseError> {
        let err = |part, value: &str| ParseError {
            part,
            value: value.to_string(),
            version,
        };
        let region = Region::parse(region).ok_or_else(|| err(Part::Region, region))?;
        let (size, upscale) = match version {
            Version::V2 => Size::parse(size).map(|s| (s, s != Size::Max)),
            Version::V3 => Size::parse_v3(size),
        }
        .ok_or_else(|| err(Part::Size, size))?;
        let rotation = Rotation::parse(rotation).ok_or_else(|| err(Part::Rotation, rotation))?;
        let (quality, format) = match file.rsplit_once('.') {
            Some((q, f)) => (
                Quality::parse(q).ok_or_else(|| err(Part::Quality, q))?,
                Format::parse(f).ok_or_else(|| err(Part::Format, f))?,
            ),
            None => return Err(err(Part::Format, file)),
        };
        Ok(ImageRequest {
            region,
            size,
            rotation,
            quality,
            format,
            upscale,
        })
    }
}

/// Splits `a,b,c,d` into exactly `N` parts.
fn split_n<const N: usize>(s: &str) -> Option<[&str; N]> {
    let mut out = [""; N];
    let mut parts = s.split(',');
    for slot in out.iter_mut() {
        *slot = parts.next()?;
    }
    parts.next().is_none().then_some(out)
}

impl Region {
    /// Parses a region parameter.
    pub fn parse(s: &str) -> Option<Region> {
        match s {
            "full" => return Some(Region::Full),
            "square" => return Some(Region::Square),
            _ => {}
        }
        if let Some(rest) = s.strip_prefix("pct:") {
            let [x, y, w, h] = split_n::<4>(rest)?.map(parse_decimal);
            let (x, y, w, h) = (x?, y?, w?, h?);
            return Some(Region::Percent { x, y, w, h });
        }
        let [x, y, w, h] = split_n::<4>(s)?.map(parse_uint);
        Some(Region::Pixels {
            x: x?,
            y: y?,
            w: w?,
            h: h?,
        })
    }
}

impl Size {
    /// Parses a 3.0 size parameter: the 2.1 forms without `full`, each optionally prefixed
    /// with `^` (the second value says whether it was).
    pub fn parse_v3(s: &str) -> Option<(Size, bool)> {
        let (upscale, rest) = match s.strip_prefix('^') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        match Size::parse(rest)? {
            Size::Full => None,
            size => Some((size, upscale)),
        }
    }

    /// Parses a 2.1 size parameter.
    pub fn parse(s: &str) -> Option<Size> {
        match s {
            "full" => return Some(Size::Full),
            "max" => return Some(Size::Max),
            _ => {}
        }
        if let Some(n) = s.strip_prefix("pct:") {
            return parse_decimal(n).map(Size::Percent);
        }
        let (best_fit, rest) = match s.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let [w, h] = split_n::<2>(rest)?;
        match (w.is_empty(), h.is_empty()) {
            (false, true) if !best_fit => parse_uint(w).map(Size::Width),
            (true, false) if !best_fit => parse_uint(h).map(Size::Height),
            (false, false) => {
                let (w, h) = (parse_uint(w)?, parse_uint(h)?);
                Some(if best_fit {
                    Size::BestFit { w, h }
                } else {
                    Size::Exact { w, h }
                })
            }
            _ => None,
        }
    }
}

impl Rotation {
    /// Parses a rotation parameter.
    pub fn parse(s: &str) -> Option<Rotation> {
        let (mirror, rest) = match s.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let degrees = parse_decimal(rest)?;
        (degrees <= 360.0).then_some(Rotation { mirror, degrees })
    }

    /// The plain rotation `0`.
    pub const NONE: Rotation = Rotation {
        mirror: false,
        degrees: 0.0,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(path: &str) -> Result<ImageRequest, ParseError> {
        let p: Vec<&str> = path.split('/').collect();
        assert_eq!(p.len(), 4, "{path}");
        ImageRequest::parse(p[0], p[1], p[2], p[3])
    }

    #[test]
    fn spec_region_examples() {
        assert_eq!(Region::parse("full"), Some(Region::Full));
        assert_eq!(Region::parse("square"), Some(Region::Square));
        assert_eq!(
            Region::parse("125,15,120,140"),
            Some(Region::Pixels {
                x: 125,
                y: 15,
                w: 120,
                h: 140
            })
        );
        assert_eq!(
            Region::parse("pct:41.6,7.5,40,70"),
            Some(Region::Percent {
                x: 41.6,
                y: 7.5,
                w: 40.0,
                h: 70.0
            })
        );
        for bad in [
            "",
            "Full",
            "1,2,3",
            "1,2,3,4,5",
            "-1,2,3,4",
            "1.5,2,3,4",
            "pct:1,2,3",
            "pct:",
            "pct:a,b,c,d",
            "pct:-1,0,10,10",
            "1,,3,4",
            "1, 2,3,4",
            "squares",
            "pct:1,2,3,4,",
        ] {
            assert_eq!(Region::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn spec_size_examples() {
        assert_eq!(Size::parse("full"), Some(Size::Full));
        assert_eq!(Size::parse("max"), Some(Size::Max));
        assert_eq!(Size::parse("150,"), Some(Size::Width(150)));
        assert_eq!(Size::parse(",150"), Some(Size::Height(150)));
        assert_eq!(Size::parse("pct:50"), Some(Size::Percent(50.0)));
        assert_eq!(Size::parse("pct:12.5"), Some(Size::Percent(12.5)));
        assert_eq!(Size::parse("225,100"), Some(Size::Exact { w: 225, h: 100 }));
        assert_eq!(
            Size::parse("!225,100"),
            Some(Size::BestFit { w: 225, h: 100 })
        );
        for bad in [
            "", ",", "!,", "!150,", "!,150", "150", "1,2,3", "pct:", "pct:-5", "pct:x", "-1,",
            ",-1", "!!1,2", "Max", "w,h", "1.5,", "pct:50%", "^150,",
        ] {
            assert_eq!(Size::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn spec_size_examples_v3() {
        // Every form of §4.2 of 3.0, plain and with `^`.
        let forms = [
            ("max", Size::Max),
            ("150,", Size::Width(150)),
            (",150", Size::Height(150)),
            ("pct:50", Size::Percent(50.0)),
            ("pct:120", Size::Percent(120.0)),
            ("225,100", Size::Exact { w: 225, h: 100 }),
            ("!225,100", Size::BestFit { w: 225, h: 100 }),
        ];
        for (text, size) in forms {
            assert_eq!(Size::parse_v3(text), Some((size, false)), "{text}");
            let up = format!("^{text}");
            assert_eq!(Size::parse_v3(&up), Some((size, true)), "{up}");
        }
        // `full` is gone in 3.0, and `^` goes only in front.
        for bad in [
            "full",
            "^full",
            "^",
            "^^max",
            "max^",
            ",^240",
            "150,^",
            "!^225,100",
            "^ 150,",
            "",
            "^pct:",
            "^!150,",
        ] {
            assert_eq!(Size::parse_v3(bad), None, "{bad:?}");
        }
        let v3 = |size: &str| ImageRequest::parse_as(Version::V3, "full", size, "0", "default.jpg");
        assert!(v3("^max").unwrap().upscale);
        assert!(!v3("max").unwrap().upscale);
        let e = v3("full").unwrap_err();
        assert_eq!(e.part, Part::Size);
        assert!(e.to_string().contains("prefixed by ^"), "{e}");
        // 2.1: every size may exceed its region but `max`; `^` is not 2.1 syntax.
        assert!(req("full/150,/0/default.jpg").unwrap().upscale);
        assert!(!req("full/max/0/default.jpg").unwrap().upscale);
        assert_eq!(req("full/^max/0/default.jpg").unwrap_err().part, Part::Size);
    }

    #[test]
    fn spec_rotation_examples() {
        assert_eq!(Rotation::parse("0"), Some(Rotation::NONE));
        assert_eq!(
            Rotation::parse("22.5"),
            Some(Rotation {
                mirror: false,
                degrees: 22.5
            })
        );
        assert_eq!(
            Rotation::parse("!180"),
            Some(Rotation {
                mirror: true,
                degrees: 180.0
            })
        );
        assert_eq!(Rotation::parse("360").map(|r| r.degrees), Some(360.0));
        for bad in [
            "", "!", "-90", "360.1", "400", "!!90", "90!", "1e2", "abc", "9 0",
        ] {
            assert_eq!(Rotation::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn quality_and_format() {
        let r = req("full/full/0/default.jpg").unwrap();
        assert_eq!((r.quality, r.format), (Quality::Default, Format::Jpg));
        for f in Format::ALL {
            for q in Quality::ALL {
                let r = req(&format!("full/max/0/{}.{}", q.name(), f.extension())).unwrap();
                assert_eq!((r.quality, r.format), (q, f));
            }
        }
        assert_eq!(req("full/full/0/grey.jpg").unwrap_err().part, Part::Quality);
        assert_eq!(
            req("full/full/0/native.jpg").unwrap_err().part,
            Part::Quality
        );
        assert_eq!(
            req("full/full/0/default.jpeg").unwrap_err().part,
            Part::Format
        );
        assert_eq!(req("full/full/0/default").unwrap_err().part, Part::Format);
        assert_eq!(req("full/full/0/default.").unwrap_err().part, Part::Format);
        assert_eq!(req("full/full/0/.jpg").unwrap_err().part, Part::Quality);
        assert_eq!(
            req("full/full/0/default.jpg.png").unwrap_err().part,
            Part::Quality
        );
    }

    #[test]
    fn errors_name_the_first_bad_part() {
        assert_eq!(
            req("nope/full/0/default.jpg").unwrap_err().part,
            Part::Region
        );
        assert_eq!(req("full/nope/0/default.jpg").unwrap_err().part, Part::Size);
        assert_eq!(
            req("full/full/nope/default.jpg").unwrap_err().part,
            Part::Rotation
        );
        let e = req("full/full/0/default.xyz").unwrap_err();
        assert!(e.to_string().contains("format \"xyz\""), "{e}");
    }

    #[test]
    fn parser_never_panics_on_odd_input() {
        let samples = [
            "\u{0}",
            "é,é,é,é",
            "pct:\u{10ffff}",
            "9999999999999,1,1,1",
            "!",
            "!!",
            ",,",
            "pct:.",
            "0.0.0",
            "𝟙,",
            "\\",
            "%2F",
        ];
        for a in samples {
            for b in samples {
                let _ = ImageRequest::parse(a, b, a, b);
            }
        }
    }
}
