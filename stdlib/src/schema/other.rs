//! Schemas of the S3, IAM, ECS and RDS types.

use drone_lang::schema::{ResourceSchema, Type};

use super::{computed, field, optional, required, resource, AttributeExt};

/// The object type of an S3 public access block.
pub fn public_access_block_type() -> Type {
    Type::Object(vec![
        field("block_public_acls", Type::Bool, false, "reject requests that add public ACLs"),
        field("ignore_public_acls", Type::Bool, false, "ignore public ACLs on the bucket and its objects"),
        field("block_public_policy", Type::Bool, false, "reject bucket policies that grant public access"),
        field("restrict_public_buckets", Type::Bool, false, "restrict access to buckets with public policies"),
    ])
}

/// The object type of a service's load balancer attachment.
pub fn load_balancer_type() -> Type {
    Type::Object(vec![
        field("target_group_arn", Type::String, true, "the target group's ARN"),
        field("container_name", Type::String, true, "the container that receives the traffic"),
        field("container_port", Type::Number, true, "the port of that container"),
    ])
}

/// The object type of an EFS volume of a task definition.
pub fn efs_volume_type() -> Type {
    Type::Object(vec![
        field("name", Type::String, true, "the volume's name, which containers mount"),
        field("file_system_id", Type::String, true, "the EFS file system"),
    ])
}

/// The object type of a volume mounted into a container.
pub fn mount_type() -> Type {
    Type::Object(vec![
        field("volume", Type::String, true, "the volume's name"),
        field("path", Type::String, true, "where it appears in the container"),
    ])
}

/// The object type of one container in a task definition.
pub fn container_type() -> Type {
    Type::Object(vec![
        field("name", Type::String, true, "the container's name"),
        field("image", Type::String, true, "the image, e.g. \"ghost:5-alpine\""),
        field("essential", Type::Bool, false, "stop the task when this container stops (default true)"),
        field("ports", Type::list(Type::Number), false, "TCP ports the container listens on"),
        field(
            "environment",
            Type::map(Type::String),
            false,
            "environment variables (no secrets: they show in the console)",
        ),
        field("command", Type::list(Type::String), false, "the command, overriding the image's"),
        field("read_only_root_filesystem", Type::Bool, false, "mount the root filesystem read-only"),
        field("log_group", Type::String, false, "the CloudWatch Logs group the container's output goes to"),
        field("mounts", Type::list(mount_type()), false, "volumes mounted into the container"),
    ])
}

