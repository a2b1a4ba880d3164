//! The environment a runner would meet on this machine, read once at the start of a run: the
//! process environment with the runner's `.env` applied, the proxies it selects, and the trust
//! stores of its stack (the runner's OS store, git's, node's).
//!
//! Nothing here changes the process: the `.env` values are passed on explicitly (the trust
//! stores read SSL_CERT_FILE / SSL_CERT_DIR from this snapshot, not from `std::env`).

pub mod docker;
pub mod installed;
pub mod net;
pub mod proxy;
pub mod runner;
pub mod trust;

use std::path::{Path, PathBuf};

pub use crate::env::proxy::{ProxySettings, RunnerEnv};
pub use trust::Stores;

/// What to read the environment with (the command layer's flags, validated).
#[derive(Debug, Clone, Default)]
pub struct EnvOptions {
    pub runner_dir: Option<PathBuf>,
    pub proxy: Option<String>,
    pub no_proxy: Option<String>,
    pub ca_files: Vec<PathBuf>,
    pub public_roots: Option<PathBuf>,
}

/// Why the environment could not be read: an input error of ours (exit 2).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnvError {
    /// The runner directory or its `.env`.
    #[error("{0}")]
    RunnerDir(#[from] proxy::RunnerDirError),
    /// An invalid proxy given on the command line.
    #[error("{0}")]
    Proxy(#[from] proxy::BadProxy),
    #[error(transparent)]
    Trust(#[from] trust::TrustError),
}

/// The runner's environment as this run sees it.
pub struct Environment {
    pub env: RunnerEnv,
    pub proxy: ProxySettings,
    pub stores: Stores,
    /// The runner's `.runner` / `.credentials` (with `--runner-dir`; empty otherwise).
    pub runner: runner::RunnerSettings,
    /// The kernel's TCP keepalive timers (Linux; `None` elsewhere).
    pub keepalive: Option<net::Keepalive>,
    /// The installed runner's version (with `--runner-dir`), read without executing anything.
    pub installed: Option<Result<installed::Installed, installed::InstalledProblem>>,
}

impl Environment {
    /// Read the environment (and `runner_dir/.env`), the proxy settings (with the `--proxy` /
    /// `--no-proxy` overrides) and the trust stores.
    pub fn load(opts: &EnvOptions) -> Result<Environment, EnvError> {
        let env = RunnerEnv::load(opts.runner_dir.as_deref()).map_err(EnvError::RunnerDir)?;
        let proxy = ProxySettings::resolve(&env, opts.proxy.as_deref(), opts.no_proxy.as_deref())
            .map_err(EnvError::Proxy)?;
        let stores = Stores::load(&env, &opts.ca_files, opts.public_roots.as_deref())?;
        let runner = match opts.runner_dir.as_deref() {
            Some(dir) => runner::read(dir)
                .map_err(|e| EnvError::RunnerDir(proxy::RunnerDirError::Unreadable(e)))?,
            None => Default::default(),
        };
        let installed = opts.runner_dir.as_deref().map(installed::read);
        Ok(Environment {
            env,
            proxy,
            stores,
            runner,
            keepalive: net::Keepalive::read(),
            installed,
        })
    }

    /// The runner `.env` file that was read, if any.
    pub fn env_file(&self) -> Option<&Path> {
        self.env.env_file.as_deref()
    }
}
