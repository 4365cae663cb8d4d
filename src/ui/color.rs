//! XEP-0392 Consistent Color Generation (version 0.8+, HSLuv based): the
//! same nick gets the same colour here as in every other client that
//! implements it.
//!
//! The hue angle comes from SHA-1 of the UTF-8 text (first two bytes, little
//! endian, scaled to 0–360°); the colour is HSLuv(angle, 100, 50) in sRGB.

use ratatui::style::Color;
use xmpp_parsers::sha1::{Digest, Sha1};

/// The XEP-0392 hue angle of `text`, in degrees (0 ≤ angle < 360).
pub fn angle(text: &str) -> f64 {
    let digest = Sha1::digest(text.as_bytes());
    let value = u16::from_le_bytes([digest[0], digest[1]]);
    f64::from(value) / 65536.0 * 360.0
}

/// The nick's colour as 8-bit sRGB.
pub fn nick_rgb(nick: &str) -> (u8, u8, u8) {
    let (r, g, b) = hsluv_to_rgb(angle(nick), 100.0, 50.0);
    (to_u8(r), to_u8(g), to_u8(b))
}

/// The nick's colour for true-colour terminals.
pub fn nick_color(nick: &str) -> Color {
    let (r, g, b) = nick_rgb(nick);
    Color::Rgb(r, g, b)
}

/// The nick's colour for terminals without true colour: one of the twelve
/// chromatic ANSI colours (no black, white or greys), chosen by the same
/// angle. Each of the six ANSI hues owns the part of the circle closest
/// to its HSLuv hue; the half below that hue gives the normal colour, the
/// half above the bright one, so nearby angles still differ.
pub fn nick_color_16(nick: &str) -> Color {
    color_16_for_angle(angle(nick))
}

/// HSLuv hues of the six ANSI hues (pure sRGB primaries and secondaries),
/// with their normal and bright colours.
const ANSI_HUES: [(f64, Color, Color); 6] = [
    (12.177, Color::Red, Color::LightRed),
    (85.874, Color::Yellow, Color::LightYellow),
    (127.715, Color::Green, Color::LightGreen),
    (192.177, Color::Cyan, Color::LightCyan),
    (265.874, Color::Blue, Color::LightBlue),
    (307.715, Color::Magenta, Color::LightMagenta),
];

fn color_16_for_angle(angle: f64) -> Color {
    // Signed circular difference angle - hue, in (-180, 180].
    let diff = |hue: f64| {
        let d = (angle - hue).rem_euclid(360.0);
        if d > 180.0 { d - 360.0 } else { d }
    };
    let (hue, normal, bright) = ANSI_HUES
        .iter()
        .copied()
        .min_by(|a, b| diff(a.0).abs().total_cmp(&diff(b.0).abs()))
        .expect("six hues");
    if diff(hue) < 0.0 { normal } else { bright }
}

fn to_u8(c: f64) -> u8 {
    (c.clamp(0.0, 1.0) * 255.0).round() as u8
}

// --- HSLuv (https://www.hsluv.org/math/) ---------------------------------
//
// HSLuv → LCh(uv) → Luv → XYZ → linear RGB → sRGB. The saturation is a
// percentage of the largest chroma that stays inside the sRGB gamut for
// that lightness and hue.

/// XYZ (D65) → linear sRGB.
const M: [[f64; 3]; 3] = [
    [3.240969941904521, -1.537383177570093, -0.498610760293],
    [-0.96924363628087, 1.87596750150772, 0.041555057407175],
    [0.055630079696993, -0.20397695888897, 1.056971514242878],
];
/// u′, v′ of the D65 white point.
const REF_U: f64 = 0.19783000664283;
const REF_V: f64 = 0.46831999493879;
/// CIE constants: κ = (29/3)³, ε = (6/29)³.
const KAPPA: f64 = 903.2962962;
const EPSILON: f64 = 0.0088564516;

