//! The Terraform in `infra/` against the code it deploys, parsed with an HCL parser (no
//! provider or AWS needed):
//! - each function binary starts with exactly the environment Terraform gives it, and stops
//!   with the variable's name when a variable it needs is taken away;
//! - every `VODPIPE_*` variable Terraform sets is one the code reads;
//! - the table, its indexes and keys are the ones the DynamoDB repository uses;
//! - queues, the S3 notification, the EventBridge rule and the event source mappings connect
//!   the right things, with partial batch responses on;
//! - every IAM statement that allows something names its actions and resources (no `*`).

mod runtime_api;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use runtime_api::Function;
use serde_json::{Map, Value};

fn infra() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra")
}

/// Every top-level block of the `.tf` files under `dir` (modules included), merged:
/// `{"resource": {"aws_x": {"name": {...}}}, "locals": [...], ...}`.
fn parse(dir: &Path) -> Map<String, Value> {
    let mut merged = Map::new();
    let mut files: Vec<PathBuf> = walk(dir);
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let body: Value = hcl::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for (kind, value) in body.as_object().unwrap() {
            let entry = merged.entry(kind.clone()).or_insert_with(|| Value::Array(Vec::new()));
            entry.as_array_mut().unwrap().push(value.clone());
        }
    }
    merged
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() && !path.file_name().unwrap().to_string_lossy().starts_with('.') {
            found.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "tf") {
            found.push(path);
        }
    }
    found
}

/// `kind.type.name` across all files (resource or data).
fn block<'a>(tf: &'a Map<String, Value>, kind: &str, type_: &str, name: &str) -> &'a Value {
    tf[kind]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|blocks| blocks.get(type_).and_then(|b| b.get(name)))
        .unwrap_or_else(|| panic!("no {kind} {type_}.{name} in infra/"))
}

/// A local value, from whichever `locals` block defines it.
fn local<'a>(tf: &'a Map<String, Value>, name: &str) -> &'a Value {
    tf["locals"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|l| match l {
            Value::Array(many) => many.iter().collect::<Vec<_>>(),
            one => vec![one],
        })
        .find_map(|l| l.get(name))
        .unwrap_or_else(|| panic!("no local.{name} in infra/"))
}

/// Repeated blocks are a list, a single one an object: always a list.
fn each(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        one => vec![one],
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The functions Terraform deploys, with the variable names of their environment.
fn functions(tf: &Map<String, Value>) -> Vec<(String, Vec<String>)> {
    local(tf, "functions")
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, f)| (name.clone(), f["env"].as_object().unwrap().keys().cloned().collect()))
        .collect()
}

/// A value for each variable as the deployed function would see it (numbers where the code
/// parses a number).
fn env_for(vars: &[String], runtime_api: &str) -> Vec<(&'static str, String)> {
    let mut env: Vec<(&'static str, String)> = vec![
        ("AWS_REGION", "eu-west-1".into()),
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE".into()),
        ("AWS_SECRET_ACCESS_KEY", "secret".into()),
        ("AWS_SESSION_TOKEN", "token".into()),
        ("AWS_LAMBDA_RUNTIME_API", runtime_api.into()),
    ];
    for var in vars {
        let value = match var.as_str() {
            "VODPIPE_MAX_UPLOAD_BYTES" => "104857600".to_owned(),
            "VODPIPE_MAX_RECEIVES" => "5".to_owned(),
            // `load_precompiled_plugins ? "load" : "off"` in infra/lambda.tf.
            "VODPIPE_PRECOMPILED_PLUGINS" => "load".to_owned(),
            "VODPIPE_MEDIA_BASE_URL" => "https://d111111abcdef8.cloudfront.net".to_owned(),
            _ => format!("value-of-{}", var.to_lowercase()),
        };
        env.push((Box::leak(var.clone().into_boxed_str()), value));
    }
    env
}

