//! Colour extraction: the `colors` list of a Harvard Art Museums image record, computed from
//! the pixels of a small rendition. Pure: no I/O, deterministic ([`lines`], the JSON-lines
//! file that `tessera thumbnails --colors` writes and the server will read, is the one part
//! that reads and writes files).
//!
//! # Algorithm
//!
//! 1. **Buckets.** Every counted pixel (alpha ≠ 0) goes into one of 4 096 buckets by the top
//!    4 bits of each sRGB channel. A bucket keeps its pixel count and the sum of each channel,
//!    so its colour is the mean of its pixels, not the bucket's corner. The bucket array is
//!    fixed-size (64 KiB, one allocation per call); CIELAB is computed once per non-empty
//!    bucket, never per pixel.
//! 2. **Merging.** Buckets are taken largest first (ties by bucket index). Each joins the
//!    cluster whose seed (the CIELAB of the cluster's first, largest bucket) is nearest, if
//!    that is within [`MERGE_DELTA_E`] (CIE76 ΔE*ab); otherwise it seeds a new cluster. This
//!    folds brightness and gradient variants of one colour into one entry. A second pass
//!    merges, largest first, any cluster whose mean colour ended within [`MERGE_DELTA_E`] of a
//!    larger cluster's mean. Counts and channel sums add, so a cluster's colour is the
//!    pixel-weighted mean.
//! 3. **Selection.** Clusters under [`MIN_PERCENT`] of the counted pixels are dropped and at
//!    most [`MAX_COLOURS`] (19) are kept, largest first. `percent` is a cluster's share of all
//!    counted pixels, so the percents sum to at most 1 (what is missing is the dropped small
//!    clusters).
//! 4. **Naming.** `color` is the cluster's mean as `#rrggbb`; the rest is computed from the
//!    CIELAB of that rounded hex, so anyone can recompute it from `color`: `css3` is the
//!    nearest of the 138 distinct CSS3 keyword colours ([`names::CSS3`]) and `spectrum` the
//!    nearest swatch of the [`Palette`], both by CIEDE2000; `hue` is decided from L*, C*ab
//!    and the hue angle by [`hue::classify`].

pub mod hue;
pub mod lab;
pub mod lines;
pub mod names;
pub mod palette;

pub use hue::Hue;
pub use lab::Lab;
pub use palette::Palette;

use std::cmp::Reverse;

/// One extracted colour, serialised exactly as Harvard's field names.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Colour {
    /// The mean colour of the cluster, `"#rrggbb"` in lower case.
    pub color: String,
    /// The cluster's share of the counted (not fully transparent) pixels, 0–1.
    pub percent: f64,
    /// The nearest CSS3 keyword colour, as `"#rrggbb"`.
    pub css3: String,
    /// The nearest swatch of the palette, as `"#rrggbb"`.
    pub spectrum: String,
    /// The hue family.
    pub hue: Hue,
}

/// Bits kept per sRGB channel when bucketing.
const BITS: u32 = 4;
/// The number of buckets, 2^(3 × BITS).
const BINS: usize = 1 << (3 * BITS);
/// At most this many pixels are counted into `u32` accumulators before they are folded into
/// `u64` ones; 255 × 2^24 < 2^32, so no sum can overflow.
const BLOCK: usize = 1 << 24;

/// Buckets and clusters within this CIE76 ΔE*ab of each other are merged.
pub const MERGE_DELTA_E: f64 = 12.0;
/// Clusters with a smaller share of the counted pixels are dropped.
pub const MIN_PERCENT: f64 = 0.005;
/// At most this many colours are returned (Harvard's lists hold fewer than 20).
pub const MAX_COLOURS: usize = 19;

/// `"#rrggbb"` in lower case.
pub fn to_hex(rgb: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2])
}

