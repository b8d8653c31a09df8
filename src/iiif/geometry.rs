//! Resolving a parsed request against an image's size and the server's limits (§4.1–§4.3).
//!
//! Rounding follows Appendix A: when a `w,` or `,h` request has the shape of a tile request
//! (some power-of-two scale factor `s` gives `ceil(region / s) == requested`), the other side is
//! `ceil(other / s)`, exactly the size a viewer expects, so edge tiles are never off by one.
//! Any other scaling rounds to the nearest pixel.

use super::request::{Format, ImageRequest, Quality, Region, Size};
use std::fmt;

/// An image's width and height in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dimensions {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// A rectangle in full-image pixel coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rect {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub w: u32,
    /// Height.
    pub h: u32,
}

/// The output limits advertised in info.json as `maxWidth`, `maxHeight` and `maxArea`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// The widest output the server makes.
    pub max_width: u32,
    /// The tallest output the server makes.
    pub max_height: u32,
    /// The largest output area, in pixels.
    pub max_area: u64,
    /// The largest scale (output / region) allowed, for images served only in reduced form;
    /// `None` for no cap.
    pub scale_cap: Option<ScaleCap>,
}

/// A largest scale `num / den` (output pixels per source pixel), kept as an exact ratio so
/// that no rounding lets a single output pixel come from a finer scale than allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleCap {
    /// Numerator: the limited side.
    pub num: u32,
    /// Denominator: the image's long side.
    pub den: u32,
}

impl ScaleCap {
    /// The cap `num / den`; `None` when it is no cap at all (`num >= den`) or `den` is 0.
    pub fn new(num: u32, den: u32) -> Option<ScaleCap> {
        (den > 0 && num < den).then_some(ScaleCap { num, den })
    }

    /// Whether `out` pixels from `region` pixels keep within the cap, exactly:
    /// `out / region <= num / den`.
    pub fn allows(self, out: u32, region: u32) -> bool {
        u64::from(out) * u64::from(self.den) <= u64::from(region) * u64::from(self.num)
    }

    /// The largest output within the cap for `region` pixels (possibly 0).
    pub fn largest(self, region: u32) -> u32 {
        (u64::from(region) * u64::from(self.num) / u64::from(self.den)) as u32
    }

    /// The cap as a number (for choosing scale factors; never for the check itself).
    pub fn ratio(self) -> f64 {
        f64::from(self.num) / f64::from(self.den)
    }
}

impl Limits {
    /// Whether an output of `w`×`h` is within the limits.
    pub fn allows(&self, w: u32, h: u32) -> bool {
        w <= self.max_width && h <= self.max_height && u64::from(w) * u64::from(h) <= self.max_area
    }
}

/// A request resolved to concrete pixels: what the pipeline executes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    /// The source region, cropped to the image.
    pub region: Rect,
    /// The output width before rotation.
    pub width: u32,
    /// The output height before rotation.
    pub height: u32,
    /// Mirror before rotating.
    pub mirror: bool,
    /// Clockwise rotation in degrees, normalised to `0 ≤ degrees < 360`.
    pub degrees: f64,
    /// The requested quality.
    pub quality: Quality,
    /// The requested format.
    pub format: Format,
}

/// Why a syntactically valid request cannot be served for this image.
#[derive(Debug, Clone, PartialEq)]
pub enum GeometryError {
    /// The region has a zero width or height (400).
    EmptyRegion,
    /// The region lies wholly outside the image (400).
    RegionOutside,
    /// The scaled size has a zero width or height (400).
    EmptySize,
    /// A 3.0 size without `^` is larger than its region (400, §4.2 of 3.0).
    Upscale {
        /// Requested width.
        width: u32,
        /// Requested height.
        height: u32,
        /// The region it scales.
        region: Rect,
    },
    /// The output would exceed `maxWidth`, `maxHeight` or `maxArea` (404, as §7 says).
    TooLarge {
        /// Requested width.
        width: u32,
        /// Requested height.
        height: u32,
        /// The limits in force.
        limits: Limits,
    },
}

