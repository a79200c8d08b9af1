//! `seedc lsp` in process (issue 25): live diagnostics of unsaved buffers, across files,
//! never stale; positions in UTF-16 and UTF-8; navigation, completion, rename, quick fixes;
//! a panicking handler; the ways the server ends. The harness is `lsp_support`.

use lsp_types::request as req;
use lsp_types::*;
use seedc::lsp::Ended;

use crate::lsp_support::{Client, apply, utf16_position};
use crate::support::Root;

const ENEMIES: &str = "data/seeds/enemies.json";
const ITEMS: &str = "data/seeds/items.json";
const BOSSES: &str = "data/seeds/bosses.json";

#[test]
fn an_unsaved_edit_gives_its_diagnostic_at_the_exact_range() {
    let mut client = Client::start();
    client.open(ENEMIES);
    let text = client.texts[ENEMIES].replacen("\"hp\": 12,", "\"hp\": 0,", 1);
    let version = client.change(ENEMIES, &text);
    let d = client.wait_code(ENEMIES, "schema-violation");
    let at = text.find("\"hp\": 0,").unwrap() + "\"hp\": ".len();
    let start = utf16_position(&text, at);
    assert_eq!(d.range, Range::new(start, Position::new(start.line, start.character + 1)));
    assert_eq!(d.severity, Some(DiagnosticSeverity::ERROR));
    assert!(d.message.starts_with("0 is less than the minimum of 1"), "{}", d.message);
    let last = client.history.iter().rev().find(|p| p.uri == client.uri(ENEMIES)).unwrap();
    assert_eq!(last.version, Some(version));
    assert!(client.root.read(ENEMIES).contains("\"hp\": 12,"), "the file on disk is untouched");
    client.shutdown();
}

#[test]
fn removing_an_id_lights_up_other_files_until_it_comes_back() {
    let mut client = Client::start();
    client.open(ITEMS);
    let original = client.texts[ITEMS].clone();
    client.change(ITEMS, &original.replacen("\"id\": \"iron_sword\"", "\"id\": \"iron_swordx\"", 1));
    // Bosses is not open: its diagnostics come all the same.
    let d = client.wait_code(BOSSES, "dangling-reference");
    assert!(d.message.contains("iron_sword"), "{}", d.message);
    client.wait_code(ENEMIES, "dangling-reference");
    client.change(ITEMS, &original);
    client.wait(BOSSES, <[Diagnostic]>::is_empty);
    client.wait(ENEMIES, <[Diagnostic]>::is_empty);
    client.wait(ITEMS, <[Diagnostic]>::is_empty);
    client.shutdown();
}

#[test]
fn a_result_older_than_the_latest_edit_is_never_published() {
    let mut client = Client::start();
    client.open(ENEMIES);
    let original = client.texts[ENEMIES].clone();
    let mut last = 0;
    for k in 1..=12 {
        last = client.change(ENEMIES, &original.replacen("\"hp\": 12,", &format!("\"hp\": -{k},"), 1));
    }
    client.wait(ENEMIES, |ds| ds.iter().any(|d| d.message.starts_with(&format!("-{} is less", last - 1))));
    let uri = client.uri(ENEMIES);
    let mut seen = 0;
    for p in client.history.iter().filter(|p| p.uri == uri) {
        let version = p.version.expect("an open buffer's version");
        assert!(version >= seen, "a publish for version {version} after one for {seen}");
        seen = version;
        if version > 1 {
            let wanted = format!("-{} is less", version - 1);
            assert!(
                p.diagnostics.iter().any(|d| d.message.starts_with(&wanted)),
                "version {version} published another edit's result: {:?}",
                p.diagnostics
            );
        }
    }
    assert_eq!(seen, last);
    client.shutdown();
}