/// Parses `"#rrggbb"`, `"rrggbb"`, `"#rgb"` or `"rgb"` (either case); `None` for anything else.
pub fn parse_hex(s: &str) -> Option<[u8; 3]> {
    let h = s.strip_prefix('#').unwrap_or(s);
    if !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let digit = |i: usize| u8::from_str_radix(&h[i..i + 1], 16).ok();
    match h.len() {
        6 => Some([
            u8::from_str_radix(&h[0..2], 16).ok()?,
            u8::from_str_radix(&h[2..4], 16).ok()?,
            u8::from_str_radix(&h[4..6], 16).ok()?,
        ]),
        3 => Some([digit(0)? * 17, digit(1)? * 17, digit(2)? * 17]),
        _ => None,
    }
}

/// Totals of a bucket or cluster over the whole image.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Totals {
    count: u64,
    sum: [u64; 3],
}

impl Totals {
    fn add(&mut self, o: &Totals) {
        self.count += o.count;
        for c in 0..3 {
            self.sum[c] += o.sum[c];
        }
    }

    /// The mean colour, each channel rounded to nearest. `count` must not be 0.
    fn mean(&self) -> [u8; 3] {
        // Rounds exactly as (s + n / 2) / n in integers, without three 64-bit integer
        // divisions: f64 division is correctly rounded, so an exact tie (k + 0.5) stays one
        // and rounds up, and any other mean is at least 1 / 2n from a tie, far more than the
        // division's error for any count below 2^40.
        let n = self.count as f64;
        self.sum.map(|s| (s as f64 / n + 0.5) as u8)
    }
}

/// A bucket's running totals over one block of pixels: count, then the sums of R, G and B.
type Bin = [u32; 4];

/// Counts the whole pixels of `block` into `bins`.
///
/// Plain index loops and `as` casts: the crate is built at opt-level 0 in the dev profile,
/// where iterator adaptors and `From` calls cost several times more per pixel.
fn accumulate(block: &[u8], channels: usize, bins: &mut [Bin; BINS]) {
    #[inline(always)]
    fn add(bins: &mut [Bin; BINS], r: u8, g: u8, b: u8) {
        let i = ((r >> (8 - BITS)) as usize) << (2 * BITS)
            | ((g >> (8 - BITS)) as usize) << BITS
            | (b >> (8 - BITS)) as usize;
        let bin = &mut bins[i];
        bin[0] += 1;
        bin[1] += r as u32;
        bin[2] += g as u32;
        bin[3] += b as u32;
    }
    let end = block.len() - block.len() % channels;
    let mut i = 0;
    match channels {
        1 => {
            while i < end {
                add(bins, block[i], block[i], block[i]);
                i += 1;
            }
        }
        2 => {
            while i < end {
                if block[i + 1] != 0 {
                    add(bins, block[i], block[i], block[i]);
                }
                i += 2;
            }
        }
        3 => {
            while i < end {
                add(bins, block[i], block[i + 1], block[i + 2]);
                i += 3;
            }
        }
        _ => {
            while i < end {
                if block[i + 3] != 0 {
                    add(bins, block[i], block[i + 1], block[i + 2]);
                }
                i += 4;
            }
        }
    }
}

/// Adds every non-empty bin of `bins` to `out` (by bucket index), leaving `bins` all zero.
fn drain(bins: &mut [Bin], mut out: impl FnMut(usize, Totals)) {
    for (i, bin) in bins.iter_mut().enumerate() {
        if bin[0] != 0 {
            let t = Totals {
                count: u64::from(bin[0]),
                sum: [bin[1], bin[2], bin[3]].map(u64::from),
            };
            *bin = [0; 4];
            out(i, t);
        }
    }
}

