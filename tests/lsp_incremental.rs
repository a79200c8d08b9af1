//! `seedc lsp` re-checks only what an edit changed (issue 25, item 6): the edited file's own
//! problems and the references it makes come back at once, without the cross-file pass;
//! the references into it from other files follow after the pause; only files whose
//! diagnostics changed are published; a burst of edits faster than the answers ends where
//! a whole check of the same text ends. The harness is `lsp_support`.

use std::collections::BTreeMap;

use lsp_types::request as req;
use lsp_types::*;

use crate::lsp_support::{Client, has_code};
use crate::support::Root;

const ENEMIES: &str = "data/seeds/enemies.json";
const ITEMS: &str = "data/seeds/items.json";
const BOSSES: &str = "data/seeds/bosses.json";

/// Answered once the latest edit has been checked: every publish of its own check is in.
fn sync(client: &mut Client) {
    let _ = client.request::<req::WorkspaceSymbolRequest>(WorkspaceSymbolParams {
        query: "no such record".to_owned(),
        work_done_progress_params: Default::default(),
        partial_result_params: Default::default(),
    });
}

#[test]
fn a_file_local_problem_comes_back_without_the_cross_file_pass() {
    // A cross-file pass that would wait ten minutes: everything published comes from the
    // edited file's own check.
    let mut client = Client::start_delayed(Root::sample(), &[], 600_000);
    sync(&mut client);
    client.open(ITEMS);
    client.open(BOSSES);
    // In items: a schema error, and the id bosses names removed.
    let text = client.texts[ITEMS].replacen("\"id\": \"iron_sword\"", "\"id\": \"iron_swordx\"", 1).replacen(
        "\"value\": 40,",
        "\"value\": -40,",
        1,
    );
    client.change(ITEMS, &text);
    let d = client.wait_code(ITEMS, "schema-violation");
    assert!(d.message.contains("-40"), "{}", d.message);
    sync(&mut client);
    // The references into items from the other files wait for the pass.
    for rel in [BOSSES, ENEMIES, "data/seeds/classes.json"] {
        assert!(!client.history.iter().any(|p| p.uri == client.uri(rel)), "{rel}: {:?}", client.history);
    }
    // Bosses edited: the references it makes are checked by its own check, against items
    // as edited.
    let text = client.texts[BOSSES].replacen("\"item\": \"health_potion\"", "\"item\": \"health_potionx\"", 1);
    client.change(BOSSES, &text);
    let found = client.wait(BOSSES, |ds| ds.iter().filter(|d| has_code(d, "dangling-reference")).count() >= 2);
    let named = |key: &str| found.iter().any(|d| has_code(d, "dangling-reference") && d.message.contains(&format!("{key:?}")));
    assert!(named("health_potionx") && named("iron_sword"), "{found:?}");
    sync(&mut client);
    assert!(!client.history.iter().any(|p| p.uri == client.uri(ENEMIES)), "{:?}", client.history);
    client.shutdown();
}

