//! Palettes of swatches for `colors[].spectrum`: the built-in default and palettes read from
//! hex strings, each swatch kept with its CIELAB for nearest-swatch lookups.

use std::sync::LazyLock;

use super::lab::{s_l, Lab};
use super::{parse_hex, to_hex};

/// A non-empty list of swatches; `spectrum` is the swatch nearest (CIEDE2000) to a colour.
#[derive(Debug, Clone)]
pub struct Palette {
    swatches: Vec<[u8; 3]>,
    index: Swatches,
}

/// The HSL (saturation, lightness) of the four tones of every hue in the default palette.
const TONES: [(f64, f64); 4] = [(1.0, 0.25), (1.0, 0.5), (1.0, 0.75), (0.4, 0.45)];
/// The grey levels of the default palette, as 8-bit sRGB values.
const GREYS: [u8; 5] = [0, 64, 128, 192, 255];

static DEFAULT: LazyLock<Palette> = LazyLock::new(|| {
    let mut swatches = Vec::with_capacity(12 * TONES.len() + GREYS.len());
    for &(s, l) in &TONES {
        for step in 0..12 {
            swatches.push(hsl(f64::from(step) * 30.0, s, l));
        }
    }
    swatches.extend(GREYS.iter().map(|&v| [v, v, v]));
    Palette::new(swatches)
});

/// The sRGB colour of HSL `h` (degrees), `s` and `l` (0–1), rounded to 8 bits.
fn hsl(h: f64, s: f64, l: f64) -> [u8; 3] {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let hp = h / 60.0;
    let x = c * (1.0 - (hp % 2.0 - 1.0).abs());
    let (r, g, b) = match hp as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    let q = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    [q(r), q(g), q(b)]
}

impl Default for Palette {
    /// The default palette, 53 swatches: the 12 HSL hues at 30° steps (red 0°, orange 30°,
    /// yellow 60°, chartreuse 90°, green 120°, spring green 150°, cyan 180°, azure 210°,
    /// blue 240°, violet 270°, magenta 300°, rose 330°), each in four tones — deep (HSL
    /// saturation 100 %, lightness 25 %, e.g. `#800000`), vivid (100 %, 50 %, `#ff0000`),
    /// pale (100 %, 75 %, `#ff8080`) and muted (40 %, 45 %, `#a14545`) — plus five greys:
    /// `#000000`, `#404040`, `#808080`, `#c0c0c0` and `#ffffff`.
    fn default() -> Palette {
        DEFAULT.clone()
    }
}

impl Palette {
    fn new(swatches: Vec<[u8; 3]>) -> Palette {
        let index = Swatches::new(&swatches);
        Palette { swatches, index }
    }

    /// A palette from hex strings, `"#8c5fa8"` (or `"8c5fa8"`, or the short `"#abc"`), in
    /// the given order. Errors on an empty list or on any string that is not such hex.
    pub fn from_hex(list: &[String]) -> Result<Palette, String> {
        if list.is_empty() {
            return Err("a palette needs at least one colour".into());
        }
        let swatches = list
            .iter()
            .map(|s| parse_hex(s).ok_or_else(|| format!("palette colour {s:?} is not #rrggbb hex")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Palette::new(swatches))
    }

    /// The swatches, in order.
    pub fn swatches(&self) -> &[[u8; 3]] {
        &self.swatches
    }

    /// The swatches as `"#rrggbb"` strings, in order.
    pub fn to_hex(&self) -> Vec<String> {
        self.swatches.iter().map(|&s| to_hex(s)).collect()
    }

    /// The swatch nearest to `lab` by CIEDE2000; the first one on a tie.
    pub fn nearest(&self, lab: Lab) -> [u8; 3] {
        self.index.nearest(lab)
    }
}

/// Colours with their CIELAB, sorted by L*, for exact nearest-by-CIEDE2000 lookups that
/// skip every colour whose lightness alone rules it out.
#[derive(Debug, Clone)]
pub(crate) struct Swatches {
    /// (colour, its CIELAB, its position in the caller's list), by L* then position.
    by_l: Vec<([u8; 3], Lab, usize)>,
}

impl Swatches {
    /// `colours` must not be empty.
    pub(crate) fn new(colours: &[[u8; 3]]) -> Swatches {
        let mut by_l: Vec<_> = colours
            .iter()
            .enumerate()
            .map(|(i, &c)| (c, Lab::from_rgb(c), i))
            .collect();
        by_l.sort_by(|x, y| x.1.l.total_cmp(&y.1.l).then(x.2.cmp(&y.2)));
        Swatches { by_l }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_l.len()
    }

