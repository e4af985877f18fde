//! Unit tests of the update function: every key and background event, without a terminal.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

use super::update;
use crate::console::command::Command;
use crate::console::event::Event;
use crate::console::failure::{Failure, FailureKind};
use crate::console::fixtures::{at, demo_list, detail, many, plan};
use crate::console::keymap::{DetailTab, Keymap};
use crate::console::layout::{Areas, inner};
use crate::console::model::{
    ApproveField, Dialog, Model, Pane, PlanState, RevokeField, Tone, VmTarget,
};
use crate::operations::model::VmState;

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ch(c: char) -> Event {
    key(KeyCode::Char(c))
}

fn typed(model: &mut Model, text: &str) -> Vec<Command> {
    text.chars().flat_map(|c| update(model, ch(c))).collect()
}

fn model() -> Model {
    Model::new(Keymap::default(), false, at(4))
}

/// A model with the demo list loaded (the tampered VM selected first).
fn loaded() -> Model {
    let mut model = model();
    update(&mut model, Event::ListLoaded(Ok(demo_list())));
    model
}

/// The detail of `name` (id `id`) arrives from the background.
fn arrive(model: &mut Model, name: &str, id: &str, tampered: bool) {
    update(
        model,
        Event::DetailLoaded {
            instance_id: id.into(),
            result: Ok(Box::new(detail(name, id, tampered))),
        },
    );
}

fn selected(model: &Model) -> Option<&str> {
    model.list.selected.as_deref()
}

/// Asserts the commands load the detail of `instance_id`.
fn assert_loads(commands: &[Command], instance_id: &str) {
    assert_eq!(
        load_target(commands).map(|t| t.instance_id.as_str()),
        Some(instance_id),
        "{commands:?}"
    );
}

fn load_target(commands: &[Command]) -> Option<&VmTarget> {
    commands.iter().find_map(|c| match c {
        Command::LoadDetail(target) => Some(target),
        _ => None,
    })
}

#[test]
fn the_first_tick_refreshes_and_later_ticks_wait_for_the_period() {
    let mut model = model();
    assert_eq!(
        update(&mut model, Event::Tick(at(4))),
        [Command::RefreshList]
    );
    assert!(model.list.loading);
    // A refresh under way is not asked for twice.
    assert!(update(&mut model, Event::Tick(at(10))).is_empty());
    update(&mut model, Event::ListLoaded(Ok(demo_list())));
    assert!(!model.list.loading);
    let soon = at(4) + chrono::Duration::seconds(4);
    assert!(update(&mut model, Event::Tick(soon)).is_empty());
    let later = at(4) + chrono::Duration::seconds(5);
    assert_eq!(
        update(&mut model, Event::Tick(later)),
        [Command::RefreshList]
    );
    assert_eq!(model.now, later);
}

#[test]
fn the_periodic_refresh_rereads_the_shown_history_and_only_the_shown_vm_takes_it() {
    let mut model = loaded();
    arrive(&mut model, "tokenclient-tampered", "1001", true);
    let later = at(4) + chrono::Duration::seconds(10);
    let commands = update(&mut model, Event::Tick(later));
    assert_eq!(
        commands,
        [Command::RefreshList, Command::LoadHistory("1001".into())]
    );
    let generation = model.detail.generation;
    let released = crate::operations::model::HistoryEntry {
        time: later,
        actor: "server".into(),
        what: crate::operations::model::HistoryKind::Released {
            receipt_id: Some("r-1".into()),
            secrets: 2,
        },
    };
    // Another VM's history (the selection moved on meanwhile) is dropped.
    update(
        &mut model,
        Event::HistoryLoaded {
            instance_id: "1002".into(),
            result: Ok(vec![released.clone()]),
        },
    );
    let shown = |m: &Model| m.detail.detail.as_ref().unwrap().history.clone();
    assert!(!shown(&model).contains(&released));
    // A failure keeps what was shown.
    let before = shown(&model);
    update(
        &mut model,
        Event::HistoryLoaded {
            instance_id: "1001".into(),
            result: Err(Failure::new(FailureKind::StoreDown, "down")),
        },
    );
    assert_eq!(shown(&model), before);
    // The shown VM's history replaces the old one, and the tab's cached lines are rebuilt.
    update(
        &mut model,
        Event::HistoryLoaded {
            instance_id: "1001".into(),
            result: Ok(vec![released.clone()]),
        },
    );
    assert_eq!(shown(&model), [released]);
    assert_ne!(model.detail.generation, generation);
}

