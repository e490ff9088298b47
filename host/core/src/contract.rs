//! The behaviour every [`VideoRepository`] must have, as checks an adapter's tests run
//! against a real store (SQLite in embedded mode, DynamoDB on moto in AWS mode). Each check
//! takes a fresh, empty repository and panics with a description on the first deviation.

use crate::ports::VideoRepository;
use crate::{Cursor, Described, Details, Outcome, VideoRecord, VideoStatus};

fn details(title: &str) -> Details {
    Details {
        title: title.into(),
        description: format!("about {title}"),
    }
}

fn done() -> Outcome {
    Outcome {
        playback_path: Some("index.m3u8".into()),
        dash_path: Some("index.mpd".into()),
        ..Outcome::default()
    }
}

/// Runs every check, each on a repository `fresh` makes.
pub fn video_repository(fresh: &dyn Fn() -> Box<dyn VideoRepository>) {
    details_and_the_upload_event_make_the_same_record_in_either_order(&*fresh(), &*fresh());
    details_are_given_once_and_only_by_the_owner(&*fresh());
    the_public_listing_pages_through_done_videos_newest_first(&*fresh());
    a_users_listing_has_every_status_and_only_theirs(&*fresh());
    final_states_never_change(&*fresh());
}

pub fn details_and_the_upload_event_make_the_same_record_in_either_order(
    api_first: &dyn VideoRepository,
    event_first: &dyn VideoRepository,
) {
    let described = api_first.describe("v1", "alice", &details("Cats"), 10).unwrap();
    assert!(matches!(described, Described::Created(_)), "{described:?}");
    api_first
        .create_if_absent(&VideoRecord::new("v1", Some("alice".into()), 10))
        .unwrap();

    event_first
        .create_if_absent(&VideoRecord::new("v1", Some("alice".into()), 10))
        .unwrap();
    let described = event_first.describe("v1", "alice", &details("Cats"), 10).unwrap();
    assert!(matches!(described, Described::Completed(_)), "{described:?}");

    let (a, b) = (
        api_first.get("v1").unwrap().unwrap(),
        event_first.get("v1").unwrap().unwrap(),
    );
    assert_eq!(a, b);
    assert_eq!(a.title.as_deref(), Some("Cats"));
    assert_eq!(a.status, VideoStatus::Processing);
}

pub fn details_are_given_once_and_only_by_the_owner(repository: &dyn VideoRepository) {
    repository
        .create_if_absent(&VideoRecord::new("v1", Some("alice".into()), 10))
        .unwrap();
    assert_eq!(
        repository.describe("v1", "mallory", &details("Mine"), 10).unwrap(),
        Described::NotOwner
    );
    assert!(matches!(
        repository.describe("v1", "alice", &details("Cats"), 10).unwrap(),
        Described::Completed(_)
    ));
    assert_eq!(
        repository.describe("v1", "alice", &details("Dogs"), 10).unwrap(),
        Described::AlreadyDescribed
    );
    assert_eq!(repository.get("v1").unwrap().unwrap().title.as_deref(), Some("Cats"));

    // An upload without owner metadata cannot be claimed by anyone.
    repository.create_if_absent(&VideoRecord::new("v2", None, 10)).unwrap();
    assert_eq!(
        repository.describe("v2", "alice", &details("Cats"), 10).unwrap(),
        Described::NotOwner
    );
}

