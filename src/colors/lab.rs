//! sRGB to CIELAB (D65) conversion and the two colour differences the extractor uses:
//! CIE76 (plain Euclidean ΔE*ab, cheap, for merging buckets) and CIEDE2000 (for choosing the
//! nearest named colour or palette swatch).

use std::sync::LazyLock;

/// A CIELAB colour under the D65 white point: `l` in 0–100, `a` and `b` roughly −128–128.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lab {
    pub l: f64,
    pub a: f64,
    pub b: f64,
}

/// Linear-light value of each 8-bit sRGB code (the sRGB transfer function, IEC 61966-2-1).
static LINEAR: LazyLock<[f64; 256]> = LazyLock::new(|| {
    let mut t = [0.0; 256];
    for (i, v) in t.iter_mut().enumerate() {
        let c = i as f64 / 255.0;
        *v = if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        };
    }
    t
});

// D65 reference white, matching the sRGB matrix below (its rows sum to these).
const XN: f64 = 0.95047;
const YN: f64 = 1.0;
const ZN: f64 = 1.08883;

fn f(t: f64) -> f64 {
    const D: f64 = 6.0 / 29.0;
    if t > D * D * D {
        t.cbrt()
    } else {
        t / (3.0 * D * D) + 4.0 / 29.0
    }
}

impl Lab {
    /// The CIELAB coordinates of an 8-bit sRGB colour.
    pub fn from_rgb(rgb: [u8; 3]) -> Lab {
        let lin = &*LINEAR;
        let (r, g, b) = (
            lin[rgb[0] as usize],
            lin[rgb[1] as usize],
            lin[rgb[2] as usize],
        );
        let x = 0.4124564 * r + 0.3575761 * g + 0.1804375 * b;
        let y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b;
        let z = 0.0193339 * r + 0.1191920 * g + 0.9503041 * b;
        let (fx, fy, fz) = (f(x / XN), f(y / YN), f(z / ZN));
        Lab {
            l: 116.0 * fy - 16.0,
            a: 500.0 * (fx - fy),
            b: 200.0 * (fy - fz),
        }
    }

    /// Chroma C*ab: the distance from the grey axis.
    pub fn chroma(self) -> f64 {
        self.a.hypot(self.b)
    }

    /// Hue angle h_ab in degrees, 0 ≤ h < 360 (0 for a = b = 0).
    pub fn hue_angle(self) -> f64 {
        hue_degrees(self.a, self.b)
    }

    /// The square of the CIE76 difference (ΔE*ab²); cheap, for threshold comparisons.
    pub fn delta_e76_sq(self, o: Lab) -> f64 {
        let (dl, da, db) = (self.l - o.l, self.a - o.a, self.b - o.b);
        dl * dl + da * da + db * db
    }

    /// The CIEDE2000 difference ΔE00 (Sharma, Wu & Dalal 2005), with kL = kC = kH = 1.
    pub fn delta_e2000(self, o: Lab) -> f64 {
        const P25_7: f64 = 6_103_515_625.0; // 25^7
        let (l1, a1, b1) = (self.l, self.a, self.b);
        let (l2, a2, b2) = (o.l, o.a, o.b);
        let c_bar = ((a1 * a1 + b1 * b1).sqrt() + (a2 * a2 + b2 * b2).sqrt()) / 2.0;
        let c7 = c_bar.powi(7);
        let g = 0.5 * (1.0 - (c7 / (c7 + P25_7)).sqrt());
        let (a1p, a2p) = ((1.0 + g) * a1, (1.0 + g) * a2);
        let (c1p, c2p) = ((a1p * a1p + b1 * b1).sqrt(), (a2p * a2p + b2 * b2).sqrt());
        let (h1p, h2p) = (hue_degrees(a1p, b1), hue_degrees(a2p, b2));
        let dl = l2 - l1;
        let dc = c2p - c1p;
        let neutral = c1p * c2p == 0.0;
        let dh = if neutral {
            0.0
        } else {
            let d = h2p - h1p;
            if d > 180.0 {
                d - 360.0
            } else if d < -180.0 {
                d + 360.0
            } else {
                d
            }
        };
        let dh_big = 2.0 * (c1p * c2p).sqrt() * (dh.to_radians() / 2.0).sin();
        let l_bar = (l1 + l2) / 2.0;
        let cp_bar = (c1p + c2p) / 2.0;
        let h_bar = if neutral {
            h1p + h2p
        } else if (h1p - h2p).abs() <= 180.0 {
            (h1p + h2p) / 2.0
        } else if h1p + h2p < 360.0 {
            (h1p + h2p + 360.0) / 2.0
        } else {
            (h1p + h2p - 360.0) / 2.0
        };
        // T = 1 − 0.17 cos(h̄ − 30°) + 0.24 cos 2h̄ + 0.32 cos(3h̄ + 6°) − 0.20 cos(4h̄ − 63°),
        // from one sine and cosine of h̄ by the multiple-angle and angle-sum identities.
        let (s1, c1) = h_bar.to_radians().sin_cos();
        let (s2, c2) = (2.0 * s1 * c1, 2.0 * c1 * c1 - 1.0);
        let (s3, c3) = (s1 * (3.0 - 4.0 * s1 * s1), c1 * (4.0 * c1 * c1 - 3.0));
        let (s4, c4) = (2.0 * s2 * c2, 2.0 * c2 * c2 - 1.0);
        let (cos30, sin30) = (0.866_025_403_784_438_6, 0.5);
        let (cos6, sin6) = (0.994_521_895_368_273_3, 0.104_528_463_267_653_47);
        let (cos63, sin63) = (0.453_990_499_739_546_8, 0.891_006_524_188_367_9);
        let t = 1.0 - 0.17 * (c1 * cos30 + s1 * sin30) + 0.24 * c2 + 0.32 * (c3 * cos6 - s3 * sin6)
            - 0.20 * (c4 * cos63 + s4 * sin63);
        let d_theta = 30.0 * (-((h_bar - 275.0) / 25.0).powi(2)).exp();
        let cp7 = cp_bar.powi(7);
        let rc = 2.0 * (cp7 / (cp7 + P25_7)).sqrt();
        let sl = s_l(l_bar);
        let sc = 1.0 + 0.045 * cp_bar;
        let sh = 1.0 + 0.015 * cp_bar * t;
        let rt = -(2.0 * d_theta).to_radians().sin() * rc;
        let (tl, tc, th) = (dl / sl, dc / sc, dh_big / sh);
        (tl * tl + tc * tc + th * th + rt * tc * th).sqrt()
    }
}

