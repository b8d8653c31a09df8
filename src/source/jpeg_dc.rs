//! 1/8-scale decoding of baseline JPEG from the DC coefficients alone.
//!
//! At 1/8 scale each 8x8 block becomes one pixel whose value is the block's DC coefficient,
//! so the AC coefficients are only skipped: their Huffman codes are read with a table that
//! gives, for the next bits, the code length plus the size of the value that follows, and
//! the value itself is never built. There is no inverse DCT and no coefficient buffer. This
//! is the decoder of thumbnails (`tessera thumbnails`, and any request that shrinks a JPEG
//! by 8 or more); everything it does not handle (progressive, arithmetic coding, 12-bit
//! samples, CMYK, RGB-coded files, separate scans) returns `Ok(None)` and takes the general
//! decoder.

/// A decoded 1/8-scale image: `channels` (1 or 3) interleaved 8-bit samples per pixel.
#[derive(Debug)]
pub struct Eighth {
    /// Width: ceil(width / 8) of the source.
    pub width: u32,
    /// Height: ceil(height / 8) of the source.
    pub height: u32,
    /// 1 (gray) or 3 (RGB).
    pub channels: u8,
    /// The samples, row by row.
    pub pixels: Vec<u8>,
}

/// Bits looked up at once in the Huffman tables.
const LOOKAHEAD: u32 = 10;

/// Bits looked up at once to skip several AC codes (and their values) in one step.
const MULTI: u32 = 12;

/// A Huffman table: a lookup of the next [`LOOKAHEAD`] bits for short codes, and the
/// canonical code ranges (JPEG F.2.2.3) for longer ones.
struct Huffman {
    /// For DC tables: `length << 8 | symbol`. For AC tables: `bits << 8 | advance`, where
    /// `bits` is the code length plus the size of the value after it, and `advance` is the
    /// number of coefficients it covers (0 for end-of-block). 0 means "longer code".
    lut: Box<[u16; 1 << LOOKAHEAD]>,
    /// For AC tables: the AC codes that the next [`MULTI`] bits hold whole, skipped in one
    /// step: `bits << 12 | end_of_block << 11 | advance` (0: none).
    multi: Box<[u16; 1 << MULTI]>,
    /// The largest code of each length (-1 when none).
    maxcode: [i32; 18],
    /// Index of the first symbol of each length, minus the first code of that length.
    valoffset: [i32; 17],
    /// The symbols in code order.
    values: Vec<u8>,
}

impl Huffman {
    fn new(counts: &[u8; 16], values: &[u8], ac: bool) -> Result<Huffman, String> {
        let mut lut = Box::new([0u16; 1 << LOOKAHEAD]);
        let mut maxcode = [-1i32; 18];
        let mut valoffset = [0i32; 17];
        let (mut code, mut k) = (0i32, 0usize);
        for len in 1..=16usize {
            let n = usize::from(counts[len - 1]);
            valoffset[len] = k as i32 - code;
            for _ in 0..n {
                let symbol = *values.get(k).ok_or("Huffman table is short")?;
                if len as u32 <= LOOKAHEAD {
                    let shift = LOOKAHEAD - len as u32;
                    let entry = if ac {
                        let (run, size) = (symbol >> 4, symbol & 15);
                        let bits = len as u16 + u16::from(size);
                        let advance = match (run, size) {
                            (0, 0) => 0,
                            (15, 0) => 16,
                            _ => u16::from(run) + 1,
                        };
                        bits << 8 | advance
                    } else {
                        (len as u16) << 8 | u16::from(symbol)
                    };
                    let first = (code as usize) << shift;
                    for slot in &mut lut[first..first + (1 << shift)] {
                        *slot = entry;
                    }
                }
                code += 1;
                k += 1;
            }
            if n > 0 {
                maxcode[len] = code - 1;
            }
            if code > 1 << len {
                return Err("Huffman table is invalid".into());
            }
            code <<= 1;
        }
        maxcode[17] = i32::MAX;
        let mut multi = Box::new([0u16; 1 << MULTI]);
        if ac {
            for (pattern, slot) in multi.iter_mut().enumerate() {
                let (mut used, mut advance, mut end) = (0u32, 0u16, false);
                while used < MULTI {
                    // The next codes, from the bits of `pattern` not yet used (zeros after).
                    let window = ((pattern << used) & ((1 << MULTI) - 1)) >> (MULTI - LOOKAHEAD);
                    let e = lut[window];
                    let bits = u32::from(e >> 8);
                    if e == 0 || bits > MULTI - used {
                        break;
                    }
                    used += bits;
                    if e & 0xFF == 0 {
                        end = true;
                        break;
                    }
                    advance += e & 0xFF;
                }
                if used > 0 {
                    *slot = (used as u16) << 12 | u16::from(end) << 11 | advance;
                }
            }
        }
        Ok(Huffman {
            multi,
            lut,
            maxcode,
            valoffset,
            values: values[..k].to_vec(),
        })
    }