#[test]
fn the_first_list_selects_the_vm_most_in_need_of_attention_and_loads_it() {
    let mut model = model();
    let commands = update(&mut model, Event::ListLoaded(Ok(demo_list())));
    assert_eq!(selected(&model), Some("1001"));
    assert_eq!(
        load_target(&commands).map(|t| t.name.as_str()),
        Some("tokenclient-tampered")
    );
    assert!(model.detail.loading);
}

#[test]
fn j_k_arrows_home_end_move_the_selection_skipping_group_headers() {
    let mut model = loaded();
    let commands = update(&mut model, ch('j'));
    assert_eq!(selected(&model), Some("1002"));
    assert_loads(&commands, "1002");
    update(&mut model, key(KeyCode::Down));
    assert_eq!(
        selected(&model),
        Some("1003"),
        "the Approved header is skipped"
    );
    update(&mut model, ch('k'));
    update(&mut model, key(KeyCode::Up));
    assert_eq!(selected(&model), Some("1001"));
    update(&mut model, key(KeyCode::Up));
    assert_eq!(selected(&model), Some("1001"), "stays at the top");
    update(&mut model, ch('G'));
    assert_eq!(selected(&model), Some("1004"));
    update(&mut model, key(KeyCode::Home));
    assert_eq!(selected(&model), Some("1001"));
    update(&mut model, key(KeyCode::End));
    assert_eq!(selected(&model), Some("1004"));
    // Re-selecting the same VM asks for nothing.
    assert!(update(&mut model, ch('j')).is_empty());
}

#[test]
fn paging_scrolls_ten_thousand_vms_and_keeps_the_selection_visible() {
    let mut model = model();
    update(&mut model, Event::ListLoaded(Ok(many(10_000))));
    let rows = Areas::new(80, 24).list_rows();
    update(
        &mut model,
        Event::Key(KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL)),
    );
    assert_eq!(
        selected(&model),
        Some(format!("{}", 100_000 + rows / 2).as_str())
    );
    update(&mut model, key(KeyCode::PageDown));
    update(&mut model, key(KeyCode::End));
    assert_eq!(selected(&model), Some("109999"));
    let line = model.list.selected_line().unwrap();
    assert!(model.list.offset <= line && line < model.list.offset + rows);
    update(
        &mut model,
        Event::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
    );
    update(&mut model, key(KeyCode::PageUp));
    let line = model.list.selected_line().unwrap();
    assert!(model.list.offset <= line && line < model.list.offset + rows);
    update(&mut model, ch('g'));
    assert_eq!(
        model.list.offset, 0,
        "the group header is shown above the first row"
    );
}

#[test]
fn tab_switches_panes_and_number_keys_and_brackets_switch_tabs() {
    let mut model = loaded();
    update(&mut model, key(KeyCode::Tab));
    assert_eq!(model.focus, Pane::Detail);
    update(
        &mut model,
        Event::Key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT)),
    );
    assert_eq!(model.focus, Pane::List);
    for (code, focus) in [
        (KeyCode::Right, Pane::Detail),
        (KeyCode::Left, Pane::List),
        (KeyCode::Char('l'), Pane::Detail),
        (KeyCode::Char('h'), Pane::List),
    ] {
        update(&mut model, key(code));
        assert_eq!(model.focus, focus, "{code:?}");
    }
    for (c, tab) in [
        ('2', DetailTab::CloudConfig),
        ('3', DetailTab::AuditLog),
        ('4', DetailTab::Tpm),
        ('5', DetailTab::Secrets),
        ('6', DetailTab::History),
        ('1', DetailTab::Overview),
    ] {
        update(&mut model, ch(c));
        assert_eq!(model.tab, tab);
    }
    update(&mut model, ch('['));
    assert_eq!(model.tab, DetailTab::History);
    update(&mut model, ch(']'));
    assert_eq!(model.tab, DetailTab::Overview);
}