pub fn the_public_listing_pages_through_done_videos_newest_first(repository: &dyn VideoRepository) {
    // 25 done videos, some sharing a creation time (ties are broken by id), and others
    // that must not show: processing, failed, and done without details.
    for i in 0..25u64 {
        let id = format!("v{i:02}");
        repository.describe(&id, "alice", &details(&id), 1000 + i / 2).unwrap();
        repository.finish(&id, &done()).unwrap();
    }
    repository.describe("processing", "alice", &details("p"), 5000).unwrap();
    repository.describe("failed", "alice", &details("f"), 5000).unwrap();
    repository.finish("failed", &Outcome::failed("broken")).unwrap();
    repository
        .create_if_absent(&VideoRecord::new("nodetails", Some("alice".into()), 5000))
        .unwrap();
    repository.finish("nodetails", &done()).unwrap();

    let mut seen = Vec::new();
    let mut cursor: Option<Cursor> = None;
    loop {
        let page = repository.list_done(cursor.as_ref(), 10).unwrap();
        assert!(page.videos.len() <= 10);
        assert!(page.videos.iter().all(|v| v.status == VideoStatus::Done));
        assert!(
            page.videos.iter().all(|v| v.dash_path.as_deref() == Some("index.mpd")),
            "listings carry the DASH manifest"
        );
        seen.extend(page.videos.iter().map(|v| v.id.clone()));
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let expected: Vec<String> = (0..25u64).rev().map(|i| format!("v{i:02}")).collect();
    assert_eq!(seen, expected);

    // An exact multiple of the page size ends without an empty extra page.
    let page = repository.list_done(None, 25).unwrap();
    assert_eq!((page.videos.len(), page.next), (25, None));

    // Details given after publishing put the video in the listing.
    repository
        .describe("nodetails", "alice", &details("late"), 5000)
        .unwrap();
    assert_eq!(repository.list_done(None, 1).unwrap().videos[0].id, "nodetails");
}

pub fn a_users_listing_has_every_status_and_only_theirs(repository: &dyn VideoRepository) {
    repository.describe("a1", "alice", &details("a1"), 1).unwrap();
    repository.describe("a2", "alice", &details("a2"), 2).unwrap();
    repository.finish("a2", &Outcome::failed("broken")).unwrap();
    repository.describe("b1", "bob", &details("b1"), 3).unwrap();
    let page = repository.list_owned("alice", None, 10).unwrap();
    let ids: Vec<_> = page.videos.iter().map(|v| v.id.as_str()).collect();
    assert_eq!(ids, ["a2", "a1"]);
    assert_eq!(page.videos[0].failure_reason.as_deref(), Some("broken"));
    assert!(repository.list_owned("carol", None, 10).unwrap().videos.is_empty());
    let first = repository.list_owned("alice", None, 1).unwrap();
    assert_eq!(first.videos[0].id, "a2");
    let second = repository.list_owned("alice", first.next.as_ref(), 1).unwrap();
    assert_eq!((second.videos[0].id.as_str(), second.next), ("a1", None));

    assert!(repository.delete_video("a1").unwrap());
    assert!(!repository.delete_video("a1").unwrap());
    assert_eq!(repository.list_owned("alice", None, 10).unwrap().videos.len(), 1);
    assert_eq!(repository.get("a1").unwrap(), None);
}

pub fn final_states_never_change(repository: &dyn VideoRepository) {
    let plan = crate::Plan {
        packaging: crate::Packaging::Ts,
        renditions: Vec::new(),
        segment_seconds: 6,
        thumbnail: None,
    };
    repository
        .create_if_absent(&VideoRecord::new("v1", Some("alice".into()), 1))
        .unwrap();
    assert!(repository.claim_job("v1", "v1-hls", &plan).unwrap());
    assert!(!repository.claim_job("v1", "v1-other", &plan).unwrap(), "claimed once");
    assert_eq!(repository.get("v1").unwrap().unwrap().job_id.as_deref(), Some("v1-hls"));
    assert!(repository.finish("v1", &done()).unwrap());
    assert!(
        !repository.finish("v1", &Outcome::failed("late error")).unwrap(),
        "done stays done"
    );
    let record = repository.get("v1").unwrap().unwrap();
    assert_eq!((record.status, record.failure_reason), (VideoStatus::Done, None));
    assert_eq!(
        (record.playback_path.as_deref(), record.dash_path.as_deref()),
        (Some("index.m3u8"), Some("index.mpd"))
    );
    // Creating it again changes nothing.
    let again = repository
        .create_if_absent(&VideoRecord::new("v1", Some("mallory".into()), 99))
        .unwrap();
    assert_eq!(again.user_id.as_deref(), Some("alice"));
    assert_eq!(again.status, VideoStatus::Done);
}