pub(super) fn schemas() -> Vec<ResourceSchema> {
    vec![
        resource(
            "aws.s3.bucket",
            "an S3 bucket",
            true,
            vec![
                required("name", Type::String, "the globally unique bucket name").replaces(),
                optional("versioning", Type::Bool, "whether object versions are kept"),
                optional("encryption", Type::String, "default encryption: \"AES256\" or \"aws:kms\""),
                optional("kms_key_id", Type::String, "the KMS key for \"aws:kms\" encryption"),
                optional("public_access_block", public_access_block_type(), "the bucket's public access block flags"),
                optional("force_destroy", Type::Bool, "delete every object version when the bucket is deleted")
                    .drone_side(),
                optional("policy", Type::Json, "the bucket policy document").guarded(),
                computed("id", Type::String, "the bucket name"),
                computed("arn", Type::String, "the bucket's ARN"),
            ],
        ),
        resource(
            "aws.iam.role",
            "an IAM role that a service or principal assumes",
            true,
            vec![
                required("name", Type::String, "the role's name").replaces(),
                optional("path", Type::String, "the role's path (default \"/\")").replaces(),
                optional("description", Type::String, "what the role is for"),
                required("assume_role_policy", Type::Json, "the trust policy: who may assume the role"),
                optional("inline_policies", Type::map(Type::Json), "inline policy documents by name").guarded(),
                optional("managed_policy_arns", Type::list(Type::String), "managed policies to attach").guarded(),
                optional("max_session_duration", Type::Number, "longest session in seconds (3600 to 43200)"),
                computed("id", Type::String, "the role name"),
                computed("arn", Type::String, "the role's ARN"),
                computed("unique_id", Type::String, "the role's stable unique id"),
            ],
        ),
        resource(
            "aws.ecs.cluster",
            "an ECS cluster that runs tasks and services",
            true,
            vec![
                required("name", Type::String, "the cluster's name").replaces(),
                optional("container_insights", Type::Bool, "whether CloudWatch Container Insights is on"),
                computed("id", Type::String, "the cluster's ARN"),
                computed("arn", Type::String, "the cluster's ARN"),
            ],
        ),
        resource(
            "aws.ecs.task_definition",
            "an ECS task definition: the containers of a task and the roles they run with",
            true,
            vec![
                required("family", Type::String, "the family its revisions share").replaces(),
                required("cpu", Type::Number, "CPU units of the task (256 = a quarter vCPU)").replaces(),
                required("memory", Type::Number, "memory of the task in MiB").replaces(),
                required("containers", Type::list(container_type()), "the task's containers").replaces(),
                optional("efs_volumes", Type::list(efs_volume_type()), "EFS file systems the containers can mount")
                    .replaces(),
                optional("execution_role_arn", Type::String, "the role ECS uses to pull images and write logs")
                    .replaces(),
                optional("task_role_arn", Type::String, "the role the containers' code runs as").replaces(),
                computed("id", Type::String, "the task definition's ARN, with its revision"),
                computed("arn", Type::String, "the task definition's ARN, with its revision"),
                computed("revision", Type::Number, "the revision number in its family"),
            ],
        ),
        resource(
            "aws.ecs.service",
            "an ECS service on Fargate: keeps `desired_count` tasks running",
            true,
            vec![
                required("name", Type::String, "the service's name").replaces(),
                required("cluster", Type::String, "the cluster's ARN").replaces(),
                required("task_definition", Type::String, "the task definition's ARN"),
                optional("desired_count", Type::Number, "how many tasks to keep running (default 1)"),
                required("subnets", Type::list(Type::String), "the subnets tasks are placed in"),
                required("security_groups", Type::list(Type::String), "the security groups of the tasks"),
                optional("assign_public_ip", Type::Bool, "give each task a public IP (default false)").guarded(),
                optional("load_balancer", load_balancer_type(), "the target group the tasks register in").replaces(),
                computed("id", Type::String, "the service's ARN"),
                computed("arn", Type::String, "the service's ARN"),
            ],
        ),
        resource(
            "aws.rds.db_subnet_group",
            "the subnets an RDS database may be placed in",
            true,
            vec![
                required("name", Type::String, "the group's name").replaces(),
                optional("description", Type::String, "what the group is for"),
                required("subnet_ids", Type::list(Type::String), "subnets in at least two availability zones"),
                computed("id", Type::String, "the group's name"),
                computed("arn", Type::String, "the group's ARN"),
            ],
        ),
        resource(
            "aws.rds.cluster",
            "an Aurora database cluster",
            true,
            vec![
                required("identifier", Type::String, "the cluster identifier").replaces(),
                required("engine", Type::String, "\"aurora-mysql\" or \"aurora-postgresql\"").replaces(),
                optional("engine_version", Type::String, "the engine version (default: the engine's default)"),
                optional("database_name", Type::String, "a database to create in the cluster").replaces(),
                required("master_username", Type::String, "the administrator's user name").replaces(),
                optional("master_password", Type::String, "the administrator's password; use `secret(...)`")
                    .sensitive(),
                optional("db_subnet_group_name", Type::String, "the DB subnet group (private subnets)").replaces(),
                optional("vpc_security_group_ids", Type::list(Type::String), "security groups of the cluster"),
                optional("port", Type::Number, "the port the database listens on"),
                optional("storage_encrypted", Type::Bool, "whether storage is encrypted at rest").replaces(),
                optional("backup_retention_period", Type::Number, "days automated backups are kept (1 to 35)"),
                optional("deletion_protection", Type::Bool, "whether deletion is refused"),
                optional("skip_final_snapshot", Type::Bool, "skip the final snapshot when deleting (default false)")
                    .drone_side(),
                computed("id", Type::String, "the cluster identifier"),
                computed("arn", Type::String, "the cluster's ARN"),
                computed("endpoint", Type::String, "the writer endpoint"),
                computed("reader_endpoint", Type::String, "the reader endpoint"),
            ],
        ),
    ]
}