/// The hue angle of (a, b) in degrees, 0 ≤ h < 360, and 0 for a = b = 0.
fn hue_degrees(a: f64, b: f64) -> f64 {
    if a == 0.0 && b == 0.0 {
        return 0.0;
    }
    let h = b.atan2(a).to_degrees();
    if h < 0.0 {
        h + 360.0
    } else {
        h
    }
}

/// The CIEDE2000 lightness weight S_L at mean lightness `l_bar`.
pub(crate) fn s_l(l_bar: f64) -> f64 {
    let l50 = (l_bar - 50.0) * (l_bar - 50.0);
    1.0 + 0.015 * l50 / (20.0 + l50).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lab(l: f64, a: f64, b: f64) -> Lab {
        Lab { l, a, b }
    }

    #[test]
    fn srgb_primaries_land_on_their_published_lab_values() {
        let near = |x: Lab, l: f64, a: f64, b: f64| {
            assert!(
                (x.l - l).abs() < 0.05 && (x.a - a).abs() < 0.05 && (x.b - b).abs() < 0.05,
                "{x:?} is not ({l}, {a}, {b})"
            )
        };
        near(Lab::from_rgb([255, 255, 255]), 100.0, 0.0, 0.0);
        near(Lab::from_rgb([0, 0, 0]), 0.0, 0.0, 0.0);
        near(Lab::from_rgb([255, 0, 0]), 53.24, 80.09, 67.20);
        near(Lab::from_rgb([0, 255, 0]), 87.73, -86.18, 83.18);
        near(Lab::from_rgb([0, 0, 255]), 32.30, 79.19, -107.86);
        near(Lab::from_rgb([128, 128, 128]), 53.59, 0.0, 0.0);
    }

    #[test]
    fn ciede2000_matches_the_sharma_wu_dalal_test_pairs() {
        let pairs = [
            (
                lab(50.0, 2.6772, -79.7751),
                lab(50.0, 0.0, -82.7485),
                2.0425,
            ),
            (lab(50.0, 0.0, 0.0), lab(50.0, -1.0, 2.0), 2.3669),
            (lab(50.0, 2.49, -0.001), lab(50.0, -2.49, 0.0009), 7.1792),
            (lab(50.0, 2.5, 0.0), lab(50.0, 0.0, -2.5), 4.3065),
            (lab(50.0, 2.5, 0.0), lab(73.0, 25.0, -18.0), 27.1492),
            (lab(50.0, 2.5, 0.0), lab(56.0, -27.0, -3.0), 31.9030),
            (
                lab(60.2574, -34.0099, 36.2677),
                lab(60.4626, -34.1751, 39.4387),
                1.2644,
            ),
            (
                lab(2.0776, 0.0795, -1.135),
                lab(0.9033, -0.0636, -0.5514),
                0.9082,
            ),
        ];
        for (p, q, want) in pairs {
            let got = p.delta_e2000(q);
            assert!((got - want).abs() < 1e-4, "{p:?} {q:?}: {got} != {want}");
            assert!((q.delta_e2000(p) - got).abs() < 1e-9, "symmetric");
        }
        assert_eq!(
            lab(40.0, 10.0, -5.0).delta_e2000(lab(40.0, 10.0, -5.0)),
            0.0
        );
    }

    #[test]
    fn cie76_is_euclidean_in_lab() {
        assert_eq!(lab(0.0, 0.0, 0.0).delta_e76_sq(lab(3.0, 4.0, 12.0)), 169.0);
    }
}
