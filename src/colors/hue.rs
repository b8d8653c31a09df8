//! The ten hue families of Harvard's `colors[].hue` and the rule that puts a CIELAB colour
//! in one of them, from its lightness L*, chroma C*ab and hue angle h_ab (CIE LCh).

use super::lab::Lab;

/// A hue family, serialised by name (`"Red"`, …, `"White"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Hue {
    Red,
    Orange,
    Yellow,
    Green,
    Blue,
    Violet,
    Brown,
    Grey,
    Black,
    White,
}

impl Hue {
    /// Every hue, in declaration order.
    pub const ALL: [Hue; 10] = [
        Hue::Red,
        Hue::Orange,
        Hue::Yellow,
        Hue::Green,
        Hue::Blue,
        Hue::Violet,
        Hue::Brown,
        Hue::Grey,
        Hue::Black,
        Hue::White,
    ];

    /// The name as Harvard writes it (and as it serialises): `"Red"`.
    pub fn name(self) -> &'static str {
        match self {
            Hue::Red => "Red",
            Hue::Orange => "Orange",
            Hue::Yellow => "Yellow",
            Hue::Green => "Green",
            Hue::Blue => "Blue",
            Hue::Violet => "Violet",
            Hue::Brown => "Brown",
            Hue::Grey => "Grey",
            Hue::Black => "Black",
            Hue::White => "White",
        }
    }

    /// The hue named `s`, ignoring ASCII case (`"blue"`, `"BLUE"`); `None` for anything else.
    pub fn parse(s: &str) -> Option<Hue> {
        Hue::ALL
            .into_iter()
            .find(|h| h.name().eq_ignore_ascii_case(s))
    }
}

/// Below this lightness every colour is Black, whatever its chroma.
pub const BLACK_L: f64 = 8.0;
/// Dark, dull colours are Black too: lightness under this …
pub const DARK_L: f64 = 18.0;
/// … and chroma under this (navy, at L* 13 and C* 80, stays Blue).
pub const DARK_C: f64 = 20.0;
/// A colour with less chroma than this is neutral: Black, Grey or White by lightness.
pub const NEUTRAL_C: f64 = 10.0;
/// Neutral colours lighter than this are White.
pub const NEUTRAL_WHITE_L: f64 = 90.0;
/// Near-whites (ivory, beige, linen) are White: lightness at least this …
pub const TINT_WHITE_L: f64 = 93.0;
/// … and chroma under this.
pub const TINT_WHITE_C: f64 = 16.0;