impl fmt::Display for GeometryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GeometryError::EmptyRegion => write!(f, "region has zero width or height"),
            GeometryError::RegionOutside => write!(f, "region lies outside the image"),
            GeometryError::EmptySize => write!(f, "size scales to zero width or height"),
            GeometryError::Upscale {
                width,
                height,
                region,
            } => write!(
                f,
                "size {width}x{height} is larger than the region ({}x{}); prefix the size with ^ to upscale",
                region.w, region.h
            ),
            GeometryError::TooLarge {
                width,
                height,
                limits,
            } => write!(
                f,
                "size {width}x{height} exceeds the limits (maxWidth {}, maxHeight {}, maxArea {})",
                limits.max_width, limits.max_height, limits.max_area
            ),
        }
    }
}

impl std::error::Error for GeometryError {}

/// Resolves a request against an image of `dims`, within `limits`.
pub fn plan(req: &ImageRequest, dims: Dimensions, limits: &Limits) -> Result<Plan, GeometryError> {
    let region = resolve_region(req.region, dims)?;
    let (width, height) = resolve_size(req.size, region, limits, req.upscale)?;
    if !req.upscale && (width > region.w || height > region.h) {
        return Err(GeometryError::Upscale {
            width,
            height,
            region,
        });
    }
    let (width, height) = within_cap_by_rounding(req.size, region, width, height, limits);
    if width == 0 || height == 0 {
        return Err(GeometryError::EmptySize);
    }
    if !limits.allows(width, height) || !within_scale_cap(region, width, height, limits) {
        return Err(GeometryError::TooLarge {
            width,
            height,
            limits: *limits,
        });
    }
    // Round as the canonical form does (10 decimal places), so that the pixels made and the
    // canonical URI they are cached under always agree; 360 is 0.
    let degrees = (req.rotation.degrees * 1e10).round() / 1e10;
    let degrees = if degrees >= 360.0 {
        degrees - 360.0
    } else {
        degrees
    };
    let (bw, bh) = rotated_size(width, height, degrees);
    if !limits.allows(bw, bh) {
        return Err(GeometryError::TooLarge {
            width: bw,
            height: bh,
            limits: *limits,
        });
    }
    Ok(Plan {
        region,
        width,
        height,
        mirror: req.rotation.mirror,
        degrees,
        quality: req.quality,
        format: req.format,
    })
}

/// The size of the bounding box of a `w`×`h` image rotated clockwise by `degrees` (§4.3).
/// Multiples of 90° are exact.
pub fn rotated_size(w: u32, h: u32, degrees: f64) -> (u32, u32) {
    if degrees == 0.0 || degrees == 180.0 {
        return (w, h);
    }
    if degrees == 90.0 || degrees == 270.0 {
        return (h, w);
    }
    let (s, c) = degrees.to_radians().sin_cos();
    let (fw, fh) = (f64::from(w), f64::from(h));
    let bw = (fw * c.abs() + fh * s.abs())
        .round()
        .clamp(1.0, f64::from(u32::MAX));
    let bh = (fh * c.abs() + fw * s.abs())
        .round()
        .clamp(1.0, f64::from(u32::MAX));
    (bw as u32, bh as u32)
}

