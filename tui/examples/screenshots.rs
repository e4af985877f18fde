//! `make screenshots`: renders screens to PNG files in `screenshots/` with their real colours — each a
//! ratatui buffer written as SVG cells (`tokendist_tui::screenshot`) and rasterized with resvg in
//! DejaVu Sans Mono (`tokendist_testkit::raster`). For now it renders one demonstration screen; the
//! console's screens on the demo scenario take its place when the console lands.

use std::error::Error;
use std::path::{Path, PathBuf};

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget};
use tokendist_testkit::raster::write_png;
use tokendist_tui::screenshot::to_svg;

/// Writes `buffer` as a PNG file at `path`.
fn render_png(buffer: &Buffer, path: &Path) {
    write_png(&to_svg(buffer), path);
}

/// A few coloured paragraphs: check marks, a diff, every style the SVG writer knows.
fn demonstration() -> Buffer {
    let area = Rect::new(0, 0, 80, 24);
    let mut buffer = Buffer::empty(area);
    let [top, bottom] = Layout::vertical([Constraint::Length(9), Constraint::Fill(1)]).areas(area);
    let checks = Paragraph::new(vec![
        Line::from(vec!["✔ ".green(), "instance.shielded_vm".into()]),
        Line::from(vec![
            "✘ ".red().bold(),
            "cloudconfig.image_pinned   ".into(),
            "not pinned by @sha256 digest".red(),
        ]),
        Line::from(vec!["– ".dim(), "approval.signature".dim()]),
        Line::from(vec![
            Span::styled(" a ", Style::new().reversed()),
            " approve  ".into(),
            Span::styled(" x ", Style::new().reversed()),
            " revoke".into(),
        ]),
        Line::from(vec![
            "italic".italic(),
            " ".into(),
            "underlined".underlined(),
            " ".into(),
            "crossed".crossed_out(),
        ]),
        Line::from(vec![
            "indexed 208".fg(Color::Indexed(208)),
            "  ".into(),
            "rgb".fg(Color::Rgb(0x87, 0xaf, 0xff)),
        ]),
    ])
    .block(Block::bordered().title(" tokenclient-tampered · Overview "));
    checks.render(top, &mut buffer);
    let diff = Paragraph::new(vec![
        Line::from("  33   ExecStartPre=/usr/bin/docker-credential-gcr configure-docker"),
        Line::from("- 34   ExecStart=/usr/bin/docker run … {{image_repository}}@{{image_digest}}")
            .fg(Color::Red),
        Line::from("+ 34   ExecStart=/usr/bin/docker run … tokenclient:latest").fg(Color::Green),
        Line::from("       ✘ cloudconfig.image_pinned  ✘ cloudconfig.image_trusted")
            .fg(Color::Red)
            .add_modifier(Modifier::BOLD),
    ])
    .block(Block::bordered().title(" Cloud-config ").bg(Color::Black));
    diff.render(bottom, &mut buffer);
    buffer
}

fn main() -> Result<(), Box<dyn Error>> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../screenshots"));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("demonstration.png");
    render_png(&demonstration(), &path);
    println!("wrote {}", path.display());
    Ok(())
}
