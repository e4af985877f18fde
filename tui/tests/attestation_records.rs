//! The console seals only to what it can verify: `tokendist approve` takes PCR values from the
//! store's `attestations` row only when the token server's receipt key signed it and its quote
//! verifies again. Whoever can write the SQLite store edits the row (a PCR value changed, re-signed
//! with another key, the signature stripped, values re-signed without a matching quote) and the
//! approval is refused naming the record and what failed; the untouched row still seals and the
//! swtpm opens what it sealed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::vtpm::VmTpm;
use support::{Console, GOOD_VM, GOOD_VM_ID, SECRET_VALUES};
use tokendist_store::AttestationRecord;

/// The record name the refusals must give.
fn record_name() -> String {
    format!("attestations/{GOOD_VM_ID}")
}

/// Rewrites the good VM's `attestations` row directly in the SQLite file, as someone with write
/// access to the store (but not the server's receipt key) would.
fn edit_row(console: &Console, edit: impl FnOnce(&mut AttestationRecord)) {
    let conn = rusqlite::Connection::open(console.path("tokendist.db")).unwrap();
    let json: String = conn
        .query_row(
            "SELECT record FROM attestations WHERE instance_id = ?1",
            [GOOD_VM_ID],
            |row| row.get(0),
        )
        .unwrap();
    let mut record: AttestationRecord = serde_json::from_str(&json).unwrap();
    edit(&mut record);
    let changed = conn
        .execute(
            "UPDATE attestations SET record = ?1 WHERE instance_id = ?2",
            rusqlite::params![serde_json::to_string(&record).unwrap(), GOOD_VM_ID],
        )
        .unwrap();
    assert_eq!(changed, 1);
}

/// Another PCR 7 value than the TPM's (a value Bob would like Alice to seal to).
fn bobs_value() -> String {
    "42".repeat(32)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_attestation_row_is_refused_by_name_and_the_untouched_row_still_seals() {
    let console = Console::start().await;
    let Some(vm) = VmTpm::install(&console, GOOD_VM).await else {
        return;
    };
    let store = console.store().await;
    let original = vm.verified_quote_record(GOOD_VM_ID).await;
    let attacker = ed25519_dalek::SigningKey::from_bytes(&[0x66; 32]);

    type Edit = Box<dyn FnOnce(&mut AttestationRecord)>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "one PCR value changed",
            Box::new(|r: &mut AttestationRecord| {
                r.pcr_values.insert(7, bobs_value());
            }),
            "changed after the token server wrote it",
        ),
        (
            "re-signed with another key",
            Box::new(move |r: &mut AttestationRecord| {
                r.pcr_values.insert(7, bobs_value());
                r.sign(&attacker);
            }),
            "not by the token server's receipt key",
        ),
        (
            "signature stripped",
            Box::new(|r: &mut AttestationRecord| {
                r.pcr_values.insert(7, bobs_value());
                r.server_signature = None;
            }),
            "no server signature",
        ),
        (
            "another key's signature under the server's key id",
            Box::new(|r: &mut AttestationRecord| {
                r.pcr_values.insert(7, bobs_value());
                let forged = r
                    .signed_fields()
                    .sign(&ed25519_dalek::SigningKey::from_bytes(&[0x67; 32]));
                if let Some(signature) = r.server_signature.as_mut() {
                    signature.signature = forged.signature;
                }
            }),
            "does not verify",
        ),
    ];
    for (attack, edit, expected) in cases {
        store.put_attestation(&original).await.unwrap();
        edit_row(&console, edit);

        let run = console.approve(GOOD_VM, &["--yes"]).await;

        assert_eq!(run.code, 3, "{attack}: {run:?}");
        assert!(
            run.stderr.contains(&record_name()) && run.stderr.contains(expected),
            "{attack}: expected the refusal to name {} and say {expected:?}: {}",
            record_name(),
            run.stderr
        );
        assert!(
            store.get_approval(GOOD_VM_ID).await.unwrap().is_none(),
            "{attack}: an approval was written"
        );
    }

    // `show` says the same about the last edited row.
    let show = console.show_json(GOOD_VM).await;
    assert_eq!(
        show["tpm"]["last_quote"]["record_signature"], "refused",
        "{show}"
    );

    // The untouched row seals, and the VM's TPM opens what was sealed.
    store.put_attestation(&original).await.unwrap();
    let show = console.show_json(GOOD_VM).await;
    assert_eq!(
        show["tpm"]["last_quote"]["record_signature"], "verified",
        "{show}"
    );
    let run = console.approve(GOOD_VM, &["--yes"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let approval = store.get_approval(GOOD_VM_ID).await.unwrap().unwrap();
    assert_eq!(
        approval.pcr_policy.as_ref().unwrap().pcrs,
        original.pcr_values
    );
    let opened = vm.open_approved_secret(&approval, 0).await;
    assert_eq!(opened, SECRET_VALUES[0].as_bytes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_row_whose_quote_does_not_cover_its_values_is_refused() {
    // Even a record the server's key signed is used only when its quote verifies again: values that
    // the quote did not cover (a server bug, or a record signed for another reason) are refused.
    let console = Console::start().await;
    let Some(vm) = VmTpm::install(&console, GOOD_VM).await else {
        return;
    };
    let store = console.store().await;
    let mut record = vm.verified_quote_record(GOOD_VM_ID).await;
    record.pcr_values.insert(7, bobs_value());
    record.sign(&vm.server_receipt_key);
    store.put_attestation(&record).await.unwrap();

    let run = console.approve(GOOD_VM, &["--yes"]).await;

    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stderr.contains(&record_name()) && run.stderr.contains("quote does not verify"),
        "{}",
        run.stderr
    );
    assert!(store.get_approval(GOOD_VM_ID).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_servers_receipt_key_the_record_is_not_used() {
    let console = Console::start().await;
    let Some(vm) = VmTpm::install(&console, GOOD_VM).await else {
        return;
    };
    let store = console.store().await;
    store
        .put_attestation(&vm.verified_quote_record(GOOD_VM_ID).await)
        .await
        .unwrap();

    let run = console
        .approve_without(GOOD_VM, &["--yes"], &["TOKENDIST_SERVER_RECEIPT_KEY"])
        .await;

    assert_eq!(run.code, 78, "{run:?}");
    assert!(
        run.stderr.contains("--server-receipt-key") && run.stderr.contains("--pcr"),
        "{}",
        run.stderr
    );
    assert!(store.get_approval(GOOD_VM_ID).await.unwrap().is_none());
}