fn binary(name: &str) -> &'static str {
    match name {
        "api" => env!("CARGO_BIN_EXE_api"),
        "on-upload" => env!("CARGO_BIN_EXE_on-upload"),
        "on-job-state" => env!("CARGO_BIN_EXE_on-job-state"),
        other => panic!("Terraform deploys a function `{other}` this crate does not build"),
    }
}

/// Starts `name` with `vars`: `Ok` once it asks the Runtime API for work (its configuration
/// was accepted), `Err(stderr)` if it exits first.
async fn starts(name: &'static str, vars: &[String]) -> Result<(), String> {
    let api = runtime_api::RuntimeApi::start().await;
    let env = env_for(vars, &api.address);
    let mut function = Function::start_quiet(name, binary(name), &env).await;
    function.api = api;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if function.api.polled.load(std::sync::atomic::Ordering::SeqCst) > 0 {
            return Ok(());
        }
        if let Some(_status) = function.child.try_wait().unwrap() {
            let mut stderr = String::new();
            use std::io::Read;
            function
                .child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .unwrap();
            return Err(stderr);
        }
        assert!(Instant::now() < deadline, "{name} neither started nor stopped");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_function_starts_with_the_environment_terraform_gives_it() {
    let tf = parse(&infra());
    let functions = functions(&tf);
    let names: Vec<&str> = functions.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["api", "on-job-state", "on-upload"]);
    let sources: String = ["src/config.rs", "src/api.rs", "src/lib.rs"]
        .iter()
        .map(|f| std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(f)).unwrap())
        .collect();

    for (name, vars) in &functions {
        let name: &'static str = Box::leak(name.clone().into_boxed_str());
        for var in vars {
            assert!(
                sources.contains(&format!("\"{var}\"")),
                "Terraform sets {var} for {name}, which no code reads"
            );
        }
        if let Err(stderr) = starts(name, vars).await {
            panic!("{name} refused Terraform's environment:\n{stderr}");
        }
        // Each variable the code requires, taken away, stops the function with its name.
        let mut required = 0;
        for missing in vars {
            let fewer: Vec<String> = vars.iter().filter(|v| *v != missing).cloned().collect();
            if let Err(stderr) = starts(name, &fewer).await {
                assert!(stderr.contains(missing.as_str()), "{name} without {missing}: {stderr}");
                required += 1;
            }
        }
        assert!(required >= 3, "{name} needs at least its table and buckets");
    }
}

#[test]
fn the_table_is_the_one_the_repository_uses() {
    let tf = parse(&infra());
    let table = block(&tf, "resource", "aws_dynamodb_table", "videos");
    assert_eq!(table["hash_key"], "id");
    assert_eq!(table["billing_mode"], "PAY_PER_REQUEST");
    assert_eq!(table["point_in_time_recovery"]["enabled"], true);
    let mut attributes: Vec<String> = each(&table["attribute"]).iter().map(|a| text(&a["name"])).collect();
    attributes.sort();
    assert_eq!(attributes, ["created", "id", "listed", "user_id"]);
    let indexes: Vec<(String, String, String, String)> = each(&table["global_secondary_index"])
        .iter()
        .map(|i| {
            (
                text(&i["name"]),
                text(&i["hash_key"]),
                text(&i["range_key"]),
                text(&i["projection_type"]),
            )
        })
        .collect();
    assert_eq!(
        indexes,
        [
            (
                vodpipe_aws::dynamo::PUBLIC_INDEX.into(),
                "listed".into(),
                "created".into(),
                "ALL".into()
            ),
            (
                vodpipe_aws::dynamo::OWNER_INDEX.into(),
                "user_id".into(),
                "created".into(),
                "ALL".into()
            ),
        ]
    );
}