/// Under a scale cap, when the scale a request asks for is itself within the cap but
/// rounding took a side it does not state (the height of `w,`, the width of `,h`, the free
/// side of `!w,h`, both sides of `pct:n`) past it, that side is rounded down instead: `256,`
/// of a 1000×600 image capped at 256 px is 256×153, not a refused 256×154. Sides the request
/// states are never changed; a scale over the cap is refused.
fn within_cap_by_rounding(size: Size, region: Rect, w: u32, h: u32, limits: &Limits) -> (u32, u32) {
    let Some(cap) = limits.scale_cap else {
        return (w, h);
    };
    let fit_w = || w.min(cap.largest(region.w).max(1));
    let fit_h = || h.min(cap.largest(region.h).max(1));
    match size {
        Size::Width(_) if cap.allows(w, region.w) => (w, fit_h()),
        Size::Height(_) if cap.allows(h, region.h) => (fit_w(), h),
        Size::BestFit { w: bw, h: bh } => {
            let width_bound =
                u64::from(bw) * u64::from(region.h) <= u64::from(bh) * u64::from(region.w);
            match width_bound {
                true if cap.allows(w, region.w) => (w, fit_h()),
                false if cap.allows(h, region.h) => (fit_w(), h),
                _ => (w, h),
            }
        }
        Size::Percent(p) if p * f64::from(cap.den) <= 100.0 * f64::from(cap.num) => {
            (fit_w(), fit_h())
        }
        _ => (w, h),
    }
}

/// Whether `w`×`h` from `region` keeps within the scale cap on both axes, exactly: no output
/// pixel may stand for fewer source pixels than the cap allows.
fn within_scale_cap(region: Rect, w: u32, h: u32, limits: &Limits) -> bool {
    limits
        .scale_cap
        .is_none_or(|cap| cap.allows(w, region.w) && cap.allows(h, region.h))
}

/// Resolves the region parameter to a rectangle cropped at the image edge.
pub fn resolve_region(region: Region, dims: Dimensions) -> Result<Rect, GeometryError> {
    let (iw, ih) = (dims.width, dims.height);
    let (x, y, w, h) = match region {
        Region::Full => return Ok(full_rect(dims)),
        Region::Square => {
            let s = iw.min(ih);
            return Ok(Rect {
                x: (iw - s) / 2,
                y: (ih - s) / 2,
                w: s,
                h: s,
            });
        }
        Region::Pixels { x, y, w, h } => (
            u64::from(x),
            u64::from(y),
            u64::from(x) + u64::from(w),
            u64::from(y) + u64::from(h),
        ),
        Region::Percent { x, y, w, h } => {
            if w <= 0.0 || h <= 0.0 {
                return Err(GeometryError::EmptyRegion);
            }
            let px = |p: f64, full: u32| {
                (p * f64::from(full) / 100.0).round().min(u64::MAX as f64) as u64
            };
            (px(x, iw), px(y, ih), px(x + w, iw), px(y + h, ih))
        }
    };
    if x >= u64::from(iw) || y >= u64::from(ih) {
        return Err(GeometryError::RegionOutside);
    }
    let right = w.min(u64::from(iw));
    let bottom = h.min(u64::from(ih));
    if right <= x || bottom <= y {
        return Err(GeometryError::EmptyRegion);
    }
    Ok(Rect {
        x: x as u32,
        y: y as u32,
        w: (right - x) as u32,
        h: (bottom - y) as u32,
    })
}

/// The rectangle covering the whole image.
pub fn full_rect(dims: Dimensions) -> Rect {
    Rect {
        x: 0,
        y: 0,
        w: dims.width,
        h: dims.height,
    }
}

/// The other side of a region of `along`×`across` scaled so that `along` becomes `target`,
/// keeping the aspect ratio, rounded as described in the module documentation; never 0 when
/// `target` is not (`200,` of a 65,535×1 image is 200×1).
pub fn proportional(along: u32, across: u32, target: u32) -> u32 {
    let v = proportional_rounded(along, across, target);
    if target > 0 && across > 0 {
        v.max(1)
    } else {
        v
    }
}

fn proportional_rounded(along: u32, across: u32, target: u32) -> u32 {
    if target <= along {
        let mut s: u64 = 1;
        while s <= u64::from(along) {
            if u64::from(along).div_ceil(s) == u64::from(target) {
                return u64::from(across).div_ceil(s) as u32;
            }
            s *= 2;
        }
    }
    let v = (f64::from(across) * f64::from(target) / f64::from(along)).round();
    v.min(f64::from(u32::MAX)) as u32
}