/// The non-empty buckets of `pixels` as totals, in bucket-index order, counting at most
/// `block` pixels at a time into the 32-bit bins ([`BLOCK`] outside tests).
fn buckets(pixels: &[u8], channels: usize, block: usize) -> Vec<Totals> {
    let mut bins: Box<[Bin; BINS]> = vec![[0; 4]; BINS]
        .into_boxed_slice()
        .try_into()
        .expect("BINS long");
    let mut out = Vec::new();
    if pixels.len() <= block * channels {
        accumulate(pixels, channels, &mut bins);
        drain(&mut *bins, |_, t| out.push(t));
        return out;
    }
    // Huge images only: fold each block into 64-bit totals.
    let mut wide = vec![Totals::default(); BINS];
    for part in pixels.chunks(block * channels) {
        accumulate(part, channels, &mut bins);
        drain(&mut *bins, |i, t| wide[i].add(&t));
    }
    wide.retain(|t| t.count > 0);
    wide
}

/// A cluster of buckets: the CIELAB it is matched by, and its totals.
struct Cluster {
    lab: Lab,
    totals: Totals,
}

/// Greedily merges `items` (already sorted largest first) into clusters: each joins the
/// cluster whose `lab` is nearest (the earliest on a tie), if within `delta_e` (CIE76), or
/// starts a new one.
///
/// Clusters are found through a grid of cubes `delta_e` wide over CIELAB, so an item is
/// compared only with the clusters in the 27 cubes around its own, which hold every cluster
/// within `delta_e` of it.
fn merge(items: impl Iterator<Item = (Lab, Totals)>, delta_e: f64) -> Vec<Cluster> {
    const NONE: u32 = u32::MAX;
    let limit = delta_e * delta_e;
    // L* spans 0–100 and a*, b* of sRGB colours stay within ±128; clamping keeps any
    // rounding excess in the edge cubes, which are searched like any other.
    let span = |v: f64| (v / delta_e).floor().max(0.0) as usize;
    let (nl, nab) = (span(100.0) + 1, span(256.0) + 1);
    let cell = |lab: Lab| {
        [
            span(lab.l).min(nl - 1),
            span(lab.a + 128.0).min(nab - 1),
            span(lab.b + 128.0).min(nab - 1),
        ]
    };
    let mut head = vec![NONE; nl * nab * nab]; // first cluster in each cube
    let mut next: Vec<u32> = Vec::new(); // next cluster in the same cube
    let mut clusters: Vec<Cluster> = Vec::new();
    for (lab, totals) in items {
        let [cl, ca, cb] = cell(lab);
        let mut best: Option<(f64, usize)> = None;
        for l in cl.saturating_sub(1)..(cl + 2).min(nl) {
            for a in ca.saturating_sub(1)..(ca + 2).min(nab) {
                for b in cb.saturating_sub(1)..(cb + 2).min(nab) {
                    let mut j = head[(l * nab + a) * nab + b];
                    while j != NONE {
                        let k = j as usize;
                        let d = clusters[k].lab.delta_e76_sq(lab);
                        if d < limit && best.is_none_or(|bd| (d, k) < bd) {
                            best = Some((d, k));
                        }
                        j = next[k];
                    }
                }
            }
        }
        match best {
            Some((_, k)) => clusters[k].totals.add(&totals),
            None => {
                let h = &mut head[(cl * nab + ca) * nab + cb];
                next.push(*h);
                *h = clusters.len() as u32;
                clusters.push(Cluster { lab, totals });
            }
        }
    }
    clusters
}

