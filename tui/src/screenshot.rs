//! A ratatui [`Buffer`] as SVG text, for `make screenshots` (pure: the rasterizing to PNG lives with
//! the tests' kit). Fixed cells of [`CELL_WIDTH`]×[`CELL_HEIGHT`] pixels in DejaVu Sans Mono: one
//! rect per run of a background colour, one text element per run of cells with the same style (its
//! foreground colour, bold, dim, italic, underline, crossed out); every colour — the 16 named ones,
//! indexed and RGB — mapped to one fixed palette, so screenshots look the same on every machine.
//! Non-ASCII symbols (✔, box drawing) are placed cell by cell, so a glyph of another width never
//! shifts the rest of the row.

use std::fmt::Write as _;

use ratatui::buffer::{Buffer, Cell};
use ratatui::style::{Color, Modifier};

/// Width of one cell in pixels (DejaVu Sans Mono advances 0.602 em: 9 px at [`FONT_SIZE`]).
pub const CELL_WIDTH: u32 = 9;
/// Height of one cell in pixels.
pub const CELL_HEIGHT: u32 = 18;
/// Font size in pixels.
pub const FONT_SIZE: f32 = 14.95;
/// The one font family the SVG names.
pub const FONT_FAMILY: &str = "DejaVu Sans Mono";
/// Distance from a cell's top to the text baseline.
const BASELINE: u32 = 14;

/// The terminal's default foreground and background (`Color::Reset`).
pub const DEFAULT_FG: Rgb = Rgb(0xd4, 0xd4, 0xd4);
pub const DEFAULT_BG: Rgb = Rgb(0x1e, 0x1e, 0x1e);

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl std::fmt::Display for Rgb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

/// The 16 named colours, in ANSI order (black, red, green, yellow, blue, magenta, cyan, gray, then
/// the bright ones).
const NAMED: [Rgb; 16] = [
    Rgb(0x00, 0x00, 0x00),
    Rgb(0xcd, 0x31, 0x31),
    Rgb(0x0d, 0xbc, 0x79),
    Rgb(0xe5, 0xe5, 0x10),
    Rgb(0x24, 0x72, 0xc8),
    Rgb(0xbc, 0x3f, 0xbc),
    Rgb(0x11, 0xa8, 0xcd),
    Rgb(0xb0, 0xb0, 0xb0),
    Rgb(0x66, 0x66, 0x66),
    Rgb(0xf1, 0x4c, 0x4c),
    Rgb(0x23, 0xd1, 0x8b),
    Rgb(0xf5, 0xf5, 0x43),
    Rgb(0x3b, 0x8e, 0xea),
    Rgb(0xd6, 0x70, 0xd6),
    Rgb(0x29, 0xb8, 0xdb),
    Rgb(0xe5, 0xe5, 0xe5),
];

/// The palette colour of `color`, or `default` for [`Color::Reset`].
pub fn rgb(color: Color, default: Rgb) -> Rgb {
    match color {
        Color::Reset => default,
        Color::Black => NAMED[0],
        Color::Red => NAMED[1],
        Color::Green => NAMED[2],
        Color::Yellow => NAMED[3],
        Color::Blue => NAMED[4],
        Color::Magenta => NAMED[5],
        Color::Cyan => NAMED[6],
        Color::Gray => NAMED[7],
        Color::DarkGray => NAMED[8],
        Color::LightRed => NAMED[9],
        Color::LightGreen => NAMED[10],
        Color::LightYellow => NAMED[11],
        Color::LightBlue => NAMED[12],
        Color::LightMagenta => NAMED[13],
        Color::LightCyan => NAMED[14],
        Color::White => NAMED[15],
        Color::Rgb(r, g, b) => Rgb(r, g, b),
        Color::Indexed(index) => indexed(index),
    }
}

/// xterm's 256 colours: the 16 named, a 6×6×6 cube, 24 grays.
fn indexed(index: u8) -> Rgb {
    const CUBE: [u8; 6] = [0, 95, 135, 175, 215, 255];
    match index {
        0..=15 => NAMED[usize::from(index)],
        16..=231 => {
            let i = index - 16;
            Rgb(
                CUBE[usize::from(i / 36)],
                CUBE[usize::from(i / 6 % 6)],
                CUBE[usize::from(i % 6)],
            )
        }
        _ => {
            let level = 8 + (index - 232) * 10;
            Rgb(level, level, level)
        }
    }
}

