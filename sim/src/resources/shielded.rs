//! `compute#shieldedInstanceIdentity` JSON: `encryptionKey` is the EK, `signingKey` the AK.

use serde_json::{Map, Value, json};

use crate::world::VmState;

pub(crate) fn shielded_identity(vm: &VmState) -> Value {
    let mut value = Map::new();
    value.insert("kind".into(), json!("compute#shieldedInstanceIdentity"));
    let key = |pub_pem: &Option<String>, cert_pem: &Option<String>| -> Option<Value> {
        let pub_pem = pub_pem.as_ref()?;
        let mut key = Map::new();
        if let Some(cert) = cert_pem {
            key.insert("ekCert".into(), json!(cert));
        }
        key.insert("ekPub".into(), json!(pub_pem));
        Some(Value::Object(key))
    };
    if let Some(signing) = key(&vm.spec.signing_key_pem, &vm.spec.signing_key_cert_pem) {
        value.insert("signingKey".into(), signing);
    }
    if let Some(encryption) = key(&vm.ek_pem, &vm.ek_cert_pem) {
        value.insert("encryptionKey".into(), encryption);
    }
    Value::Object(value)
}
