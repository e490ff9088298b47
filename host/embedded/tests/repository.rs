//! The SQLite repository's listings, details and accounts, on a real database file.

use vodpipe_core::ports::{Account, AccountStore, SystemClock, VideoRepository};
use vodpipe_core::{Cursor, Described, Details, Outcome, VideoRecord, VideoStatus};
use vodpipe_embedded::sqlite::Database;

fn database() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let database = Database::open(&dir.path().join("vodpipe.db"), Box::new(SystemClock)).unwrap();
    (dir, database)
}

fn details(title: &str) -> Details {
    Details {
        title: title.into(),
        description: format!("about {title}"),
    }
}

fn done() -> Outcome {
    Outcome {
        playback_path: Some("index.m3u8".into()),
        ..Outcome::default()
    }
}

#[test]
fn details_and_the_upload_event_make_the_same_record_in_either_order() {
    let (_a, api_first) = database();
    let (_b, event_first) = database();

    assert!(matches!(
        api_first.describe("v1", "alice", &details("Cats"), 10).unwrap(),
        Described::Created(_)
    ));
    api_first
        .create_if_absent(&VideoRecord::new("v1", Some("alice".into()), 10))
        .unwrap();

    event_first
        .create_if_absent(&VideoRecord::new("v1", Some("alice".into()), 10))
        .unwrap();
    assert!(matches!(
        event_first.describe("v1", "alice", &details("Cats"), 10).unwrap(),
        Described::Completed(_)
    ));

    let (a, b) = (
        api_first.get("v1").unwrap().unwrap(),
        event_first.get("v1").unwrap().unwrap(),
    );
    assert_eq!(a, b);
    assert_eq!(a.title.as_deref(), Some("Cats"));
    assert_eq!(a.status, VideoStatus::Processing);
}

#[test]
fn details_are_given_once_and_only_by_the_owner() {
    let (_dir, database) = database();
    database
        .create_if_absent(&VideoRecord::new("v1", Some("alice".into()), 10))
        .unwrap();
    assert_eq!(
        database.describe("v1", "mallory", &details("Mine"), 10).unwrap(),
        Described::NotOwner
    );
    assert!(matches!(
        database.describe("v1", "alice", &details("Cats"), 10).unwrap(),
        Described::Completed(_)
    ));
    assert_eq!(
        database.describe("v1", "alice", &details("Dogs"), 10).unwrap(),
        Described::AlreadyDescribed
    );
    assert_eq!(database.get("v1").unwrap().unwrap().title.as_deref(), Some("Cats"));

    // An upload without owner metadata cannot be claimed by anyone.
    database.create_if_absent(&VideoRecord::new("v2", None, 10)).unwrap();
    assert_eq!(
        database.describe("v2", "alice", &details("Cats"), 10).unwrap(),
        Described::NotOwner
    );
}

#[test]
fn the_public_listing_pages_through_done_videos_newest_first() {
    let (_dir, database) = database();
    // 25 done videos, some sharing a creation time (ties are broken by id), and others
    // that must not show: processing, failed, and done without details.
    for i in 0..25u64 {
        let id = format!("v{i:02}");
        database.describe(&id, "alice", &details(&id), 1000 + i / 2).unwrap();
        database.finish(&id, &done()).unwrap();
    }
    database.describe("processing", "alice", &details("p"), 5000).unwrap();
    database.describe("failed", "alice", &details("f"), 5000).unwrap();
    database.finish("failed", &Outcome::failed("broken")).unwrap();
    database
        .create_if_absent(&VideoRecord::new("nodetails", Some("alice".into()), 5000))
        .unwrap();
    database.finish("nodetails", &done()).unwrap();

    let mut seen = Vec::new();
    let mut cursor: Option<Cursor> = None;
    loop {
        let page = database.list_done(cursor.as_ref(), 10).unwrap();
        assert!(page.videos.len() <= 10);
        seen.extend(page.videos.iter().map(|v| v.id.clone()));
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let expected: Vec<String> = (0..25u64).rev().map(|i| format!("v{i:02}")).collect();
    assert_eq!(seen, expected);

    // An exact multiple of the page size ends without an empty extra page.
    let page = database.list_done(None, 25).unwrap();
    assert_eq!((page.videos.len(), page.next), (25, None));
}

#[test]
fn a_users_listing_has_every_status_and_only_theirs() {
    let (_dir, database) = database();
    database.describe("a1", "alice", &details("a1"), 1).unwrap();
    database.describe("a2", "alice", &details("a2"), 2).unwrap();
    database.finish("a2", &Outcome::failed("broken")).unwrap();
    database.describe("b1", "bob", &details("b1"), 3).unwrap();
    let page = database.list_owned("alice", None, 10).unwrap();
    let ids: Vec<_> = page.videos.iter().map(|v| v.id.as_str()).collect();
    assert_eq!(ids, ["a2", "a1"]);
    assert_eq!(page.videos[0].failure_reason.as_deref(), Some("broken"));
    assert!(database.list_owned("carol", None, 10).unwrap().videos.is_empty());

    assert!(database.delete_video("a1").unwrap());
    assert!(!database.delete_video("a1").unwrap());
    assert_eq!(database.list_owned("alice", None, 10).unwrap().videos.len(), 1);
}

#[test]
fn accounts_have_unique_usernames_and_refresh_tokens_are_used_once() {
    let (_dir, database) = database();
    let account = Account {
        user_id: "u1".into(),
        username: "Alice".into(),
        password_hash: "$argon2id$x".into(),
        created_at_ms: 1,
    };
    assert!(database.create_account(&account).unwrap());
    let twin = Account {
        user_id: "u2".into(),
        username: "alice".into(),
        ..account.clone()
    };
    assert!(
        !database.create_account(&twin).unwrap(),
        "usernames differ only in case"
    );
    assert_eq!(database.find_account("ALICE").unwrap().unwrap().user_id, "u1");
    assert_eq!(database.find_account_by_id("u1").unwrap().unwrap().username, "Alice");
    assert_eq!(database.find_account("bob").unwrap(), None);

    let far = u64::MAX / 4;
    database.store_refresh_token("h1", "u1", far).unwrap();
    assert_eq!(database.take_refresh_token("h1", 0).unwrap().as_deref(), Some("u1"));
    assert_eq!(database.take_refresh_token("h1", 0).unwrap(), None, "used once");
    database.store_refresh_token("h2", "u1", far).unwrap();
    assert_eq!(database.take_refresh_token("h2", far).unwrap(), None, "expired");
}
