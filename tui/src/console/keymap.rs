//! The console's one keymap: which key does which [`Action`], as data. [`Keymap::resolve`] is a pure
//! function key → action; the help screen and the bottom command bar are generated from the same
//! bindings ([`Keymap::help`], [`Keymap::bar`]), so they cannot drift. A TOML file rebinds actions
//! (`[bindings] approve = ["a", "ctrl-a"]`); `--read-only` removes the dangerous ones.

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;

/// Everything a key can do outside a dialog or the filter prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    Down,
    Up,
    PageDown,
    PageUp,
    Top,
    Bottom,
    NextPane,
    PrevPane,
    Tab(DetailTab),
    NextTab,
    PrevTab,
    Filter,
    Refresh,
    Approve,
    Revoke,
    Help,
    Back,
    Quit,
}

/// The detail tabs, in the order of their number keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum DetailTab {
    #[default]
    Overview,
    CloudConfig,
    AuditLog,
    Tpm,
    Secrets,
    History,
}

impl DetailTab {
    pub const ALL: [DetailTab; 6] = [
        DetailTab::Overview,
        DetailTab::CloudConfig,
        DetailTab::AuditLog,
        DetailTab::Tpm,
        DetailTab::Secrets,
        DetailTab::History,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Self::Overview => "Overview",
            Self::CloudConfig => "Cloud-config",
            Self::AuditLog => "Audit log",
            Self::Tpm => "TPM",
            Self::Secrets => "Secrets",
            Self::History => "History",
        }
    }

    pub fn index(self) -> usize {
        Self::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }

    /// The tab `step` places further, wrapping around.
    pub fn cycled(self, step: isize) -> DetailTab {
        let len = Self::ALL.len().cast_signed();
        let next = (self.index().cast_signed() + step).rem_euclid(len);
        Self::ALL[next.cast_unsigned()]
    }
}

impl Action {
    /// The name used in the keymap file and the help screen.
    pub fn name(self) -> &'static str {
        match self {
            Self::Down => "down",
            Self::Up => "up",
            Self::PageDown => "page-down",
            Self::PageUp => "page-up",
            Self::Top => "top",
            Self::Bottom => "bottom",
            Self::NextPane => "next-pane",
            Self::PrevPane => "previous-pane",
            Self::Tab(DetailTab::Overview) => "tab-overview",
            Self::Tab(DetailTab::CloudConfig) => "tab-cloud-config",
            Self::Tab(DetailTab::AuditLog) => "tab-audit-log",
            Self::Tab(DetailTab::Tpm) => "tab-tpm",
            Self::Tab(DetailTab::Secrets) => "tab-secrets",
            Self::Tab(DetailTab::History) => "tab-history",
            Self::NextTab => "next-tab",
            Self::PrevTab => "previous-tab",
            Self::Filter => "filter",
            Self::Refresh => "refresh",
            Self::Approve => "approve",
            Self::Revoke => "revoke",
            Self::Help => "help",
            Self::Back => "back",
            Self::Quit => "quit",
        }
    }

    /// What the help screen says the action does.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Down => "next VM / scroll down",
            Self::Up => "previous VM / scroll up",
            Self::PageDown => "page down",
            Self::PageUp => "page up",
            Self::Top => "first VM / top",
            Self::Bottom => "last VM / bottom",
            Self::NextPane => "focus the next pane",
            Self::PrevPane => "focus the other pane",
            Self::Tab(DetailTab::Overview) => "tab Overview",
            Self::Tab(DetailTab::CloudConfig) => "tab Cloud-config",
            Self::Tab(DetailTab::AuditLog) => "tab Audit log",
            Self::Tab(DetailTab::Tpm) => "tab TPM",
            Self::Tab(DetailTab::Secrets) => "tab Secrets",
            Self::Tab(DetailTab::History) => "tab History",
            Self::NextTab => "next detail tab",
            Self::PrevTab => "previous detail tab",
            Self::Filter => "filter by name or check",
            Self::Refresh => "refresh now",
            Self::Approve => "approve the selected VM",
            Self::Revoke => "revoke the selected VM",
            Self::Help => "this help",
            Self::Back => "close, clear filter, back",
            Self::Quit => "quit",
        }
    }

    /// Actions `--read-only` removes from the keymap (and so from the help and the command bar).
    pub fn is_dangerous(self) -> bool {
        matches!(self, Self::Approve | Self::Revoke)
    }

    /// Every action, in help order.
    pub fn all() -> Vec<Action> {
        let mut all = vec![
            Self::Down,
            Self::Up,
            Self::PageDown,
            Self::PageUp,
            Self::Top,
            Self::Bottom,
            Self::NextPane,
            Self::PrevPane,
        ];
        all.extend(DetailTab::ALL.map(Self::Tab));
        all.extend([
            Self::NextTab,
            Self::PrevTab,
            Self::Filter,
            Self::Refresh,
            Self::Approve,
            Self::Revoke,
            Self::Help,
            Self::Back,
            Self::Quit,
        ]);
        all
    }

    fn from_name(name: &str) -> Option<Action> {
        Self::all().into_iter().find(|a| a.name() == name)
    }
}