/// Extracts colours from interleaved 8-bit pixels (`channels` 1 = grey, 2 = grey+alpha,
/// 3 = RGB, 4 = RGBA) of a small rendition, largest share first (see the module
/// documentation for the algorithm). Fully transparent pixels (alpha 0) are ignored; any other
/// alpha counts as a whole pixel. A trailing partial pixel is ignored. Deterministic.
///
/// Returns nothing when no pixel counts, and when `channels` is not 1–4.
pub fn extract(pixels: &[u8], channels: usize, palette: &Palette) -> Vec<Colour> {
    if !(1..=4).contains(&channels) {
        return Vec::new();
    }
    let mut buckets = buckets(pixels, channels, BLOCK);
    let total: u64 = buckets.iter().map(|t| t.count).sum();
    if total == 0 {
        return Vec::new();
    }
    // Largest first; a stable sort keeps bucket-index order among equal counts.
    buckets.sort_by_key(|t| Reverse(t.count));
    let clusters = merge(
        buckets.iter().map(|t| (Lab::from_rgb(t.mean()), *t)),
        MERGE_DELTA_E,
    );
    // Second pass: clusters whose means drifted close together.
    let mut means: Vec<(Lab, Totals)> = clusters
        .iter()
        .map(|c| (Lab::from_rgb(c.totals.mean()), c.totals))
        .collect();
    means.sort_by_key(|(_, t)| Reverse(t.count));
    let mut clusters = merge(means.into_iter(), MERGE_DELTA_E);
    clusters.sort_by_key(|c| Reverse(c.totals.count));

    let min_count = MIN_PERCENT * total as f64;
    clusters
        .iter()
        .filter(|c| c.totals.count as f64 >= min_count)
        .take(MAX_COLOURS)
        .map(|c| {
            let rgb = c.totals.mean();
            let lab = Lab::from_rgb(rgb);
            Colour {
                color: to_hex(rgb),
                percent: c.totals.count as f64 / total as f64,
                css3: to_hex(names::nearest_css3(lab)),
                spectrum: to_hex(palette.nearest(lab)),
                hue: hue::classify(lab),
            }
        })
        .collect()
}

/// [`extract`] on a decoded image: 8-bit grey, RGB and RGBA buffers are read in place, any
/// other layout is converted to RGBA8 (if it has alpha) or RGB8 first. Downscaling to about
/// 256 px on the long side beforehand is the caller's job.
pub fn extract_image(img: &image::DynamicImage, palette: &Palette) -> Vec<Colour> {
    use image::DynamicImage as D;
    match img {
        D::ImageLuma8(b) => extract(b.as_raw(), 1, palette),
        D::ImageLumaA8(b) => extract(b.as_raw(), 2, palette),
        D::ImageRgb8(b) => extract(b.as_raw(), 3, palette),
        D::ImageRgba8(b) => extract(b.as_raw(), 4, palette),
        other if other.color().has_alpha() => extract(other.to_rgba8().as_raw(), 4, palette),
        other => extract(other.to_rgb8().as_raw(), 3, palette),
    }
}

/// The longest side of the rendition [`extract_reduced`] extracts from.
pub const RENDITION: u32 = 256;

