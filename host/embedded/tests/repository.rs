//! The SQLite repository on a real database file: the video repository contract every
//! adapter keeps (`vodpipe_core::contract`), and local accounts.

use vodpipe_core::ports::{Account, AccountStore, SystemClock};
use vodpipe_embedded::sqlite::Database;

fn database() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let database = Database::open(&dir.path().join("vodpipe.db"), Box::new(SystemClock)).unwrap();
    (dir, database)
}

#[test]
fn sqlite_keeps_the_video_repository_contract() {
    let dirs = std::cell::RefCell::new(Vec::new());
    vodpipe_core::contract::video_repository(&|| {
        let (dir, database) = database();
        dirs.borrow_mut().push(dir);
        Box::new(database)
    });
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