#[test]
fn only_files_whose_diagnostics_changed_are_published() {
    let mut client = Client::start();
    sync(&mut client);
    assert!(client.history.is_empty(), "the sample is clean: {:?}", client.history);
    client.open(ENEMIES);
    let original = client.texts[ENEMIES].clone();
    client.change(ENEMIES, &original.replacen("\"hp\": 12,", "\"hp\": 0,", 1));
    client.wait_code(ENEMIES, "schema-violation");
    sync(&mut client);
    // The schema error, and the version not bumped: one publish, of enemies alone.
    assert_eq!(client.history.len(), 1, "{:?}", client.history);

    // Spaces after the last record change no diagnostic: nothing is published.
    let spaced = original.replacen("\"hp\": 12,", "\"hp\": 0,", 1).replacen("\n  ]", "\n\n  ]", 1);
    client.change(ENEMIES, &spaced);
    sync(&mut client);
    assert_eq!(client.history.len(), 1, "{:?}", client.history);

    // An id removed: items itself (version not bumped) and each file naming it.
    client.open(ITEMS);
    let items = client.texts[ITEMS].clone();
    client.change(ITEMS, &items.replacen("\"id\": \"iron_sword\"", "\"id\": \"iron_swordx\"", 1));
    client.wait_code(BOSSES, "dangling-reference");
    client.wait_code("data/seeds/classes.json", "dangling-reference");
    let enemies = client.wait(ENEMIES, |ds| ds.iter().any(|d| has_code(d, "dangling-reference"))).len();
    sync(&mut client);
    let published: Vec<String> = client.history[1..].iter().map(|p| p.uri.as_str().rsplit('/').next().unwrap().to_owned()).collect();
    let mut files = published.clone();
    files.sort();
    files.dedup();
    assert_eq!(files, ["bosses.json", "classes.json", "enemies.json", "items.json"], "{published:?}");
    assert_eq!(published.len(), 4, "each once: {published:?}");
    assert!(enemies >= 3, "enemies keeps its own problems beside the reference");

    // And back: each is published once more, the three clean ones cleared.
    client.change(ITEMS, &items);
    for rel in [BOSSES, "data/seeds/classes.json", ITEMS] {
        client.wait(rel, <[Diagnostic]>::is_empty);
    }
    client.wait(ENEMIES, |ds| !ds.iter().any(|d| has_code(d, "dangling-reference")));
    sync(&mut client);
    assert_eq!(client.history.len(), 9, "{:?}", client.history);
    client.shutdown();
}

#[test]
fn edits_faster_than_the_answers_end_where_a_whole_check_ends() {
    let mut client = Client::start();
    client.open(ITEMS);
    client.open(ENEMIES);
    let (items, enemies) = (client.texts[ITEMS].clone(), client.texts[ENEMIES].clone());
    // Ids removed and restored, hp broken and mended, a syntax error on the way, no wait.
    for k in 0..15 {
        let removed = if k % 2 == 0 { "iron_swordx" } else { "iron_sword" };
        client.change(ITEMS, &items.replacen("\"id\": \"iron_sword\"", &format!("\"id\": \"{removed}\""), 1));
        let enemy = match k % 3 {
            0 => enemies.replacen("\"hp\": 12,", &format!("\"hp\": -{k},"), 1),
            1 => enemies.replacen("\"hp\": 12,", "\"hp\": ,", 1),
            _ => enemies.replacen("\"id\": \"goblin_scout\"", "\"id\": \"cave_rat\"", 1),
        };
        client.change(ENEMIES, &enemy);
    }
    // The whole check of the same text, from disk.
    let copy = Root::sample();
    copy.write(ITEMS, &client.texts[ITEMS]);
    copy.write(ENEMIES, &client.texts[ENEMIES]);
    let (_, sink) = crate::support::check(copy.path(), seedc::check::Mode::Verdict).unwrap();
    let mut expected: BTreeMap<String, Vec<(String, u32, String)>> = BTreeMap::new();
    for d in sink.iter() {
        let line = d.span.map_or(0, |s| s.line as u32 - 1);
        let file = d.file.clone().unwrap();
        expected.entry(file).or_default().push((d.code.name().to_owned(), line, d.message.clone()));
    }
    assert!(expected.contains_key(BOSSES) && expected.contains_key(ENEMIES), "{expected:?}");
    let files = ["achievements", "bosses", "classes", "elements", "enemies", "hazards", "items", "races", "themes", "traps"];
    for name in files {
        let rel = format!("data/seeds/{name}.json");
        let mut wanted = expected.get(&rel).cloned().unwrap_or_default();
        wanted.sort();
        let as_checked = |ds: &[Diagnostic]| {
            let mut got: Vec<(String, u32, String)> = ds
                .iter()
                .map(|d| {
                    let Some(NumberOrString::String(code)) = &d.code else { panic!("{d:?}") };
                    (code.clone(), d.range.start.line, d.message.split("\nhelp: ").next().unwrap().to_owned())
                })
                .collect();
            got.sort();
            got
        };
        if wanted.is_empty() && !client.history.iter().any(|p| p.uri == client.uri(&rel)) {
            continue;
        }
        client.wait(&rel, |ds| as_checked(ds) == wanted);
    }
    // Every publish of an open buffer names a version no older than the one before.
    for rel in [ITEMS, ENEMIES] {
        let versions: Vec<i32> = client.history.iter().filter(|p| p.uri == client.uri(rel)).map(|p| p.version.unwrap()).collect();
        assert!(versions.windows(2).all(|w| w[0] <= w[1]), "{rel}: {versions:?}");
    }
    client.shutdown();
}