/// [`extract_image`] on an image of any size. One longer than [`RENDITION`] px on either side
/// is first reduced by nearest-neighbour sampling at a whole-pixel stride k = ⌈long side /
/// 256⌉ (the middle pixel of every k × k block), which keeps each colour's share up to
/// sampling error and reads only the sampled pixels. 8-bit layouts are sampled in place; any
/// other is converted to RGB8 or RGBA8 first.
pub fn extract_reduced(img: &image::DynamicImage, palette: &Palette) -> Vec<Colour> {
    use image::DynamicImage as D;
    use std::borrow::Cow;
    let step = img.width().max(img.height()).div_ceil(RENDITION) as usize;
    if img.width() == 0 || img.height() == 0 {
        return Vec::new();
    }
    if step <= 1 {
        return extract_image(img, palette);
    }
    let (raw, channels): (Cow<[u8]>, usize) = match img {
        D::ImageLuma8(b) => (Cow::Borrowed(b.as_raw()), 1),
        D::ImageLumaA8(b) => (Cow::Borrowed(b.as_raw()), 2),
        D::ImageRgb8(b) => (Cow::Borrowed(b.as_raw()), 3),
        D::ImageRgba8(b) => (Cow::Borrowed(b.as_raw()), 4),
        other if other.color().has_alpha() => (Cow::Owned(other.to_rgba8().into_raw()), 4),
        other => (Cow::Owned(other.to_rgb8().into_raw()), 3),
    };
    let (w, h) = (img.width() as usize, img.height() as usize);
    // The middle of each block, or the last pixel of a side shorter than a block.
    let (x0, y0) = ((step / 2).min(w - 1), (step / 2).min(h - 1));
    let row = w * channels;
    let mut sampled = Vec::with_capacity(raw.len() / (step * step) + row);
    for line in raw.chunks_exact(row).skip(y0).step_by(step) {
        for px in line.chunks_exact(channels).skip(x0).step_by(step) {
            sampled.extend_from_slice(px);
        }
    }
    extract(&sampled, channels, palette)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{DynamicImage, GrayImage, Luma, Rgb, RgbImage, Rgba, RgbaImage};

    fn total(cs: &[Colour]) -> f64 {
        cs.iter().map(|c| c.percent).sum()
    }

    fn assert_sorted(cs: &[Colour]) {
        assert!(
            cs.windows(2).all(|w| w[0].percent >= w[1].percent),
            "largest first: {cs:?}"
        );
    }

    /// A deterministic pseudo-random byte stream (xorshift32).
    fn noise(len: usize, mut x: u32) -> Vec<u8> {
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x >> 8) as u8
            })
            .collect()
    }

    /// The ladybird sample (green leaves, blue flowers, transparent corners) scaled to
    /// 256 × 256, as RGBA.
    fn ladybird() -> DynamicImage {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/sample-images/alpha-ladybird.png"
        );
        let img = image::open(path).expect("sample image").to_rgba8();
        DynamicImage::ImageRgba8(image::imageops::thumbnail(&img, 256, 256))
    }

    #[test]
    fn seventy_percent_blue_and_thirty_percent_white_give_exactly_those_two() {
        let img = RgbImage::from_fn(100, 100, |_, y| {
            if y < 70 {
                Rgb([0, 0, 255])
            } else {
                Rgb([255, 255, 255])
            }
        });
        let cs = extract_image(&DynamicImage::ImageRgb8(img), &Palette::default());
        assert_eq!(cs.len(), 2, "{cs:?}");
        let (blue, white) = (&cs[0], &cs[1]);
        assert!((blue.percent - 0.70).abs() < 0.02, "{blue:?}");
        assert!((white.percent - 0.30).abs() < 0.02, "{white:?}");
        assert_eq!(
            (&*blue.color, &*blue.css3, &*blue.spectrum, blue.hue),
            ("#0000ff", "#0000ff", "#0000ff", Hue::Blue)
        );
        assert_eq!(
            (&*white.color, &*white.css3, &*white.spectrum, white.hue),
            ("#ffffff", "#ffffff", "#ffffff", Hue::White)
        );
    }

    #[test]
    fn a_grey_ramp_is_all_neutral_and_fully_counted() {
        let img = GrayImage::from_fn(256, 16, |x, _| Luma([x as u8]));
        let p = Palette::default();
        let cs = extract_image(&DynamicImage::ImageLuma8(img.clone()), &p);
        assert!((2..20).contains(&cs.len()), "{cs:?}");
        for c in &cs {
            assert!(
                matches!(c.hue, Hue::Grey | Hue::Black | Hue::White),
                "{c:?}"
            );
            let [r, g, b] = parse_hex(&c.color).unwrap();
            assert!(r == g && g == b, "a grey stays grey: {c:?}");
        }
        assert!(cs.iter().any(|c| c.hue == Hue::Black), "{cs:?}");
        assert!(cs.iter().any(|c| c.hue == Hue::White), "{cs:?}");
        assert!((total(&cs) - 1.0).abs() < 0.02, "{cs:?}");
        assert_sorted(&cs);
        // The same pixels as RGB give the same answer.
        let rgb = DynamicImage::ImageLuma8(img).to_rgb8();
        assert_eq!(extract(rgb.as_raw(), 3, &p), cs);
    }

    #[test]
    fn a_photo_of_green_leaves_is_mostly_green_and_the_answer_is_stable() {
        let img = ladybird();
        let p = Palette::default();
        let cs = extract_image(&img, &p);
        assert!((5..20).contains(&cs.len()), "{cs:#?}");
        assert_eq!(cs[0].hue, Hue::Green, "{cs:#?}");
        assert!(cs[0].percent > 0.15, "{cs:#?}");
        let green: f64 = cs
            .iter()
            .filter(|c| c.hue == Hue::Green)
            .map(|c| c.percent)
            .sum();
        assert!(green > 0.5, "green leaves cover most of it: {cs:#?}");
        let sum = total(&cs);
        assert!(sum <= 1.0001 && sum > 0.8, "{sum}");
        assert!(cs.iter().all(|c| c.percent >= MIN_PERCENT));
        assert_sorted(&cs);
        assert_eq!(extract_image(&img, &p), cs, "stable");
    }

    #[test]
    fn fully_transparent_pixels_are_ignored() {
        let p = Palette::default();
        // Green under alpha 0 on the left half, opaque red on the right.
        let img = RgbaImage::from_fn(20, 20, |x, _| {
            if x < 10 {
                Rgba([0, 255, 0, 0])
            } else {
                Rgba([255, 0, 0, 255])
            }
        });
        let cs = extract_image(&DynamicImage::ImageRgba8(img), &p);
        assert_eq!(cs.len(), 1, "{cs:?}");
        assert_eq!((&*cs[0].color, &*cs[0].css3), ("#ff0000", "#ff0000"));
        assert_eq!(cs[0].hue, Hue::Red);
        assert!((cs[0].percent - 1.0).abs() < 1e-12);
        // Any alpha above 0 counts in full.
        let cs = extract(&[0, 255, 0, 1, 255, 0, 0, 255], 4, &p);
        assert_eq!(cs.len(), 2, "{cs:?}");
        assert!(cs.iter().all(|c| c.percent == 0.5));
        // Grey with alpha: Harvard's #c8c8c8, with one transparent black pixel.
        let cs = extract(&[0, 0, 200, 255, 200, 255], 2, &p);
        assert_eq!(cs.len(), 1);
        assert_eq!(
            (&*cs[0].color, cs[0].hue, cs[0].percent),
            ("#c8c8c8", Hue::Grey, 1.0)
        );
        // Nothing opaque, nothing found.
        assert!(extract(&[9, 9, 9, 0, 200, 0, 0, 0], 4, &p).is_empty());
    }

    #[test]
    fn brightness_variants_of_one_colour_merge_but_distinct_colours_do_not() {
        let p = Palette::default();
        // A slate blue shading from 88 % to 100 % brightness across several buckets.
        let shade = |x: u32| {
            let f = 0.88 + 0.12 * f64::from(x) / 63.0;
            Rgb([60.0 * f, 90.0 * f, 180.0 * f].map(|v| v.round() as u8))
        };
        let img = RgbImage::from_fn(64, 64, |x, _| shade(x));
        let distinct: std::collections::BTreeSet<usize> = img
            .pixels()
            .map(|px| px.0.iter().fold(0, |i, &v| i << BITS | usize::from(v >> 4)))
            .collect();
        assert!(
            distinct.len() >= 3,
            "the shades span {} buckets",
            distinct.len()
        );
        let cs = extract(img.as_raw(), 3, &p);
        assert_eq!(cs.len(), 1, "{cs:?}");
        assert_eq!((cs[0].hue, cs[0].percent), (Hue::Blue, 1.0));
        // Red beside it stays apart.
        let img = RgbImage::from_fn(
            64,
            64,
            |x, y| if y < 32 { shade(x) } else { Rgb([200, 30, 30]) },
        );
        let cs = extract(img.as_raw(), 3, &p);
        assert_eq!(cs.len(), 2, "{cs:?}");
        assert_eq!([cs[0].percent, cs[1].percent], [0.5, 0.5]);
    }

    #[test]
    fn specks_are_dropped_and_at_most_nineteen_colours_are_kept() {
        let p = Palette::default();
        // 30 red pixels in 10 000 white ones: 0.3 %, under the cut.
        let img = RgbImage::from_fn(100, 100, |x, y| {
            if y == 0 && x < 30 {
                Rgb([255, 0, 0])
            } else {
                Rgb([255, 255, 255])
            }
        });
        let cs = extract(img.as_raw(), 3, &p);
        assert_eq!(cs.len(), 1, "{cs:?}");
        assert!((cs[0].percent - 0.997).abs() < 1e-12);
        // 24 stripes of CSS3 colours at least ΔE 30 apart: none merge, 19 are kept.
        let mut picked: Vec<[u8; 3]> = Vec::new();
        for &(_, rgb) in &names::CSS3 {
            let lab = Lab::from_rgb(rgb);
            if picked
                .iter()
                .all(|&q| Lab::from_rgb(q).delta_e76_sq(lab) > 30.0 * 30.0)
            {
                picked.push(rgb);
            }
        }
        assert!(
            picked.len() >= 24,
            "only {} far-apart keywords",
            picked.len()
        );
        picked.truncate(24);
        let img = RgbImage::from_fn(24, 50, |x, _| Rgb(picked[x as usize]));
        let cs = extract(img.as_raw(), 3, &p);
        assert_eq!(cs.len(), MAX_COLOURS);
        for c in &cs {
            assert!((c.percent - 1.0 / 24.0).abs() < 1e-12, "{c:?}");
            assert_eq!(c.css3, c.color, "each stripe is its own keyword");
        }
        // Equal shares keep bucket order, so the choice of 19 is deterministic.
        assert_eq!(extract(img.as_raw(), 3, &p), cs);
    }

    #[test]
    fn a_custom_palette_sets_spectrum_to_the_nearer_swatch() {
        let p = Palette::from_hex(&["#ff0000".into(), "#0000ff".into()]).unwrap();
        let spectrum = |rgb: [u8; 3]| extract(&rgb, 3, &p).remove(0).spectrum;
        assert_eq!(spectrum([0x80, 0, 0]), "#ff0000");
        assert_eq!(spectrum([0xff, 0xa5, 0]), "#ff0000");
        assert_eq!(spectrum([0, 0, 0x80]), "#0000ff");
        assert_eq!(spectrum([0x1e, 0x90, 0xff]), "#0000ff");
    }

    #[test]
    fn hex_parsing_and_printing() {
        assert_eq!(parse_hex("#8c5fa8"), Some([0x8c, 0x5f, 0xa8]));
        assert_eq!(parse_hex("8C5FA8"), Some([0x8c, 0x5f, 0xa8]));
        assert_eq!(parse_hex("#abc"), Some([0xaa, 0xbb, 0xcc]));
        for bad in [
            "#zzz", "", "#", "#12345", "#1234567", "red", "#ggg000", "+12345", "#é12",
        ] {
            assert_eq!(parse_hex(bad), None, "{bad:?}");
        }
        assert_eq!(to_hex([0x8c, 0x05, 0xa8]), "#8c05a8");
    }

    #[test]
    fn a_colour_serialises_with_harvards_field_names() {
        let c = extract(&[0, 0, 255], 3, &Palette::default()).remove(0);
        let v = serde_json::to_value(&c).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["color", "percent", "css3", "spectrum", "hue"]);
        assert_eq!(v["hue"], "Blue");
        assert_eq!(v["color"], "#0000ff");
        assert_eq!(v["percent"], 1.0);
        assert_eq!(serde_json::from_value::<Colour>(v).unwrap(), c);
        // A record as Harvard publishes it reads back.
        let h: Colour = serde_json::from_str(
            r##"{"percent": 0.43642857142857, "spectrum": "#8c5fa8", "color": "#c8c8c8",
                 "css3": "#c0c0c0", "hue": "Grey"}"##,
        )
        .unwrap();
        assert_eq!((h.hue, &*h.css3), (Hue::Grey, "#c0c0c0"));
    }

    #[test]
    fn odd_inputs() {
        let p = Palette::default();
        assert!(extract(&[], 3, &p).is_empty());
        assert!(extract(&[1, 2, 3], 0, &p).is_empty());
        assert!(extract(&[1, 2, 3, 4, 5], 5, &p).is_empty());
        // A trailing partial pixel is ignored.
        let cs = extract(&[255, 0, 0, 9], 3, &p);
        assert_eq!(
            (cs.len(), &*cs[0].color, cs[0].percent),
            (1, "#ff0000", 1.0)
        );
        // Other layouts are converted: 16-bit RGB.
        let img = image::ImageBuffer::<Rgb<u16>, _>::from_pixel(4, 4, Rgb([0, 0, 65535]));
        let cs = extract_image(&DynamicImage::ImageRgb16(img), &p);
        assert_eq!((cs.len(), &*cs[0].color), (1, "#0000ff"));
    }

    #[test]
    fn a_large_rendition_is_sampled_down_and_keeps_its_shares() {
        let p = Palette::default();
        // 1 000 × 600: 70 % blue rows over 30 % white ones; sampled every 4th pixel.
        let img = RgbImage::from_fn(1000, 600, |_, y| {
            if y < 420 {
                Rgb([0, 0, 255])
            } else {
                Rgb([255, 255, 255])
            }
        });
        let cs = extract_reduced(&DynamicImage::ImageRgb8(img), &p);
        assert_eq!(cs.len(), 2, "{cs:?}");
        assert_eq!((cs[0].hue, cs[1].hue), (Hue::Blue, Hue::White));
        assert!((cs[0].percent - 0.70).abs() < 0.01, "{cs:?}");
        // Grey with alpha and 16-bit layouts are sampled too; small images are read whole.
        let la = image::GrayAlphaImage::from_pixel(600, 300, image::LumaA([200, 255]));
        let cs = extract_reduced(&DynamicImage::ImageLumaA8(la), &p);
        assert_eq!((cs.len(), &*cs[0].color), (1, "#c8c8c8"));
        let wide = image::ImageBuffer::<Rgb<u16>, _>::from_pixel(2000, 3, Rgb([65535, 0, 0]));
        let cs = extract_reduced(&DynamicImage::ImageRgb16(wide), &p);
        assert_eq!((cs.len(), &*cs[0].color), (1, "#ff0000"));
        let small = ladybird();
        assert_eq!(extract_reduced(&small, &p), extract_image(&small, &p));
        assert!(extract_reduced(&DynamicImage::new_rgb8(0, 0), &p).is_empty());
        assert!(extract_reduced(&DynamicImage::new_rgb8(1000, 0), &p).is_empty());
    }

    #[test]
    fn a_mean_rounds_as_integer_arithmetic_does() {
        let check = |count: u64, s: u64| {
            let t = Totals {
                count,
                sum: [s, s, s],
            };
            let want = ((s + count / 2) / count) as u8;
            assert_eq!(t.mean(), [want; 3], "{s} / {count}");
        };
        for count in 1..=64 {
            for s in 0..=255 * count {
                check(count, s);
            }
        }
        for count in [1_000_000, 16_777_216, 1 << 32, (1 << 40) - 1] {
            for k in [0, 1, 127, 254] {
                let tie = k * count + count / 2; // k + 0.5 when count is even
                for s in [tie - 1, tie, tie + 1, k * count, (k + 1) * count - 1] {
                    check(count, s);
                }
            }
        }
    }

    #[test]
    fn counting_in_blocks_gives_the_same_totals() {
        // Huge images count 2^24 pixels at a time; the same folding with tiny blocks.
        let px = noise(3 * 1000, 7);
        for channels in 1..=4 {
            let whole = buckets(&px, channels, BLOCK);
            assert!(!whole.is_empty());
            assert_eq!(buckets(&px, channels, 7), whole, "{channels} channels");
        }
    }
}
