//! The DynamoDB repository against moto's DynamoDB: the same contract SQLite keeps, and
//! conditional writes under real concurrency.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_dynamodb::types::AttributeValue;

use vodpipe_aws::Blocking;
use vodpipe_aws::dynamo::{DynamoRepository, create_table};
use vodpipe_core::ports::{PortError, VideoRepository};
use vodpipe_core::{Details, Outcome, Plan, Rendered, Rendition, VideoRecord, VideoStatus};
use vodpipe_test_support::moto::Moto;

struct Setup {
    _moto: Moto,
    runtime: tokio::runtime::Runtime,
    client: aws_sdk_dynamodb::Client,
    tables: AtomicUsize,
}

fn setup() -> Setup {
    let moto = Moto::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let client = aws_sdk_dynamodb::Client::new(&runtime.block_on(moto.config()));
    Setup {
        _moto: moto,
        runtime,
        client,
        tables: AtomicUsize::new(0),
    }
}

impl Setup {
    /// A repository over a new, empty table.
    fn fresh(&self) -> DynamoRepository {
        self.fresh_named().1
    }

    /// A repository over a new, empty table, and the table's name.
    fn fresh_named(&self) -> (String, DynamoRepository) {
        let table = format!("videos-{}", self.tables.fetch_add(1, Ordering::SeqCst));
        self.runtime.block_on(create_table(&self.client, &table)).unwrap();
        let repository = DynamoRepository::new(
            self.client.clone(),
            table.clone(),
            Blocking::new(self.runtime.handle().clone()),
        );
        (table, repository)
    }

    fn put_raw(&self, table: &str, item: HashMap<String, AttributeValue>) {
        self.runtime
            .block_on(self.client.put_item().table_name(table).set_item(Some(item)).send())
            .unwrap();
    }

    fn get_raw(&self, table: &str, id: &str) -> HashMap<String, AttributeValue> {
        let output = self
            .runtime
            .block_on(
                self.client
                    .get_item()
                    .table_name(table)
                    .key("id", AttributeValue::S(id.into()))
                    .send(),
            )
            .unwrap();
        output.item().unwrap().clone()
    }
}

#[test]
fn dynamodb_keeps_the_video_repository_contract() {
    let setup = setup();
    vodpipe_core::contract::video_repository(&|| Box::new(setup.fresh()));
}

/// Two deliveries of the same event race: each read the record as `processing` without a
/// job; the write that lands second must fail its condition, not overwrite. (The writes are
/// issued one after the other: moto's server handles requests on several threads without
/// making a conditional write atomic, so truly simultaneous writes test moto, not DynamoDB.)
#[test]
fn the_second_of_two_racing_writes_loses() {
    let setup = setup();
    let repository = setup.fresh();
    repository
        .create_if_absent(&VideoRecord::new("v1", Some("alice".into()), 1))
        .unwrap();
    let plan = Plan {
        packaging: vodpipe_core::Packaging::Ts,
        renditions: Vec::new(),
        segment_seconds: 6,
        thumbnail: None,
    };
    let seen_by_both = repository.get("v1").unwrap().unwrap();
    assert_eq!(
        (seen_by_both.status, seen_by_both.job_id.as_deref()),
        (VideoStatus::Processing, None)
    );
    assert!(
        repository.claim_job("v1", "v1-hls", &plan).unwrap(),
        "the first claim wins"
    );
    assert!(
        !repository.claim_job("v1", "v1-other", &plan).unwrap(),
        "the second loses"
    );
    assert_eq!(repository.get("v1").unwrap().unwrap().job_id.as_deref(), Some("v1-hls"));

    // COMPLETE and a late ERROR for the same job: the first final state stays.
    assert!(repository.finish("v1", &Outcome::default()).unwrap());
    assert!(!repository.finish("v1", &Outcome::failed("late error")).unwrap());
    let record = repository.get("v1").unwrap().unwrap();
    assert_eq!(
        (record.status, record.failure_reason.as_deref()),
        (VideoStatus::Done, None)
    );

    // The upload event arriving again after all this creates nothing new.
    let again = repository
        .create_if_absent(&VideoRecord::new("v1", Some("mallory".into()), 99))
        .unwrap();
    assert_eq!(again, record);
}

