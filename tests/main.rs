//! End-to-end tests of the `drone` binary, in one test binary so the AWS SDK
//! is linked once. AWS tests run against a moto_server that each test starts
//! on a free loopback port and stops when it ends.

mod account;
mod architecture;
mod cli;
mod components;
mod consistency;
mod conventions;
mod data_sources;
mod deployer;
mod diagnostics;
mod drift;
mod e2e;
mod enforced;
mod environments;
mod failover;
mod fargate;
mod faults;
mod fuzz;
mod hooks;
mod hostile;
mod lsp;
mod mariadb;
mod neovim;
mod policy;
mod release;
mod state_tools;
mod support;
mod tasks;
mod team_state;
