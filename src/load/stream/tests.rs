//! Tests of the scan of a seed file read a block at a time.

use super::*;

/// The records and members of `text` scanned `piece` bytes at a time, as the loader
/// reads it; None when the scan leaves the file to the whole-text path.
fn scan(text: &str, piece: usize) -> Option<(Vec<&str>, Vec<Member>)> {
    let mut scan = Scan::default();
    let (mut buf, mut base, mut records) = (Vec::new(), 0, Vec::new());
    let mut pieces = text.as_bytes().chunks(piece);
    loop {
        let next = pieces.next();
        buf.extend_from_slice(next.unwrap_or_default());
        scan.advance(&buf, base, next.is_none(), 1 << 20)?;
        records.extend(scan.records.drain(..).map(|r| &text[base + r.start..base + r.end]));
        if next.is_none() {
            break;
        }
        let keep = scan.keep_from();
        buf.drain(..keep);
        base += keep;
        scan.shift(keep);
    }
    (scan.at == At::End && scan.data).then_some((records, scan.members))
}

#[test]
fn records_and_members_are_found_whatever_the_pieces() {
    let text = "{ \"$schema\" : \"../s.json\",\n \"data\": [ {\"id\":\"a\",\"t\":[1,{\"x\":\"]}\\\"\"}]} ,\n\t\"str\\\\\", 12.5e3 ,true,[],{}],\n\"version\" :{\"v\": [\"1\"]}}\n";
    let want = vec![r#"{"id":"a","t":[1,{"x":"]}\""}]}"#, r#""str\\""#, "12.5e3", "true", "[]", "{}"];
    for piece in [1, 2, 3, 7, 64, text.len()] {
        let (records, members) = scan(text, piece).unwrap_or_else(|| panic!("piece {piece}"));
        assert_eq!(records, want, "piece {piece}");
        let members: Vec<_> = members.iter().map(|(k, v, at)| (k.as_str(), v.as_str(), &text[*at..*at + v.len()])).collect();
        assert_eq!(members, [("$schema", "\"../s.json\"", "\"../s.json\""), ("version", "{\"v\": [\"1\"]}", "{\"v\": [\"1\"]}")]);
    }
}

/// Long values, with quotes, backslashes and brackets of both kinds in their strings at
/// every offset a read can cut them at: cut where serde_json cuts them.
#[test]
fn long_values_are_cut_where_the_parser_cuts_them() {
    let mut records = Vec::new();
    for shift in 0..70 {
        let tricky = format!("{}\\\"}}]{{[\\\\\"x{}", "a".repeat(shift), "\\".repeat(shift % 5));
        records.push(serde_json::json!({"id": shift, "s": tricky, "t": [{"u": [tricky, {"v": "}"}]}, []], "w": "\\"}));
        records.push(serde_json::json!([tricky, {"k": [1, 2, {"z": tricky}]}]));
        records.push(serde_json::json!(tricky));
    }
    let text = format!("{{\"data\": {}, \"version\": \"1.0.0\"}}", serde_json::to_string_pretty(&records).unwrap());
    let want: Vec<String> = {
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        parsed["data"].as_array().unwrap().iter().map(|v| serde_json::to_string(v).unwrap()).collect()
    };
    for piece in [1, 7, 63, 64, 65, 200, 4096, text.len()] {
        let (found, members) = scan(&text, piece).unwrap_or_else(|| panic!("piece {piece}"));
        let found: Vec<String> =
            found.iter().map(|r| serde_json::to_string(&serde_json::from_str::<serde_json::Value>(r).unwrap()).unwrap()).collect();
        assert_eq!(found, want, "piece {piece}");
        assert_eq!(members.len(), 1);
    }
}

#[test]
fn whatever_is_not_a_plain_envelope_is_left_to_the_whole_text() {
    for text in [
        "[]",
        "\u{feff}{\"data\": []}",
        "{\"data\": {}}",
        "{\"data\": [1,]}",
        "{\"data\": [1] \"version\": 1}",
        "{\"data\": [1], \"data\": [2]}",
        "{\"d\\u0061ta\": [1]}",
        "{\"data\": [1]}}",
        "{\"data\": [1]",
        "{\"data\": [\"open]}",
        "{\"version\": \"1.0.0\"}",
        "{\"data\": [1], }",
    ] {
        for piece in [1, 4, text.len()] {
            assert!(scan(text, piece).is_none(), "{text:?} in pieces of {piece}");
        }
    }
    assert!(scan("{}", 1).is_none(), "no data");
    assert!(scan(" {\"data\": [ ]} ", 1).is_some_and(|(r, m)| r.is_empty() && m.is_empty()));
}

#[test]
fn a_record_over_the_limit_stops_the_scan_before_it_is_all_read() {
    let mut scan = Scan::default();
    let text = format!("{{\"data\": [\"{}", "x".repeat(100));
    assert!(scan.advance(text.as_bytes(), 0, false, 50).is_none());
}