    /// Decodes a symbol the slow way (codes longer than the lookahead), consuming its bits.
    fn slow(&self, bits: &mut Bits) -> Result<u8, String> {
        let mut code = 0i32;
        for len in 1..=16 {
            code = code << 1 | bits.take(1) as i32;
            if code <= self.maxcode[len] {
                let i = (self.valoffset[len] + code) as usize;
                return self.values.get(i).copied().ok_or_else(corrupt);
            }
        }
        Err(corrupt())
    }
}

fn corrupt() -> String {
    "corrupt JPEG data".into()
}

/// An MSB-first bit reader over entropy-coded data: stuffed zero bytes removed, and zeros
/// fed once a marker is reached (as other decoders do at a premature end).
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    acc: u64,
    count: u32,
    at_marker: bool,
}

impl<'a> Bits<'a> {
    fn refill(&mut self) {
        // Fast path: the next eight bytes hold no 0xFF (so no stuffing and no marker).
        if !self.at_marker && self.count <= 56 {
            if let Some(chunk) = self.data.get(self.pos..self.pos + 8) {
                let chunk = u64::from_be_bytes(chunk.try_into().unwrap_or([0xFF; 8]));
                let inverse = !chunk;
                let has_ff =
                    inverse.wrapping_sub(0x0101_0101_0101_0101) & !inverse & 0x8080_8080_8080_8080
                        != 0;
                if !has_ff {
                    let n = (64 - self.count) / 8;
                    self.acc |= (chunk >> (64 - 8 * n)) << (64 - 8 * n - self.count);
                    self.pos += n as usize;
                    self.count += 8 * n;
                    return;
                }
            }
        }
        while self.count <= 56 {
            let mut byte = 0u8;
            if !self.at_marker {
                match self.data.get(self.pos) {
                    Some(&0xFF) => match self.data.get(self.pos + 1) {
                        Some(0x00) => {
                            byte = 0xFF;
                            self.pos += 2;
                        }
                        _ => self.at_marker = true,
                    },
                    Some(&b) => {
                        byte = b;
                        self.pos += 1;
                    }
                    None => self.at_marker = true,
                }
            }
            self.acc |= u64::from(byte) << (56 - self.count);
            self.count += 8;
        }
    }

    #[inline(always)]
    fn peek(&self, n: u32) -> u32 {
        (self.acc >> (64 - n)) as u32
    }

    #[inline(always)]
    fn skip(&mut self, n: u32) {
        self.acc <<= n;
        self.count -= n;
    }

    /// Takes `n` (1 to 16) bits, refilling as needed.
    fn take(&mut self, n: u32) -> u32 {
        if self.count < n {
            self.refill();
        }
        let v = self.peek(n);
        self.skip(n);
        v
    }