/// Converts HSLuv (hue in degrees, saturation and lightness 0–100) to sRGB
/// components in 0–1.
pub fn hsluv_to_rgb(h: f64, s: f64, l: f64) -> (f64, f64, f64) {
    let (l, c, h) = hsluv_to_lch(h, s, l);
    let (l, u, v) = lch_to_luv(l, c, h);
    let (x, y, z) = luv_to_xyz(l, u, v);
    xyz_to_rgb(x, y, z)
}

fn hsluv_to_lch(h: f64, s: f64, l: f64) -> (f64, f64, f64) {
    if l > 99.9999999 {
        return (100.0, 0.0, h);
    }
    if l < 0.00000001 {
        return (0.0, 0.0, h);
    }
    (l, max_chroma_for(l, h) / 100.0 * s, h)
}

/// The six lines (slope, intercept) in the u–v plane where one of R, G, B
/// reaches 0 or 1 at lightness `l`.
fn gamut_bounds(l: f64) -> [(f64, f64); 6] {
    let sub1 = (l + 16.0).powi(3) / 1_560_896.0;
    let sub2 = if sub1 > EPSILON { sub1 } else { l / KAPPA };
    let mut out = [(0.0, 0.0); 6];
    for (i, [m1, m2, m3]) in M.iter().copied().enumerate() {
        for t in 0..2 {
            let t = f64::from(t);
            let top1 = (284_517.0 * m1 - 94_839.0 * m3) * sub2;
            let top2 =
                (838_422.0 * m3 + 769_860.0 * m2 + 731_718.0 * m1) * l * sub2 - 769_860.0 * t * l;
            let bottom = (632_260.0 * m3 - 126_452.0 * m2) * sub2 + 126_452.0 * t;
            out[i * 2 + t as usize] = (top1 / bottom, top2 / bottom);
        }
    }
    out
}

/// The largest in-gamut chroma at lightness `l` and hue `h` (degrees): the
/// nearest intersection of the hue's ray with the gamut bounds.
fn max_chroma_for(l: f64, h: f64) -> f64 {
    let theta = h.to_radians();
    gamut_bounds(l)
        .iter()
        .map(|(slope, intercept)| intercept / (theta.sin() - slope * theta.cos()))
        .filter(|len| *len >= 0.0)
        .fold(f64::INFINITY, f64::min)
}

fn lch_to_luv(l: f64, c: f64, h: f64) -> (f64, f64, f64) {
    let h = h.to_radians();
    (l, h.cos() * c, h.sin() * c)
}

fn luv_to_xyz(l: f64, u: f64, v: f64) -> (f64, f64, f64) {
    if l == 0.0 {
        return (0.0, 0.0, 0.0);
    }
    let var_u = u / (13.0 * l) + REF_U;
    let var_v = v / (13.0 * l) + REF_V;
    let y = if l <= 8.0 {
        l / KAPPA
    } else {
        ((l + 16.0) / 116.0).powi(3)
    };
    let x = -(9.0 * y * var_u) / ((var_u - 4.0) * var_v - var_u * var_v);
    let z = (9.0 * y - 15.0 * var_v * y - var_v * x) / (3.0 * var_v);
    (x, y, z)
}

fn xyz_to_rgb(x: f64, y: f64, z: f64) -> (f64, f64, f64) {
    let dot = |m: [f64; 3]| m[0] * x + m[1] * y + m[2] * z;
    (
        from_linear(dot(M[0])),
        from_linear(dot(M[1])),
        from_linear(dot(M[2])),
    )
}