/// How a cell's text is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TextStyle {
    fg: Rgb,
    bold: bool,
    dim: bool,
    italic: bool,
    underline: bool,
    crossed_out: bool,
}

/// A cell's colours after `REVERSED`, and its text style.
fn resolve(cell: &Cell) -> (Rgb, TextStyle) {
    let mut fg = rgb(cell.fg, DEFAULT_FG);
    let mut bg = rgb(cell.bg, DEFAULT_BG);
    let m = cell.modifier;
    if m.contains(Modifier::REVERSED) {
        std::mem::swap(&mut fg, &mut bg);
    }
    let style = TextStyle {
        fg,
        bold: m.contains(Modifier::BOLD),
        dim: m.contains(Modifier::DIM),
        italic: m.contains(Modifier::ITALIC),
        underline: m.contains(Modifier::UNDERLINED),
        crossed_out: m.contains(Modifier::CROSSED_OUT),
    };
    (bg, style)
}

/// The SVG's size in pixels.
pub fn size(buffer: &Buffer) -> (u32, u32) {
    (
        u32::from(buffer.area.width) * CELL_WIDTH,
        u32::from(buffer.area.height) * CELL_HEIGHT,
    )
}

/// The whole buffer as a standalone SVG document.
pub fn to_svg(buffer: &Buffer) -> String {
    let (width, height) = size(buffer);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" xml:space=\"preserve\" font-family=\"{FONT_FAMILY}\" font-size=\"{FONT_SIZE}\">\n<rect width=\"{width}\" height=\"{height}\" fill=\"{DEFAULT_BG}\"/>\n"
    );
    let area = buffer.area;
    for row in 0..area.height {
        let cells: Vec<&Cell> = (0..area.width)
            .filter_map(|col| buffer.cell((area.x + col, area.y + row)))
            .collect();
        backgrounds(&mut svg, &cells, u32::from(row));
        texts(&mut svg, &cells, u32::from(row));
    }
    svg.push_str("</svg>\n");
    svg
}

/// One rect per run of cells with the same (non-default) background.
fn backgrounds(svg: &mut String, cells: &[&Cell], row: u32) {
    let mut col = 0;
    while col < cells.len() {
        let (bg, _) = resolve(cells[col]);
        let run = cells[col..]
            .iter()
            .take_while(|c| resolve(c).0 == bg)
            .count();
        if bg != DEFAULT_BG {
            let _ = writeln!(
                svg,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{CELL_HEIGHT}\" fill=\"{bg}\"/>",
                column_x(col),
                row * CELL_HEIGHT,
                column_x(run),
            );
        }
        col += run;
    }
}

/// One text element per run of ASCII cells with the same style; each other symbol on its own.
fn texts(svg: &mut String, cells: &[&Cell], row: u32) {
    let mut col = 0;
    while col < cells.len() {
        let cell = cells[col];
        let (_, style) = resolve(cell);
        let run = if cell.symbol().is_ascii() {
            cells[col..]
                .iter()
                .take_while(|c| c.symbol().is_ascii() && resolve(c).1 == style)
                .count()
                .max(1)
        } else {
            1
        };
        let text: String = cells[col..col + run].iter().map(|c| c.symbol()).collect();
        let hidden = cell.modifier.contains(Modifier::HIDDEN);
        if !hidden && !text.trim().is_empty() {
            text_element(
                svg,
                &text,
                column_x(col),
                row * CELL_HEIGHT + BASELINE,
                style,
            );
        }
        col += run;
    }
}

fn text_element(svg: &mut String, text: &str, x: u32, y: u32, style: TextStyle) {
    let _ = write!(svg, "<text x=\"{x}\" y=\"{y}\" fill=\"{}\"", style.fg);
    if style.bold {
        svg.push_str(" font-weight=\"bold\"");
    }
    if style.italic {
        svg.push_str(" font-style=\"italic\"");
    }
    if style.dim {
        svg.push_str(" fill-opacity=\"0.6\"");
    }
    match (style.underline, style.crossed_out) {
        (true, true) => svg.push_str(" text-decoration=\"underline line-through\""),
        (true, false) => svg.push_str(" text-decoration=\"underline\""),
        (false, true) => svg.push_str(" text-decoration=\"line-through\""),
        (false, false) => {}
    }
    let _ = writeln!(svg, ">{}</text>", escape(text));
}

fn column_x(col: usize) -> u32 {
    u32::try_from(col)
        .unwrap_or(u32::MAX)
        .saturating_mul(CELL_WIDTH)
}