/// Resolves the size parameter for a region of `region.w`×`region.h`. Without `upscale`, `max`
/// and `!w,h` stop at the region's own size (the other forms are refused by [`plan`]).
pub fn resolve_size(
    size: Size,
    region: Rect,
    limits: &Limits,
    upscale: bool,
) -> Result<(u32, u32), GeometryError> {
    let (rw, rh) = (region.w, region.h);
    Ok(match size {
        Size::Full => (rw, rh),
        Size::Max => max_size(rw, rh, limits, upscale),
        Size::Width(w) => (w, proportional(rw, rh, w)),
        Size::Height(h) => (proportional(rh, rw, h), h),
        Size::Percent(p) => {
            // At least one pixel on each side when the percentage is not zero.
            let least = if p > 0.0 { 1.0 } else { 0.0 };
            let scale = |v: u32| {
                (f64::from(v) * p / 100.0)
                    .round()
                    .max(least)
                    .min(f64::from(u32::MAX)) as u32
            };
            (scale(rw), scale(rh))
        }
        Size::Exact { w, h } => (w, h),
        Size::BestFit { w, h } => {
            if w == 0 || h == 0 {
                return Err(GeometryError::EmptySize);
            }
            // Width-bound when w/rw <= h/rh.
            let fit = if u64::from(w) * u64::from(rh) <= u64::from(h) * u64::from(rw) {
                (w, proportional(rw, rh, w).min(h))
            } else {
                (proportional(rh, rw, h).min(w), h)
            };
            if !upscale && (fit.0 > rw || fit.1 > rh) {
                (rw, rh)
            } else {
                fit
            }
        }
    })
}

