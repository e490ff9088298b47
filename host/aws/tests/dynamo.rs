//! The DynamoDB repository against moto's DynamoDB: the same contract SQLite keeps, and
//! conditional writes under real concurrency.

use std::sync::atomic::{AtomicUsize, Ordering};

use vodpipe_aws::Blocking;
use vodpipe_aws::dynamo::{DynamoRepository, create_table};
use vodpipe_core::ports::{PortError, VideoRepository};
use vodpipe_core::{Details, Outcome, Plan, VideoRecord, VideoStatus};
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
        let table = format!("videos-{}", self.tables.fetch_add(1, Ordering::SeqCst));
        self.runtime.block_on(create_table(&self.client, &table)).unwrap();
        DynamoRepository::new(self.client.clone(), table, Blocking::new(self.runtime.handle().clone()))
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