/// One key with its modifiers (Shift is part of the character for letters: `G`, not `shift-g`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

impl Key {
    pub const fn plain(code: KeyCode) -> Key {
        Key { code, ctrl: false }
    }

    pub const fn char(c: char) -> Key {
        Key::plain(KeyCode::Char(c))
    }

    pub const fn ctrl(c: char) -> Key {
        Key {
            code: KeyCode::Char(c),
            ctrl: true,
        }
    }

    /// The key a terminal event stands for.
    pub fn from_event(event: &KeyEvent) -> Key {
        let code = match event.code {
            KeyCode::Tab if event.modifiers.contains(KeyModifiers::SHIFT) => KeyCode::BackTab,
            other => other,
        };
        Key {
            code,
            ctrl: event.modifiers.contains(KeyModifiers::CONTROL),
        }
    }

    /// Parses `a`, `G`, `ctrl-d`, `tab`, `shift-tab`, `enter`, `esc`, `up`, `pgdn`, `f1`, `space`, ...
    pub fn parse(text: &str) -> Result<Key, KeymapError> {
        let bad = || KeymapError::BadKey(text.to_owned());
        let (ctrl, rest) = match text.strip_prefix("ctrl-") {
            Some(rest) if !rest.is_empty() => (true, rest),
            _ => (false, text),
        };
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCode::Char(c),
            _ => match rest.to_ascii_lowercase().as_str() {
                "tab" => KeyCode::Tab,
                "shift-tab" | "backtab" => KeyCode::BackTab,
                "enter" => KeyCode::Enter,
                "esc" => KeyCode::Esc,
                "space" => KeyCode::Char(' '),
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                "pgup" | "pageup" => KeyCode::PageUp,
                "pgdn" | "pagedown" => KeyCode::PageDown,
                f if f.starts_with('f') => KeyCode::F(f[1..].parse().map_err(|_| bad())?),
                _ => return Err(bad()),
            },
        };
        Ok(Key { code, ctrl })
    }

    /// How the help screen and the command bar write the key.
    pub fn label(self) -> String {
        let name = match self.code {
            KeyCode::Char(' ') => "Space".to_owned(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Tab => "Tab".to_owned(),
            KeyCode::BackTab => "S-Tab".to_owned(),
            KeyCode::Enter => "Enter".to_owned(),
            KeyCode::Esc => "Esc".to_owned(),
            KeyCode::Up => "↑".to_owned(),
            KeyCode::Down => "↓".to_owned(),
            KeyCode::Left => "←".to_owned(),
            KeyCode::Right => "→".to_owned(),
            KeyCode::Home => "Home".to_owned(),
            KeyCode::End => "End".to_owned(),
            KeyCode::PageUp => "PgUp".to_owned(),
            KeyCode::PageDown => "PgDn".to_owned(),
            KeyCode::F(n) => format!("F{n}"),
            other => format!("{other:?}"),
        };
        if self.ctrl { format!("C-{name}") } else { name }
    }
}

/// Why a keymap file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeymapError {
    #[error("keymap file is not valid TOML: {0}")]
    Toml(String),
    #[error("unknown action {0:?} in the keymap file (see `?` in the console for the names)")]
    UnknownAction(String),
    #[error(
        "unknown key {0:?} in the keymap file (e.g. a, G, ctrl-d, tab, shift-tab, enter, pgdn)"
    )]
    BadKey(String),
    #[error("key {key:?} is bound to both {first} and {second}")]
    Conflict {
        key: String,
        first: &'static str,
        second: &'static str,
    },
}

/// The keymap file: `[bindings]` maps an action name to its keys (replacing the default keys).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeymapFile {
    #[serde(default)]
    bindings: BTreeMap<String, Vec<String>>,
}

/// Action → keys, in help order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    bindings: Vec<(Action, Vec<Key>)>,
}

