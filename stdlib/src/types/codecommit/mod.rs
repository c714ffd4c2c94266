//! CodeCommit repositories: where a team's build source (Ghost's Dockerfile) lives.

pub mod repository;
