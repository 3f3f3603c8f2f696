//! The node's identity key: derived from the user's e-mail address and
//! password, or, for a node without an e-mail (the key node), a random key
//! kept in a file.
//!
//! **Derivation.** The Ed25519 secret key (32 bytes) is Argon2id (RFC 9106,
//! version 0x13) of the password, with
//! - memory [`ARGON2_MEMORY_KIB`] KiB (64 MiB), [`ARGON2_PASSES`] passes,
//!   [`ARGON2_LANES`] lane: above the OWASP Password Storage Cheat Sheet's
//!   minimum for Argon2id (19 MiB, 2 passes, 1 lane);
//! - salt [`SALT_PREFIX`] followed by the e-mail address as the ID is made
//!   from it (trimmed, ASCII lower-cased): one salt per user, so the same
//!   address and password give the same key on any device, and nothing
//!   computed for one user helps against another.
//!
//! The password is read from `--password-file` (its first line), from the
//! environment variable [`PASSWORD_VARIABLE`], or, when standard input is a
//! terminal, from a prompt that does not echo; never from the command line.
//!
//! **Key file.** A node without an e-mail keeps its secret key as 64 hex
//! digits and a newline, created (mode 0600 on Unix) the first time. A file
//! that cannot be read or is not such a key stops the node with an error
//! naming it: a new key would be a new identity, so none is made over it.

use mmp2p_core::identity::Identity;
use std::fs;
use std::io::{self, IsTerminal, Write as _};
use std::path::Path;
use std::time::Instant;

/// Argon2id memory cost in KiB (64 MiB).
pub const ARGON2_MEMORY_KIB: u32 = 64 * 1024;
/// Argon2id passes over the memory.
pub const ARGON2_PASSES: u32 = 3;
/// Argon2id lanes (parallelism).
pub const ARGON2_LANES: u32 = 1;
/// What every salt starts with.
pub const SALT_PREFIX: &str = "mmp2p identity v1:";
/// The environment variable a password may come from.
pub const PASSWORD_VARIABLE: &str = "MMP2P_PASSWORD";

/// The identity of the user with `email` and `password`.
pub fn derive(email: &str, password: &[u8]) -> Identity {
    let params = argon2::Params::new(ARGON2_MEMORY_KIB, ARGON2_PASSES, ARGON2_LANES, Some(32))
        .expect("the documented Argon2id parameters are valid");
    let argon2 = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let salt = format!("{SALT_PREFIX}{}", email.trim().to_ascii_lowercase());
    let mut seed = [0u8; 32];
    argon2
        .hash_password_into(password, salt.as_bytes(), &mut seed)
        .expect("a 32-byte output and a long salt are valid");
    let identity = Identity::from_seed(seed);
    seed.fill(0);
    identity
}

/// Derives the identity of `email`, the password read from `password_file`,
/// the environment or a prompt; logs how long the derivation took.
pub fn of_user(email: &str, password_file: Option<&Path>) -> Result<Identity, String> {
    let mut password = read_password(email, password_file)?;
    let started = Instant::now();
    let identity = derive(email, password.as_bytes());
    // SAFETY-free wipe: overwrite the bytes we own before they are freed.
    password.clear();
    password.shrink_to_fit();
    tracing::info!(ms = started.elapsed().as_millis(), key = %identity.public_key(), "identity key derived");
    Ok(identity)
}

/// The password: the first line of `file`, else the environment variable,
/// else a prompt on the terminal.
fn read_password(email: &str, file: Option<&Path>) -> Result<String, String> {
    let password = if let Some(path) = file {
        let text = fs::read_to_string(path).map_err(|e| format!("password file {}: {e}", path.display()))?;
        text.lines().next().unwrap_or_default().to_owned()
    } else if let Ok(password) = std::env::var(PASSWORD_VARIABLE) {
        password
    } else if io::stdin().is_terminal() {
        rpassword::prompt_password(format!("password for {email}: "))
            .map_err(|e| format!("cannot read the password: {e}"))?
    } else {
        return Err(format!(
            "a password is needed for {email}: give --password-file PATH or set {PASSWORD_VARIABLE} \
             (standard input is not a terminal to ask on)"
        ));
    };
    if password.is_empty() {
        return Err(format!("the password for {email} is empty"));
    }
    Ok(password)
}

/// The identity kept in the key file at `path`, made and saved if the file
/// does not exist.
pub fn from_key_file(path: &Path) -> Result<Identity, String> {
    let named = |what: String| format!("identity file {}: {what}", path.display());
    match fs::read_to_string(path) {
        Ok(text) => parse_key(text.trim())
            .map(Identity::from_seed)
            .ok_or_else(|| named("not a key (64 hexadecimal digits); move it away to make a new identity".to_owned())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let seed: [u8; 32] = random_seed().map_err(|e| named(format!("no randomness for a new key: {e}")))?;
            let identity = Identity::from_seed(seed);
            write_key(path, &seed).map_err(|e| named(e.to_string()))?;
            tracing::info!(path = %path.display(), key = %identity.public_key(), "new identity key saved");
            Ok(identity)
        }
        Err(e) => Err(named(e.to_string())),
    }
}

/// 32 bytes from 64 hex digits.
pub(super) fn parse_key(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut seed = [0u8; 32];
    for (i, byte) in seed.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(seed)
}

/// 32 bytes from the operating system's random source.
fn random_seed() -> Result<[u8; 32], getrandom::Error> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed)?;
    Ok(seed)
}

/// Writes the key to a new file only its owner can read; never over an existing one.
fn write_key(path: &Path, seed: &[u8; 32]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    let hex: String = seed.iter().map(|b| format!("{b:02x}")).collect();
    writeln!(file, "{hex}")?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_address_and_password_give_the_same_key_anywhere() {
        let alice = derive("alice@example.org", b"correct horse");
        assert_eq!(derive("  Alice@Example.ORG ", b"correct horse").public_key(), alice.public_key());
        assert_ne!(derive("alice@example.org", b"correct horsf").public_key(), alice.public_key());
        assert_ne!(derive("bob@example.org", b"correct horse").public_key(), alice.public_key(), "salted per user");
    }

    #[test]
    fn a_key_file_is_made_once_and_a_corrupt_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("identity.key");
        let made = from_key_file(&path).expect("made");
        assert_eq!(from_key_file(&path).expect("read back").public_key(), made.public_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        fs::write(&path, "not a key\n").unwrap();
        let error = from_key_file(&path).unwrap_err();
        assert!(error.contains(&path.display().to_string()) && error.contains("not a key"), "{error}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "not a key\n", "a corrupt file is left as it is");
    }

    #[test]
    fn the_password_comes_from_the_file_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("password");
        fs::write(&path, "s3cret\nignored\n").unwrap();
        assert_eq!(read_password("a@b", Some(&path)).unwrap(), "s3cret");
        fs::write(&path, "\n").unwrap();
        assert!(read_password("a@b", Some(&path)).unwrap_err().contains("empty"));
        let missing = dir.path().join("missing");
        assert!(read_password("a@b", Some(&missing)).unwrap_err().contains("missing"));
    }
}
