//! Snapshots of every screen and dialog (ratatui's TestBackend, insta) at 80×24 and 160×48, in its
//! empty, loading, populated, filtered, error and read-only states, plus the colour checks that text
//! snapshots cannot see (red ✘ with colours, none with NO_COLOR).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

use super::draw;
use crate::console::event::Event;
use crate::console::failure::{Failure, FailureKind};
use crate::console::fixtures::{at, demo_list, detail, many, plan};
use crate::console::keymap::Keymap;
use crate::console::model::{Model, Tone};
use crate::console::theme::Theme;
use crate::console::update::update;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

fn render(model: &Model, width: u16, height: u16, theme: Theme) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| draw(frame, model, theme)).unwrap();
    terminal
}

fn press(model: &mut Model, keys: &str) {
    for c in keys.chars() {
        update(
            model,
            Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
        );
    }
}

fn key(model: &mut Model, code: KeyCode) {
    update(model, Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn base(read_only: bool, size: (u16, u16)) -> Model {
    let mut model = Model::new(Keymap::default(), read_only, at(4));
    model.source = "sqlite:///var/lib/tokendist/tokendist.db".into();
    update(&mut model, Event::Resize(size.0, size.1));
    model
}

/// The demo list with the tampered VM's detail loaded.
fn populated(read_only: bool, size: (u16, u16)) -> Model {
    let mut model = base(read_only, size);
    update(&mut model, Event::ListLoaded(Ok(demo_list())));
    update(
        &mut model,
        Event::DetailLoaded {
            instance_id: "1001".into(),
            result: Ok(Box::new(detail("tokenclient-tampered", "1001", true))),
        },
    );
    model
}

/// The approved web-1 selected, its detail loaded.
fn approved(size: (u16, u16)) -> Model {
    let mut model = populated(false, size);
    press(&mut model, "jj");
    update(
        &mut model,
        Event::DetailLoaded {
            instance_id: "1003".into(),
            result: Ok(Box::new(detail("web-1", "1003", false))),
        },
    );
    model
}

fn approve_dialog(size: (u16, u16), tampered: bool) -> Model {
    let mut model = populated(false, size);
    model.defaults.secrets_file = Some("secrets.json".into());
    press(&mut model, "j");
    press(&mut model, "a");
    update(
        &mut model,
        Event::SecretsFilesFound(vec!["secrets.json".into(), "staging.json".into()]),
    );
    let generation = model.plan_generation;
    update(
        &mut model,
        Event::ApprovalPlanned {
            generation,
            result: Ok(Box::new(plan(tampered))),
        },
    );
    model
}

/// web-1's History after the server's audit watch revoked it for a setMetadata entry.
fn watch_revoked(size: (u16, u16)) -> Model {
    use crate::operations::model::{HistoryEntry, HistoryKind, RevocationCause};
    let mut model = approved(size);
    let mut revoked = detail("web-1", "1003", false);
    revoked.history.insert(
        0,
        HistoryEntry {
            time: at(4),
            actor: "server:audit-watch".into(),
            what: HistoryKind::Revoked {
                revision: 3,
                reason: "a denied method after the approval".into(),
                cause: Some(RevocationCause {
                    method: "v1.compute.instances.setMetadata".into(),
                    principal: Some("bob@bob-project.example".into()),
                    time: at(3),
                }),
            },
        },
    );
    update(
        &mut model,
        Event::DetailLoaded {
            instance_id: "1003".into(),
            result: Ok(Box::new(revoked)),
        },
    );
    press(&mut model, "6");
    model
}

/// Every named screen state, built for one size.
fn screens(size: (u16, u16)) -> Vec<(&'static str, Model)> {
    let mut screens = Vec::new();
    screens.push(("loading", base(false, size)));
    let mut empty = base(false, size);
    update(
        &mut empty,
        Event::ListLoaded(Ok(crate::operations::model::VmList {
            rows: Vec::new(),
            loaded_at: Some(at(4)),
        })),
    );
    screens.push(("empty", empty));
    let mut loading_detail = base(false, size);
    update(&mut loading_detail, Event::ListLoaded(Ok(demo_list())));
    screens.push(("detail_loading", loading_detail));
    screens.push(("overview_tampered", populated(false, size)));
    screens.push(("overview_approved", approved(size)));
    for (name, keys) in [
        ("cloud_config_tampered", "2"),
        ("audit_log_tampered", "3"),
        ("tpm_tampered", "4"),
        ("history_tampered", "6"),
    ] {
        let mut model = populated(false, size);
        press(&mut model, keys);
        screens.push((name, model));
    }
    for (name, keys) in [
        ("secrets_approved", "5"),
        ("history_approved", "6"),
        ("tpm_approved", "4"),
    ] {
        let mut model = approved(size);
        press(&mut model, keys);
        screens.push((name, model));
    }
    screens.push(("history_watch_revoked", watch_revoked(size)));
    let mut filtering = populated(false, size);
    press(&mut filtering, "/ssh");
    screens.push(("filter_editing", filtering));
    let mut filtered = populated(false, size);
    press(&mut filtered, "/web");
    key(&mut filtered, KeyCode::Enter);
    screens.push(("filtered", filtered));
    let mut no_match = populated(false, size);
    press(&mut no_match, "/zzz");
    screens.push(("filtered_no_match", no_match));
    let store_down = |mut model: Model, detail: &str| {
        let failure = Failure::new(FailureKind::StoreDown, detail);
        update(&mut model, Event::ListLoaded(Err(failure)));
        model
    };
    screens.push((
        "list_error",
        store_down(populated(false, size), "database is locked"),
    ));
    screens.push((
        "store_down_at_start",
        store_down(base(false, size), "unable to open database file"),
    ));
    let mut detail_error = base(false, size);
    update(&mut detail_error, Event::ListLoaded(Ok(demo_list())));
    update(
        &mut detail_error,
        Event::DetailLoaded {
            instance_id: "1001".into(),
            result: Err(Failure::new(
                FailureKind::GoogleDenied,
                "compute.instances.get permission denied: HTTP 403",
            )),
        },
    );
    screens.push(("detail_google_403", detail_error));
    screens.push(("read_only", populated(true, size)));
    let mut help = populated(false, size);
    press(&mut help, "?");
    screens.push(("help", help));
    let mut help_read_only = populated(true, size);
    press(&mut help_read_only, "?");
    screens.push(("help_read_only", help_read_only));
    let mut planning = populated(false, size);
    planning.defaults.secrets_file = Some("secrets.json".into());
    press(&mut planning, "ja");
    screens.push(("approve_planning", planning));
    let mut no_file = populated(false, size);
    press(&mut no_file, "ja");
    screens.push(("approve_needs_secrets_file", no_file));
    screens.push(("approve_ready", approve_dialog(size, false)));
    let mut refused = approve_dialog(size, true);
    press(&mut refused, "y");
    screens.push(("approve_refused_failed_checks", refused));
    let mut plan_failed = populated(false, size);
    plan_failed.defaults.secrets_file = Some("secrets.json".into());
    press(&mut plan_failed, "ja");
    let generation = plan_failed.plan_generation;
    update(
        &mut plan_failed,
        Event::ApprovalPlanned {
            generation,
            result: Err(Failure::new(
                FailureKind::KeyFile,
                "cannot read alice.key: not found",
            )),
        },
    );
    screens.push(("approve_plan_failed", plan_failed));
    let mut approving = approve_dialog(size, false);
    press(&mut approving, "y");
    screens.push(("approving_spinner", approving));
    let mut approved_outcome = approve_dialog(size, false);
    press(&mut approved_outcome, "y");
    update(
        &mut approved_outcome,
        Event::Approved {
            instance_id: "1002".into(),
            result: Ok("Approved tokenclient-good (id 1002): revision 1, 2 secret(s) sealed to the VM's vTPM".into()),
        },
    );
    screens.push(("approved_outcome", approved_outcome));
    let mut revoke = approved(size);
    press(&mut revoke, "xweb-1");
    key(&mut revoke, KeyCode::Tab);
    press(&mut revoke, "decommissioned");
    screens.push(("revoke_dialog", revoke));
    let mut revoke_wrong = approved(size);
    press(&mut revoke_wrong, "xweb");
    key(&mut revoke_wrong, KeyCode::Enter);
    screens.push(("revoke_wrong_name", revoke_wrong));
    let mut thousands = base(false, size);
    update(&mut thousands, Event::ListLoaded(Ok(many(10_000))));
    key(&mut thousands, KeyCode::PageDown);
    key(&mut thousands, KeyCode::PageDown);
    screens.push(("ten_thousand_vms", thousands));
    screens
}

#[test]
fn every_screen_at_80x24_and_160x48() {
    for size in SIZES {
        for (name, model) in screens(size) {
            let terminal = render(&model, size.0, size.1, Theme::new(false));
            insta::assert_snapshot!(format!("{name}_{}x{}", size.0, size.1), terminal.backend());
        }
    }
}

#[test]
fn a_terminal_smaller_than_80x24_says_so() {
    let model = populated(false, (79, 24));
    let terminal = render(&model, 79, 24, Theme::new(true));
    insta::assert_snapshot!("too_small_79x24", terminal.backend());
    let text = render(&model, 80, 23, Theme::new(true))
        .backend()
        .to_string();
    assert!(text.contains("Terminal too small"));
}

/// The cell where `needle` starts on the screen.
fn find(terminal: &Terminal<TestBackend>, needle: &str) -> (u16, u16) {
    let buffer = terminal.backend().buffer();
    let area = buffer.area;
    for y in 0..area.height {
        let line: String = (0..area.width).map(|x| buffer[(x, y)].symbol()).collect();
        if let Some(at) = line.find(needle) {
            let column = line[..at].chars().count();
            return (u16::try_from(column).unwrap(), y);
        }
    }
    panic!("{needle:?} not on screen:\n{}", terminal.backend());
}

#[test]
fn failed_checks_are_red_with_colours_and_plain_but_marked_with_no_color() {
    let model = populated(false, (160, 48));
    let colour = render(&model, 160, 48, Theme::new(true));
    let (x, y) = find(&colour, "✘ instance.user_data");
    assert_eq!(colour.backend().buffer()[(x, y)].fg, Color::Red);
    let (x, y) = find(&colour, "✔ approval.signature");
    assert_eq!(colour.backend().buffer()[(x, y)].fg, Color::Green);
    let plain = render(&model, 160, 48, Theme::new(false));
    let (x, y) = find(&plain, "✘ instance.user_data");
    assert_eq!(plain.backend().buffer()[(x, y)].fg, Color::Reset);
}

#[test]
fn diff_lines_are_coloured_and_keep_their_markers() {
    let mut model = populated(false, (160, 48));
    press(&mut model, "2");
    let colour = render(&model, 160, 48, Theme::new(true));
    let (x, y) = find(&colour, "+- iptables -A INPUT");
    assert_eq!(colour.backend().buffer()[(x, y)].fg, Color::Green);
    let (x, y) = find(&colour, "-- systemctl start app");
    assert_eq!(colour.backend().buffer()[(x, y)].fg, Color::Red);
}

#[test]
fn the_status_line_colours_follow_the_tone() {
    let mut model = populated(false, (80, 24));
    model.set_status(Tone::Error, "store down");
    let colour = render(&model, 80, 24, Theme::new(true));
    let (x, y) = find(&colour, "store down");
    assert_eq!(colour.backend().buffer()[(x, y)].fg, Color::Red);
}

/// Bob's text with escape sequences, carriage returns and bidi overrides, everywhere it can appear:
/// the VM's name, its cloud-config lines, its audit principal, the status line. Every tab renders
/// without one control or bidi-override character reaching the terminal.
#[test]
fn hostile_text_never_reaches_the_terminal_as_control_characters() {
    let hostile = "evil\x1b[2J\r\u{9b}31m\u{202e}txt.exe\x07";
    let mut list = demo_list();
    list.rows[0].name = hostile.into();
    let mut detail = detail(hostile, "1001", true);
    if let Some(diff) = detail.cloud_config.against_template.as_mut() {
        for line in &mut diff.lines {
            line.text.push_str(hostile);
        }
    }
    if let Ok(timeline) = detail.review.timeline.as_mut() {
        for event in timeline {
            event.principal = Some(hostile.into());
            event.request_summary = hostile.into();
        }
    }
    let mut model = base(false, (160, 48));
    update(&mut model, Event::ListLoaded(Ok(list)));
    update(
        &mut model,
        Event::DetailLoaded {
            instance_id: "1001".into(),
            result: Ok(Box::new(detail)),
        },
    );
    model.set_status(Tone::Error, hostile);
    for tab in ["1", "2", "3", "4", "5", "6"] {
        press(&mut model, tab);
        let terminal = render(&model, 160, 48, Theme::new(true));
        for cell in &terminal.backend().buffer().content {
            assert!(
                !tokendist_core::terminal_text::needs_escape(cell.symbol()),
                "tab {tab}: {:?} reached the terminal",
                cell.symbol()
            );
        }
    }
}

/// Behind the views' own escaping: a control or bidi-override symbol put straight into a cell is
/// drawn as U+FFFD.
#[test]
fn the_last_pass_replaces_any_control_symbol_left_in_a_cell() {
    let mut buffer = ratatui::buffer::Buffer::empty(ratatui::layout::Rect::new(0, 0, 3, 1));
    buffer[(0, 0)].set_symbol("\u{202e}");
    buffer[(1, 0)].set_symbol("\x1b");
    buffer[(2, 0)].set_symbol("a");
    super::scrub(&mut buffer);
    let symbols: Vec<&str> = buffer.content.iter().map(|c| c.symbol()).collect();
    assert_eq!(symbols, ["\u{fffd}", "\u{fffd}", "a"]);
}
