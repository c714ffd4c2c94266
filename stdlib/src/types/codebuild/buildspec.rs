//! The buildspec drone writes for a project that builds a container image: log in to ECR,
//! build the Dockerfile, push the image under a tag unique to the commit and build, and hand
//! the pipeline's ECS deploy action the image by digest (`imagedefinitions.json`), so what is
//! deployed is exactly what was built, whatever happens to tags later.

/// What an image build needs.
pub struct ImageBuild<'a> {
    /// The ECR repository's URL (`ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME`).
    pub repository_url: &'a str,
    /// The container in the task definition that runs the image.
    pub container_name: &'a str,
    /// The Dockerfile's path in the source.
    pub dockerfile: &'a str,
}

/// `value` quoted for a POSIX shell.
fn quoted(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// The buildspec, as JSON (which CodeBuild reads as the YAML it is a subset of).
pub fn image_buildspec(b: &ImageBuild<'_>) -> String {
    let repository = quoted(b.repository_url);
    let registry = quoted(b.repository_url.split('/').next().unwrap_or(b.repository_url));
    let image = format!("{repository}:\"$TAG\"");
    let spec = serde_json::json!({
        "version": "0.2",
        "env": { "shell": "bash" },
        "phases": {
            "pre_build": {
                "on-failure": "ABORT",
                "commands": [
                    format!("aws ecr get-login-password --region \"$AWS_REGION\" | docker login --username AWS --password-stdin {registry}"),
                    "TAG=\"${CODEBUILD_RESOLVED_SOURCE_VERSION:0:12}-${CODEBUILD_BUILD_NUMBER}\"",
                ],
            },
            "build": {
                "on-failure": "ABORT",
                "commands": [format!("docker build --file {} --tag {image} .", quoted(b.dockerfile))],
            },
            "post_build": {
                "on-failure": "ABORT",
                "commands": [
                    format!("docker push {image}"),
                    format!("DIGEST=\"$(docker inspect --format '{{{{index .RepoDigests 0}}}}' {image})\""),
                    format!(
                        "printf '[{{\"name\":\"%s\",\"imageUri\":\"%s\"}}]' {} \"$DIGEST\" > imagedefinitions.json",
                        quoted(b.container_name)
                    ),
                ],
            },
        },
        "artifacts": { "files": ["imagedefinitions.json"] },
    });
    serde_json::to_string_pretty(&spec).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> serde_json::Value {
        let b = ImageBuild {
            repository_url: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shuttle-prod-ghost",
            container_name: "ghost",
            dockerfile: "Dockerfile",
        };
        serde_json::from_str(&image_buildspec(&b)).expect("the buildspec is JSON")
    }

    fn commands(spec: &serde_json::Value, phase: &str) -> Vec<String> {
        spec["phases"][phase]["commands"]
            .as_array()
            .expect("commands")
            .iter()
            .map(|c| c.as_str().expect("a command").to_string())
            .collect()
    }

    #[test]
    fn it_logs_in_to_the_registry_builds_pushes_and_hands_on_the_digest() {
        let spec = spec();
        let pre = commands(&spec, "pre_build");
        assert!(pre[0].ends_with("--password-stdin '123456789012.dkr.ecr.eu-west-1.amazonaws.com'"), "{}", pre[0]);
        let build = commands(&spec, "build");
        assert_eq!(
            build,
            ["docker build --file 'Dockerfile' --tag '123456789012.dkr.ecr.eu-west-1.amazonaws.com/shuttle-prod-ghost':\"$TAG\" ."]
        );
        let post = commands(&spec, "post_build");
        assert!(post[1].contains("{{index .RepoDigests 0}}"), "{}", post[1]);
        assert_eq!(post[2], r#"printf '[{"name":"%s","imageUri":"%s"}]' 'ghost' "$DIGEST" > imagedefinitions.json"#);
        assert_eq!(spec["artifacts"]["files"][0], "imagedefinitions.json");
        for phase in ["pre_build", "build", "post_build"] {
            assert_eq!(spec["phases"][phase]["on-failure"], "ABORT", "a failed build must not push");
        }
    }

    #[test]
    fn values_are_quoted_for_the_shell() {
        let b = ImageBuild { repository_url: "r", container_name: "it's; rm -rf /", dockerfile: "D" };
        let spec: serde_json::Value = serde_json::from_str(&image_buildspec(&b)).expect("json");
        let post = commands(&spec, "post_build");
        assert!(post[2].contains(r"'it'\''s; rm -rf /'"), "{}", post[2]);
    }
}
