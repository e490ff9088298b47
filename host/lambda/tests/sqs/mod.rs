//! Queues as `infra/` wires them, on moto: creating one, its ARN, and an uploads bucket
//! notifying a queue of every new object.

#![allow(dead_code)]

use aws_sdk_sqs::types::QueueAttributeName;

/// Creates the queue `name` with `attributes`; its URL.
pub async fn create_queue(sqs: &aws_sdk_sqs::Client, name: &str, attributes: &[(QueueAttributeName, &str)]) -> String {
    let mut create = sqs.create_queue().queue_name(name);
    for (attribute, value) in attributes {
        create = create.attributes(attribute.clone(), *value);
    }
    create.send().await.unwrap().queue_url.unwrap()
}

pub async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> String {
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap();
    attributes.attributes().unwrap()[&QueueAttributeName::QueueArn].clone()
}

/// `bucket` sends an S3 notification to the queue at `queue_url` for every object created.
pub async fn notify_on_upload(s3: &aws_sdk_s3::Client, sqs: &aws_sdk_sqs::Client, bucket: &str, queue_url: &str) {
    let notification = aws_sdk_s3::types::NotificationConfiguration::builder()
        .queue_configurations(
            aws_sdk_s3::types::QueueConfiguration::builder()
                .queue_arn(queue_arn(sqs, queue_url).await)
                .events(aws_sdk_s3::types::Event::S3ObjectCreated)
                .build()
                .unwrap(),
        )
        .build();
    s3.put_bucket_notification_configuration()
        .bucket(bucket)
        .notification_configuration(notification)
        .send()
        .await
        .unwrap();
}