#[test]
fn ranges_after_an_emoji_count_utf16_units_or_bytes_as_negotiated() {
    for encodings in [&[][..], &["utf-8", "utf-16"][..]] {
        let mut client = Client::start_with(Root::sample(), encodings);
        client.open(ENEMIES);
        let from = "\"name\": \"Goblin Scout\",\n      \"hp\": 12,";
        let text = client.texts[ENEMIES].replacen(from, "\"name\": \"Goblin 🐉 Scout\", \"hp\": 0,", 1);
        client.change(ENEMIES, &text);
        let d = client.wait_code(ENEMIES, "schema-violation");
        let at = text.find("\"hp\": 0,").unwrap() + "\"hp\": ".len();
        let line_start = text[..at].rfind('\n').unwrap() + 1;
        let character = if encodings.is_empty() { text[line_start..at].encode_utf16().count() } else { at - line_start };
        assert_ne!(character, text[line_start..at].chars().count(), "the emoji is counted apart from characters");
        assert_eq!(d.range.start, Position::new(utf16_position(&text, at).line, character as u32), "{encodings:?}");
        assert_eq!(d.range.end.character, character as u32 + 1);
        client.shutdown();
    }
}

#[test]
fn incremental_changes_apply_in_utf16() {
    let mut client = Client::start();
    client.open(ENEMIES);
    let text = client.texts[ENEMIES].replacen("\"Goblin Scout\"", "\"Goblin 🐉 Scout\"", 1);
    client.change(ENEMIES, &text);
    // Replace the 12 of hp, on the line after the emoji, by range.
    let start = client.find(ENEMIES, "\"hp\": 12", 0, "\"hp\": ".len());
    let range = Range::new(start, Position::new(start.line, start.character + 2));
    let expected = text.replacen("\"hp\": 12", "\"hp\": 0", 1);
    client.change_range(ENEMIES, range, "0", &expected);
    let d = client.wait_code(ENEMIES, "schema-violation");
    assert_eq!(d.range.start, start);
    client.shutdown();
}

#[test]
fn definition_references_and_hover_follow_a_reference() {
    let mut client = Client::start();
    let at = client.find(BOSSES, "\"iron_sword\"", 0, 3);
    let def = client.request::<req::GotoDefinition>(GotoDefinitionParams {
        text_document_position_params: client.at(BOSSES, at),
        work_done_progress_params: Default::default(),
        partial_result_params: Default::default(),
    });
    let Some(GotoDefinitionResponse::Scalar(location)) = def else { panic!("{def:?}") };
    assert_eq!(location.uri, client.uri(ITEMS));
    let key = client.find(ITEMS, "\"id\": \"iron_sword\"", 0, "\"id\": ".len());
    assert_eq!(location.range.start, key);

    // From the definition: every reference, and the definition itself.
    let refs = client
        .request::<req::References>(ReferenceParams {
            text_document_position: client.at(ITEMS, Position::new(key.line, key.character + 2)),
            context: ReferenceContext { include_declaration: true },
            work_done_progress_params: Default::default(),
            partial_result_params: Default::default(),
        })
        .unwrap();
    let mut files: Vec<String> = refs.iter().map(|l| l.uri.as_str().rsplit('/').next().unwrap().to_owned()).collect();
    files.sort();
    assert_eq!(files, ["bosses.json", "classes.json", "enemies.json", "items.json"]);

    let hover = client.request::<req::HoverRequest>(HoverParams {
        text_document_position_params: client.at(BOSSES, at),
        work_done_progress_params: Default::default(),
    });
    let HoverContents::Markup(markup) = hover.unwrap().contents else { panic!("markdown") };
    assert!(markup.value.contains("**items** `iron_sword`") && markup.value.contains("\"name\": \"Iron Sword\""), "{}", markup.value);

    let symbols = client.request::<req::DocumentSymbolRequest>(DocumentSymbolParams {
        text_document: TextDocumentIdentifier { uri: client.uri(ITEMS) },
        work_done_progress_params: Default::default(),
        partial_result_params: Default::default(),
    });
    let Some(DocumentSymbolResponse::Nested(symbols)) = symbols else { panic!("{symbols:?}") };
    assert_eq!(symbols.len(), 23);
    assert!(symbols.iter().any(|s| s.name == "iron_sword" && s.selection_range.start == key));

    let found = client.request::<req::WorkspaceSymbolRequest>(WorkspaceSymbolParams {
        query: "goblin".to_owned(),
        work_done_progress_params: Default::default(),
        partial_result_params: Default::default(),
    });
    // A symbol with a full location reads back as the flat form: the same fields.
    let found: Vec<(String, Option<String>)> = match found {
        Some(WorkspaceSymbolResponse::Flat(found)) => found.into_iter().map(|s| (s.name, s.container_name)).collect(),
        Some(WorkspaceSymbolResponse::Nested(found)) => found.into_iter().map(|s| (s.name, s.container_name)).collect(),
        None => Vec::new(),
    };
    assert!(found.contains(&("goblin_scout".to_owned(), Some("enemies".to_owned()))), "{found:?}");
    assert!(found.iter().all(|(name, _)| name.contains("goblin")), "{found:?}");
    client.shutdown();
}