/// What DynamoDB answers decides what the pipeline does: a request it refuses as it stands (an
/// item over its 400 KB limit) is `Rejected`, given up on at once, and the record keeps its
/// last good state; a table that is not there is `Unavailable`, retried until an operator
/// restores it.
#[test]
fn a_refused_write_is_rejected_and_a_missing_table_is_unavailable() {
    let setup = setup();
    let repository = setup.fresh();
    let huge = Details {
        title: "t".into(),
        description: "x".repeat(500 * 1024),
    };
    let refused = repository.describe("v1", "alice", &huge, 1);
    assert!(
        matches!(&refused, Err(PortError::Rejected(why)) if why.contains("dynamodb")),
        "{refused:?}"
    );
    assert_eq!(repository.get("v1").unwrap(), None, "nothing stored");

    let no_table = DynamoRepository::new(
        setup.client.clone(),
        "no-such-table",
        Blocking::new(setup.runtime.handle().clone()),
    );
    let missing = no_table.get("v1");
    assert!(
        matches!(&missing, Err(PortError::Unavailable(why)) if why.contains("ResourceNotFoundException")),
        "{missing:?}"
    );
}

/// A done video's item as the table has always stored it (attribute names, numbers as `N`,
/// plan and renditions as JSON text): what earlier versions wrote.
fn item_as_stored_before(plan: &Plan, renditions: &[Rendered]) -> HashMap<String, AttributeValue> {
    let s = |v: &str| AttributeValue::S(v.into());
    let n = |v: u64| AttributeValue::N(v.to_string());
    HashMap::from([
        ("id".into(), s("01OLD")),
        ("status".into(), s("done")),
        ("created_at_ms".into(), n(1_700_000_000_000)),
        ("created".into(), s("001700000000000#01OLD")),
        ("user_id".into(), s("alice")),
        ("title".into(), s("Old")),
        ("description".into(), s("kept")),
        ("job_id".into(), s("01OLD-hls")),
        ("plan".into(), s(&serde_json::to_string(plan).unwrap())),
        ("renditions".into(), s(&serde_json::to_string(renditions).unwrap())),
        ("playback_path".into(), s("index.m3u8")),
        ("thumbnail_path".into(), s("thumb.jpg")),
        ("duration_ms".into(), n(2000)),
        ("listed".into(), s("done")),
    ])
}

/// The item mapping (serde_dynamo over one serde type) keeps the table's stored format: an item
/// written by earlier versions reads whole and is listed, the same record written today is the
/// same item, and an item that does not read is an error naming the video and what is wrong,
/// and is left out of listings.
#[test]
fn items_keep_the_stored_format_and_a_corrupt_one_is_named() {
    let setup = setup();
    let (table, repository) = setup.fresh_named();
    let plan = Plan {
        packaging: vodpipe_core::Packaging::Ts,
        renditions: vec![Rendition {
            bit_depth: 8,
            codec: vodpipe_core::VideoCodec::H264,
            name: "720p".into(),
            width: 1280,
            height: 720,
            video_bitrate: 3_000_000,
            max_bitrate: 4_500_000,
            quality_level: None,
            profile: "high".into(),
            level: "3.1".into(),
            frame_rate_cap: 30.0,
            audio_bitrate: Some(128_000),
        }],
        segment_seconds: 6,
        thumbnail: None,
    };
    let renditions = vec![Rendered {
        name: "720p".into(),
        width: 1280,
        height: 720,
        playlist_path: "index_720p.m3u8".into(),
    }];
    let before = item_as_stored_before(&plan, &renditions);
    setup.put_raw(&table, before.clone());

    let record = repository.get("01OLD").unwrap().unwrap();
    assert_eq!(
        record,
        VideoRecord {
            id: "01OLD".into(),
            user_id: Some("alice".into()),
            title: Some("Old".into()),
            description: Some("kept".into()),
            status: VideoStatus::Done,
            failure_reason: None,
            created_at_ms: 1_700_000_000_000,
            job_id: Some("01OLD-hls".into()),
            plan: Some(plan),
            renditions,
            playback_path: Some("index.m3u8".into()),
            dash_path: None,
            thumbnail_path: Some("thumb.jpg".into()),
            duration_ms: Some(2000),
        }
    );
    let listed = repository.list_done(None, 10).unwrap();
    assert_eq!(listed.videos.len(), 1);

    // Written today, the same record is the same item.
    let (today, again) = setup.fresh_named();
    again.create_if_absent(&record).unwrap();
    assert_eq!(setup.get_raw(&today, "01OLD"), before);

    let mut corrupt = before;
    corrupt.insert("id".into(), AttributeValue::S("01BAD".into()));
    corrupt.insert("plan".into(), AttributeValue::S("{ not json".into()));
    setup.put_raw(&table, corrupt);
    let refused = repository.get("01BAD");
    assert!(
        matches!(&refused, Err(PortError::Unavailable(why)) if why.contains("video 01BAD") && why.contains("plan")),
        "{refused:?}"
    );
    // The listing goes on without it.
    let listed = repository.list_done(None, 10).unwrap();
    let ids: Vec<&str> = listed.videos.iter().map(|v| v.id.as_str()).collect();
    assert_eq!(ids, ["01OLD"]);
}