    /// The colour nearest to `lab` by CIEDE2000, the earliest in the caller's list on a tie.
    ///
    /// Exact, but most colours are never compared: ΔE00 is at least |ΔL*| / S_L (its other
    /// terms add up to a non-negative amount, because |R_T| ≤ √3 < 2), and that bound grows
    /// with |ΔL*| on either side. So the scan goes outwards in L* from `lab`, always to the
    /// side with the smaller bound, and stops once the bound exceeds the best distance found.
    pub(crate) fn nearest(&self, lab: Lab) -> [u8; 3] {
        let v = &self.by_l;
        let bound = |e: &([u8; 3], Lab, usize)| (e.1.l - lab.l).abs() / s_l((e.1.l + lab.l) / 2.0);
        let mut best = (f64::INFINITY, usize::MAX, [0; 3]);
        let split = v.partition_point(|e| e.1.l < lab.l);
        let (mut down, mut up) = (split, split); // v[down - 1] and v[up] are next
        loop {
            let below = (down > 0).then(|| bound(&v[down - 1]));
            let above = v.get(up).map(bound);
            let (gap, next) = match (below, above) {
                (None, None) => break,
                (Some(b), Some(a)) if b < a => (b, down - 1),
                (Some(b), None) => (b, down - 1),
                (_, Some(a)) => (a, up),
            };
            if gap > best.0 {
                break;
            }
            if next == up {
                up += 1;
            } else {
                down -= 1;
            }
            let (c, l, i) = v[next];
            let d = lab.delta_e2000(l);
            if (d, i) < (best.0, best.1) {
                best = (d, i, c);
            }
        }
        best.2
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::colors::names::CSS3;

    #[test]
    fn from_hex_rejects_bad_hex_and_empty_lists() {
        assert!(Palette::from_hex(&[]).is_err());
        let err = Palette::from_hex(&["#8c5fa8".into(), "#zzz".into()]).unwrap_err();
        assert!(err.contains("#zzz"), "{err}");
        assert!(Palette::from_hex(&["".into()]).is_err());
        let p = Palette::from_hex(&["#8c5fa8".into(), "C0C0C0".into(), "#abc".into()]).unwrap();
        assert_eq!(p.to_hex(), ["#8c5fa8", "#c0c0c0", "#aabbcc"]);
        assert_eq!(p.swatches()[2], [0xaa, 0xbb, 0xcc]);
    }

    #[test]
    fn the_default_palette_is_twelve_hues_in_four_tones_and_five_greys() {
        let p = Palette::default();
        let hex = p.to_hex();
        assert_eq!(hex.len(), 53);
        let distinct: std::collections::HashSet<_> = hex.iter().collect();
        assert_eq!(distinct.len(), 53);
        for want in [
            "#800000", "#ff0000", "#ff8080", "#a14545", // red in its four tones
            "#ff8000", "#0000ff", "#000080", "#8080ff", "#ff00ff", "#00ffff", // some hues
            "#000000", "#404040", "#808080", "#c0c0c0", "#ffffff", // greys
        ] {
            assert!(hex.iter().any(|h| h == want), "{want} missing");
        }
        assert_eq!(hsl(210.0, 1.0, 0.5), [0, 128, 255]);
    }

    /// The nearest colour by trying every one, earliest on a tie.
    fn brute_force(colours: &[[u8; 3]], lab: Lab) -> [u8; 3] {
        let mut best = (f64::INFINITY, [0; 3]);
        for &c in colours {
            let d = lab.delta_e2000(Lab::from_rgb(c));
            if d < best.0 {
                best = (d, c);
            }
        }
        best.1
    }

    #[test]
    fn the_pruned_search_finds_what_trying_every_colour_finds() {
        let css3: Vec<[u8; 3]> = CSS3.iter().map(|&(_, c)| c).collect();
        let default = Palette::default();
        let two = Palette::from_hex(&["#102030".into(), "#f0e0d0".into()]).unwrap();
        let index = Swatches::new(&css3);
        let mut x: u32 = 0x9e37_79b9;
        let mut probes: Vec<[u8; 3]> = css3.clone();
        probes.extend((0..3000).map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            [x as u8, (x >> 8) as u8, (x >> 16) as u8]
        }));
        for rgb in probes {
            let lab = Lab::from_rgb(rgb);
            assert_eq!(
                index.nearest(lab),
                brute_force(&css3, lab),
                "{rgb:?} in CSS3"
            );
            assert_eq!(
                default.nearest(lab),
                brute_force(default.swatches(), lab),
                "{rgb:?} in the default palette"
            );
            assert_eq!(two.nearest(lab), brute_force(two.swatches(), lab));
        }
        assert_eq!(index.nearest(Lab::from_rgb([0, 0, 255])), [0, 0, 255]);
    }
}