#[test]
fn events_reach_the_function_that_handles_them() {
    let tf = parse(&infra());
    let queues = local(&tf, "queues");
    assert_eq!(queues["uploads"]["function"], "on-upload");
    assert_eq!(queues["job-state"]["function"], "on-job-state");
    assert!(text(&queues["uploads"]["source_arn"]).contains("module.uploads.arn"));
    assert!(text(&queues["job-state"]["source_arn"]).contains("aws_cloudwatch_event_rule.job_state.arn"));

    let notification = block(&tf, "resource", "aws_s3_bucket_notification", "uploads");
    assert!(text(&notification["bucket"]).contains("module.uploads.id"));
    assert!(text(&notification["queue"]["queue_arn"]).contains(r#"aws_sqs_queue.work["uploads"].arn"#));
    assert_eq!(
        notification["queue"]["events"],
        serde_json::json!(["s3:ObjectCreated:*"])
    );

    let rule = block(&tf, "resource", "aws_cloudwatch_event_rule", "job_state");
    let pattern = text(&rule["event_pattern"]);
    assert!(pattern.contains("job-state-pattern.json.tftpl"), "{pattern}");
    assert!(pattern.contains("aws_media_convert_queue.jobs.arn"), "{pattern}");
    let target = block(&tf, "resource", "aws_cloudwatch_event_target", "job_state");
    assert!(text(&target["arn"]).contains(r#"aws_sqs_queue.work["job-state"].arn"#));
    // Jobs are submitted to the queue the rule listens to.
    let on_upload = &local(&tf, "functions")["on-upload"]["env"];
    assert!(text(&on_upload["VODPIPE_MEDIACONVERT_QUEUE"]).contains("aws_media_convert_queue.jobs.arn"));
    // The template is valid JSON once its one placeholder is filled (the functions test runs
    // it on moto's EventBridge against the handlers' event fixture).
    let template = std::fs::read_to_string(infra().join("job-state-pattern.json.tftpl")).unwrap();
    let filled: Value = serde_json::from_str(&template.replace("${queue_arn}", "arn:q")).unwrap();
    assert_eq!(filled["detail"]["status"], serde_json::json!(["COMPLETE", "ERROR"]));

    let mapping = block(&tf, "resource", "aws_lambda_event_source_mapping", "queue");
    assert!(text(&mapping["event_source_arn"]).contains("aws_sqs_queue.work[each.key].arn"));
    assert!(text(&mapping["function_name"]).contains("aws_lambda_function.this[each.value.function]"));
    assert_eq!(
        mapping["function_response_types"],
        serde_json::json!(["ReportBatchItemFailures"])
    );

    let work = block(&tf, "resource", "aws_sqs_queue", "work");
    let redrive = text(&work["redrive_policy"]);
    assert!(redrive.contains("aws_sqs_queue.dead[each.key].arn"), "{redrive}");
    // The functions give up on the delivery the redrive policy makes the last one.
    assert!(redrive.contains("maxReceiveCount = local.max_receives"), "{redrive}");
    for queue in queues.as_object().unwrap().values() {
        let function = text(&queue["function"]);
        let env = &local(&tf, "functions")[function.as_str()]["env"];
        assert_eq!(
            text(&env["VODPIPE_MAX_RECEIVES"]),
            "${tostring(local.max_receives)}",
            "{function}"
        );
    }
    assert!(local(&tf, "max_receives").as_u64().is_some_and(|n| n >= 2));
}

/// Every `statement` of every policy document, and every row of the functions' grant table
/// (`local.grants`, which one `dynamic "statement"` turns into statements).
fn statements(tf: &Map<String, Value>) -> Vec<(String, Value)> {
    let mut found = Vec::new();
    for data in tf["data"].as_array().unwrap() {
        let Some(documents) = data.get("aws_iam_policy_document") else {
            continue;
        };
        for (name, document) in documents.as_object().unwrap() {
            for statement in each(&document["statement"]) {
                found.push((name.clone(), statement.clone()));
            }
            if let Some(dynamic) = document.get("dynamic") {
                for statement in each(&dynamic["statement"]) {
                    let content = &statement["content"];
                    // The grant table's rows are checked below, as written.
                    if !text(&content["actions"]).contains("statement.value") {
                        found.push((name.clone(), content.clone()));
                    }
                }
            }
        }
    }
    for grant in each(local(tf, "grants")) {
        found.push((format!("grants to {}", text(&grant["to"])), grant.clone()));
    }
    found
}

#[test]
fn every_iam_grant_is_scoped() {
    let tf = parse(&infra());
    let statements = statements(&tf);
    assert!(statements.len() >= 20, "found {} statements", statements.len());
    let mut grants = 0;
    for (document, statement) in &statements {
        let denies = statement["effect"] == "Deny";
        let sid = text(&statement["sid"]);
        if denies {
            continue;
        }
        grants += 1;
        for action in each(&statement["actions"]) {
            let action = text(action);
            assert!(!action.contains('*'), "{document}/{sid}: action {action}");
        }
        for resource in each(&statement["resources"]) {
            let resource = text(resource);
            // Scoped to this stack: built from its own resources' names or ARNs.
            assert!(
                resource != "*" && resource.contains("${"),
                "{document}/{sid}: resource {resource}"
            );
        }
        for principal in each(&statement["principals"]) {
            assert_ne!(principal["type"], "*", "{document}/{sid}: anyone");
        }
    }
    assert!(grants >= 15);
    // The API signs upload forms: S3 checks that signer may put the object.
    let api_puts = statements.iter().any(|(to, s)| {
        to.contains("\"api\"") && text(&s["sid"]) == "Uploads" && text(&s["actions"]).contains("s3:PutObject")
    });
    assert!(api_puts, "the api role must be allowed s3:PutObject on uploads");
    // Every function has grants, and only the functions Terraform deploys are named.
    let functions: Vec<String> = functions(&tf).into_iter().map(|(name, _)| name).collect();
    for grant in each(local(&tf, "grants")) {
        for to in each(&grant["to"]) {
            assert!(functions.contains(&text(to)), "a grant to an unknown function {to}");
        }
    }
    for function in &functions {
        let quoted = format!("\"{function}\"");
        assert!(
            statements.iter().any(|(to, _)| to.contains(&quoted)),
            "{function} has no grants"
        );
    }
}

/// The functions run on Amazon Linux 2023 (`provided.al2023`), whose glibc is 2.34: no
/// binary may need a newer symbol version (scripts/build-lambdas checks the release build the
/// same way; this catches a new dependency on every test run).
#[test]
fn the_binaries_run_on_amazon_linux_2023() {
    for (name, binary) in ["api", "on-upload", "on-job-state"].map(|n| (n, binary(n))) {
        let out = std::process::Command::new("objdump")
            .args(["-T", binary])
            .output()
            .unwrap();
        assert!(out.status.success(), "objdump -T {binary}");
        let symbols = String::from_utf8_lossy(&out.stdout);
        let newest = symbols
            .split("GLIBC_")
            .skip(1)
            .filter_map(|rest| {
                let version: String = rest.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
                let parts: Vec<u32> = version.split('.').filter_map(|p| p.parse().ok()).collect();
                (!parts.is_empty()).then_some(parts)
            })
            .max()
            .unwrap();
        assert!(newest <= vec![2, 34], "{name} needs glibc {newest:?}");
    }
}

/// The functions run on the machine `vodpipe policy publish` precompiles plugins for: were
/// they moved to Graviton, every published artifact would be refused and compiled again.
#[test]
fn the_functions_run_on_the_target_plugins_are_precompiled_for() {
    let tf = parse(&infra());
    let function = block(&tf, "resource", "aws_lambda_function", "this");
    let architectures: Vec<String> = each(&function["architectures"]).into_iter().map(text).collect();
    let arch = vodpipe_runtime::LAMBDA_TARGET.split('-').next().unwrap();
    assert_eq!(architectures, [arch]);
}