/// The sRGB transfer function (gamma encoding).
fn from_linear(c: f64) -> f64 {
    if c <= 0.0031308 {
        12.92 * c
    } else {
        1.055 * c.powf(1.0 / 2.4) - 0.055
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// XEP-0392 §13 test vectors ("No CVD correction"): text, angle, and
    /// HSLuv(angle, 100, 50) as sRGB 0–1 rounded to three places.
    const VECTORS: [(&str, f64, (f64, f64, f64)); 5] = [
        ("Romeo", 327.255249, (0.865, 0.000, 0.686)),
        ("juliet@capulet.lit", 209.410400, (0.000, 0.515, 0.573)),
        ("\u{1f63a}", 331.199341, (0.872, 0.000, 0.659)),
        ("council", 359.994507, (0.918, 0.000, 0.394)),
        ("Board", 171.430664, (0.000, 0.527, 0.457)),
    ];

    fn close(a: (f64, f64, f64), b: (f64, f64, f64), eps: f64) -> bool {
        (a.0 - b.0).abs() <= eps && (a.1 - b.1).abs() <= eps && (a.2 - b.2).abs() <= eps
    }

    #[test]
    fn xep_angles() {
        for (text, want, _) in VECTORS {
            let got = angle(text);
            assert!((got - want).abs() < 1e-6, "{text}: {got} != {want}");
        }
    }

    #[test]
    fn xep_rgb() {
        for (text, a, want) in VECTORS {
            let got = hsluv_to_rgb(a, 100.0, 50.0);
            assert!(close(got, want, 0.0006), "{text}: {got:?} != {want:?}");
            let (r, g, b) = nick_rgb(text);
            let want8 = (to_u8(want.0), to_u8(want.1), to_u8(want.2));
            // 3-decimal vectors: the 8-bit value may differ by one step.
            for (x, y) in [(r, want8.0), (g, want8.1), (b, want8.2)] {
                assert!(x.abs_diff(y) <= 1, "{text}: {:?} vs {want8:?}", (r, g, b));
            }
        }
        assert_eq!(nick_rgb("Romeo"), (221, 0, 175));
        assert_eq!(nick_color("Romeo"), Color::Rgb(221, 0, 175));
    }

    /// Reference pairs from the HSLuv project (its snapshot of sRGB
    /// primaries and `#000011`).
    #[test]
    fn hsluv_reference_pairs() {
        let pairs = [
            (
                (12.177050630061776, 100.0, 53.23711559542933),
                (1.0, 0.0, 0.0),
            ),
            (
                (127.71501294924047, 100.0, 87.73551910965973),
                (0.0, 1.0, 0.0),
            ),
            (
                (85.87432021817473, 100.0, 97.13855934179674),
                (1.0, 1.0, 0.0),
            ),
            (
                (265.8743202181779, 100.0, 0.36553347952621895),
                (0.0, 0.0, 0.06666666666666667),
            ),
        ];
        for ((h, s, l), rgb) in pairs {
            let got = hsluv_to_rgb(h, s, l);
            assert!(close(got, rgb, 1e-6), "hsluv({h},{s},{l}) = {got:?}");
        }
        // Greys, black and white.
        assert!(close(hsluv_to_rgb(0.0, 0.0, 100.0), (1.0, 1.0, 1.0), 1e-6));
        assert!(close(
            hsluv_to_rgb(200.0, 100.0, 0.0),
            (0.0, 0.0, 0.0),
            1e-9
        ));
        let (r, g, b) = hsluv_to_rgb(40.0, 0.0, 50.0);
        assert!((r - g).abs() < 1e-9 && (g - b).abs() < 1e-9);
    }

    #[test]
    fn sixteen_colours() {
        assert_eq!(color_16_for_angle(12.0), Color::Red);
        assert_eq!(color_16_for_angle(13.0), Color::LightRed);
        assert_eq!(color_16_for_angle(359.0), Color::Red);
        assert_eq!(color_16_for_angle(300.0), Color::Magenta);
        assert_eq!(color_16_for_angle(200.0), Color::LightCyan);
        // Romeo (327.26°) is closest to magenta (307.7°), above it.
        assert_eq!(nick_color_16("Romeo"), Color::LightMagenta);
        // All twelve are reachable.
        let mut seen = std::collections::HashSet::new();
        for a in 0..360 {
            seen.insert(format!("{:?}", color_16_for_angle(f64::from(a))));
        }
        assert_eq!(seen.len(), 12, "{seen:?}");
    }
}
