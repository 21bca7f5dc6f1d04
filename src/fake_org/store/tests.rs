use super::*;

#[test]
fn generated_store_has_valid_org_and_user_ids() {
    let store = Store::generate(&GenerateOptions::default());
    assert!(sfid::is_valid_18(store.org_id()) && store.org_id().starts_with("00D"));
    assert!(sfid::is_valid_18(store.integration_user_id()));
    assert!(store.integration_user_id().starts_with("005"));
}
