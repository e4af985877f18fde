//! SVG rasterized with resvg in DejaVu Sans Mono (the font `tui::screenshot` names), for
//! `make screenshots` and the tests that check what a screenshot shows. Only DejaVu Sans Mono's four
//! faces are loaded (no system font lookup), so a PNG looks the same on every machine; missing fonts
//! fail naming the Debian package.

use std::path::Path;

use resvg::tiny_skia::{Pixmap, Transform};
use resvg::usvg::{Options, Tree};

/// Where Debian's fonts-dejavu-core installs the font.
pub const FONT_DIR: &str = "/usr/share/fonts/truetype/dejavu";

/// The faces loaded: regular, bold, oblique, bold oblique.
const FACES: [&str; 4] = [
    "DejaVuSansMono.ttf",
    "DejaVuSansMono-Bold.ttf",
    "DejaVuSansMono-Oblique.ttf",
    "DejaVuSansMono-BoldOblique.ttf",
];

/// `svg` as pixels at its own size (one SVG pixel, one image pixel).
pub fn rasterize(svg: &str) -> Pixmap {
    let mut options = Options {
        font_family: "DejaVu Sans Mono".to_owned(),
        ..Options::default()
    };
    for face in FACES {
        let path = Path::new(FONT_DIR).join(face);
        options.fontdb_mut().load_font_file(&path).unwrap_or_else(|e| {
            panic!(
                "font {} not loaded ({e}): install the Debian package `fonts-dejavu-core` (scripts/install-deps does)",
                path.display()
            )
        });
    }
    let tree = Tree::from_str(svg, &options).expect("the SVG parses");
    let size = tree.size().to_int_size();
    let mut pixmap = Pixmap::new(size.width(), size.height()).expect("a non-empty SVG");
    resvg::render(&tree, Transform::default(), &mut pixmap.as_mut());
    pixmap
}

/// Rasterizes `svg` into the PNG file `path`.
pub fn write_png(svg: &str, path: &Path) {
    rasterize(svg)
        .save_png(path)
        .unwrap_or_else(|e| panic!("{} not written: {e}", path.display()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_red_rect_is_red_and_the_size_is_the_svgs() {
        let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"20\" height=\"10\"><rect width=\"10\" height=\"10\" fill=\"#ff0000\"/><text x=\"10\" y=\"9\" font-size=\"10\">x</text></svg>";
        let pixmap = rasterize(svg);
        assert_eq!((pixmap.width(), pixmap.height()), (20, 10));
        let pixel = pixmap.pixel(5, 5).unwrap();
        assert_eq!((pixel.red(), pixel.green(), pixel.blue()), (255, 0, 0));
        let inked = (10..20)
            .flat_map(|x| (0..10).map(move |y| (x, y)))
            .any(|(x, y)| pixmap.pixel(x, y).unwrap().alpha() > 0);
        assert!(inked, "the text is drawn with the loaded font");
    }
}
