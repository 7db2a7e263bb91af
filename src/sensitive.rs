//! Option fields that carry secrets, as serde types: [`Sensitive`] (only a [`Secret`] may
//! fill it: a password) and [`SecretOr`] (a plain value or a secret: an env value, stdin).
//!
//! A secret cannot pass through serde as text without being copied into places that print
//! it. So whoever deserializes options with secrets in them first puts each secret in a
//! vault ([`with_secrets`]) and leaves a token in its place; these two types take their
//! secret back out of the vault by that token. A secret that no field of these types took
//! was given to a field that would have shown it: that is an error naming the key.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};

use crate::secret::Secret;

/// Marks a vault token; no text a user types holds it.
const TOKEN: &str = "\u{0}hoist-secret:";

/// A field only a secret may fill (`password: secret_env("PW")`): a plain string there would
/// sit in the script and in every output that quotes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Sensitive(pub Secret);

/// A field that takes a plain value or a secret (`env: #{TAG: "1.2", TOKEN: secret(..)}`).
#[derive(Clone, Debug, PartialEq)]
pub enum SecretOr {
    Plain(String),
    Secret(Secret),
}

impl SecretOr {
    /// As a secret either way (a plain value is hidden too, from here on).
    pub fn into_secret(self) -> Secret {
        match self {
            SecretOr::Plain(s) => Secret::new(s),
            SecretOr::Secret(s) => s,
        }
    }
}

struct Vault {
    /// Each secret with the key path it was given at (`env.TOKEN`) and whether a field took it.
    entries: Vec<(String, Secret, bool)>,
}

thread_local! {
    static VAULT: RefCell<Option<Vault>> = const { RefCell::new(None) };
}

/// Run `deserialize` with `secrets` in the vault (each with its key path, in the order of
/// their tokens, see [`token`]); an error if one of them was not taken by a secret field.
pub fn with_secrets<T, E: fmt::Display>(
    secrets: Vec<(String, Secret)>,
    deserialize: impl FnOnce() -> Result<T, E>,
) -> Result<T, String> {
    let vault = Vault {
        entries: secrets.into_iter().map(|(k, s)| (k, s, false)).collect(),
    };
    let outer = VAULT.with(|v| v.borrow_mut().replace(vault));
    let result = deserialize();
    let vault = VAULT.with(|v| std::mem::replace(&mut *v.borrow_mut(), outer));
    let value = result.map_err(|e| e.to_string())?;
    if let Some((key, ..)) = vault.and_then(|v| v.entries.into_iter().find(|(.., taken)| !taken)) {
        return Err(format!(
            "`{key}` cannot hold a secret (it would be shown); secrets go into env, stdin or a password"
        ));
    }
    Ok(value)
}

/// The text that stands for the `i`-th secret given to [`with_secrets`].
pub fn token(i: usize) -> String {
    format!("{TOKEN}{i}")
}

/// The secret a token stands for (marked as taken), `None` for any other text.
fn claim(text: &str) -> Option<Secret> {
    let i: usize = text.strip_prefix(TOKEN)?.parse().ok()?;
    VAULT.with(|v| {
        let mut v = v.borrow_mut();
        let entry = v.as_mut()?.entries.get_mut(i)?;
        entry.2 = true;
        Some(entry.1.clone())
    })
}

/// Accepts what a script writes for a text: a string, a number, a bool.
struct TextVisitor;

impl Visitor<'_> for TextVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string or a secret")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_char<E: de::Error>(self, v: char) -> Result<String, E> {
        Ok(v.to_string())
    }
}

impl<'de> Deserialize<'de> for SecretOr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = d.deserialize_any(TextVisitor)?;
        Ok(match claim(&text) {
            Some(s) => SecretOr::Secret(s),
            None => SecretOr::Plain(text),
        })
    }
}

impl<'de> Deserialize<'de> for Sensitive {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = d.deserialize_any(TextVisitor)?;
        match claim(&text) {
            Some(s) => Ok(Sensitive(s)),
            None => Err(de::Error::custom(
                "this must be a secret: write secret(..), secret_env(..), secret_file(..) or secret_cmd(..), not a plain value",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Opts {
        password: Option<Sensitive>,
        #[serde(default)]
        env: std::collections::BTreeMap<String, SecretOr>,
        user: Option<String>,
    }

    fn read(v: serde_json::Value, secrets: Vec<(&str, &str)>) -> Result<Opts, String> {
        let secrets = secrets
            .into_iter()
            .map(|(k, s)| (k.to_string(), Secret::new(s)))
            .collect();
        with_secrets(secrets, || serde_json::from_value::<Opts>(v))
    }

    #[test]
    fn secrets_come_back_from_the_vault_by_their_tokens() {
        let o = read(
            serde_json::json!({"password": token(0), "env": {"A": "plain", "B": token(1), "N": 5}}),
            vec![("password", "pw"), ("env.B", "b-secret")],
        )
        .unwrap();
        assert_eq!(o.password, Some(Sensitive(Secret::new("pw"))));
        assert_eq!(o.env["A"], SecretOr::Plain("plain".into()));
        assert_eq!(o.env["B"], SecretOr::Secret(Secret::new("b-secret")));
        assert_eq!(o.env["N"], SecretOr::Plain("5".into()));
    }

    #[test]
    fn a_plain_password_is_refused() {
        let e = read(serde_json::json!({"password": "hunter2"}), vec![]).unwrap_err();
        assert!(e.contains("must be a secret"), "{e}");
    }

    #[test]
    fn a_secret_where_it_would_be_shown_is_refused_by_its_key() {
        let e = read(serde_json::json!({"user": token(0)}), vec![("user", "x")]).unwrap_err();
        assert!(e.contains("`user` cannot hold a secret"), "{e}");
    }

    #[test]
    fn a_token_outside_the_vault_is_plain_text() {
        let o = serde_json::from_value::<Opts>(serde_json::json!({"env": {"A": token(0)}}));
        assert_eq!(o.unwrap().env["A"], SecretOr::Plain(token(0)));
    }
}
