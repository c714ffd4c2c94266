//! `drone task --on fargate` against moto: after prod is applied (its state in
//! S3), the task starts as a one-off ECS task. Checked through the API: the
//! task definition (drone's image, the execution role, the password from the
//! secret store, the log group), RunTask's request (private subnet, no public
//! IP, drone's command, the task role) and the task role's policy (exactly the
//! grants: a mysql grant calls no AWS action, so only reading state).

use crate::support::{assert_exit, drone, root, run, sdk_config, text, Moto};

fn prod(moto: &Moto, args: &[&str]) -> std::process::Output {
    let mut cmd = drone(Some(&moto.url));
    cmd.current_dir(root())
        .env("DRONE_FARGATE_POLL_MS", "100")
        .args(args)
        .args(["--param", "protect_data=false"])
        .args(["--disable-policy", "data.rds_deletion_protection"]);
    run(&mut cmd)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_task_runs_on_fargate_in_private_subnets_with_exactly_its_grants() {
    let moto = Moto::start();
    let config = sdk_config(&moto.url).await;
    let s3 = crate::support::s3_client(&config);
    let location = aws_sdk_s3::types::CreateBucketConfiguration::builder()
        .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
        .build();
    s3.create_bucket()
        .bucket("drone-shuttle-state")
        .create_bucket_configuration(location)
        .send()
        .await
        .expect("state bucket");
    assert_exit(&prod(&moto, &["run", "workflows/prod.drone", "--yes"]), 0);

    let out = prod(&moto, &["task", "workflows/prod.drone", "delete_posts", "--on", "fargate", "--arg", "tag=spam"]);
    let (_, stderr) = text(&out);
    assert!(stderr.contains("started on Fargate"), "{stderr}");
    // moto runs no container: the task stops at once, and moto gives its container the exit code 0.
    assert_exit(&out, 0);
    assert!(stderr.contains("finished on Fargate"), "{stderr}");

    let state = |address: &str, attribute: &str| -> String {
        let out =
            run(drone(Some(&moto.url)).current_dir(root()).args(["state", "show", "workflows/prod.drone", address]));
        let record: serde_json::Value = serde_json::from_str(&text(&out).0).expect("state show JSON");
        record["attributes"][attribute].as_str().or(record[attribute].as_str()).unwrap_or_default().to_string()
    };
    let ecs = aws_sdk_ecs::Client::new(&config);
    let cluster = state("ghost.primary.aws.ecs.cluster.main", "arn");
    let listed = ecs.list_tasks().cluster(&cluster).started_by("drone").send().await.expect("ListTasks");
    let described = ecs
        .describe_tasks()
        .cluster(&cluster)
        .set_tasks(Some(listed.task_arns().to_vec()))
        .send()
        .await
        .expect("DescribeTasks");
    let tasks: Vec<_> = described.tasks().iter().filter(|t| t.started_by() == Some("drone")).collect();
    assert_eq!(tasks.len(), 1, "one one-off task");
    let task = tasks[0];
    assert_eq!(task.launch_type(), Some(&aws_sdk_ecs::types::LaunchType::Fargate));

    // drone's command and the task role, in RunTask's overrides.
    let overrides = task.overrides().expect("overrides");
    let container = &overrides.container_overrides()[0];
    assert_eq!(container.name(), Some("drone"));
    assert_eq!(
        container.command(),
        ["task", "--root", "/drone", "workflows/prod.drone", "delete_posts", "--arg", "tag=spam"]
    );
    let role_arn = overrides.task_role_arn().expect("task role").to_string();
    assert!(role_arn.ends_with(":role/drone-task-shuttle-prod-delete_posts"), "{role_arn}");

    // In a private subnet, without a public address.
    let detail = |name: &str| {
        task.attachments()[0]
            .details()
            .iter()
            .find(|d| d.name() == Some(name))
            .and_then(|d| d.value())
            .unwrap_or_default()
            .to_string()
    };
    let subnet = detail("subnetId");
    let private: Vec<String> = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
        .iter()
        .map(|zone| state(&format!("network.primary.aws.ec2.subnet.private[\"{zone}\"]"), "id"))
        .collect();
    assert!(private.contains(&subnet), "{subnet} is not one of the private subnets {private:?}");
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let eni = ec2
        .describe_network_interfaces()
        .network_interface_ids(detail("networkInterfaceId"))
        .send()
        .await
        .expect("ENI");
    assert!(eni.network_interfaces()[0].association().and_then(|a| a.public_ip()).is_none(), "no public IP");

    // The task definition: drone's image from the workflow's ECR, the password from Secrets Manager.
    let definition = ecs
        .describe_task_definition()
        .task_definition(task.task_definition_arn().expect("definition"))
        .send()
        .await
        .expect("definition");
    let definition = definition.task_definition().expect("definition");
    let image = &definition.container_definitions()[0];
    assert_eq!(image.image(), Some(format!("{}:0.1.0", state("aws.ecr.repository.drone", "url")).as_str()));
    assert_eq!(definition.execution_role_arn(), Some(state("aws.iam.role.drone_task_execution", "arn").as_str()));
    assert_eq!(definition.task_role_arn(), Some(role_arn.as_str()));
    // The database administrator's password, handed over by ECS from its secret.
    let secret = &image.secrets()[0];
    let password = format!("{}:password::", state("aws.secretsmanager.secret.db_admin", "arn"));
    assert_eq!((secret.name(), secret.value_from()), ("DRONE_DB_PASSWORD", password.as_str()));
    let logs = image.log_configuration().expect("logs").options().expect("log options");
    assert_eq!(logs.get("awslogs-group").map(String::as_str), Some("/ecs/shuttle-prod-drone-tasks"));

    // The task role: a mysql grant calls no AWS action, so it may only read the workflow's state.
    let iam = aws_sdk_iam::Client::new(&config);
    let policy = iam
        .get_role_policy()
        .role_name("drone-task-shuttle-prod-delete_posts")
        .policy_name("drone-task-grants")
        .send()
        .await
        .expect("policy");
    let document = drone_stdlib::aws::percent_decode(policy.policy_document()).expect("URL-encoded policy");
    let document: serde_json::Value = serde_json::from_str(&document).expect("policy JSON");
    assert_eq!(
        document["Statement"],
        serde_json::json!([
            { "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::drone-shuttle-state/shuttle-prod.state.json"] },
            {
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": ["arn:aws:s3:::drone-shuttle-state"],
                "Condition": { "StringLike": { "s3:prefix": ["shuttle-prod.state.json"] } }
            }
        ])
    );
}
