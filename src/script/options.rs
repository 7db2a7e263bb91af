//! Option maps (`h.run(cmd, #{sudo: true})`) as typed Rust structs. The keys a call takes
//! are the struct's own fields, read from its `Deserialize` impl, so `hoist doc`, REPL
//! completion and the "unknown option" error all come from one place: the type.

use rhai::Map;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};

use super::convert::options;
use super::errors::RhaiResult;

/// What an option struct takes from a script's map.
pub trait ScriptOptions: Sized + Send + Sync + 'static {
    /// The keys the map may hold, in declaration order.
    fn keys() -> Vec<&'static str>;
    /// The struct from the map (`None`: the call had no map). `what` names the call
    /// (`h.run()`) in an error.
    fn from_map(map: Option<Map>, what: &str) -> RhaiResult<Self>;
}

/// How a parameter of option type `O` is typed in a signature: `#{sudo, cwd}`, its keys.
pub fn type_of<O: ScriptOptions>() -> String {
    format!("#{{{}}}", O::keys().join(", "))
}

/// The keys of a parameter type written by [`type_of`] (Rhai's metadata drops the spaces),
/// `None` for any other type.
pub fn keys_in_type(ty: &str) -> Option<Vec<String>> {
    let inner = ty.trim().strip_prefix("#{")?.strip_suffix('}')?;
    Some(
        inner
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

/// Every plain serde option struct (`deny_unknown_fields`, the defaults `Default`'s) is one:
/// a primitive's option struct, declared in the core beside it, needs nothing here. A type
/// that is read from another shape (`ExecOpts`, `ComposeOptions`) implements it by hand.
impl<T: DeserializeOwned + Default + Send + Sync + 'static> ScriptOptions for T {
    fn keys() -> Vec<&'static str> {
        field_names::<T>().to_vec()
    }
    fn from_map(map: Option<Map>, what: &str) -> RhaiResult<Self> {
        options(map, what)
    }
}

/// The field names of a struct, as its derived `Deserialize` declares them (empty for a
/// type that is no struct). serde hands them to `deserialize_struct`; this deserializer
/// keeps them and stops.
pub fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut probe = FieldProbe(&[]);
    let _ = T::deserialize(&mut probe);
    probe.0
}

struct FieldProbe(&'static [&'static str]);

impl<'de> Deserializer<'de> for &mut FieldProbe {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        self.0 = fields;
        Err(de::Error::custom("fields read"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        #[serde(default)]
        sudo: bool,
        #[serde(default, rename = "cwd")]
        _dir: Option<String>,
    }

    #[test]
    fn field_names_are_the_keys_a_map_may_hold() {
        assert_eq!(field_names::<Sample>(), ["sudo", "cwd"]);
        assert!(field_names::<String>().is_empty());
    }

    #[test]
    fn the_keys_of_an_option_type_read_back_from_its_signature() {
        assert_eq!(type_of::<Sample>(), "#{sudo, cwd}");
        assert_eq!(keys_in_type("#{sudo,cwd}").unwrap(), ["sudo", "cwd"]);
        assert_eq!(keys_in_type("#{}").unwrap(), Vec::<String>::new());
        assert_eq!(keys_in_type("Map"), None);
    }

    #[derive(Debug, Default, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct NoOptions {}

    #[test]
    fn no_options_refuses_any_key() {
        let mut m = Map::new();
        m.insert("sudo".into(), true.into());
        let e = match *NoOptions::from_map(Some(m), "x.y()").unwrap_err() {
            rhai::EvalAltResult::ErrorRuntime(v, _) => v.cast::<crate::error::Error>().to_string(),
            other => panic!("not a hoist error: {other}"),
        };
        assert!(e.contains("sudo"), "{e}");
        assert!(NoOptions::from_map(Some(Map::new()), "x.y()").is_ok());
    }
}
