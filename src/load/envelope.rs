//! A seed file's envelope: one pass over its top level that keeps every member as raw
//! text and splits `data` into raw records, without parsing any record.

use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// What the envelope visitor collects: every top-level member as raw text, with `data`
/// split into raw records (if it is an array).
#[derive(Default)]
pub(super) struct Envelope<'a> {
    pub(super) members: Vec<(String, &'a RawValue)>,
    pub(super) data: Option<Result<Vec<&'a RawValue>, &'static str>>,
    pub(super) duplicates: Vec<String>,
}

pub(super) struct EnvelopeVisitor;

impl<'de> Visitor<'de> for EnvelopeVisitor {
    type Value = Envelope<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope<'de>, A::Error> {
        let mut env = Envelope::default();
        while let Some(key) = map.next_key::<String>()? {
            let seen = key == "data" && env.data.is_some() || env.members.iter().any(|(k, _)| *k == key);
            if key == "data" {
                let data = map.next_value::<DataField>()?.0;
                if !seen {
                    env.data = Some(data);
                }
            } else {
                let raw = map.next_value::<&RawValue>()?;
                if !seen {
                    env.members.push((key.clone(), raw));
                }
            }
            if seen {
                env.duplicates.push(key);
            }
        }
        Ok(env)
    }
}

struct DataField<'a>(Result<Vec<&'a RawValue>, &'static str>);

impl<'de: 'a, 'a> de::Deserialize<'de> for DataField<'a> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DataField<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::new();
                while let Some(raw) = seq.next_element::<&'de RawValue>()? {
                    items.push(raw);
                }
                Ok(DataField(Ok(items)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(DataField(Err("an object")))
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(DataField(Err("a string")))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(DataField(Err("a boolean")))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(DataField(Err("a number")))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(DataField(Err("a number")))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(DataField(Err("a number")))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(DataField(Err("null")))
            }
        }
        deserializer.deserialize_any(V)
    }
}

pub(super) fn offset_in(text: &str, raw: &RawValue) -> usize {
    raw.get().as_ptr() as usize - text.as_ptr() as usize
}
