//! CodeConnections: a pipeline's link to a repository on GitHub, GitLab or Bitbucket.

pub mod connection;