    /// Moves past the restart marker that ends an interval (discarding the padding bits).
    fn restart(&mut self) -> Result<(), String> {
        self.acc = 0;
        self.count = 0;
        self.at_marker = false;
        while self.pos + 1 < self.data.len() {
            if self.data[self.pos] == 0xFF && (0xD0..=0xD7).contains(&self.data[self.pos + 1]) {
                self.pos += 2;
                return Ok(());
            }
            self.pos += 1;
        }
        Err("JPEG restart marker missing".into())
    }
}

/// The value of a `size`-bit coefficient difference (JPEG F.2.2.1, EXTEND).
#[inline(always)]
fn extend(v: u32, size: u32) -> i32 {
    if size == 0 {
        0
    } else if v < 1 << (size - 1) {
        v as i32 - (1 << size) + 1
    } else {
        v as i32
    }
}

struct Component {
    id: u8,
    h: usize,
    v: usize,
    quant: usize,
    dc_table: usize,
    ac_table: usize,
}

/// Decodes a baseline JPEG at 1/8 scale; `Ok(None)` when the file is of a kind this decoder
/// leaves to the general one.
pub fn decode_eighth(bytes: &[u8]) -> Result<Option<Eighth>, String> {
    if bytes.len() < 4 || bytes[0..2] != [0xFF, 0xD8] {
        return Err("not a JPEG".into());
    }
    let mut quant = [[0u16; 64]; 4];
    let mut dc: [Option<Huffman>; 4] = [None, None, None, None];
    let mut ac: [Option<Huffman>; 4] = [None, None, None, None];
    let mut comps: Vec<Component> = Vec::new();
    let (mut width, mut height) = (0usize, 0usize);
    let mut restart_interval = 0usize;
    let mut adobe_rgb = false;
    let mut pos = 2;
    loop {
        // Find the next marker (fill bytes allowed).
        while bytes.get(pos) == Some(&0xFF) && bytes.get(pos + 1) == Some(&0xFF) {
            pos += 1;
        }
        if bytes.get(pos) != Some(&0xFF) || pos + 4 > bytes.len() {
            return Err("JPEG header is damaged".into());
        }
        let marker = bytes[pos + 1];
        let len = usize::from(u16::from_be_bytes([bytes[pos + 2], bytes[pos + 3]]));
        let seg = bytes
            .get(pos + 4..pos + 2 + len)
            .ok_or("JPEG segment runs past the end")?;
        if len < 2 {
            return Err("JPEG segment length is invalid".into());
        }
        match marker {
            0xC0 | 0xC1 => {
                if seg.len() < 6 || seg[0] != 8 {
                    return Ok(None); // 12-bit samples
                }
                height = usize::from(u16::from_be_bytes([seg[1], seg[2]]));
                width = usize::from(u16::from_be_bytes([seg[3], seg[4]]));
                let n = usize::from(seg[5]);
                if !(n == 1 || n == 3) || seg.len() < 6 + 3 * n {
                    return Ok(None);
                }
                for c in seg[6..6 + 3 * n].chunks_exact(3) {
                    let (h, v) = (usize::from(c[1] >> 4), usize::from(c[1] & 15));
                    if !(1..=4).contains(&h) || !(1..=4).contains(&v) || c[2] > 3 {
                        return Err("JPEG frame header is invalid".into());
                    }
                    comps.push(Component {
                        id: c[0],
                        h,
                        v,
                        quant: usize::from(c[2]),
                        dc_table: 0,
                        ac_table: 0,
                    });
                }
            }
            // Progressive, lossless, hierarchical or arithmetic-coded: the general decoder.
            0xC2 | 0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return Ok(None),
            0xC4 => {
                let mut s = seg;
                while s.len() >= 17 {
                    let (class, id) = (s[0] >> 4, usize::from(s[0] & 15));
                    let counts: [u8; 16] = s[1..17].try_into().unwrap();
                    let n: usize = counts.iter().map(|&c| usize::from(c)).sum();
                    let values = s.get(17..17 + n).ok_or("Huffman table is short")?;
                    if id > 3 || class > 1 {
                        return Err("Huffman table id is invalid".into());
                    }
                    let table = Huffman::new(&counts, values, class == 1)?;
                    if class == 0 {
                        dc[id] = Some(table);
                    } else {
                        ac[id] = Some(table);
                    }
                    s = &s[17 + n..];
                }
            }
            0xDB => {
                let mut s = seg;
                while !s.is_empty() {
                    let (precision, id) = (s[0] >> 4, usize::from(s[0] & 15));
                    let size = if precision == 0 { 64 } else { 128 };
                    let table = s.get(1..1 + size).ok_or("quantisation table is short")?;
                    if id > 3 {
                        return Err("quantisation table id is invalid".into());
                    }
                    // Only the DC entry (the first, in zigzag order) is used.
                    quant[id][0] = if precision == 0 {
                        u16::from(table[0])
                    } else {
                        u16::from_be_bytes([table[0], table[1]])
                    };
                    s = &s[1 + size..];
                }
            }
            0xDD => {
                let r = seg.get(0..2).ok_or("restart interval is short")?;
                restart_interval = usize::from(u16::from_be_bytes([r[0], r[1]]));
            }
            0xEE if seg.len() >= 12 && seg.starts_with(b"Adobe") => adobe_rgb = seg[11] == 0,
            0xDA => {
                let n = usize::from(*seg.first().ok_or("scan header is short")?);
                if comps.is_empty() || n != comps.len() || seg.len() < 1 + 2 * n + 3 {
                    return Ok(None); // separate scans per component
                }
                for s in seg[1..1 + 2 * n].chunks_exact(2) {
                    let c = comps
                        .iter_mut()
                        .find(|c| c.id == s[0])
                        .ok_or("scan names an unknown component")?;
                    c.dc_table = usize::from(s[1] >> 4).min(3);
                    c.ac_table = usize::from(s[1] & 15).min(3);
                }
                let (ss, se) = (seg[1 + 2 * n], seg[2 + 2 * n]);
                if ss != 0 || se != 63 || seg[3 + 2 * n] != 0 {
                    return Ok(None);
                }
                // Adobe transform 0, or components named R, G, B: RGB, not YCbCr.
                if comps.len() == 3 && (adobe_rgb || comps.iter().map(|c| c.id).eq(*b"RGB")) {
                    return Ok(None);
                }
                let data = &bytes[pos + 2 + len..];
                return decode_scan(
                    data,
                    width,
                    height,
                    &comps,
                    &quant,
                    &dc,
                    &ac,
                    restart_interval,
                )
                .map(Some);
            }
            0xD9 => return Err("JPEG has no scan".into()),
            _ => {}
        }
        pos += 2 + len;
    }
}