#[test]
fn completion_offers_only_the_ids_of_the_referenced_collection() {
    let mut client = Client::start();
    client.open(BOSSES);
    let text = client.texts[BOSSES].replacen("\"item\": \"iron_sword\"", "\"item\": \"\"", 1);
    client.change(BOSSES, &text);
    let at = client.find(BOSSES, "\"item\": \"\"", 0, "\"item\": \"".len());
    let labels = complete(&mut client, BOSSES, at);
    let items = client.root.read(ITEMS).matches("\n      \"id\": ").count();
    assert_eq!(labels.len(), items, "{labels:?}");
    assert!(labels.contains(&"iron_sword".to_owned()) && !labels.contains(&"fire".to_owned()), "{labels:?}");

    // Where a member name of a record goes: the fields of its schema.
    client.open(ENEMIES);
    let text = client.texts[ENEMIES].replacen("\"hp\": 12,", "\"hp\": 12, \"\"", 1);
    client.change(ENEMIES, &text);
    let at = client.find(ENEMIES, "\"hp\": 12, \"\"", 0, "\"hp\": 12, \"".len());
    let fields = complete(&mut client, ENEMIES, at);
    assert!(fields.contains(&"attack".to_owned()) && fields.contains(&"drops".to_owned()), "{fields:?}");
    client.shutdown();
}

fn complete(client: &mut Client, rel: &str, at: Position) -> Vec<String> {
    let params = CompletionParams {
        text_document_position: client.at(rel, at),
        work_done_progress_params: Default::default(),
        partial_result_params: Default::default(),
        context: None,
    };
    match client.request::<req::Completion>(params) {
        Some(CompletionResponse::Array(items)) => items.into_iter().map(|i| i.label).collect(),
        other => panic!("{other:?}"),
    }
}

#[test]
#[allow(clippy::mutable_key_type)] // lsp-types keys a WorkspaceEdit by Uri
fn rename_edits_every_file_and_refuses_a_taken_or_invalid_id() {
    let mut client = Client::start();
    let at = client.find(BOSSES, "\"iron_sword\"", 0, 2);
    let rename = |client: &mut Client, name: &str| {
        let params = RenameParams {
            text_document_position: client.at(BOSSES, at),
            new_name: name.to_owned(),
            work_done_progress_params: Default::default(),
        };
        client.call::<Option<WorkspaceEdit>>("textDocument/rename", serde_json::to_value(params).unwrap())
    };
    let taken = rename(&mut client, "health_potion").unwrap_err();
    assert!(taken.message.contains("already has a record \"health_potion\""), "{}", taken.message);
    let invalid = rename(&mut client, "Iron Sword").unwrap_err();
    assert!(invalid.message.contains("not a valid key"), "{}", invalid.message);

    let edit = rename(&mut client, "steel_sword").unwrap().unwrap();
    let changes = edit.changes.unwrap();
    assert_eq!(changes.len(), 4, "{changes:?}");
    for (uri, edits) in &changes {
        let rel = &uri.as_str()[client.uri("").as_str().len()..];
        let renamed = apply(&client.root.read(rel), edits);
        assert!(!renamed.contains("\"iron_sword\"") && renamed.contains("\"steel_sword\""), "{rel}");
        client.root.write(rel, renamed);
    }
    let (_, sink) = crate::support::check(client.root.path(), seedc::check::Mode::Verdict).unwrap();
    let codes: Vec<&str> = sink.iter().map(|d| d.code.name()).collect();
    assert!(codes.iter().all(|c| *c == "version-not-bumped"), "{codes:?}");
    client.shutdown();
}

