//! The console's view: draws a [`Model`] into a ratatui frame and never changes it. The screen is the
//! header, the VM list (left), the detail tabs (right), the command bar and the status line; dialogs
//! and the help float above. Below 80×24 only a "terminal too small" message is drawn.
//!
//! - [`list`]: the grouped, virtualized VM list; [`detail`]: the tab bar and the visible window of
//!   the current tab, whose lines come from [`overview`], [`cloud_config`], [`audit`], [`tpm`],
//!   [`secrets`] and [`history`];
//! - [`dialogs`]: approve and revoke; [`help`]: the keymap's help; [`bars`]: header, command bar,
//!   status line; [`text`]: small formatting helpers shared by them.

pub mod audit;
pub mod bars;
pub mod cloud_config;
pub mod detail;
pub mod dialogs;
pub mod help;
pub mod history;
pub mod list;
pub mod overview;
pub mod secrets;
#[cfg(test)]
mod tests;
pub mod text;
pub mod tpm;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph, Wrap};
use tokendist_core::terminal_text::needs_escape;

use super::layout::{Areas, MIN_SIZE};
use super::model::{Dialog, Model};
use super::theme::Theme;

pub use detail::line_count as detail_line_count;

/// Draws the whole screen.
pub fn draw(frame: &mut Frame<'_>, model: &Model, theme: Theme) {
    draw_screen(frame, model, theme);
    scrub(frame.buffer_mut());
}

/// The last line of defence behind each view's escaping: no control or bidi-override character
/// (from a VM name, a cloud-config line, an audit principal, ...) reaches the terminal; such a
/// cell is drawn as U+FFFD.
fn scrub(buffer: &mut Buffer) {
    for cell in &mut buffer.content {
        if needs_escape(cell.symbol()) {
            cell.set_symbol("\u{fffd}");
        }
    }
}

fn draw_screen(frame: &mut Frame<'_>, model: &Model, theme: Theme) {
    let area = frame.area();
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        too_small(frame, area, theme);
        return;
    }
    let areas = Areas::new(area.width, area.height);
    bars::header(frame, areas.header, model, theme);
    list::draw(frame, areas.list, model, theme);
    detail::draw(frame, areas.detail, model, theme);
    bars::command_bar(frame, areas.bar, model, theme);
    bars::status_line(frame, areas.status, model, theme);
    match &model.dialog {
        Some(Dialog::Approve(dialog)) => dialogs::approve(frame, area, dialog, model, theme),
        Some(Dialog::Revoke(dialog)) => dialogs::revoke(frame, area, dialog, theme),
        None => {}
    }
    if model.help {
        help::draw(frame, area, model, theme);
    }
}

fn too_small(frame: &mut Frame<'_>, area: Rect, theme: Theme) {
    frame.render_widget(Clear, area);
    let lines = vec![
        Line::styled("Terminal too small", theme.danger()),
        Line::from(format!(
            "{}×{}: the console needs at least {}×{}",
            area.width, area.height, MIN_SIZE.0, MIN_SIZE.1
        )),
        Line::styled("enlarge the window, or press q to quit", theme.muted()),
    ];
    let top = area.height.saturating_sub(3) / 2;
    let inner = Rect::new(area.x, area.y + top, area.width, area.height - top);
    frame.render_widget(
        Paragraph::new(lines)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        inner,
    );
}
