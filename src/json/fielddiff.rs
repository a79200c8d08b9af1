//! The field-level diff of two JSON values, one for `seedc diff` and `deploy -v`: objects
//! member by member, arrays element by element (a longer one adds, a shorter one removes
//! the tail), anything else as a whole; numbers also get a signed delta and percentage.

use serde::Serialize;
use serde_json::{Number, Value};

use crate::json::pointer::Pointer;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldStatus {
    Added,
    Removed,
    Changed,
}

/// One changed value inside a record or pack.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    /// Relative to the record (or pack), e.g. `/stats/hp`.
    pub pointer: Pointer,
    pub status: FieldStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
    /// new - old, when both are numbers (exact for integers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta: Option<Number>,
    /// 100 × delta / old, rounded to two decimals; absent when old is 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percent: Option<f64>,
}

/// Every value that differs between `old` and `new`, in pointer order (members sorted).
pub(crate) fn field_changes(old: &Value, new: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    walk(&mut Pointer::root(), Some(old), Some(new), &mut out);
    out
}

/// Appends the differences between two values at `pointer` (which is restored on return).
fn walk(pointer: &mut Pointer, old: Option<&Value>, new: Option<&Value>, out: &mut Vec<FieldChange>) {
    match (old, new) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let len = pointer.len();
                pointer.push_key(key);
                walk(pointer, a.get(key), b.get(key), out);
                pointer.truncate(len);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) => {
            for i in 0..a.len().max(b.len()) {
                let len = pointer.len();
                pointer.push_index(i);
                walk(pointer, a.get(i), b.get(i), out);
                pointer.truncate(len);
            }
        }
        (Some(a), Some(b)) if a == b => {}
        (old, new) => {
            let status = match (old, new) {
                (None, _) => FieldStatus::Added,
                (_, None) => FieldStatus::Removed,
                _ => FieldStatus::Changed,
            };
            let (delta, percent) = match (old, new) {
                (Some(Value::Number(a)), Some(Value::Number(b))) => number_delta(a, b),
                _ => (None, None),
            };
            out.push(FieldChange { pointer: pointer.clone(), status, old: old.cloned(), new: new.cloned(), delta, percent });
        }
    }
}

/// new - old (an integer when both are integers and it fits), and the change in percent.
pub(crate) fn number_delta(old: &Number, new: &Number) -> (Option<Number>, Option<f64>) {
    let (Some(a), Some(b)) = (old.as_f64(), new.as_f64()) else { return (None, None) };
    let delta = match (old.as_i64(), new.as_i64()) {
        (Some(x), Some(y)) => y.checked_sub(x).map(Number::from),
        _ => None,
    }
    .or_else(|| Number::from_f64(round(b - a, 1e9)));
    let percent = (a != 0.0).then(|| round(100.0 * (b - a) / a.abs(), 100.0));
    (delta, percent)
}

/// Rounds away floating-point noise (`0.1 + 0.2`), to `1/scale`.
fn round(x: f64, scale: f64) -> f64 {
    let r = (x * scale).round() / scale;
    if r == 0.0 { 0.0 } else { r }
}

/// The form `deploy --format json` has always written: `pointer`, `old`, `new` (the absent
/// side left out), without the diff's status and delta.
pub(crate) fn serialize_plain<S: serde::Serializer>(fields: &[FieldChange], serializer: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Plain<'a> {
        pointer: &'a Pointer,
        #[serde(skip_serializing_if = "Option::is_none")]
        old: &'a Option<Value>,
        #[serde(skip_serializing_if = "Option::is_none")]
        new: &'a Option<Value>,
    }
    serializer.collect_seq(fields.iter().map(|f| Plain { pointer: &f.pointer, old: &f.old, new: &f.new }))
}

/// Reads back what [`serialize_plain`] wrote (a saved deploy plan), the status and delta
/// worked out again from `old` and `new`.
pub(crate) fn deserialize_plain<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<FieldChange>, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Plain {
        pointer: Pointer,
        #[serde(default, deserialize_with = "present")]
        old: Option<Value>,
        #[serde(default, deserialize_with = "present")]
        new: Option<Value>,
    }
    // A member that is there is a value, `null` included; only an absent one is None.
    fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
        <Value as serde::Deserialize>::deserialize(deserializer).map(Some)
    }
    let plain = <Vec<Plain> as serde::Deserialize>::deserialize(deserializer)?;
    Ok(plain
        .into_iter()
        .map(|p| {
            let status = match (&p.old, &p.new) {
                (None, _) => FieldStatus::Added,
                (_, None) => FieldStatus::Removed,
                _ => FieldStatus::Changed,
            };
            let (delta, percent) = match (&p.old, &p.new) {
                (Some(Value::Number(a)), Some(Value::Number(b))) => number_delta(a, b),
                _ => (None, None),
            };
            FieldChange { pointer: p.pointer, status, old: p.old, new: p.new, delta, percent }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn numbers_get_a_signed_delta_and_percent() {
        let (d, p) = number_delta(&Number::from(12), &Number::from(15));
        assert_eq!((d.unwrap().to_string(), p), ("3".to_owned(), Some(25.0)));
        let (d, p) = number_delta(&Number::from_f64(0.3).unwrap(), &Number::from_f64(0.1).unwrap());
        assert_eq!((d.unwrap().as_f64(), p), (Some(-0.2), Some(-66.67)));
        let (_, p) = number_delta(&Number::from(0), &Number::from(5));
        assert_eq!(p, None);
    }

    #[test]
    fn nested_changes_are_pointers() {
        let old = json!({"hp": 12, "loot": [{"item": "a"}, {"item": "b"}], "tags": {"x": 1}});
        let new = json!({"hp": 12, "loot": [{"item": "c"}], "tags": {"x": 1, "y~/": true}});
        let out = field_changes(&old, &new);
        let got: Vec<(&str, FieldStatus)> = out.iter().map(|f| (f.pointer.as_str(), f.status)).collect();
        assert_eq!(got, [("/loot/0/item", FieldStatus::Changed), ("/loot/1", FieldStatus::Removed), ("/tags/y~0~1", FieldStatus::Added)]);
    }

    #[test]
    fn field_changes_point_at_what_moved() {
        let old = json!({"id": "x", "hp": 10, "tags": ["a", "b"], "a/b": 1, "gone": true});
        let new = json!({"id": "x", "hp": 12, "tags": ["a", "c"], "a/b": 2, "added": null});
        let changes: Vec<String> = field_changes(&old, &new).iter().map(|c| c.pointer.to_string()).collect();
        assert_eq!(changes, ["/a~1b", "/added", "/gone", "/hp", "/tags/1"]);
        assert!(field_changes(&old, &old).is_empty());
    }

    #[test]
    fn the_plain_form_is_pointer_old_new() {
        let changes = field_changes(&json!({"hp": 1, "gone": 2}), &json!({"hp": 3}));
        let mut out = serde_json::Serializer::new(Vec::new());
        serialize_plain(&changes, &mut out).unwrap();
        assert_eq!(String::from_utf8(out.into_inner()).unwrap(), r#"[{"pointer":"/gone","old":2},{"pointer":"/hp","old":1,"new":3}]"#);
    }
}
