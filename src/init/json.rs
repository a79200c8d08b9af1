//! A JSON value that keeps its object members in the order they were written: what `seedc
//! init` reads records into (so a guessed schema lists fields as the data does) and writes
//! its schemas from. serde_json's own `Value` sorts members, as seedc does not enable its
//! `preserve_order` feature for this one command.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    /// An integer as written (no fraction, no exponent) that fits 64 bits.
    Integer(serde_json::Number),
    /// Any other number.
    Float(serde_json::Number),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    pub(crate) fn str(text: impl Into<String>) -> Json {
        Json::String(text.into())
    }

    /// The text of a schema file, for people to read and edit: two-space indents, and a
    /// value that fits in the line (`{ "type": "integer" }`, a short `enum`) kept on it.
    pub(crate) fn to_pretty(&self) -> String {
        let mut out = String::new();
        self.write_pretty(&mut out, 0);
        out.push('\n');
        out
    }

    fn write_pretty(&self, out: &mut String, indent: usize) {
        let compact = self.compact();
        let (members, open, close): (Vec<(Option<&str>, &Json)>, char, char) = match self {
            Json::Array(items) if !items.is_empty() => (items.iter().map(|v| (None, v)).collect(), '[', ']'),
            Json::Object(members) if !members.is_empty() => (members.iter().map(|(k, v)| (Some(k.as_str()), v)).collect(), '{', '}'),
            _ => return out.push_str(&compact),
        };
        if indent + compact.chars().count() <= LINE {
            return out.push_str(&compact);
        }
        out.push(open);
        for (i, (name, value)) in members.iter().enumerate() {
            out.push_str(if i == 0 { "\n" } else { ",\n" });
            out.push_str(&" ".repeat(indent + 2));
            if let Some(name) = name {
                out.push_str(&serde_json::to_string(name).expect("a string serializes"));
                out.push_str(": ");
            }
            value.write_pretty(out, indent + 2);
        }
        out.push('\n');
        out.push_str(&" ".repeat(indent));
        out.push(close);
    }

    /// On one line, with a space after each `:` and `,` and inside braces.
    fn compact(&self) -> String {
        let quote = |s: &str| serde_json::to_string(s).expect("a string serializes");
        match self {
            Json::Array(items) if !items.is_empty() => format!("[{}]", items.iter().map(Json::compact).collect::<Vec<_>>().join(", ")),
            Json::Object(members) if !members.is_empty() => {
                format!("{{ {} }}", members.iter().map(|(k, v)| format!("{}: {}", quote(k), v.compact())).collect::<Vec<_>>().join(", "))
            }
            _ => serde_json::to_string(self).expect("a Json value always serializes"),
        }
    }
}

/// The width a value may take on one line of a schema file.
const LINE: usize = 88;

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => s.serialize_unit(),
            Json::Bool(b) => s.serialize_bool(*b),
            Json::Integer(n) | Json::Float(n) => n.serialize(s),
            Json::String(text) => s.serialize_str(text),
            Json::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Json::Object(members) => {
                let mut map = s.serialize_map(Some(members.len()))?;
                for (k, v) in members {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Json, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Json, E> {
        Ok(Json::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Json, E> {
        Ok(Json::Integer(n.into()))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Json, E> {
        Ok(Json::Integer(n.into()))
    }
    fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Json, E> {
        serde_json::Number::from_f64(n).map(Json::Float).ok_or_else(|| E::custom("not a finite number"))
    }
    fn visit_str<E>(self, text: &str) -> Result<Json, E> {
        Ok(Json::String(text.to_owned()))
    }
    fn visit_string<E>(self, text: String) -> Result<Json, E> {
        Ok(Json::String(text))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut members = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Json>()? {
            members.push((k, v));
        }
        Ok(Json::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::Json;

    #[test]
    fn members_keep_their_order_and_numbers_their_kind() {
        let value: Json = serde_json::from_str(r#"{"z": 1, "a": 1.0, "m": [null, true, "x", -2]}"#).unwrap();
        let Json::Object(members) = &value else { panic!("{value:?}") };
        assert_eq!(members.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["z", "a", "m"]);
        assert!(matches!(members[0].1, Json::Integer(_)) && matches!(members[1].1, Json::Float(_)));
        assert_eq!(serde_json::to_string(&value).unwrap(), r#"{"z":1,"a":1.0,"m":[null,true,"x",-2]}"#);
    }

    #[test]
    fn pretty_text_keeps_short_values_on_one_line() {
        let long = format!(
            r#"{{"type": "object", "properties": {{"hp": {{"type": "integer"}}, "tags": {{"type": "array", "items": {{"type": "string", "enum": [{}]}}}}}}, "required": []}}"#,
            [r#""abcdefgh""#; 9].join(", ")
        );
        let value: Json = serde_json::from_str(&long).unwrap();
        let text = value.to_pretty();
        assert!(text.contains("\n    \"hp\": { \"type\": \"integer\" },\n"), "{text}");
        assert!(text.contains("\"required\": []\n}\n"), "{text}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), serde_json::from_str::<serde_json::Value>(&long).unwrap());
    }
}