/// The `max` size: the region itself when the limits allow, else the largest size within them
/// that keeps the aspect ratio. With `upscale` (3.0's `^max`), the largest size within the
/// limits, larger than the region when they allow.
pub fn max_size(rw: u32, rh: u32, limits: &Limits, upscale: bool) -> (u32, u32) {
    if !upscale && limits.allows(rw, rh) && limits.scale_cap.is_none() {
        return (rw, rh);
    }
    let (fw, fh) = (f64::from(rw), f64::from(rh));
    let scale = (f64::from(limits.max_width) / fw)
        .min(f64::from(limits.max_height) / fh)
        .min((limits.max_area as f64 / (fw * fh)).sqrt())
        .min(limits.scale_cap.map_or(f64::INFINITY, ScaleCap::ratio))
        .min(if upscale { f64::INFINITY } else { 1.0 });
    let mut w = ((fw * scale).floor() as u32).max(1);
    let mut h = ((fh * scale).floor() as u32).max(1);
    if let Some(cap) = limits.scale_cap {
        // Exactly within the cap (it may leave nothing: a region too small to show).
        w = w.min(cap.largest(rw)).max(1);
        h = h.min(cap.largest(rh)).max(1);
    }
    // Guard against floating point landing one pixel over a limit.
    while !limits.allows(w, h) && (w > 1 || h > 1) {
        w = w.saturating_sub(1).max(1);
        h = h.saturating_sub(1).max(1);
    }
    (w, h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iiif::request::Rotation;

    const D: Dimensions = Dimensions {
        width: 1000,
        height: 600,
    };
    const BIG: Limits = Limits {
        max_width: 10_000,
        max_height: 10_000,
        max_area: 100_000_000,
        scale_cap: None,
    };

    fn rect(x: u32, y: u32, w: u32, h: u32) -> Rect {
        Rect { x, y, w, h }
    }

    fn region(s: &str) -> Result<Rect, GeometryError> {
        resolve_region(Region::parse(s).unwrap(), D)
    }

    fn size(s: &str, r: Rect) -> Result<(u32, u32), GeometryError> {
        resolve_size(Size::parse(s).unwrap(), r, &BIG, s != "max")
    }

    #[test]
    fn regions() {
        assert_eq!(region("full"), Ok(rect(0, 0, 1000, 600)));
        assert_eq!(region("square"), Ok(rect(200, 0, 600, 600)));
        assert_eq!(region("125,15,120,140"), Ok(rect(125, 15, 120, 140)));
        // Cropped at the edge, never padded.
        assert_eq!(region("900,500,300,300"), Ok(rect(900, 500, 100, 100)));
        assert_eq!(region("pct:10,10,50,50"), Ok(rect(100, 60, 500, 300)));
        assert_eq!(region("pct:90,0,20,100"), Ok(rect(900, 0, 100, 600)));
        assert_eq!(region("pct:0,0,100,100"), Ok(rect(0, 0, 1000, 600)));
        assert_eq!(region("0,0,0,10"), Err(GeometryError::EmptyRegion));
        assert_eq!(region("0,0,10,0"), Err(GeometryError::EmptyRegion));
        assert_eq!(region("1000,0,10,10"), Err(GeometryError::RegionOutside));
        assert_eq!(region("0,600,10,10"), Err(GeometryError::RegionOutside));
        assert_eq!(region("pct:100,0,10,10"), Err(GeometryError::RegionOutside));
        assert_eq!(region("pct:0,0,0,10"), Err(GeometryError::EmptyRegion));
        assert_eq!(region("pct:0,0,0.01,10"), Err(GeometryError::EmptyRegion));
        assert_eq!(
            region("4294967295,0,4294967295,10"),
            Err(GeometryError::RegionOutside)
        );
        assert_eq!(
            region("999,599,4294967295,4294967295"),
            Ok(rect(999, 599, 1, 1))
        );
    }

    #[test]
    fn square_of_portrait_is_centred() {
        let d = Dimensions {
            width: 300,
            height: 801,
        };
        assert_eq!(
            resolve_region(Region::Square, d),
            Ok(rect(0, 250, 300, 300))
        );
    }

    #[test]
    fn sizes() {
        let r = rect(0, 0, 1000, 600);
        assert_eq!(size("full", r), Ok((1000, 600)));
        assert_eq!(size("max", r), Ok((1000, 600)));
        assert_eq!(size("500,", r), Ok((500, 300)));
        assert_eq!(size(",300", r), Ok((500, 300)));
        assert_eq!(size("pct:50", r), Ok((500, 300)));
        assert_eq!(size("pct:12.5", r), Ok((125, 75)));
        assert_eq!(size("225,100", r), Ok((225, 100)));
        assert_eq!(size("!225,100", r), Ok((167, 100)));
        assert_eq!(size("!100,225", r), Ok((100, 60)));
        assert_eq!(size("2000,", r), Ok((2000, 1200)));
        assert_eq!(size("333,", r), Ok((333, 200)));
        assert_eq!(size("!0,10", r), Err(GeometryError::EmptySize));
    }

    #[test]
    fn best_fit_stays_inside_the_box() {
        for (w, h) in [
            (1000u32, 600u32),
            (601, 1000),
            (1, 1000),
            (1000, 1),
            (777, 333),
        ] {
            let r = rect(0, 0, w, h);
            for (bw, bh) in [(150, 150), (200, 100), (99, 301), (1, 1), (3000, 2000)] {
                let (ow, oh) = resolve_size(Size::BestFit { w: bw, h: bh }, r, &BIG, true).unwrap();
                assert!(ow <= bw && oh <= bh, "{w}x{h} in !{bw},{bh} -> {ow}x{oh}");
                assert!(ow == bw || oh == bh, "{w}x{h} in !{bw},{bh} -> {ow}x{oh}");
            }
        }
    }

    #[test]
    fn appendix_a_tiles_are_exact() {
        // Every tile of a 2,345 x 1,567 image at every scale factor, requested as OpenSeadragon
        // does (x,y,w,h / ws, ), comes out exactly ws x hs as Appendix A computes them.
        let d = Dimensions {
            width: 2345,
            height: 1567,
        };
        let t = 256u32;
        for s in [1u32, 2, 4, 8, 16] {
            let mut yr = 0;
            while yr < d.height {
                let mut xr = 0;
                while xr < d.width {
                    let wr = (t * s).min(d.width - xr);
                    let hr = (t * s).min(d.height - yr);
                    let ws = wr.div_ceil(s);
                    let hs = hr.div_ceil(s);
                    let req = ImageRequest {
                        region: Region::Pixels {
                            x: xr,
                            y: yr,
                            w: wr,
                            h: hr,
                        },
                        size: Size::Width(ws),
                        rotation: Rotation::NONE,
                        quality: Quality::Default,
                        format: Format::Jpg,
                        upscale: true,
                    };
                    let p = plan(&req, d, &BIG).unwrap();
                    assert_eq!((p.width, p.height), (ws, hs), "s={s} x={xr} y={yr}");
                    let by_h = resolve_size(Size::Height(hs), p.region, &BIG, true).unwrap();
                    assert_eq!(by_h, (ws, hs), "s={s} x={xr} y={yr} by height");
                    xr += t * s;
                }
                yr += t * s;
            }
        }
    }

    #[test]
    fn limits() {
        let lim = Limits {
            max_width: 800,
            max_height: 500,
            max_area: 300_000,
            scale_cap: None,
        };
        let r = rect(0, 0, 1000, 600);
        assert_eq!(max_size(1000, 600, &lim, false), (707, 424));
        assert!(lim.allows(707, 424));
        assert_eq!(max_size(400, 300, &lim, false), (400, 300));
        let req = |s: &str| ImageRequest {
            region: Region::Full,
            size: Size::parse(s).unwrap(),
            rotation: Rotation::NONE,
            quality: Quality::Default,
            format: Format::Jpg,
            upscale: Size::parse(s).unwrap() != Size::Max,
        };
        let p = plan(&req("max"), D, &lim).unwrap();
        assert_eq!((p.width, p.height), (707, 424));
        assert!(matches!(
            plan(&req("full"), D, &lim),
            Err(GeometryError::TooLarge { .. })
        ));
        assert!(matches!(
            plan(&req("801,"), D, &lim),
            Err(GeometryError::TooLarge { .. })
        ));
        assert_eq!(resolve_size(Size::Max, r, &lim, false), Ok((707, 424)));
        let huge = plan(&req("4294967295,4294967295"), D, &lim);
        assert!(matches!(huge, Err(GeometryError::TooLarge { .. })));
        assert_eq!(plan(&req("10,0"), D, &lim), Err(GeometryError::EmptySize));
        // A size whose own numbers are not zero makes at least 1 px on each side.
        let p = plan(&req("pct:0.01"), D, &lim).unwrap();
        assert_eq!((p.width, p.height), (1, 1));
        assert_eq!(plan(&req("pct:0"), D, &lim), Err(GeometryError::EmptySize));
    }

    #[test]
    fn extreme_aspect_ratios_keep_a_pixel_on_each_side() {
        let line = Dimensions {
            width: 65_535,
            height: 1,
        };
        let column = Dimensions {
            width: 1,
            height: 65_535,
        };
        for (dims, size, want) in [
            (line, "!200,200", (200, 1)),
            (line, "200,", (200, 1)),
            (line, "pct:1", (655, 1)),
            (line, "max", (10_000, 1)),
            (column, "!200,200", (1, 200)),
            (column, ",200", (1, 200)),
            (column, "pct:0.5", (1, 328)),
        ] {
            for version in crate::iiif::Version::ALL {
                let req =
                    ImageRequest::parse_as(version, "full", size, "0", "default.png").unwrap();
                let p = plan(&req, dims, &BIG).unwrap();
                assert_eq!((p.width, p.height), want, "{size} of {dims:?} in {version}");
            }
        }
    }

    #[test]
    fn without_a_caret_3_0_never_upscales() {
        let v3 = |size: &str| {
            let req =
                ImageRequest::parse_as(crate::iiif::Version::V3, "full", size, "0", "default.jpg")
                    .unwrap();
            plan(&req, D, &BIG).map(|p| (p.width, p.height))
        };
        for bad in ["1001,", ",601", "pct:100.5", "1001,600", "1000,601"] {
            assert!(
                matches!(v3(bad), Err(GeometryError::Upscale { .. })),
                "{bad}"
            );
        }
        assert_eq!(v3("1000,"), Ok((1000, 600)));
        assert_eq!(v3("max"), Ok((1000, 600)));
        // `!w,h` stops at the region; with `^` it fills the box.
        assert_eq!(v3("!2000,2000"), Ok((1000, 600)));
        assert_eq!(v3("^!2000,2000"), Ok((2000, 1200)));
        assert_eq!(v3("^1001,"), Ok((1001, 601)));
        assert_eq!(v3("^pct:200"), Ok((2000, 1200)));
        // `^max` fills the limits: 10,000 wide here.
        assert_eq!(v3("^max"), Ok((10_000, 6000)));
        // The limits bound `^` as they bound every size.
        assert!(matches!(v3("^10001,"), Err(GeometryError::TooLarge { .. })));
        // 2.1 keeps sizes above full, and a `max` that never upscales.
        let v2 = |size: &str| {
            let req = ImageRequest::parse("full", size, "0", "default.jpg").unwrap();
            plan(&req, D, &BIG).map(|p| (p.width, p.height))
        };
        assert_eq!(v2("1001,"), Ok((1001, 601)));
        assert_eq!(v2("!2000,2000"), Ok((2000, 1200)));
        assert_eq!(v2("max"), Ok((1000, 600)));
    }

    #[test]
    fn scale_cap_limits_detail_not_just_size() {
        // A 1000 x 600 image served at most 256 px on its long side.
        let lim = Limits {
            max_width: 256,
            max_height: 256,
            max_area: 65_536,
            scale_cap: ScaleCap::new(256, 1000),
        };
        let req = |region: &str, size: &str| ImageRequest {
            region: Region::parse(region).unwrap(),
            size: Size::parse(size).unwrap(),
            rotation: Rotation::NONE,
            quality: Quality::Default,
            format: Format::Jpg,
            upscale: Size::parse(size).unwrap() != Size::Max,
        };
        let p = plan(&req("full", "max"), D, &lim).unwrap();
        assert_eq!((p.width, p.height), (256, 153));
        assert!(plan(&req("full", "256,"), D, &lim).is_ok());
        // A full-resolution 256 px tile is within maxWidth but far above the cap.
        assert!(matches!(
            plan(&req("0,0,256,256", "256,"), D, &lim),
            Err(GeometryError::TooLarge { .. })
        ));
        assert!(plan(&req("0,0,256,256", "65,"), D, &lim).is_ok());
        // 66/256 > 256/1000: once allowed by rounding up, now refused.
        assert!(plan(&req("0,0,256,256", "66,"), D, &lim).is_err());
        assert!(plan(&req("0,0,256,256", "67,"), D, &lim).is_err());
        // One full-resolution pixel, or a few, at a time: refused whatever the size form.
        for (region, size) in [
            ("0,0,1,1", "1,1"),
            ("0,0,1,1", "max"),
            ("5,5,1,1", "!1,1"),
            ("0,0,10,10", "4,"),
            ("0,0,10,10", "3,3"),
            ("0,0,3,3", "pct:50"),
            ("0,0,3,3", "!2,2"),
            ("0,0,3,300", "1,"),
        ] {
            assert!(
                matches!(
                    plan(&req(region, size), D, &lim),
                    Err(GeometryError::TooLarge { .. })
                ),
                "{region}/{size}"
            );
        }
        // Exactly at the cap is allowed: 4 px from 1000/256 * 4 = 15.625 -> 16 px is within.
        assert!(plan(&req("0,0,16,16", "4,"), D, &lim).is_ok());
        assert!(plan(&req("0,0,15,15", "4,"), D, &lim).is_err());
        // A derived side rounds down to the cap instead of being refused.
        let p = plan(&req("full", "256,"), D, &lim).unwrap();
        assert_eq!((p.width, p.height), (256, 153));
        let p = plan(&req("full", "!256,256"), D, &lim).unwrap();
        assert_eq!((p.width, p.height), (256, 153));
        assert!(plan(&req("full", "256,154"), D, &lim).is_err());
        let p = plan(&req("0,0,10,10", "pct:25"), D, &lim).unwrap();
        assert_eq!(
            (p.width, p.height),
            (2, 2),
            "2.5 rounds to 3, over the cap: 2"
        );
        assert!(plan(&req("0,0,10,10", "pct:30"), D, &lim).is_err());
        assert_eq!(
            resolve_size(Size::Max, rect(0, 0, 500, 500), &lim, false),
            Ok((128, 128))
        );
    }

    #[test]
    fn rotated_box_is_within_the_limits() {
        let lim = Limits {
            max_width: 1000,
            max_height: 1000,
            max_area: 1_000_000,
            scale_cap: None,
        };
        let req = |size: &str, rot: &str| ImageRequest {
            region: Region::Full,
            size: Size::parse(size).unwrap(),
            rotation: Rotation::parse(rot).unwrap(),
            quality: Quality::Default,
            format: Format::Png,
            upscale: Size::parse(size).unwrap() != Size::Max,
        };
        assert!(plan(&req("1000,600", "0"), D, &lim).is_ok());
        assert!(plan(&req("1000,600", "180"), D, &lim).is_ok());
        // 90 degrees: 600 x 1000 still fits; 45 degrees: 1131 x 1131 does not.
        assert!(plan(&req("1000,600", "90"), D, &lim).is_ok());
        assert!(matches!(
            plan(&req("1000,600", "45"), D, &lim),
            Err(GeometryError::TooLarge {
                width: 1131,
                height: 1131,
                ..
            })
        ));
        assert!(plan(&req("600,360", "45"), D, &lim).is_ok());
    }

    #[test]
    fn tiny_rotations_round_like_the_canonical_form() {
        let mut req = ImageRequest {
            region: Region::Full,
            size: Size::Full,
            rotation: Rotation::parse("0.00000000001").unwrap(),
            quality: Quality::Default,
            format: Format::Png,
            upscale: true,
        };
        assert_eq!(plan(&req, D, &BIG).unwrap().degrees, 0.0);
        req.rotation = Rotation::parse("359.99999999999").unwrap();
        assert_eq!(plan(&req, D, &BIG).unwrap().degrees, 0.0);
        req.rotation = Rotation::parse("12.00000000004").unwrap();
        assert_eq!(plan(&req, D, &BIG).unwrap().degrees, 12.0);
    }

    #[test]
    fn rotation_is_normalised() {
        let mut req = ImageRequest {
            region: Region::Full,
            size: Size::Full,
            rotation: Rotation::parse("!360").unwrap(),
            quality: Quality::Default,
            format: Format::Png,
            upscale: true,
        };
        let p = plan(&req, D, &BIG).unwrap();
        assert_eq!((p.mirror, p.degrees), (true, 0.0));
        req.rotation = Rotation::parse("22.5").unwrap();
        assert_eq!(plan(&req, D, &BIG).unwrap().degrees, 22.5);
    }
}
