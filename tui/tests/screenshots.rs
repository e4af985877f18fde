//! A screenshot's pixels: a buffer written as SVG (`tokendist_tui::screenshot`) and rasterized the
//! way `make screenshots` does (`tokendist_testkit::raster`) has the buffer's size in cells times the
//! cell size, and its coloured cells in their colours.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use tokendist_testkit::raster::rasterize;
use tokendist_tui::screenshot::{CELL_HEIGHT, CELL_WIDTH, DEFAULT_BG, to_svg};

#[test]
fn a_red_cell_is_red_and_the_png_has_the_buffers_size() {
    let mut buffer = Buffer::empty(Rect::new(0, 0, 12, 3));
    buffer.set_string(2, 1, " ", Style::new().bg(Color::Red));
    buffer.set_string(4, 1, "✘ fail", Style::new().fg(Color::LightRed));
    let pixmap = rasterize(&to_svg(&buffer));
    assert_eq!(
        (pixmap.width(), pixmap.height()),
        (12 * CELL_WIDTH, 3 * CELL_HEIGHT)
    );
    let rgb = |x: u32, y: u32| {
        let p = pixmap.pixel(x, y).unwrap();
        (p.red(), p.green(), p.blue())
    };
    // Every pixel of the red cell (2, 1) is the palette's red; its neighbours are the background.
    for x in 2 * CELL_WIDTH..3 * CELL_WIDTH {
        for y in CELL_HEIGHT..2 * CELL_HEIGHT {
            assert_eq!(rgb(x, y), (0xcd, 0x31, 0x31), "pixel {x},{y}");
        }
    }
    let background = (DEFAULT_BG.0, DEFAULT_BG.1, DEFAULT_BG.2);
    assert_eq!(rgb(CELL_WIDTH + 4, CELL_HEIGHT + 9), background);
    assert_eq!(rgb(3 * CELL_WIDTH + 4, CELL_HEIGHT + 9), background);
    // The text is drawn: some pixel of the "✘ fail" cells is reddish.
    let reddish = (4 * CELL_WIDTH..10 * CELL_WIDTH)
        .flat_map(|x| (CELL_HEIGHT..2 * CELL_HEIGHT).map(move |y| (x, y)))
        .any(|(x, y)| {
            let (r, g, b) = rgb(x, y);
            r > 150 && g < 120 && b < 120
        });
    assert!(reddish, "the light-red text is drawn");
}