#[test]
fn with_the_detail_focused_j_and_k_scroll_it_within_its_length() {
    let mut model = loaded();
    arrive(&mut model, "tokenclient-tampered", "1001", true);
    update(&mut model, ch('l'));
    assert_eq!(model.focus, Pane::Detail);
    update(&mut model, ch('j'));
    assert_eq!(model.detail.scroll, 1);
    assert_eq!(
        selected(&model),
        Some("1001"),
        "the selection does not move"
    );
    update(&mut model, ch('G'));
    let bottom = model.detail.scroll;
    update(&mut model, ch('j'));
    assert_eq!(model.detail.scroll, bottom, "scrolling stops at the end");
    update(&mut model, ch('3'));
    assert_eq!(model.detail.scroll, 0, "a new tab starts at the top");
    update(&mut model, key(KeyCode::Esc));
    assert_eq!(model.focus, Pane::List);
}

#[test]
fn the_filter_narrows_by_name_project_or_check_and_esc_clears_it() {
    let mut model = loaded();
    update(&mut model, ch('/'));
    assert!(model.list.filter_editing);
    // Keys go to the prompt, not to the keymap (q does not quit).
    let commands = typed(&mut model, "good");
    assert!(!model.quit);
    assert_eq!(model.list.shown(), 1);
    assert_eq!(
        selected(&model),
        Some("1002"),
        "the hidden selection moves to a shown VM"
    );
    assert_loads(&commands, "1002");
    update(&mut model, key(KeyCode::Enter));
    assert!(!model.list.filter_editing);
    assert_eq!(model.list.filter, "good");
    update(&mut model, key(KeyCode::Esc));
    assert!(model.list.filter.is_empty());
    assert_eq!(model.list.shown(), 4);
    assert_eq!(
        selected(&model),
        Some("1002"),
        "clearing keeps the selection"
    );
    update(&mut model, ch('/'));
    typed(&mut model, "ssh_disabled");
    assert_eq!(model.list.shown(), 1, "a failed check's name matches");
    update(&mut model, key(KeyCode::Backspace));
    assert_eq!(model.list.filter, "ssh_disable");
    update(&mut model, key(KeyCode::Esc));
    assert!(!model.list.filter_editing && model.list.filter.is_empty());
    update(&mut model, ch('/'));
    typed(&mut model, "nothing-like-this");
    assert_eq!(model.list.shown(), 0);
    assert_eq!(selected(&model), None);
}

#[test]
fn r_refreshes_the_list_and_the_selected_detail() {
    let mut model = loaded();
    let commands = update(&mut model, ch('r'));
    assert_eq!(commands[0], Command::RefreshList);
    assert_loads(&commands, "1001");
}

#[test]
fn help_opens_with_question_mark_and_swallows_keys_until_closed() {
    let mut model = loaded();
    update(&mut model, ch('?'));
    assert!(model.help);
    assert!(update(&mut model, ch('j')).is_empty());
    assert_eq!(selected(&model), Some("1001"));
    update(&mut model, ch('q'));
    assert!(!model.help && !model.quit, "q closes the help first");
    update(&mut model, key(KeyCode::F(1)));
    update(&mut model, key(KeyCode::Esc));
    assert!(!model.help);
    update(&mut model, ch('q'));
    assert!(model.quit);
}

#[test]
fn ctrl_c_quits_but_a_write_under_way_asks_twice() {
    let mut model = loaded();
    model.busy = Some("approving tokenclient-good".into());
    let ctrl_c = Event::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    update(&mut model, ctrl_c.clone());
    assert!(!model.quit);
    assert_eq!(model.status.as_ref().map(|s| s.tone), Some(Tone::Error));
    update(&mut model, ctrl_c);
    assert!(model.quit);
}