#[test]
fn files_changed_on_disk_closed_buffers_and_new_files_are_picked_up() {
    let mut client = Client::start();
    sync(&mut client);
    let event = |client: &Client, rel: &str, typ: FileChangeType| {
        let changes = vec![FileEvent { uri: client.uri(rel), typ }];
        client.notify("workspace/didChangeWatchedFiles", serde_json::to_value(DidChangeWatchedFilesParams { changes }).unwrap());
    };
    // Items changed on disk (a checkout): checked again alone, and the files naming it.
    let items = client.root.read(ITEMS);
    client.root.write(ITEMS, items.replacen("\"id\": \"iron_sword\"", "\"id\": \"iron_swordx\"", 1));
    event(&client, ITEMS, FileChangeType::CHANGED);
    client.wait_code(BOSSES, "dangling-reference");
    client.root.write(ITEMS, &items);
    event(&client, ITEMS, FileChangeType::CHANGED);
    client.wait(BOSSES, <[Diagnostic]>::is_empty);

    // A buffer closed unsaved: the file on disk stands again.
    client.open(BOSSES);
    let text = client.texts[BOSSES].replacen("\"item\": \"iron_sword\"", "\"item\": \"iron_swrd\"", 1);
    client.change(BOSSES, &text);
    client.wait_code(BOSSES, "dangling-reference");
    let doc = TextDocumentIdentifier { uri: client.uri(BOSSES) };
    client.notify("textDocument/didClose", serde_json::to_value(DidCloseTextDocumentParams { text_document: doc }).unwrap());
    client.wait(BOSSES, <[Diagnostic]>::is_empty);

    // A new file: the whole workspace is checked again.
    client.root.write("data/seeds/imps.json", r#"{"version": "1.0.0", "updated_at": "2026-01-13T00:00:00Z", "data": []}"#);
    event(&client, "data/seeds/imps.json", FileChangeType::CREATED);
    client.wait_code("data/seeds/imps.json", "unknown-collection");
    // A save, for clients that send no file events: the same.
    std::fs::remove_file(client.root.file("data/seeds/imps.json")).unwrap();
    client.root.write(ITEMS, items.replacen("\"id\": \"iron_sword\"", "\"id\": \"iron_swordx\"", 1));
    let doc = TextDocumentIdentifier { uri: client.uri(ENEMIES) };
    client.notify("textDocument/didSave", serde_json::to_value(DidSaveTextDocumentParams { text_document: doc, text: None }).unwrap());
    client.wait("data/seeds/imps.json", <[Diagnostic]>::is_empty);
    client.wait_code(BOSSES, "dangling-reference");
    client.shutdown();
}

/// How many whole checks, and checks of one file alone, the server has made once the
/// latest edit and its cross-file pass are done.
fn checks(client: &mut Client) -> (u64, u64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let status: serde_json::Value = client.call("seedc/status", serde_json::Value::Null).expect("seedc/status");
        if status["pending"] == false {
            return (status["checks"]["whole"].as_u64().unwrap(), status["checks"]["files"].as_u64().unwrap());
        }
        assert!(std::time::Instant::now() < deadline, "the cross-file pass never ended: {status}");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

fn save(client: &Client, rel: &str) {
    let doc = TextDocumentIdentifier { uri: client.uri(rel) };
    client.notify("textDocument/didSave", serde_json::to_value(DidSaveTextDocumentParams { text_document: doc, text: None }).unwrap());
}

fn event(client: &Client, rel: &str, typ: FileChangeType) {
    let changes = vec![FileEvent { uri: client.uri(rel), typ }];
    client.notify("workspace/didChangeWatchedFiles", serde_json::to_value(DidChangeWatchedFilesParams { changes }).unwrap());
}

#[test]
fn a_save_checks_again_only_the_files_that_changed_on_disk() {
    let mut client = Client::start();
    assert_eq!(checks(&mut client), (1, 0), "the first check is whole");
    // An open buffer saved as it is: nothing on disk changed, nothing is checked again.
    client.open(ENEMIES);
    let text = client.texts[ENEMIES].replacen("\"hp\": 12,", "\"hp\": 0,", 1);
    client.change(ENEMIES, &text);
    client.wait_code(ENEMIES, "schema-violation");
    let (whole, files) = checks(&mut client);
    assert_eq!(whole, 1);
    client.root.write(ENEMIES, &text);
    save(&client, ENEMIES);
    assert_eq!(checks(&mut client), (1, files), "a save of an open buffer checks nothing again");

    // Items changed on disk behind the editor's back (a client with no file events), then
    // a save: items alone is checked again, and the references into it follow.
    let items = client.root.read(ITEMS);
    client.root.write(ITEMS, items.replacen("\"id\": \"iron_sword\"", "\"id\": \"iron_swordx\"", 1));
    save(&client, ENEMIES);
    client.wait_code(BOSSES, "dangling-reference");
    assert_eq!(checks(&mut client), (1, files + 1), "items alone");
    let before = client.history.len();
    save(&client, ENEMIES);
    sync(&mut client);
    assert_eq!(checks(&mut client), (1, files + 1), "nothing changed since");
    assert_eq!(client.history.len(), before, "nothing published again: {:?}", &client.history[before..]);

    // seedc.lock changed: that takes the whole workspace.
    let lock = client.root.read("seedc.lock");
    client.root.write("seedc.lock", format!("{lock}\n"));
    save(&client, ENEMIES);
    assert_eq!(checks(&mut client).0, 2, "one whole check");
    client.wait_code(BOSSES, "dangling-reference");
    client.shutdown();
}

#[test]
fn file_events_check_only_the_files_a_check_reads() {
    let mut client = Client::start();
    sync(&mut client);
    // Files no check reads: created, changed, deleted; nothing is checked again.
    client.root.write("notes.md", "# notes");
    client.root.write("out/build.json", "{}");
    event(&client, "notes.md", FileChangeType::CREATED);
    event(&client, "out/build.json", FileChangeType::CREATED);
    event(&client, "notes.md", FileChangeType::CHANGED);
    event(&client, "out/build.json", FileChangeType::DELETED);
    assert_eq!(checks(&mut client), (1, 0));
    // A seed file changed: it alone, and the references into it after the pause.
    let items = client.root.read(ITEMS);
    client.root.write(ITEMS, items.replacen("\"id\": \"iron_sword\"", "\"id\": \"iron_swordx\"", 1));
    event(&client, ITEMS, FileChangeType::CHANGED);
    client.wait_code(BOSSES, "dangling-reference");
    assert_eq!(checks(&mut client), (1, 1));
    client.shutdown();
}

#[test]
fn a_file_changed_behind_the_servers_back_is_never_read_at_its_old_places() {
    // The server keeps no text of the files it does not show; a request reads it again, and
    // only if it is still the text the index was made from.
    let mut client = Client::start();
    let at = client.find(BOSSES, "\"iron_sword\"", 0, 3);
    let definition = |client: &mut Client| {
        client.request::<req::GotoDefinition>(GotoDefinitionParams {
            text_document_position_params: client.at(BOSSES, at),
            work_done_progress_params: Default::default(),
            partial_result_params: Default::default(),
        })
    };
    let key = client.find(ITEMS, "\"id\": \"iron_sword\"", 0, "\"id\": ".len());
    let Some(GotoDefinitionResponse::Scalar(found)) = definition(&mut client) else { panic!("a definition") };
    assert_eq!((found.uri.clone(), found.range.start), (client.uri(ITEMS), key));
    // Two lines more at the top of items, and no file event: its old places are not given.
    let items = client.root.read(ITEMS);
    client.root.write(ITEMS, format!("\n\n{items}"));
    assert_eq!(definition(&mut client), None);
    // A save finds it changed: checked again, found at its new place.
    save(&client, BOSSES);
    let Some(GotoDefinitionResponse::Scalar(found)) = definition(&mut client) else { panic!("a definition") };
    assert_eq!(found.range.start, Position::new(key.line + 2, key.character));
    assert_eq!(checks(&mut client), (1, 1));
    client.shutdown();
}
