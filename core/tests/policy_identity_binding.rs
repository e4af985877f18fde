//! Issue 8, binding: the instance the Compute API returns under the approved name must be the token's
//! and the approval's instance (`identity.instance`), so a same-name replacement VM cannot lend its
//! evidence to the approved VM's token.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use tokendist_core::checks;
use tokendist_core::evidence::{FetchError, FetchErrorKind};
use tokendist_core::policy::evaluate;
use tokendist_core::verdict::Outcome;

#[test]
fn the_good_vm_binds_its_token_to_the_live_instance() {
    let verdict = evaluate(&good_approval(), &good_evidence(), &settings());
    assert!(
        verdict.get(checks::IDENTITY_INSTANCE).unwrap().is_pass(),
        "{verdict:?}"
    );
    assert!(verdict.allowed(), "{:?}", verdict.failed_names());
}

#[test]
fn a_same_name_replacement_instance_fails_identity_instance_only() {
    let mut evidence = good_evidence();
    if let Ok(instance) = evidence.instance.as_mut() {
        instance.instance_id = "1111111111111111111".into();
    }
    let verdict = evaluate(&good_approval(), &evidence, &settings());
    assert_eq!(verdict.failed_names(), vec![checks::IDENTITY_INSTANCE]);
    let Outcome::Fail(reason) = &verdict.get(checks::IDENTITY_INSTANCE).unwrap().outcome else {
        panic!("identity.instance did not fail");
    };
    assert!(reason.contains("1111111111111111111"), "{reason}");
}

#[test]
fn an_unfetchable_instance_skips_the_binding_and_the_instance_checks_deny() {
    let mut evidence = good_evidence();
    evidence.instance = Err(FetchError {
        api: "compute.instances.get".into(),
        kind: FetchErrorKind::Unavailable,
        message: "HTTP 503".into(),
    });
    let verdict = evaluate(&good_approval(), &evidence, &settings());
    assert!(matches!(
        verdict.get(checks::IDENTITY_INSTANCE).unwrap().outcome,
        Outcome::Skipped(_)
    ));
    assert!(!verdict.allowed());
    assert!(verdict.failed_names().contains(&checks::INSTANCE_USER_DATA));
}
