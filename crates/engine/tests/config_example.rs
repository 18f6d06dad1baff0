//! The documented examples parse: `config.example.toml` at the repository root, so the configuration reference
//! cannot drift from the code.

use std::path::Path;

#[test]
fn config_example_parses_and_resolves_paths() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config.example.toml");
    let config = engine::EngineConfig::load(&path).expect("config.example.toml parses");
    assert!(config.policy.ends_with("policy.toml") && config.policy.is_absolute());
    assert!(config.store.url.starts_with("sqlite:///"), "{}", config.store.url);
    assert_eq!(config.connection.as_ref().expect("[connection]").cloud, model::NationalCloud::Global);
    assert!(config.vault.master_key_file.as_ref().is_some_and(|file| file.is_absolute()));
    assert_eq!(config.server.public_base_url(), "https://tenure.example.com");
    assert_eq!(
        config.provider_app.as_ref().map(|app| app.client_id.as_str()),
        Some("00000000-0000-0000-0000-000000000000")
    );
    assert_eq!(config.apply.max_concurrency, 4);
    assert_eq!(config.apply.mailbox_wait_seconds, 900);
}

#[test]
fn unknown_keys_are_refused_with_the_file_named() {
    let error = engine::EngineConfig::parse(Path::new("/etc/tenure.toml"), "polcy = 'x'\n").expect_err("refused");
    let text = error.to_string();
    assert!(text.contains("/etc/tenure.toml") && text.contains("polcy"), "{text}");
}
