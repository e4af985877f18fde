//! The console's colours as semantic roles (ok, danger, muted, accent, selection, diff added/removed,
//! focused border). With `NO_COLOR` every role is colourless, and the screens stay readable because
//! meaning is always carried by a marker too (✔ ✘ – + -), never by colour alone.

use ratatui::style::{Color, Modifier, Style};

/// Semantic styles; widgets never pick colours themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    colour: bool,
}

impl Theme {
    /// Colours unless `NO_COLOR` is set (non-empty) or `TERM=dumb` — the subcommands' rule
    /// ([`crate::style::stdout_colour`]); the console only runs on a terminal.
    pub fn from_env() -> Theme {
        Theme::new(crate::style::stdout_colour())
    }

    pub const fn new(colour: bool) -> Theme {
        Theme { colour }
    }

    fn fg(self, colour: Color) -> Style {
        if self.colour {
            Style::new().fg(colour)
        } else {
            Style::new()
        }
    }

    pub fn ok(self) -> Style {
        self.fg(Color::Green)
    }

    pub fn danger(self) -> Style {
        self.fg(Color::Red)
    }

    pub fn warn(self) -> Style {
        self.fg(Color::Yellow)
    }

    pub fn muted(self) -> Style {
        if self.colour {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new().add_modifier(Modifier::DIM)
        }
    }

    pub fn accent(self) -> Style {
        self.fg(Color::Cyan)
    }

    pub fn label(self) -> Style {
        self.fg(Color::Blue)
    }

    pub fn heading(self) -> Style {
        self.accent().add_modifier(Modifier::BOLD)
    }

    /// The selected row: reversed without colour, so it is visible on any terminal.
    pub fn selection(self) -> Style {
        if self.colour {
            Style::new().bg(Color::Blue).fg(Color::White)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }

    pub fn border(self, focused: bool) -> Style {
        if focused {
            self.fg(Color::Green).add_modifier(Modifier::BOLD)
        } else {
            self.muted()
        }
    }

    pub fn diff_added(self) -> Style {
        self.ok()
    }

    pub fn diff_removed(self) -> Style {
        self.danger()
    }

    pub fn flagged(self) -> Style {
        self.danger().add_modifier(Modifier::BOLD)
    }
}
