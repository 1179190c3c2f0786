//! Provisions what the template declares in the local AWS servers before
//! anything runs: the DynamoDB tables (in DynamoDB Local, with their indexes,
//! streams and TTL), the S3 buckets, the Secrets Manager secrets and the SNS
//! platform applications (in moto).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType, ScalarAttributeType,
    StreamSpecification, StreamViewType, TimeToLiveSpecification,
};
use tracing::info;

use crate::LocalError;
use crate::template::TableDef;

pub fn local_table_name(prefix: &str, logical_id: &str) -> String {
    format!("{prefix}-{logical_id}")
}

fn aws_err(e: impl std::fmt::Display) -> LocalError {
    LocalError::Aws(e.to_string())
}

/// Creates each table unless it exists (several test processes share them).
pub async fn ensure_tables(client: &Client, prefix: &str, tables: &[TableDef]) -> Result<(), LocalError> {
    for table in tables {
        let name = local_table_name(prefix, &table.logical_id);
        if client.describe_table().table_name(&name).send().await.is_ok() {
            continue;
        }
        let mut create = client.create_table().table_name(&name).billing_mode(BillingMode::PayPerRequest);
        for (attribute, kind) in &table.attributes {
            create = create.attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(attribute)
                    .attribute_type(ScalarAttributeType::from(kind.as_str()))
                    .build()
                    .map_err(aws_err)?,
            );
        }
        let key_schema = |schema: &[(String, String)]| -> Result<Vec<KeySchemaElement>, LocalError> {
            schema
                .iter()
                .map(|(attribute, kind)| {
                    KeySchemaElement::builder().attribute_name(attribute).key_type(KeyType::from(kind.as_str())).build().map_err(aws_err)
                })
                .collect()
        };
        create = create.set_key_schema(Some(key_schema(&table.key_schema)?));
        for index in &table.indexes {
            create = create.global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(&index.name)
                    .set_key_schema(Some(key_schema(&index.key_schema)?))
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::from(index.projection.as_str()))
                            .set_non_key_attributes((!index.non_key_attributes.is_empty()).then(|| index.non_key_attributes.clone()))
                            .build(),
                    )
                    .build()
                    .map_err(aws_err)?,
            );
        }
        if let Some(view) = &table.stream_view_type {
            create = create.stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::from(view.as_str()))
                    .build()
                    .map_err(aws_err)?,
            );
        }
        match create.send().await {
            Ok(_) => info!(table = %name, "created table"),
            // Another process created it between our describe and create.
            Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_in_use_exception()) => continue,
            Err(e) => return Err(aws_err(aws_sdk_dynamodb::error::DisplayErrorContext(e))),
        }
        if let Some(attribute) = &table.ttl_attribute {
            client
                .update_time_to_live()
                .table_name(&name)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder().attribute_name(attribute).enabled(true).build().map_err(aws_err)?,
                )
                .send()
                .await
                .map_err(|e| aws_err(aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
        }
    }
    Ok(())
}

/// An SNS platform application in the local server, standing in for the one a
/// deployment creates with real APNs/FCM credentials. Returns its name (the
/// template takes names and builds the ARNs its policies grant).
pub async fn ensure_platform_application(sdk: &aws_config::SdkConfig, prefix: &str, platform: &str) -> Result<String, LocalError> {
    let sns = aws_sdk_sns::Client::new(sdk);
    let name = format!("{prefix}-{platform}");
    sns.create_platform_application()
        .name(&name)
        .platform(platform)
        .attributes("PlatformCredential", "local-credential")
        .attributes("PlatformPrincipal", "local-principal")
        .send()
        .await
        .map_err(|e| aws_err(aws_sdk_sns::error::DisplayErrorContext(e)))?;
    Ok(name)
}

/// S3 bucket names are global, lowercase and at most 63 characters.
pub fn local_bucket_name(prefix: &str, logical_id: &str) -> String {
    let name: String = format!("{prefix}-{logical_id}")
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' })
        .collect();
    name.chars().take(63).collect::<String>().trim_end_matches('-').to_owned()
}

/// Creates the template's buckets in the local AWS server unless they exist.
pub async fn ensure_buckets(sdk: &aws_config::SdkConfig, prefix: &str, logical_ids: &[String]) -> Result<(), LocalError> {
    let s3 = aws_sdk_s3::Client::new(sdk);
    for logical_id in logical_ids {
        let name = local_bucket_name(prefix, logical_id);
        if s3.head_bucket().bucket(&name).send().await.is_ok() {
            continue;
        }
        s3.create_bucket().bucket(&name).send().await.map_err(|e| aws_err(aws_sdk_s3::error::DisplayErrorContext(e)))?;
        info!(bucket = %name, "created bucket");
    }
    Ok(())
}

/// Gives a bucket the template's CORS rules, as CloudFormation does (S3 then
/// answers browsers' preflights, and a web app may PUT to presigned URLs).
pub async fn set_bucket_cors(sdk: &aws_config::SdkConfig, bucket: &str, rules: &[crate::template::Cors]) -> Result<(), LocalError> {
    use aws_sdk_s3::types::{CorsConfiguration, CorsRule};
    let s3 = aws_sdk_s3::Client::new(sdk);
    let rules = rules
        .iter()
        .map(|rule| {
            CorsRule::builder()
                .set_allowed_methods(Some(rule.allow_methods.clone()))
                .set_allowed_origins(Some(rule.allow_origins.clone()))
                .set_allowed_headers(Some(rule.allow_headers.clone()))
                .set_max_age_seconds(rule.max_age.map(|a| a as i32))
                .build()
                .map_err(aws_err)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let configuration = CorsConfiguration::builder().set_cors_rules(Some(rules)).build().map_err(aws_err)?;
    s3.put_bucket_cors()
        .bucket(bucket)
        .cors_configuration(configuration)
        .send()
        .await
        .map_err(|e| aws_err(aws_sdk_s3::error::DisplayErrorContext(e)))?;
    Ok(())
}

/// Creates the template's Secrets Manager secrets in the local server, each
/// holding `value` (a deployed stack generates its own; locally the value
/// must be known, so that dev tokens verify); returns each one's ARN.
pub async fn ensure_secrets(
    sdk: &aws_config::SdkConfig,
    prefix: &str,
    logical_ids: &[String],
    value: &str,
) -> Result<std::collections::HashMap<String, String>, LocalError> {
    let secrets = aws_sdk_secretsmanager::Client::new(sdk);
    let mut arns = std::collections::HashMap::new();
    for logical_id in logical_ids {
        let name = format!("{prefix}-{logical_id}");
        let arn = match secrets.describe_secret().secret_id(&name).send().await {
            Ok(existing) => {
                secrets
                    .put_secret_value()
                    .secret_id(&name)
                    .secret_string(value)
                    .send()
                    .await
                    .map_err(|e| aws_err(aws_sdk_secretsmanager::error::DisplayErrorContext(e)))?;
                existing.arn
            }
            Err(_) => {
                let created = secrets.create_secret().name(&name).secret_string(value).send().await;
                created.map_err(|e| aws_err(aws_sdk_secretsmanager::error::DisplayErrorContext(e)))?.arn
            }
        };
        let arn = arn.ok_or_else(|| LocalError::Aws(format!("Secrets Manager returned no ARN for {name}")))?;
        info!(secret = %name, "created secret");
        arns.insert(logical_id.clone(), arn);
    }
    Ok(arns)
}