#[test]
fn a_detail_for_a_vm_no_longer_selected_is_dropped() {
    let mut model = loaded();
    update(&mut model, ch('j'));
    arrive(&mut model, "tokenclient-tampered", "1001", true);
    assert!(model.detail.detail.is_none());
    assert!(model.detail.loading, "still waiting for 1002");
    arrive(&mut model, "tokenclient-good", "1002", false);
    assert!(!model.detail.loading);
    assert!(model.selected_detail().is_some());
}

#[test]
fn a_detail_that_fails_shows_what_to_do() {
    let mut model = loaded();
    update(
        &mut model,
        Event::DetailLoaded {
            instance_id: "1001".into(),
            result: Err(Failure::new(
                FailureKind::GoogleDenied,
                "compute.instances.get: 403",
            )),
        },
    );
    let error = model.detail.error.clone().unwrap();
    assert!(error.contains("loading tokenclient-tampered failed: compute.instances.get: 403"));
    assert!(error.contains("compute.viewer"));
    assert_eq!(model.status.as_ref().map(|s| s.tone), Some(Tone::Error));
}

#[test]
fn a_refresh_keeps_the_selection_by_instance_id_and_reloads_only_a_changed_vm() {
    let mut model = loaded();
    update(&mut model, ch('j'));
    update(&mut model, ch('j'));
    assert_eq!(selected(&model), Some("1003"));
    let mut list = demo_list();
    list.rows.reverse();
    let commands = update(&mut model, Event::ListLoaded(Ok(list.clone())));
    assert_eq!(selected(&model), Some("1003"));
    assert!(
        load_target(&commands).is_none(),
        "unchanged: no new Google round"
    );
    // The store's record changed (e.g. denied since approval): the detail is reloaded.
    for row in &mut list.rows {
        if row.instance_id == "1003" {
            row.failed_checks = vec!["tpm.quote".into()];
            row.attempts = 1;
        }
    }
    let commands = update(&mut model, Event::ListLoaded(Ok(list)));
    assert_eq!(selected(&model), Some("1003"));
    assert_loads(&commands, "1003");
}

#[test]
fn a_vm_disappearing_while_selected_moves_the_selection_and_says_so() {
    let mut model = loaded();
    update(&mut model, ch('j'));
    assert_eq!(selected(&model), Some("1002"));
    let mut list = demo_list();
    list.rows.retain(|r| r.instance_id != "1002");
    let commands = update(&mut model, Event::ListLoaded(Ok(list)));
    assert_eq!(
        selected(&model),
        Some("1003"),
        "the next VM takes its place"
    );
    assert_loads(&commands, "1003");
    let status = model.status.clone().unwrap();
    assert!(
        status
            .text
            .contains("tokenclient-good (id 1002) is no longer in the store")
    );
    // Everything disappears: nothing selected, nothing loaded.
    let commands = update(&mut model, Event::ListLoaded(Ok(Default::default())));
    assert_eq!(selected(&model), None);
    assert!(commands.is_empty());
}

#[test]
fn a_failed_refresh_keeps_the_rows_and_reports_the_store_down() {
    let mut model = loaded();
    update(&mut model, ch('r'));
    update(
        &mut model,
        Event::ListLoaded(Err(Failure::new(
            FailureKind::StoreDown,
            "database is locked",
        ))),
    );
    assert!(!model.list.loading);
    assert_eq!(model.list.rows.len(), 4);
    let text = model.status.clone().unwrap().text;
    assert!(
        text.contains("refreshing the list failed: database is locked"),
        "{text}"
    );
    assert!(text.contains("check --store"));
}

