//! PDF output: one page exactly the size of the image (one pixel per point), holding the image
//! as a JPEG (DCTDecode) XObject.

use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref};

/// Builds a one-page PDF around already JPEG-encoded pixels of `w`×`h`.
pub fn single_image(jpeg: &[u8], w: u32, h: u32, gray: bool) -> Vec<u8> {
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let page_id = Ref::new(3);
    let image_id = Ref::new(4);
    let content_id = Ref::new(5);
    let name = Name(b"Im1");
    let (fw, fh) = (w as f32, h as f32);

    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page_id]).count(1);
    let mut page = pdf.page(page_id);
    page.media_box(Rect::new(0.0, 0.0, fw, fh));
    page.parent(tree);
    page.contents(content_id);
    page.resources().x_objects().pair(name, image_id);
    page.finish();

    let mut image = pdf.image_xobject(image_id, jpeg);
    image.filter(Filter::DctDecode);
    image.width(w as i32);
    image.height(h as i32);
    if gray {
        image.color_space().device_gray();
    } else {
        image.color_space().device_rgb();
    }
    image.bits_per_component(8);
    image.finish();

    let mut content = Content::new();
    content.save_state();
    content.transform([fw, 0.0, 0.0, fh, 0.0, 0.0]);
    content.x_object(name);
    content.restore_state();
    pdf.stream(content_id, &content.finish());
    pdf.finish()
}