#[allow(clippy::too_many_arguments)]
fn decode_scan(
    data: &[u8],
    width: usize,
    height: usize,
    comps: &[Component],
    quant: &[[u16; 64]; 4],
    dc: &[Option<Huffman>; 4],
    ac: &[Option<Huffman>; 4],
    restart_interval: usize,
) -> Result<Eighth, String> {
    if width == 0 || height == 0 {
        return Err("JPEG has a zero dimension".into());
    }
    let hmax = comps.iter().map(|c| c.h).max().unwrap_or(1);
    let vmax = comps.iter().map(|c| c.v).max().unwrap_or(1);
    // A single-component scan is not interleaved: its blocks cover the image exactly.
    let (hmax, vmax) = if comps.len() == 1 {
        (1, 1)
    } else {
        (hmax, vmax)
    };
    let mcux = width.div_ceil(8 * hmax);
    let mcuy = height.div_ceil(8 * vmax);
    let sampling = |c: &Component| {
        if comps.len() == 1 {
            (1, 1)
        } else {
            (c.h, c.v)
        }
    };
    let mut planes: Vec<Vec<u8>> = comps
        .iter()
        .map(|c| {
            let (h, v) = sampling(c);
            vec![0u8; mcux * h * mcuy * v]
        })
        .collect();
    let tables: Vec<(&Huffman, &Huffman, i32)> = comps
        .iter()
        .map(|c| {
            let d = dc[c.dc_table].as_ref().ok_or("missing DC Huffman table")?;
            let a = ac[c.ac_table].as_ref().ok_or("missing AC Huffman table")?;
            Ok((d, a, i32::from(quant[c.quant][0])))
        })
        .collect::<Result<_, String>>()?;
    let mut bits = Bits {
        data,
        pos: 0,
        acc: 0,
        count: 0,
        at_marker: false,
    };
    let mut pred = [0i32; 3];
    let mut until_restart = restart_interval;
    for my in 0..mcuy {
        for mx in 0..mcux {
            if restart_interval > 0 {
                if until_restart == 0 {
                    bits.restart()?;
                    pred = [0; 3];
                    until_restart = restart_interval;
                }
                until_restart -= 1;
            }
            for (ci, c) in comps.iter().enumerate() {
                let (h, v) = sampling(c);
                let (dct, act, q) = tables[ci];
                let stride = mcux * h;
                for by in 0..v {
                    for bx in 0..h {
                        // DC: its size, then its bits.
                        bits.refill();
                        let e = dct.lut[bits.peek(LOOKAHEAD) as usize];
                        let size = if e != 0 {
                            bits.skip(u32::from(e >> 8));
                            u32::from(e & 0xFF)
                        } else {
                            u32::from(dct.slow(&mut bits)?)
                        };
                        if size > 11 {
                            return Err(corrupt());
                        }
                        let diff = if size == 0 {
                            0
                        } else {
                            extend(bits.take(size), size)
                        };
                        // Clamped so that damaged data cannot overflow the sum.
                        pred[ci] = (pred[ci] + diff).clamp(-(1 << 20), 1 << 20);
                        let value = ((i64::from(pred[ci]) * i64::from(q) + 4) >> 3) + 128;
                        planes[ci][(my * v + by) * stride + mx * h + bx] =
                            value.clamp(0, 255) as u8;
                        // AC: skipped, code and value together where the table allows.
                        let mut k = 1usize;
                        while k < 64 {
                            if bits.count < 32 {
                                bits.refill();
                            }
                            // Several codes at once, when they stay inside this block (an
                            // end of block must come at or before coefficient 63).
                            let m = act.multi[bits.peek(MULTI) as usize];
                            if m != 0 {
                                let advance = usize::from(m & 0x7FF);
                                let end = m & 0x800 != 0;
                                if k + advance <= if end { 63 } else { 64 } {
                                    bits.skip(u32::from(m >> 12));
                                    k += advance;
                                    if end {
                                        break;
                                    }
                                    continue;
                                }
                            }
                            let e = act.lut[bits.peek(LOOKAHEAD) as usize];
                            if e != 0 {
                                let advance = usize::from(e & 0xFF);
                                bits.skip(u32::from(e >> 8));
                                if advance == 0 {
                                    break;
                                }
                                k += advance;
                            } else {
                                let rs = act.slow(&mut bits)?;
                                let (run, size) = (usize::from(rs >> 4), u32::from(rs & 15));
                                if size == 0 {
                                    if run != 15 {
                                        break;
                                    }
                                    k += 16;
                                } else {
                                    if bits.count < size {
                                        bits.refill();
                                    }
                                    bits.skip(size);
                                    k += run + 1;
                                }
                            }
                        }
                        if k > 64 {
                            return Err(corrupt());
                        }
                    }
                }
            }
        }
    }
    Ok(assemble(width, height, comps, hmax, vmax, mcux, &planes))
}