#[test]
fn a_click_selects_a_row_and_a_tab_and_the_wheel_scrolls() {
    let mut model = loaded();
    let areas = Areas::new(80, 24);
    let list = inner(areas.list);
    // Line 3 is tokenclient-good's row (header, tampered, good...).
    let click = |column, row| {
        Event::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    let commands = update(&mut model, click(list.x + 2, list.y + 2));
    assert_eq!(selected(&model), Some("1002"));
    assert!(load_target(&commands).is_some());
    // A click on a header selects nothing new.
    assert!(update(&mut model, click(list.x + 2, list.y)).is_empty());
    let detail = inner(areas.detail);
    let second_tab = detail.x + 14;
    update(&mut model, click(second_tab, detail.y));
    assert_eq!(model.tab, DetailTab::CloudConfig);
    assert_eq!(model.focus, Pane::Detail);
    update(
        &mut model,
        Event::Mouse(MouseEvent {
            kind: MouseEventKind::ScrollDown,
            column: list.x + 2,
            row: list.y + 2,
            modifiers: KeyModifiers::NONE,
        }),
    );
    assert_eq!(selected(&model), Some("1004"), "three rows down, the list");
    assert_eq!(
        model.focus,
        Pane::Detail,
        "the wheel does not move the focus"
    );
}

#[test]
fn resize_keeps_the_selection_visible() {
    let mut model = model();
    update(&mut model, Event::ListLoaded(Ok(many(200))));
    update(&mut model, ch('G'));
    update(&mut model, Event::Resize(160, 48));
    assert_eq!(model.size, (160, 48));
    update(&mut model, Event::Resize(80, 24));
    let line = model.list.selected_line().unwrap();
    assert!(line < model.list.offset + Areas::new(80, 24).list_rows());
}

/// Opens the approve dialog on tokenclient-good with a secrets file given on the command line.
fn approve_dialog() -> (Model, u64) {
    let mut model = loaded();
    model.defaults.secrets_file = Some("secrets.json".into());
    update(&mut model, ch('j'));
    let commands = update(&mut model, ch('a'));
    let generation = commands
        .iter()
        .find_map(|c| match c {
            Command::PlanApproval {
                target,
                inputs,
                generation,
            } => {
                assert_eq!(target.instance_id, "1002");
                assert_eq!(inputs.secrets_file, "secrets.json");
                assert!(inputs.require_tpm);
                Some(*generation)
            }
            _ => None,
        })
        .unwrap();
    assert!(commands.contains(&Command::FindSecretsFiles));
    (model, generation)
}

/// The plan of `generation` arrives: the tampered VM's (failing checks) or a good one's.
fn planned(model: &mut Model, generation: u64, tampered: bool) {
    update(
        model,
        Event::ApprovalPlanned {
            generation,
            result: Ok(Box::new(plan(tampered))),
        },
    );
}

fn approve(model: &Model) -> &crate::console::model::ApproveDialog {
    match &model.dialog {
        Some(Dialog::Approve(dialog)) => dialog,
        other => panic!("no approve dialog: {other:?}"),
    }
}

#[test]
fn approve_defaults_to_no_and_enter_cancels() {
    let (mut model, generation) = approve_dialog();
    planned(&mut model, generation, false);
    assert_eq!(approve(&model).focus, ApproveField::Buttons);
    assert!(!approve(&model).yes);
    assert!(update(&mut model, key(KeyCode::Enter)).is_empty());
    assert!(model.dialog.is_none());
    assert!(model.status.unwrap().text.contains("nothing was written"));
}

#[test]
fn approve_with_yes_commits_exactly_the_plan_shown() {
    let (mut model, generation) = approve_dialog();
    // Yes before the plan arrived is refused.
    assert!(update(&mut model, ch('y')).is_empty());
    assert!(
        approve(&model)
            .problem
            .as_ref()
            .unwrap()
            .contains("still being computed")
    );
    planned(&mut model, generation, false);
    assert!(matches!(approve(&model).plan, PlanState::Ready(_)));
    update(&mut model, key(KeyCode::Right));
    assert!(approve(&model).yes);
    let commands = update(&mut model, key(KeyCode::Enter));
    assert_eq!(
        commands,
        [Command::CommitApproval {
            target: VmTarget {
                instance_id: "1002".into(),
                name: "tokenclient-good".into(),
                project: "bob-project".into(),
                zone: "us-central1-a".into(),
            },
            generation,
            reason: String::new(),
        }]
    );
    assert!(model.dialog.is_none());
    assert_eq!(model.busy.as_deref(), Some("approving tokenclient-good"));
    // Approve and revoke wait while a write is under way.
    update(&mut model, ch('a'));
    assert!(model.dialog.is_none());
    assert!(
        model
            .status
            .clone()
            .unwrap()
            .text
            .contains("wait for its outcome")
    );
    let commands = update(
        &mut model,
        Event::Approved {
            instance_id: "1002".into(),
            result: Ok("Approved tokenclient-good (id 1002): revision 1".into()),
        },
    );
    assert!(model.busy.is_none());
    assert_eq!(model.status.clone().unwrap().tone, Tone::Success);
    assert_eq!(commands[0], Command::RefreshList);
    assert_loads(&commands, "1002");
}

#[test]
fn failed_checks_refuse_the_approval_until_a_reason_is_typed() {
    let (mut model, generation) = approve_dialog();
    planned(&mut model, generation, true);
    assert!(update(&mut model, ch('y')).is_empty());
    let problem = approve(&model).problem.clone().unwrap();
    assert!(problem.contains("2 check(s) fail: instance.user_data, cloudconfig.ssh_disabled"));
    assert!(model.dialog.is_some());
    update(&mut model, key(KeyCode::Up));
    assert_eq!(approve(&model).focus, ApproveField::Reason);
    typed(&mut model, "template not configured yet");
    update(&mut model, key(KeyCode::Enter));
    let commands = update(&mut model, ch('y'));
    assert!(matches!(
        &commands[..],
        [Command::CommitApproval { reason, .. }] if reason == "template not configured yet"
    ));
}

#[test]
fn changing_an_input_plans_again_and_a_stale_plan_is_dropped() {
    let (mut model, first) = approve_dialog();
    // Go to the expiry field and type one.
    update(&mut model, key(KeyCode::Tab));
    update(&mut model, key(KeyCode::Tab));
    update(&mut model, key(KeyCode::Tab));
    assert_eq!(approve(&model).focus, ApproveField::Expiry);
    typed(&mut model, "30d");
    let commands = update(&mut model, key(KeyCode::Enter));
    let second = match &commands[..] {
        [
            Command::PlanApproval {
                inputs, generation, ..
            },
        ] => {
            assert_eq!(inputs.expiry, "30d");
            *generation
        }
        other => panic!("expected a new plan, got {other:?}"),
    };
    assert!(second > first);
    // The first plan arrives late: dropped.
    planned(&mut model, first, true);
    assert_eq!(approve(&model).plan, PlanState::Loading);
    planned(&mut model, second, false);
    assert!(matches!(approve(&model).plan, PlanState::Ready(_)));
    // Space toggles require-TPM; leaving the field plans again.
    for _ in 0..3 {
        update(&mut model, key(KeyCode::BackTab));
    }
    assert_eq!(approve(&model).focus, ApproveField::RequireTpm);
    update(&mut model, ch(' '));
    assert!(!approve(&model).inputs.require_tpm);
    let commands = update(&mut model, key(KeyCode::Tab));
    assert!(matches!(&commands[..], [Command::PlanApproval { inputs, .. }] if !inputs.require_tpm));
}

#[test]
fn without_a_secrets_file_the_picker_offers_the_json_files() {
    let mut model = loaded();
    let commands = update(&mut model, ch('a'));
    assert_eq!(
        commands,
        [Command::FindSecretsFiles],
        "no plan without a secrets file"
    );
    assert_eq!(approve(&model).plan, PlanState::NeedsSecretsFile);
    assert_eq!(approve(&model).focus, ApproveField::SecretsFile);
    update(&mut model, key(KeyCode::Right));
    assert!(
        approve(&model)
            .problem
            .as_ref()
            .unwrap()
            .contains("no *.json file")
    );
    update(
        &mut model,
        Event::SecretsFilesFound(vec!["a.json".into(), "b.json".into()]),
    );
    update(&mut model, key(KeyCode::Right));
    assert_eq!(approve(&model).inputs.secrets_file, "a.json");
    update(&mut model, key(KeyCode::Right));
    update(&mut model, key(KeyCode::Right));
    assert_eq!(
        approve(&model).inputs.secrets_file,
        "a.json",
        "wraps around"
    );
    update(&mut model, key(KeyCode::Left));
    assert_eq!(approve(&model).inputs.secrets_file, "b.json");
    update(&mut model, key(KeyCode::Backspace));
    typed(&mut model, "n");
    assert_eq!(
        approve(&model).inputs.secrets_file,
        "b.jsonn".replace("nn", "n")
    );
    let commands = update(&mut model, key(KeyCode::Enter));
    assert!(matches!(&commands[..], [Command::PlanApproval { .. }]));
    assert_eq!(approve(&model).focus, ApproveField::Buttons);
}

#[test]
fn a_failed_plan_is_shown_and_yes_refused() {
    let (mut model, generation) = approve_dialog();
    update(
        &mut model,
        Event::ApprovalPlanned {
            generation,
            result: Err(Failure::new(FailureKind::KeyFile, "no approval key")),
        },
    );
    update(&mut model, ch('y'));
    assert!(approve(&model).problem.as_ref().unwrap().contains("--key"));
}

#[test]
fn a_refresh_while_a_dialog_is_open_keeps_the_dialog_and_its_target() {
    let (mut model, _) = approve_dialog();
    let mut list = demo_list();
    list.rows.retain(|r| r.instance_id != "1002");
    update(&mut model, Event::ListLoaded(Ok(list)));
    assert_eq!(
        approve(&model).target.instance_id,
        "1002",
        "the dialog stays on its VM"
    );
    // Keys still go to the dialog.
    update(&mut model, ch('q'));
    assert!(!model.quit);
    update(&mut model, key(KeyCode::Esc));
    assert!(model.dialog.is_none());
    assert!(
        model
            .status
            .unwrap()
            .text
            .contains("approval of tokenclient-good cancelled")
    );
}

#[test]
fn read_only_never_opens_approve_or_revoke() {
    let mut model = Model::new(Keymap::default(), true, at(4));
    update(&mut model, Event::ListLoaded(Ok(demo_list())));
    assert!(update(&mut model, ch('a')).is_empty());
    assert!(update(&mut model, ch('x')).is_empty());
    assert!(model.dialog.is_none());
}

fn revoke_dialog() -> Model {
    let mut model = loaded();
    update(&mut model, ch('j'));
    update(&mut model, ch('j'));
    assert_eq!(selected(&model), Some("1003"));
    assert!(update(&mut model, ch('x')).is_empty());
    assert!(matches!(model.dialog, Some(Dialog::Revoke(_))));
    model
}

#[test]
fn revoke_needs_the_name_typed_exactly_and_a_reason() {
    let mut model = revoke_dialog();
    typed(&mut model, "web-2");
    assert!(update(&mut model, key(KeyCode::Enter)).is_empty());
    let Some(Dialog::Revoke(dialog)) = &model.dialog else {
        panic!()
    };
    assert!(
        dialog
            .problem
            .as_ref()
            .unwrap()
            .contains("type the VM's name exactly (web-1)")
    );
    update(&mut model, key(KeyCode::Backspace));
    typed(&mut model, "1");
    assert!(update(&mut model, key(KeyCode::Enter)).is_empty());
    let Some(Dialog::Revoke(dialog)) = &model.dialog else {
        panic!()
    };
    assert!(dialog.problem.as_ref().unwrap().contains("say why"));
    assert_eq!(dialog.focus, RevokeField::Reason);
    typed(&mut model, "decommissioned");
    let commands = update(&mut model, key(KeyCode::Enter));
    assert!(matches!(
        &commands[..],
        [Command::CommitRevocation { target, reason }]
            if target.instance_id == "1003" && reason == "decommissioned"
    ));
    assert_eq!(model.busy.as_deref(), Some("revoking web-1"));
    let commands = update(
        &mut model,
        Event::Revoked {
            instance_id: "1003".into(),
            result: Err(Failure::new(
                FailureKind::Conflict,
                "revision 3, expected 2",
            )),
        },
    );
    let status = model.status.clone().unwrap();
    assert_eq!(status.tone, Tone::Error);
    assert!(
        status
            .text
            .contains("revoking web-1 failed: revision 3, expected 2")
    );
    assert!(status.text.contains("refresh (r)"));
    assert_eq!(commands[0], Command::RefreshList);
}

#[test]
fn revoke_is_refused_for_a_vm_without_an_approval_in_force() {
    let mut model = loaded();
    assert_eq!(
        model.list.selected_row().map(|r| r.state),
        Some(VmState::Pending)
    );
    update(&mut model, ch('x'));
    assert!(model.dialog.is_none());
    assert!(model.status.unwrap().text.contains("no approval in force"));
}

#[test]
fn revoke_tab_switches_fields_and_esc_cancels() {
    let mut model = revoke_dialog();
    update(&mut model, key(KeyCode::Tab));
    typed(&mut model, "why");
    let Some(Dialog::Revoke(dialog)) = &model.dialog else {
        panic!()
    };
    assert_eq!(dialog.reason, "why");
    assert!(dialog.typed_name.is_empty());
    update(&mut model, key(KeyCode::Esc));
    assert!(model.dialog.is_none());
}

#[test]
fn results_of_writes_for_another_vm_refresh_the_list_only() {
    let mut model = loaded();
    let commands = update(
        &mut model,
        Event::Approved {
            instance_id: "999".into(),
            result: Ok("Approved other".into()),
        },
    );
    assert_eq!(commands, [Command::RefreshList]);
}

#[test]
fn key_releases_are_ignored() {
    let mut model = loaded();
    let mut release = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
    release.kind = crossterm::event::KeyEventKind::Release;
    update(&mut model, Event::Key(release));
    assert!(!model.quit);
}

#[test]
fn a_failed_approval_and_a_revocation_end_in_their_outcome_lines() {
    let (mut model, generation) = approve_dialog();
    planned(&mut model, generation, false);
    update(&mut model, ch('y'));
    update(
        &mut model,
        Event::Approved {
            instance_id: "1002".into(),
            result: Err(Failure::new(FailureKind::StoreDown, "database is locked")),
        },
    );
    let status = model.status.clone().unwrap();
    assert_eq!(status.tone, Tone::Error);
    assert!(
        status
            .text
            .starts_with("approving tokenclient-good failed: database is locked")
    );
    assert!(model.busy.is_none());
    let mut model = revoke_dialog();
    typed(&mut model, "web-1");
    update(&mut model, key(KeyCode::Tab));
    typed(&mut model, "done");
    update(&mut model, key(KeyCode::Enter));
    let commands = update(
        &mut model,
        Event::Revoked {
            instance_id: "1003".into(),
            result: Ok("Revoked web-1 (id 1003): revision 2".into()),
        },
    );
    assert_eq!(model.status.clone().unwrap().tone, Tone::Success);
    assert_eq!(commands[0], Command::RefreshList);
    assert_loads(&commands, "1003");
}

#[test]
fn a_detail_google_would_not_give_loads_and_the_status_says_what_to_do() {
    let mut model = loaded();
    let mut unreadable = detail("tokenclient-tampered", "1001", true);
    unreadable.review.evidence.instance = Err(tokendist_core::evidence::FetchError {
        api: "compute.instances.get".into(),
        kind: tokendist_core::evidence::FetchErrorKind::PermissionDenied,
        message: "HTTP 403".into(),
    });
    update(
        &mut model,
        Event::DetailLoaded {
            instance_id: "1001".into(),
            result: Ok(Box::new(unreadable)),
        },
    );
    assert!(model.selected_detail().is_some());
    let status = model.status.clone().unwrap();
    assert_eq!(status.tone, Tone::Error);
    assert!(
        status.text.contains("reading tokenclient-tampered failed"),
        "{status:?}"
    );
    assert!(status.text.contains("compute.viewer"), "{status:?}");
}
