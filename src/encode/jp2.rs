//! JPEG 2000 (JP2) output through `openjp2`, the pure-Rust port of OpenJPEG.
//!
//! OpenJPEG writes through C-style stream callbacks; they append to an in-memory sink here.
//! The output is lossless (reversible 5/3 wavelet), with as many resolution levels as the
//! image's size allows, up to six.

use image::DynamicImage;
use openjp2::image::{opj_image_create, opj_image_destroy};
use openjp2::openjpeg::*;
use openjp2::opj_image_comptparm as opj_image_cmptparm_t;
use std::ffi::c_void;

/// An in-memory, seekable output for OpenJPEG.
struct Sink {
    buf: Vec<u8>,
    pos: usize,
}

unsafe extern "C" fn sink_write(data: *mut c_void, n: usize, user: *mut c_void) -> usize {
    // SAFETY: `user` is the `Sink` installed below and outlives the stream; `data` holds `n`
    // bytes, as OpenJPEG's write callback contract says.
    let sink = unsafe { &mut *(user as *mut Sink) };
    let bytes = unsafe { std::slice::from_raw_parts(data as *const u8, n) };
    let end = sink.pos + n;
    if sink.buf.len() < end {
        sink.buf.resize(end, 0);
    }
    sink.buf[sink.pos..end].copy_from_slice(bytes);
    sink.pos = end;
    n
}

unsafe extern "C" fn sink_skip(n: i64, user: *mut c_void) -> i64 {
    // SAFETY: as in `sink_write`.
    let sink = unsafe { &mut *(user as *mut Sink) };
    match usize::try_from(sink.pos as i64 + n) {
        Ok(p) => {
            sink.pos = p;
            n
        }
        Err(_) => -1,
    }
}

unsafe extern "C" fn sink_seek(to: i64, user: *mut c_void) -> i32 {
    // SAFETY: as in `sink_write`.
    let sink = unsafe { &mut *(user as *mut Sink) };
    match usize::try_from(to) {
        Ok(p) => {
            sink.pos = p;
            1
        }
        Err(_) => 0,
    }
}

/// Encodes an 8-bit gray or RGB image as a lossless JP2 file.
pub fn encode(img: &DynamicImage) -> Result<Vec<u8>, String> {
    encode_tiled(img, None)
}

/// [`encode`], with the codestream cut into `tile`×`tile` tiles (one tile when `None`), as
/// large masters often are.
pub fn encode_tiled(img: &DynamicImage, tile: Option<u32>) -> Result<Vec<u8>, String> {
    encode_with(img, tile, false)
}

/// [`encode_tiled`], with TLM marker segments in the main header that list every
/// tile-part's length (as Kakadu writes with `ORGgen_tlm`).
pub fn encode_tiled_with_tlm(img: &DynamicImage, tile: Option<u32>) -> Result<Vec<u8>, String> {
    encode_with(img, tile, true)
}

fn encode_with(img: &DynamicImage, tile: Option<u32>, tlm: bool) -> Result<Vec<u8>, String> {
    let (w, h) = (img.width(), img.height());
    let (planes, space): (Vec<Vec<u8>>, _) = match img {
        DynamicImage::ImageLuma8(g) => (vec![g.as_raw().clone()], COLOR_SPACE::OPJ_CLRSPC_GRAY),
        _ => {
            let rgb = img.to_rgb8();
            let mut planes: Vec<Vec<u8>> =
                (0..3).map(|_| Vec::with_capacity(rgb.len() / 3)).collect();
            for p in rgb.pixels() {
                for (c, plane) in planes.iter_mut().enumerate() {
                    plane.push(p.0[c]);
                }
            }
            (planes, COLOR_SPACE::OPJ_CLRSPC_SRGB)
        }
    };
    let mut params: Vec<opj_image_cmptparm_t> = planes
        .iter()
        .map(|_| opj_image_cmptparm_t {
            dx: 1,
            dy: 1,
            w,
            h,
            x0: 0,
            y0: 0,
            prec: 8,
            bpp: 8,
            sgnd: 0,
        })
        .collect();
    let image = opj_image_create(planes.len() as u32, params.as_mut_ptr(), space);
    if image.is_null() {
        return Err("cannot allocate JPEG 2000 image".into());
    }
    // SAFETY: `image` is a valid image just created with `planes.len()` components of w×h.
    unsafe {
        (*image).x0 = 0;
        (*image).y0 = 0;
        (*image).x1 = w;
        (*image).y1 = h;
        let comps = std::slice::from_raw_parts_mut((*image).comps, planes.len());
        for (comp, plane) in comps.iter_mut().zip(&planes) {
            let data = std::slice::from_raw_parts_mut(comp.data, plane.len());
            for (d, s) in data.iter_mut().zip(plane) {
                *d = i32::from(*s);
            }
        }
    }
    let mut cp = opj_cparameters_t::default();
    // SAFETY: plain initialisation of a parameter struct we own.
    unsafe { opj_set_default_encoder_parameters(&mut cp) };
    let side = tile.map_or(w.min(h), |t| t.min(w).min(h));
    let levels = (side.max(1).ilog2() + 1).min(6);
    cp.numresolution = levels as i32;
    if let Some(t) = tile {
        cp.tile_size_on = 1;
        cp.cp_tdx = t as i32;
        cp.cp_tdy = t as i32;
    }
    cp.tcp_numlayers = 1;
    cp.tcp_rates[0] = 0.0;
    cp.cp_disto_alloc = 1;
    cp.tcp_mct = if planes.len() == 3 { 1 } else { 0 };

    let mut sink = Box::new(Sink {
        buf: Vec::with_capacity((w as usize * h as usize * planes.len()) / 2 + 1024),
        pos: 0,
    });
    // SAFETY: the codec, stream and image are created and destroyed here; the sink outlives
    // the stream, which is destroyed before the sink is read.
    let ok = unsafe {
        let codec = opj_create_compress(CODEC_FORMAT::OPJ_CODEC_JP2);
        let stream = opj_stream_create(1 << 16, 0);
        opj_stream_set_write_function(stream, Some(sink_write));
        opj_stream_set_skip_function(stream, Some(sink_skip));
        opj_stream_set_seek_function(stream, Some(sink_seek));
        opj_stream_set_user_data(stream, &mut *sink as *mut Sink as *mut c_void, None);
        let tlm_yes = c"TLM=YES";
        let extra = [tlm_yes.as_ptr(), std::ptr::null()];
        let ok = !codec.is_null()
            && opj_setup_encoder(codec, &mut cp, image) == 1
            && (!tlm || opj_encoder_set_extra_options(codec, extra.as_ptr()) == 1)
            && opj_start_compress(codec, image, stream) == 1
            && opj_encode(codec, stream) == 1
            && opj_end_compress(codec, stream) == 1;
        opj_stream_destroy(stream);
        opj_destroy_codec(codec);
        opj_image_destroy(image);
        ok
    };
    if ok {
        Ok(sink.buf)
    } else {
        Err("JPEG 2000 encoding failed".into())
    }
}