/// XML text escaping; control characters (which XML 1.0 forbids) become U+FFFD.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    use super::*;

    fn buffer(width: u16, height: u16) -> Buffer {
        Buffer::empty(Rect::new(0, 0, width, height))
    }

    #[test]
    fn size_follows_the_cells() {
        let svg = to_svg(&buffer(80, 24));
        assert!(
            svg.starts_with(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"720\" height=\"432\""
            )
        );
        assert!(svg.contains("font-family=\"DejaVu Sans Mono\""));
        assert!(!svg.contains("<text"), "an empty buffer has no text");
    }

    #[test]
    fn one_rect_per_background_run_and_one_text_per_style_run() {
        let mut b = buffer(10, 2);
        b.set_string(0, 0, "ab", Style::new().fg(Color::Red).bg(Color::Blue));
        b.set_string(
            2,
            0,
            "cd",
            Style::new().fg(Color::Red).bg(Color::Blue).bold(),
        );
        b.set_string(0, 1, "x<&", Style::new().fg(Color::Rgb(1, 2, 3)));
        let svg = to_svg(&b);
        assert!(
            svg.contains("<rect x=\"0\" y=\"0\" width=\"36\" height=\"18\" fill=\"#2472c8\"/>"),
            "{svg}"
        );
        assert!(
            svg.contains("<text x=\"0\" y=\"14\" fill=\"#cd3131\">ab</text>"),
            "{svg}"
        );
        assert!(
            svg.contains("<text x=\"18\" y=\"14\" fill=\"#cd3131\" font-weight=\"bold\">cd</text>"),
            "{svg}"
        );
        assert!(
            svg.contains("<text x=\"0\" y=\"32\" fill=\"#010203\">x&lt;&amp;</text>"),
            "{svg}"
        );
        assert_eq!(svg.matches("<rect").count(), 2, "the page and one run");
    }

    #[test]
    fn modifiers_become_attributes_and_reversed_swaps_colours() {
        let mut b = buffer(4, 1);
        let style = Style::new()
            .fg(Color::Green)
            .add_modifier(Modifier::DIM | Modifier::ITALIC | Modifier::UNDERLINED);
        b.set_string(0, 0, "d", style);
        b.set_string(1, 0, "r", Style::new().fg(Color::Yellow).reversed());
        let svg = to_svg(&b);
        assert!(
            svg.contains("fill=\"#0dbc79\" font-style=\"italic\" fill-opacity=\"0.6\" text-decoration=\"underline\">d<"),
            "{svg}"
        );
        assert!(
            svg.contains("<rect x=\"9\" y=\"0\" width=\"9\" height=\"18\" fill=\"#e5e510\"/>"),
            "{svg}"
        );
        assert!(svg.contains("fill=\"#1e1e1e\">r<"), "{svg}");
    }

    #[test]
    fn non_ascii_symbols_are_placed_cell_by_cell() {
        let mut b = buffer(6, 1);
        b.set_string(0, 0, "✔ ok", Style::new().fg(Color::Green));
        let svg = to_svg(&b);
        assert!(
            svg.contains("<text x=\"0\" y=\"14\" fill=\"#0dbc79\">✔</text>"),
            "{svg}"
        );
        assert!(
            svg.contains("<text x=\"9\" y=\"14\" fill=\"#0dbc79\"> ok</text>"),
            "{svg}"
        );
    }

    #[test]
    fn every_colour_maps_to_the_fixed_palette() {
        assert_eq!(rgb(Color::Reset, DEFAULT_FG), DEFAULT_FG);
        assert_eq!(
            rgb(Color::Indexed(1), DEFAULT_FG),
            rgb(Color::Red, DEFAULT_FG)
        );
        assert_eq!(rgb(Color::Indexed(16), DEFAULT_FG), Rgb(0, 0, 0));
        assert_eq!(rgb(Color::Indexed(196), DEFAULT_FG), Rgb(255, 0, 0));
        assert_eq!(rgb(Color::Indexed(231), DEFAULT_FG), Rgb(255, 255, 255));
        assert_eq!(rgb(Color::Indexed(232), DEFAULT_FG), Rgb(8, 8, 8));
        assert_eq!(rgb(Color::Indexed(255), DEFAULT_FG), Rgb(238, 238, 238));
        assert_eq!(Rgb(255, 0, 10).to_string(), "#ff000a");
    }
}