/// Decides the hue family of a CIELAB colour from L*, C*ab and the hue angle h_ab, in order:
///
/// 1. Black: L* < 8, or L* < 18 with C* < 20.
/// 2. Neutral, C* < 10: White if L* > 90, else Grey.
/// 3. White: L* ≥ 93 with C* < 16 (ivory, beige, linen, lavender blush).
/// 4. Brown: orange to yellow hues, 45° ≤ h < 100°, that are dark (L* < 50) or muted
///    (L* < 80 with C* < 45: tan, burlywood); and dull dark reds, 20° ≤ h < 45° with L* < 50
///    and C* < 35 (dark reddish browns; maroon, at C* 61, stays Red).
/// 5. Otherwise by hue angle: Red [345°, 45°), Orange [45°, 85°), Yellow [85°, 115°),
///    Green [115°, 180°), Blue [180°, 310°), Violet [310°, 345°).
///
/// For orientation, in CIELAB: red (#ff0000) is at 40°, orange (#ffa500) 73°, gold 91°,
/// yellow 103°, green 136°, turquoise 185°, cyan 196°, dodger blue 279°, blue (#0000ff) 306°,
/// purple 328° and deep pink 356°. CIELAB's blue hues bend towards purple, so medium purple
/// (#9370db) shares blue's 306° and is called Blue.
pub fn classify(lab: Lab) -> Hue {
    let (l, c, h) = (lab.l, lab.chroma(), lab.hue_angle());
    if l < BLACK_L || (l < DARK_L && c < DARK_C) {
        return Hue::Black;
    }
    if c < NEUTRAL_C {
        return if l > NEUTRAL_WHITE_L {
            Hue::White
        } else {
            Hue::Grey
        };
    }
    if l >= TINT_WHITE_L && c < TINT_WHITE_C {
        return Hue::White;
    }
    let orange_brown = (45.0..100.0).contains(&h) && (l < 50.0 || (l < 80.0 && c < 45.0));
    let red_brown = (20.0..45.0).contains(&h) && l < 50.0 && c < 35.0;
    if orange_brown || red_brown {
        return Hue::Brown;
    }
    match h {
        h if !(45.0..345.0).contains(&h) => Hue::Red,
        h if h < 85.0 => Hue::Orange,
        h if h < 115.0 => Hue::Yellow,
        h if h < 180.0 => Hue::Green,
        h if h < 310.0 => Hue::Blue,
        _ => Hue::Violet,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::colors::parse_hex;

    fn hue_of(hex: &str) -> Hue {
        classify(Lab::from_rgb(parse_hex(hex).unwrap()))
    }

    #[test]
    fn obvious_colours_get_their_hue() {
        let cases = [
            ("#ff0000", Hue::Red),
            ("#ffa500", Hue::Orange),
            ("#ffff00", Hue::Yellow),
            ("#00ff00", Hue::Green),
            ("#008000", Hue::Green),
            ("#0000ff", Hue::Blue),
            ("#1e90ff", Hue::Blue),
            ("#800080", Hue::Violet),
            ("#8b4513", Hue::Brown),
            ("#808080", Hue::Grey),
            ("#000000", Hue::Black),
            ("#ffffff", Hue::White),
            ("#f5f5dc", Hue::White), // beige
            ("#fffff0", Hue::White), // ivory
            ("#faf0e6", Hue::White), // linen
            ("#c8c8c8", Hue::Grey),  // Harvard's example
            ("#0a0a0a", Hue::Black),
            ("#1a271a", Hue::Black), // a forest floor in shadow
            ("#000080", Hue::Blue),  // navy: dark but clearly blue
            ("#191970", Hue::Blue),  // midnight blue
            ("#00ffff", Hue::Blue),  // cyan
            ("#87ceeb", Hue::Blue),  // sky blue
            ("#2e8b57", Hue::Green), // sea green
            ("#556b2f", Hue::Green), // dark olive green
            ("#ff00ff", Hue::Violet),
            ("#4b0082", Hue::Violet), // indigo
            ("#ee82ee", Hue::Violet),
            ("#dc143c", Hue::Red), // crimson
            ("#800000", Hue::Red), // maroon: dark but saturated
            ("#ffc0cb", Hue::Red), // pink
            ("#ff1493", Hue::Red), // deep pink
            ("#ff8c00", Hue::Orange),
            ("#ff7f50", Hue::Orange), // coral
            ("#ffd700", Hue::Yellow), // gold
            ("#f0e68c", Hue::Yellow), // khaki
            ("#a0522d", Hue::Brown),  // sienna
            ("#d2b48c", Hue::Brown),  // tan
            ("#5c382c", Hue::Brown),  // a dark reddish brown
            ("#3d3616", Hue::Brown),  // a dark olive brown
            ("#c0c0c0", Hue::Grey),
            ("#696969", Hue::Grey),
        ];
        let wrong: Vec<_> = cases
            .iter()
            .filter(|&&(hex, want)| hue_of(hex) != want)
            .map(|&(hex, want)| format!("{hex}: {:?}, not {want:?}", hue_of(hex)))
            .collect();
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn the_boundaries_sit_where_the_documentation_says() {
        // Hue angle alone, for a mid-lightness, strongly chromatic colour.
        let at = |h: f64| {
            let (s, c) = h.to_radians().sin_cos();
            classify(Lab {
                l: 60.0,
                a: 60.0 * c,
                b: 60.0 * s,
            })
        };
        let expect = [
            (344.9, Hue::Violet),
            (345.0, Hue::Red),
            (0.0, Hue::Red),
            (44.9, Hue::Red),
            (45.0, Hue::Orange),
            (84.9, Hue::Orange),
            (85.0, Hue::Yellow),
            (114.9, Hue::Yellow),
            (115.0, Hue::Green),
            (179.9, Hue::Green),
            (180.0, Hue::Blue),
            (309.9, Hue::Blue),
            (310.0, Hue::Violet),
        ];
        for (h, want) in expect {
            assert_eq!(at(h), want, "h = {h}");
        }
        let lch = |l: f64, c: f64, h: f64| {
            let (s, co) = h.to_radians().sin_cos();
            classify(Lab {
                l,
                a: c * co,
                b: c * s,
            })
        };
        assert_eq!(lch(7.9, 60.0, 300.0), Hue::Black);
        assert_eq!(lch(17.9, 19.9, 300.0), Hue::Black);
        assert_eq!(lch(17.9, 20.0, 300.0), Hue::Blue);
        assert_eq!(lch(50.0, 9.9, 300.0), Hue::Grey);
        assert_eq!(lch(90.1, 9.9, 300.0), Hue::White);
        assert_eq!(lch(93.0, 15.9, 100.0), Hue::White);
        assert_eq!(lch(92.9, 15.9, 100.0), Hue::Yellow);
        assert_eq!(lch(49.9, 60.0, 60.0), Hue::Brown);
        assert_eq!(lch(50.0, 60.0, 60.0), Hue::Orange);
        assert_eq!(lch(79.9, 44.9, 60.0), Hue::Brown);
        assert_eq!(lch(79.9, 45.0, 60.0), Hue::Orange);
        assert_eq!(lch(49.9, 34.9, 30.0), Hue::Brown);
        assert_eq!(lch(49.9, 35.0, 30.0), Hue::Red);
    }

    #[test]
    fn names_parse_case_insensitively_and_serialise_as_themselves() {
        assert_eq!(Hue::parse("blue"), Some(Hue::Blue));
        assert_eq!(Hue::parse("GREY"), Some(Hue::Grey));
        assert_eq!(Hue::parse("Violet"), Some(Hue::Violet));
        assert_eq!(Hue::parse("gray"), None);
        assert_eq!(Hue::parse(""), None);
        for h in Hue::ALL {
            assert_eq!(Hue::parse(h.name()), Some(h));
            assert_eq!(serde_json::to_value(h).unwrap(), h.name());
        }
        let distinct: std::collections::HashSet<_> = Hue::ALL.into_iter().collect();
        assert_eq!(distinct.len(), 10);
    }
}