impl Default for Keymap {
    fn default() -> Self {
        use KeyCode as K;
        let keys = |action: Action| -> Vec<Key> {
            match action {
                Action::Down => vec![Key::char('j'), Key::plain(K::Down)],
                Action::Up => vec![Key::char('k'), Key::plain(K::Up)],
                Action::PageDown => vec![Key::ctrl('d'), Key::plain(K::PageDown)],
                Action::PageUp => vec![Key::ctrl('u'), Key::plain(K::PageUp)],
                Action::Top => vec![Key::char('g'), Key::plain(K::Home)],
                Action::Bottom => vec![Key::char('G'), Key::plain(K::End)],
                Action::NextPane => vec![Key::plain(K::Tab), Key::char('l'), Key::plain(K::Right)],
                Action::PrevPane => {
                    vec![Key::plain(K::BackTab), Key::char('h'), Key::plain(K::Left)]
                }
                Action::Tab(tab) => {
                    let digit = u32::try_from(tab.index() + 1).unwrap_or(1);
                    vec![Key::char(char::from_digit(digit, 10).unwrap_or('1'))]
                }
                Action::NextTab => vec![Key::char(']')],
                Action::PrevTab => vec![Key::char('[')],
                Action::Filter => vec![Key::char('/')],
                Action::Refresh => vec![Key::char('r')],
                Action::Approve => vec![Key::char('a')],
                Action::Revoke => vec![Key::char('x')],
                Action::Help => vec![Key::char('?'), Key::plain(K::F(1))],
                Action::Back => vec![Key::plain(K::Esc)],
                Action::Quit => vec![Key::char('q'), Key::ctrl('c')],
            }
        };
        Keymap {
            bindings: Action::all().into_iter().map(|a| (a, keys(a))).collect(),
        }
    }
}

impl Keymap {
    /// The defaults with the file's bindings applied (each named action gets exactly the given keys).
    pub fn from_toml(text: &str) -> Result<Keymap, KeymapError> {
        let file: KeymapFile =
            toml::from_str(text).map_err(|e| KeymapError::Toml(e.message().to_owned()))?;
        let mut keymap = Keymap::default();
        let mut from_file: BTreeMap<String, &'static str> = BTreeMap::new();
        for (name, keys) in file.bindings {
            let action =
                Action::from_name(&name).ok_or_else(|| KeymapError::UnknownAction(name.clone()))?;
            let keys = keys
                .iter()
                .map(|k| Key::parse(k))
                .collect::<Result<Vec<_>, _>>()?;
            for key in &keys {
                if let Some(first) = from_file.insert(key.label(), action.name()) {
                    return Err(KeymapError::Conflict {
                        key: key.label(),
                        first,
                        second: action.name(),
                    });
                }
            }
            for (bound, existing) in &mut keymap.bindings {
                if *bound == action {
                    existing.clone_from(&keys);
                } else {
                    existing.retain(|k| !keys.contains(k));
                }
            }
        }
        keymap.check_conflicts()?;
        Ok(keymap)
    }