/// A `pw` x `ph` plane enlarged by `fx` x `fy` and cut to `w` x `h`: by the triangle filter
/// of libjpeg (3/4 of the nearest sample, 1/4 of the next) for factors of 2, by repetition
/// for others.
fn upsample(
    plane: &[u8],
    pw: usize,
    ph: usize,
    fx: usize,
    fy: usize,
    w: usize,
    h: usize,
) -> Vec<u8> {
    let at = |x: usize, y: usize| u32::from(plane[y.min(ph - 1) * pw + x.min(pw - 1)]);
    let mut out = vec![0u8; w * h];
    if fx > 2 || fy > 2 || fx == 0 || fy == 0 {
        for y in 0..h {
            for x in 0..w {
                out[y * w + x] = at(x / fx.max(1), y / fy.max(1)) as u8;
            }
        }
        return out;
    }
    // Vertical pass into 4x-scaled sums, then horizontal, rounding once (as libjpeg).
    let mut column = vec![0u32; pw];
    for y in 0..h {
        let sy = y / fy;
        for (sx, t) in column.iter_mut().enumerate() {
            *t = if fy == 2 {
                let near = if y % 2 == 0 {
                    sy.saturating_sub(1)
                } else {
                    sy + 1
                };
                3 * at(sx, sy) + at(sx, near)
            } else {
                4 * at(sx, sy)
            };
        }
        let t = |sx: usize| column[sx.min(pw - 1)];
        for x in 0..w {
            let sx = x / fx;
            let v = if fx == 2 {
                if x % 2 == 0 {
                    (3 * t(sx) + t(sx.saturating_sub(1)) + 8) >> 4
                } else {
                    (3 * t(sx) + t(sx + 1) + 7) >> 4
                }
            } else {
                (t(sx) + 2) >> 2
            };
            out[y * w + x] = v as u8;
        }
    }
    out
}

