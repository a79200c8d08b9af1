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
    /// Repeated member names, with which occurrence each repeat is (2 for the first).
    pub(super) duplicates: Vec<(String, usize)>,
    /// What the file is when it is valid JSON but not an object.
    pub(super) not_object: Option<&'static str>,
}

pub(super) struct EnvelopeVisitor;

impl<'de> Visitor<'de> for EnvelopeVisitor {
    type Value = Envelope<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope<'de>, A::Error> {
        let mut env = Envelope::default();
        // A set, not a scan of the members: 20,000 repeats of a key stay linear.
        let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        while let Some(key) = map.next_key::<String>()? {
            let count = seen.entry(key.clone()).or_insert(0);
            *count += 1;
            let occurrence = *count;
            if key == "data" {
                let data = map.next_value::<DataField>()?.0;
                if occurrence == 1 {
                    env.data = Some(data);
                }
            } else {
                let raw = map.next_value::<&RawValue>()?;
                if occurrence == 1 {
                    env.members.push((key.clone(), raw));
                }
            }
            if occurrence > 1 {
                env.duplicates.push((key, occurrence));
            }
        }
        Ok(env)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Envelope<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Envelope { not_object: Some("an array"), ..Envelope::default() })
    }

    fn visit_str<E>(self, _: &str) -> Result<Envelope<'de>, E> {
        Ok(Envelope { not_object: Some("a string"), ..Envelope::default() })
    }

    fn visit_bool<E>(self, _: bool) -> Result<Envelope<'de>, E> {
        Ok(Envelope { not_object: Some("a boolean"), ..Envelope::default() })
    }

    fn visit_i64<E>(self, _: i64) -> Result<Envelope<'de>, E> {
        Ok(Envelope { not_object: Some("a number"), ..Envelope::default() })
    }

    fn visit_u64<E>(self, _: u64) -> Result<Envelope<'de>, E> {
        Ok(Envelope { not_object: Some("a number"), ..Envelope::default() })
    }

    fn visit_f64<E>(self, _: f64) -> Result<Envelope<'de>, E> {
        Ok(Envelope { not_object: Some("a number"), ..Envelope::default() })
    }

    fn visit_unit<E>(self) -> Result<Envelope<'de>, E> {
        Ok(Envelope { not_object: Some("null"), ..Envelope::default() })
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