    fn check_conflicts(&self) -> Result<(), KeymapError> {
        let mut seen: BTreeMap<String, Action> = BTreeMap::new();
        for (action, keys) in &self.bindings {
            for key in keys {
                if let Some(first) = seen.insert(key.label(), *action) {
                    return Err(KeymapError::Conflict {
                        key: key.label(),
                        first: first.name(),
                        second: action.name(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The keymap without the dangerous actions (`--read-only`).
    pub fn read_only(mut self) -> Keymap {
        self.bindings.retain(|(action, _)| !action.is_dangerous());
        self
    }

    /// The action `key` stands for, if any. Pure: the same key always gives the same action.
    pub fn resolve(&self, key: &KeyEvent) -> Option<Action> {
        let key = Key::from_event(key);
        self.bindings
            .iter()
            .find(|(_, keys)| keys.contains(&key))
            .map(|(action, _)| *action)
    }

    /// The keys of `action` as the help writes them, e.g. `j/↓`.
    pub fn keys_of(&self, action: Action) -> Option<String> {
        let (_, keys) = self.bindings.iter().find(|(a, _)| *a == action)?;
        if keys.is_empty() {
            return None;
        }
        Some(keys.iter().map(|k| k.label()).collect::<Vec<_>>().join("/"))
    }

    /// Every bound action with its keys and description, in help order.
    pub fn help(&self) -> Vec<(String, &'static str)> {
        self.bindings
            .iter()
            .filter_map(|(action, _)| Some((self.keys_of(*action)?, action.describe())))
            .collect()
    }

    /// The short command bar: the actions an operator needs most, with their first key.
    pub fn bar(&self) -> Vec<(String, &'static str)> {
        let wanted = [
            (Action::Help, "help"),
            (Action::Filter, "filter"),
            (Action::Tab(DetailTab::Overview), "tabs"),
            (Action::NextPane, "pane"),
            (Action::Refresh, "refresh"),
            (Action::Approve, "approve"),
            (Action::Revoke, "revoke"),
            (Action::Quit, "quit"),
        ];
        wanted
            .into_iter()
            .filter_map(|(action, label)| {
                let (_, keys) = self.bindings.iter().find(|(a, _)| *a == action)?;
                let first = keys.first()?.label();
                let key = if matches!(action, Action::Tab(_)) {
                    format!("{first}-6")
                } else {
                    first
                };
                Some((key, label))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn the_default_keymap_has_vim_keys_and_arrows() {
        let keymap = Keymap::default();
        let none = KeyModifiers::NONE;
        for (code, mods, action) in [
            (KeyCode::Char('j'), none, Action::Down),
            (KeyCode::Down, none, Action::Down),
            (KeyCode::Char('k'), none, Action::Up),
            (KeyCode::Up, none, Action::Up),
            (KeyCode::Char('d'), KeyModifiers::CONTROL, Action::PageDown),
            (KeyCode::Char('G'), KeyModifiers::SHIFT, Action::Bottom),
            (KeyCode::Tab, none, Action::NextPane),
            (KeyCode::BackTab, KeyModifiers::SHIFT, Action::PrevPane),
            (KeyCode::Tab, KeyModifiers::SHIFT, Action::PrevPane),
            (KeyCode::Char('3'), none, Action::Tab(DetailTab::AuditLog)),
            (KeyCode::Char('6'), none, Action::Tab(DetailTab::History)),
            (KeyCode::Char('/'), none, Action::Filter),
            (KeyCode::Char('r'), none, Action::Refresh),
            (KeyCode::Char('a'), none, Action::Approve),
            (KeyCode::Char('x'), none, Action::Revoke),
            (KeyCode::Char('?'), none, Action::Help),
            (KeyCode::Char('q'), none, Action::Quit),
            (KeyCode::Char('c'), KeyModifiers::CONTROL, Action::Quit),
            (KeyCode::Esc, none, Action::Back),
        ] {
            assert_eq!(keymap.resolve(&press(code, mods)), Some(action), "{code:?}");
        }
        assert_eq!(keymap.resolve(&press(KeyCode::Char('z'), none)), None);
        // Ctrl-d is half a page, never quit or delete; plain d does nothing.
        assert_eq!(keymap.resolve(&press(KeyCode::Char('d'), none)), None);
    }

    #[test]
    fn a_keymap_file_rebinds_an_action_and_frees_the_key_elsewhere() {
        let keymap = Keymap::from_toml(
            "[bindings]\napprove = [\"A\", \"ctrl-a\"]\nhelp = [\"f1\"]\ntop = [\"a\"]\n",
        )
        .unwrap();
        let none = KeyModifiers::NONE;
        assert_eq!(
            keymap.resolve(&press(KeyCode::Char('A'), KeyModifiers::SHIFT)),
            Some(Action::Approve)
        );
        assert_eq!(
            keymap.resolve(&press(KeyCode::Char('a'), KeyModifiers::CONTROL)),
            Some(Action::Approve)
        );
        assert_eq!(
            keymap.resolve(&press(KeyCode::Char('a'), none)),
            Some(Action::Top)
        );
        assert_eq!(keymap.resolve(&press(KeyCode::Char('?'), none)), None);
        assert_eq!(keymap.keys_of(Action::Help).as_deref(), Some("F1"));
        // The help is generated from the same bindings.
        assert!(
            keymap
                .help()
                .contains(&("A/C-a".to_owned(), "approve the selected VM"))
        );
    }

    #[test]
    fn bad_keymap_files_are_refused_by_kind() {
        assert!(matches!(
            Keymap::from_toml("[bindings]\nlaunch = [\"l\"]"),
            Err(KeymapError::UnknownAction(name)) if name == "launch"
        ));
        assert!(matches!(
            Keymap::from_toml("[bindings]\nquit = [\"hyper-q\"]"),
            Err(KeymapError::BadKey(_))
        ));
        assert!(matches!(
            Keymap::from_toml("[bindings]\nquit = [\"z\"]\nrefresh = [\"z\"]"),
            Err(KeymapError::Conflict { .. })
        ));
        assert!(matches!(
            Keymap::from_toml("bindings = 3"),
            Err(KeymapError::Toml(_))
        ));
    }

    #[test]
    fn read_only_removes_approve_and_revoke_from_keys_help_and_bar() {
        let keymap = Keymap::default().read_only();
        let none = KeyModifiers::NONE;
        assert_eq!(keymap.resolve(&press(KeyCode::Char('a'), none)), None);
        assert_eq!(keymap.resolve(&press(KeyCode::Char('x'), none)), None);
        assert!(
            !keymap
                .help()
                .iter()
                .any(|(_, what)| what.contains("approve"))
        );
        assert!(!keymap.bar().iter().any(|(_, what)| *what == "revoke"));
        assert!(
            Keymap::default()
                .bar()
                .iter()
                .any(|(_, what)| *what == "revoke")
        );
    }

    #[test]
    fn tabs_cycle_both_ways() {
        assert_eq!(DetailTab::History.cycled(1), DetailTab::Overview);
        assert_eq!(DetailTab::Overview.cycled(-1), DetailTab::History);
    }
}