/// The 1/8-scale image from the DC planes: chroma repeated to the luma grid, YCbCr to RGB
/// (JFIF, full range, in fixed point).
fn assemble(
    width: usize,
    height: usize,
    comps: &[Component],
    hmax: usize,
    vmax: usize,
    mcux: usize,
    planes: &[Vec<u8>],
) -> Eighth {
    let (w, h) = (width.div_ceil(8), height.div_ceil(8));
    if comps.len() == 1 {
        let stride = mcux;
        let mut pixels = Vec::with_capacity(w * h);
        for y in 0..h {
            pixels.extend_from_slice(&planes[0][y * stride..y * stride + w]);
        }
        return Eighth {
            width: w as u32,
            height: h as u32,
            channels: 1,
            pixels,
        };
    }
    // Every plane at the output's size: chroma upsampled as libjpeg's "fancy" upsampler does.
    let full: Vec<Vec<u8>> = comps
        .iter()
        .zip(planes)
        .map(|(c, plane)| {
            let (pw, ph) = (mcux * c.h, plane.len() / (mcux * c.h));
            upsample(plane, pw, ph, hmax / c.h.max(1), vmax / c.v.max(1), w, h)
        })
        .collect();
    let mut pixels = vec![0u8; w * h * 3];
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let yy = i32::from(full[0][i]) << 16;
            let cb = i32::from(full[1][i]) - 128;
            let cr = i32::from(full[2][i]) - 128;
            let r = yy + 91_881 * cr;
            let g = yy - 22_554 * cb - 46_802 * cr;
            let b = yy + 116_130 * cb;
            let px = &mut pixels[(y * w + x) * 3..(y * w + x) * 3 + 3];
            for (o, v) in px.iter_mut().zip([r, g, b]) {
                *o = ((v + (1 << 15)) >> 16).clamp(0, 255) as u8;
            }
        }
    }
    Eighth {
        width: w as u32,
        height: h as u32,
        channels: 3,
        pixels,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

    /// A photograph-like test card: smooth gradients, edges and fine detail.
    fn card(w: u32, h: u32) -> Vec<u8> {
        let mut v = Vec::with_capacity((w * h * 3) as usize);
        for y in 0..h {
            for x in 0..w {
                let edge = if (x / 37 + y / 23) % 2 == 0 { 60 } else { 0 };
                v.push((x * 255 / w) as u8 / 2 + edge);
                v.push((y * 255 / h) as u8 / 2 + ((x ^ y) & 31) as u8);
                v.push(((x + y) * 255 / (w + h)) as u8 / 2 + edge / 2);
            }
        }
        v
    }

    fn encode(
        w: u32,
        h: u32,
        sampling: SamplingFactor,
        restart: u16,
        gray: bool,
        progressive: bool,
    ) -> Vec<u8> {
        let rgb = card(w, h);
        let mut out = Vec::new();
        let mut e = Encoder::new(&mut out, 85);
        e.set_sampling_factor(sampling);
        e.set_restart_interval(restart);
        e.set_progressive(progressive);
        if gray {
            let luma: Vec<u8> = rgb.chunks_exact(3).map(|p| p[1]).collect();
            e.encode(&luma, w as u16, h as u16, ColorType::Luma)
                .unwrap();
        } else {
            e.encode(&rgb, w as u16, h as u16, ColorType::Rgb).unwrap();
        }
        out
    }

    /// jpeg-decoder's own 1/8-scale decode (the reference).
    fn reference(jpg: &[u8]) -> (u32, u32, Vec<u8>) {
        let mut d = jpeg_decoder::Decoder::new(jpg);
        d.read_info().unwrap();
        let info = d.info().unwrap();
        let (w, h) = (info.width.div_ceil(8), info.height.div_ceil(8));
        d.scale(w, h).unwrap();
        let px = d.decode().unwrap();
        let info = d.info().unwrap();
        (u32::from(info.width), u32::from(info.height), px)
    }

    fn psnr(a: &[u8], b: &[u8]) -> f64 {
        let mse = a
            .iter()
            .zip(b)
            .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
            .sum::<f64>()
            / a.len() as f64;
        10.0 * (255.0f64 * 255.0 / mse.max(1e-9)).log10()
    }

    #[test]
    fn matches_the_general_decoder_at_one_eighth() {
        let cases = [
            (640, 480, SamplingFactor::R_4_4_4, 0, false),
            (643, 481, SamplingFactor::R_4_2_0, 0, false),
            (517, 389, SamplingFactor::R_4_2_2, 0, false),
            (400, 300, SamplingFactor::R_4_2_0, 7, false),
            (333, 251, SamplingFactor::R_4_4_4, 3, true),
            (9, 7, SamplingFactor::R_4_2_0, 0, false),
        ];
        for (w, h, sampling, restart, gray) in cases {
            let jpg = encode(w, h, sampling, restart, gray, false);
            let got = decode_eighth(&jpg).unwrap().expect("baseline is handled");
            let (rw, rh, want) = reference(&jpg);
            let what = format!("{w}x{h} {sampling:?} restart {restart} gray {gray}");
            assert_eq!((got.width, got.height), (rw, rh), "{what}");
            assert_eq!(got.channels, if gray { 1 } else { 3 }, "{what}");
            assert_eq!(got.pixels.len(), want.len(), "{what}");
            let db = psnr(&got.pixels, &want);
            // Luma is the same DC value; only the chroma upsampling may differ.
            assert!(db > 38.0, "{what}: {db:.1} dB");
        }
    }

    #[test]
    fn other_kinds_are_left_to_the_general_decoder() {
        let progressive = encode(64, 48, SamplingFactor::R_4_2_0, 0, false, true);
        assert!(decode_eighth(&progressive).unwrap().is_none());
    }

    #[test]
    fn damaged_data_is_an_error_or_an_image_never_a_panic() {
        let jpg = encode(200, 150, SamplingFactor::R_4_2_0, 4, false, false);
        let mut state = 12345u32;
        for i in 0..400 {
            let mut bad = jpg.clone();
            match i % 3 {
                0 => bad.truncate((i * 7919) % jpg.len()),
                _ => {
                    for _ in 0..(1 + i % 5) {
                        state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                        let at = (state as usize >> 8) % bad.len();
                        bad[at] ^= 1 << (state % 8);
                    }
                }
            }
            if let Ok(Some(img)) = decode_eighth(&bad) {
                assert_eq!(
                    img.pixels.len(),
                    (img.width * img.height * u32::from(img.channels)) as usize
                );
            }
        }
    }
}
