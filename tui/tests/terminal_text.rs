//! Text from Google and the store reaches Alice's terminal with its control characters escaped: a
//! metadata key, an audit-log principal (Bob chooses both) and a pending VM's name in the store carry
//! `ESC [2J` (clear screen) and `CR` (overwrite the line), and `tokendist show` and `list` print them
//! as visible `\x1b[2J` / `\r`, never as the raw bytes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;

use support::{Console, GOOD_VM, PROJECT, TAMPERED_VM_ID, ZONE};
use tokendist_sim::{AuditEntryInput, Scenario};

const CLEAR_SCREEN: &str = "\u{1b}[2J";

/// The demo scenario with a metadata key on the good VM that clears the screen.
fn scenario_with_hostile_metadata() -> Scenario {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sim/scenarios");
    let text = std::fs::read_to_string(dir.join("demo.toml"))
        .unwrap()
        .replacen(
            "[vm.metadata]\n",
            "[vm.metadata]\n\"note\\u001b[2J\\r\" = \"hello\"\n",
            1,
        );
    Scenario::from_toml_str(&text, &dir).unwrap()
}

fn assert_no_raw_control_characters(output: &str, what: &str) {
    assert!(
        !output.contains('\u{1b}') && !output.contains('\r') && !output.contains('\u{7}'),
        "{what} printed a raw control character: {output:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_and_list_escape_control_characters_from_google_and_the_store() {
    let console = Console::start_with(scenario_with_hostile_metadata()).await;
    let sim = console.sim.as_ref().unwrap();
    sim.handle()
        .add_audit_entry(AuditEntryInput {
            vm: Some(GOOD_VM.to_owned()),
            method: "v1.compute.instances.setLabels".to_owned(),
            principal: Some(format!("bob{CLEAR_SCREEN}\r\u{7}@evil.example")),
            ..AuditEntryInput::default()
        })
        .unwrap();
    let store = console.store().await;
    store
        .upsert_pending(&support::pending_attempt(
            TAMPERED_VM_ID,
            &format!("tokenclient-{CLEAR_SCREEN}\rtampered"),
        ))
        .await
        .unwrap();

    let show = console
        .run(&["show", GOOD_VM, "--project", PROJECT, "--zone", ZONE])
        .await;
    assert!(show.stdout.contains("Audit log"), "{show:?}");
    assert_no_raw_control_characters(&show.stdout, "show");
    assert!(
        show.stdout.contains("bob\\x1b[2J\\r\\x07@evil.example"),
        "the principal is not shown escaped: {}",
        show.stdout
    );
    assert!(
        show.stdout.contains("note\\x1b[2J\\r"),
        "the metadata key is not shown escaped: {}",
        show.stdout
    );

    let list = console.run(&["list"]).await;
    assert_eq!(list.code, 0, "{list:?}");
    assert_no_raw_control_characters(&list.stdout, "list");
    assert!(
        list.stdout.contains("tokenclient-\\x1b[2J\\rtampered"),
        "{}",
        list.stdout
    );
    // JSON output stays exact (serde escapes control characters as \u001b).
    let json = console.run(&["list", "--json"]).await;
    assert_no_raw_control_characters(&json.stdout, "list --json");
    assert!(json.stdout.contains("\\u001b[2J"), "{}", json.stdout);
}