#[test]
fn each_quick_fix_gives_a_buffer_that_checks_clean() {
    let mut client = Client::start();
    client.open(ENEMIES);
    client.open(BOSSES);
    // Balance changed without a version bump.
    let text = client.texts[ENEMIES].replacen("\"hp\": 12,", "\"hp\": 13,", 1);
    client.change(ENEMIES, &text);
    let d = client.wait_code(ENEMIES, "version-not-bumped");
    fix(&mut client, ENEMIES, d);
    client.wait(ENEMIES, <[Diagnostic]>::is_empty);
    assert!(client.texts[ENEMIES].contains("\"version\": \"1.3.1\""));

    // A misspelt reference, with a did-you-mean.
    let text = client.texts[BOSSES].replacen("\"item\": \"iron_sword\"", "\"item\": \"iron_swrd\"", 1);
    client.change(BOSSES, &text);
    let d = client.wait_code(BOSSES, "dangling-reference");
    fix(&mut client, BOSSES, d);
    client.wait(BOSSES, <[Diagnostic]>::is_empty);
    assert_eq!(client.texts[BOSSES], client.root.read(BOSSES));
    client.shutdown();
}

/// Asks for the quick fixes of `d`, applies the one there is to the buffer.
fn fix(client: &mut Client, rel: &str, d: Diagnostic) {
    let params = CodeActionParams {
        text_document: TextDocumentIdentifier { uri: client.uri(rel) },
        range: d.range,
        context: CodeActionContext { diagnostics: vec![d.clone()], only: None, trigger_kind: None },
        work_done_progress_params: Default::default(),
        partial_result_params: Default::default(),
    };
    let actions = client.request::<req::CodeActionRequest>(params).unwrap();
    let [CodeActionOrCommand::CodeAction(action)] = actions.as_slice() else { panic!("one fix: {actions:?}") };
    assert!(action.diagnostics.as_ref().unwrap().iter().any(|x| x.code == d.code));
    let edits = &action.edit.as_ref().unwrap().changes.as_ref().unwrap()[&client.uri(rel)];
    let fixed = apply(&client.texts[rel], edits);
    client.change(rel, &fixed);
}

#[test]
fn a_panicking_handler_is_answered_with_an_error_and_the_server_goes_on() {
    let mut client = Client::start();
    let err = client.call::<serde_json::Value>("seedc/panic", serde_json::Value::Null).unwrap_err();
    assert_eq!(err.code, lsp_server::ErrorCode::InternalError as i32);
    assert!(err.message.contains("seedc/panic"), "{}", err.message);
    let at = client.find(BOSSES, "\"iron_sword\"", 0, 3);
    let hover = client.request::<req::HoverRequest>(HoverParams {
        text_document_position_params: client.at(BOSSES, at),
        work_done_progress_params: Default::default(),
    });
    assert!(hover.is_some());
    client.shutdown();
}

#[test]
fn the_server_ends_on_exit_and_when_the_client_goes_away() {
    let mut client = Client::start();
    client.notify("exit", serde_json::Value::Null);
    assert_eq!(client.join(), Ended::ExitWithoutShutdown);

    let mut client = Client::start();
    let (_, closed) = lsp_server::Connection::memory();
    let live = std::mem::replace(client.connection(), closed);
    drop(live);
    assert_eq!(client.join(), Ended::Disconnected);
}
