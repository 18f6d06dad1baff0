//! Sealing secrets at rest, through the public API: a sealed secret opens only with its key and in its place,
//! rotation keeps old ciphertexts readable while the old key is in the ring, errors point at the missing key
//! without showing key text, and the key file is written private and whole.

use model::Secret;
use vault::{MasterKeyRing, SealedSecret};

const CONTEXT: &str = "connection:7:refresh_token";

fn key_lines(text: &Secret) -> Vec<String> {
    text.expose().lines().filter(|line| !line.starts_with('#') && !line.trim().is_empty()).map(str::to_owned).collect()
}

#[test]
fn a_sealed_secret_opens_with_its_context_and_hides_the_plaintext() {
    let (ring, _) = MasterKeyRing::generate();
    let secret = Secret::new("0.AXoA-refresh-token-with-some-length");
    let sealed = ring.seal(&secret, CONTEXT);
    assert_eq!(sealed.key_id, ring.current_key_id());
    assert!(!sealed.ciphertext.contains("refresh"));
    assert_eq!(ring.open(&sealed, CONTEXT).unwrap(), secret);
    let empty = ring.seal(&Secret::new(""), CONTEXT);
    assert_eq!(ring.open(&empty, CONTEXT).unwrap().expose(), "");
}

#[test]
fn a_secret_moved_to_another_place_does_not_open() {
    let (ring, _) = MasterKeyRing::generate();
    let sealed = ring.seal(&Secret::new("client-secret-value"), CONTEXT);
    for other in ["connection:8:refresh_token", "connection:7:client_secret", "oauth_state:abc", ""] {
        let error = ring.open(&sealed, other).unwrap_err().to_string();
        assert!(error.contains("does not open") && error.contains(sealed.key_id.as_str()), "{error}");
        assert!(!error.contains("client-secret-value"), "{error}");
    }
}

#[test]
fn every_altered_byte_of_a_ciphertext_is_detected() {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::STANDARD;
    let (ring, _) = MasterKeyRing::generate();
    let sealed = ring.seal(&Secret::new("private key pem"), CONTEXT);
    let bytes = engine.decode(&sealed.ciphertext).unwrap();
    for index in 0..bytes.len() {
        let mut altered = bytes.clone();
        altered[index] ^= 0x01;
        let tampered = SealedSecret { key_id: sealed.key_id.clone(), ciphertext: engine.encode(&altered) };
        let error = ring.open(&tampered, CONTEXT).unwrap_err().to_string();
        assert!(error.contains("authentication failed"), "byte {index}: {error}");
    }
    let mut truncated = bytes.clone();
    truncated.pop();
    let truncated = SealedSecret { key_id: sealed.key_id.clone(), ciphertext: engine.encode(&truncated) };
    assert!(ring.open(&truncated, CONTEXT).is_err());
}

#[test]
fn an_unknown_key_id_names_the_key_and_the_missing_older_key() {
    let (ring, _) = MasterKeyRing::generate();
    let (other, _) = MasterKeyRing::generate();
    let sealed = other.seal(&Secret::new("token"), CONTEXT);
    let error = ring.open(&sealed, CONTEXT).unwrap_err().to_string();
    assert!(error.contains(&format!("master key {}", other.current_key_id())), "{error}");
    assert!(error.contains(ring.current_key_id()), "lists the keys the ring has: {error}");
    assert!(error.contains("may be missing an older key"), "{error}");
    assert!(error.contains(CONTEXT), "{error}");

    // A forged key id with the right bytes does not open either (the other key is still needed).
    let relabelled = SealedSecret { key_id: ring.current_key_id().to_owned(), ciphertext: sealed.ciphertext };
    assert!(ring.open(&relabelled, CONTEXT).unwrap_err().to_string().contains("authentication failed"));
}

