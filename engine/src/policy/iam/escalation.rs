//! Privilege-escalation paths: sets of actions that, granted together, let a
//! principal raise its own privileges. The classic 21 (Rhino Security Labs'
//! catalogue) plus passing a role to ECS tasks and to CodeBuild projects.

/// One escalation path.
pub struct Path {
    /// A short name for messages.
    pub name: &'static str,
    /// Every action the path needs. `iam:PassRole` counts only when it is
    /// not limited to named roles and a service.
    pub actions: &'static [&'static str],
}

/// The paths drone knows.
pub const PATHS: &[Path] = &[
    Path { name: "new policy version", actions: &["iam:CreatePolicyVersion"] },
    Path { name: "default policy version", actions: &["iam:SetDefaultPolicyVersion"] },
    Path { name: "access key for another user", actions: &["iam:CreateAccessKey"] },
    Path { name: "console password for another user", actions: &["iam:CreateLoginProfile"] },
    Path { name: "reset another user's password", actions: &["iam:UpdateLoginProfile"] },
    Path { name: "attach a policy to a user", actions: &["iam:AttachUserPolicy"] },
    Path { name: "attach a policy to a group", actions: &["iam:AttachGroupPolicy"] },
    Path { name: "attach a policy to a role", actions: &["iam:AttachRolePolicy"] },
    Path { name: "inline policy on a user", actions: &["iam:PutUserPolicy"] },
    Path { name: "inline policy on a group", actions: &["iam:PutGroupPolicy"] },
    Path { name: "inline policy on a role", actions: &["iam:PutRolePolicy"] },
    Path { name: "join a group", actions: &["iam:AddUserToGroup"] },
    Path { name: "rewrite a trust policy", actions: &["iam:UpdateAssumeRolePolicy", "sts:AssumeRole"] },
    Path { name: "EC2 instance with a passed role", actions: &["iam:PassRole", "ec2:RunInstances"] },
    Path {
        name: "Lambda function with a passed role",
        actions: &["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"],
    },
    Path {
        name: "Lambda function with a passed role, triggered by an event source",
        actions: &["iam:PassRole", "lambda:CreateFunction", "lambda:CreateEventSourceMapping"],
    },
    Path { name: "rewrite an existing Lambda function", actions: &["lambda:UpdateFunctionCode"] },
    Path { name: "Glue development endpoint with a passed role", actions: &["iam:PassRole", "glue:CreateDevEndpoint"] },
    Path { name: "take over a Glue development endpoint", actions: &["glue:UpdateDevEndpoint"] },
    Path { name: "CloudFormation stack with a passed role", actions: &["iam:PassRole", "cloudformation:CreateStack"] },
    Path {
        name: "Data Pipeline with a passed role",
        actions: &["iam:PassRole", "datapipeline:CreatePipeline", "datapipeline:PutPipelineDefinition"],
    },
    Path {
        name: "ECS service with a passed task role",
        actions: &["iam:PassRole", "ecs:RegisterTaskDefinition", "ecs:CreateService"],
    },
    Path {
        name: "ECS task with a passed task role",
        actions: &["iam:PassRole", "ecs:RegisterTaskDefinition", "ecs:RunTask"],
    },
    Path {
        name: "CodeBuild project with a passed role",
        actions: &["iam:PassRole", "codebuild:CreateProject", "codebuild:StartBuild"],
    },
];

#[cfg(test)]
mod tests {
    #[test]
    fn every_path_action_is_in_the_catalogue() {
        for path in super::PATHS {
            for action in path.actions {
                assert!(super::super::catalogue::catalogue().get(action).is_some(), "{}: {action}", path.name);
            }
        }
    }
}