#[test]
fn after_rotation_old_secrets_open_until_the_old_key_is_dropped() {
    let (old, old_text) = MasterKeyRing::generate();
    let before = old.seal(&Secret::new("sealed before rotation"), CONTEXT);

    let (rotated, rotated_text) = old.with_new_current_key();
    assert_ne!(rotated.current_key_id(), old.current_key_id());
    assert_eq!(rotated.key_ids(), [rotated.current_key_id().to_owned(), old.current_key_id().to_owned()]);
    assert_eq!(key_lines(&rotated_text)[1], key_lines(&old_text)[0], "the old key stays, second");
    assert_eq!(rotated.open(&before, CONTEXT).unwrap().expose(), "sealed before rotation");
    let after = rotated.seal(&Secret::new("sealed after rotation"), CONTEXT);
    assert_eq!(after.key_id, rotated.current_key_id());

    // Re-sealed under the new key, the secret no longer needs the old one.
    let resealed = rotated.seal(&rotated.open(&before, CONTEXT).unwrap(), CONTEXT);
    let (new_only, new_only_text) = rotated.without_keys_except(&[]);
    assert_eq!(key_lines(&new_only_text).len(), 1);
    assert_eq!(new_only.open(&resealed, CONTEXT).unwrap().expose(), "sealed before rotation");
    assert_eq!(new_only.open(&after, CONTEXT).unwrap().expose(), "sealed after rotation");
    let error = new_only.open(&before, CONTEXT).unwrap_err().to_string();
    assert!(error.contains(old.current_key_id()) && error.contains("older key"), "{error}");
}

#[test]
fn parse_and_load_errors_never_echo_key_material() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("master.key");
    // A real key with its last characters lost, and a key of the wrong length.
    let (_, text) = MasterKeyRing::generate();
    let key = key_lines(&text).remove(0);
    let damaged = &key[..40];
    std::fs::write(&path, format!("# comment\n{damaged}\n")).unwrap();
    let error = MasterKeyRing::load_file(&path).unwrap_err().to_string();
    assert!(error.contains(&path.display().to_string()) && error.contains("line 2"), "{error}");
    assert!(!error.contains(&damaged[..12]), "{error}");

    let long = format!("{key}{key}");
    let error = MasterKeyRing::parse(&long).unwrap_err().to_string();
    assert!(!error.contains(&key[..12]), "{error}");
    let debug = format!("{:?}", MasterKeyRing::parse(&long).unwrap_err());
    assert!(!debug.contains(&key[..12]), "{debug}");
}

#[cfg(unix)]
#[test]
fn the_key_file_is_written_private_whole_and_in_place() {
    use std::os::unix::fs::PermissionsExt as _;
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("master.key");
    // An existing, world-readable file is replaced by a private one.
    std::fs::write(&path, "old contents").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();

    let (ring, text) = MasterKeyRing::generate();
    MasterKeyRing::write_file(&path, &text).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text.expose());
    assert_eq!(MasterKeyRing::load_file(&path).unwrap().key_ids(), ring.key_ids());
    let names: Vec<_> = std::fs::read_dir(folder.path()).unwrap().map(|entry| entry.unwrap().file_name()).collect();
    assert_eq!(names, ["master.key"], "no temporary file is left behind");

    // A write that cannot happen leaves the existing file as it was.
    let (_, other_text) = ring.with_new_current_key();
    let missing_folder = folder.path().join("missing").join("master.key");
    let error = MasterKeyRing::write_file(&missing_folder, &other_text).unwrap_err().to_string();
    assert!(error.contains("missing") && error.contains("cannot be written"), "{error}");
    // A rename that fails (the target is a folder) leaves no temporary file behind.
    let occupied = folder.path().join("occupied.key");
    std::fs::create_dir(&occupied).unwrap();
    std::fs::write(occupied.join("inside"), "x").unwrap();
    assert!(MasterKeyRing::write_file(&occupied, &other_text).is_err());
    let mut names: Vec<_> = std::fs::read_dir(folder.path()).unwrap().map(|entry| entry.unwrap().file_name()).collect();
    names.sort();
    assert_eq!(names, ["master.key", "occupied.key"]);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text.expose(), "the existing key file is untouched");
}
