//! What a job handler is: an async function of the job and a context, answering done or a classified error
//! (transient: try again within the retry budget; permanent or refused: dead at once with the reason).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::config::Config;
use crate::store::{Job, Store};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

pub use crate::store::jobs::ErrorClass;

/// Why a job did not finish, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobError {
    pub message: String,
    pub class: ErrorClass,
    /// A delay the remote system asked for (HTTP `Retry-After`); overrides the backoff.
    pub retry_after: Option<Duration>,
}

impl JobError {
    /// A failure worth retrying (network down, 5xx, 408/429, timeout, the store busy).
    pub fn retry(message: impl Into<String>) -> Self {
        JobError {
            message: message.into(),
            class: ErrorClass::Transient,
            retry_after: None,
        }
    }

    /// A failure that will fail again the same way (bad payload, 4xx, no permission): the job goes straight
    /// to dead.
    pub fn permanent(message: impl Into<String>) -> Self {
        JobError {
            message: message.into(),
            class: ErrorClass::Permanent,
            retry_after: None,
        }
    }

    /// The other system refused by one of its business rules (e.g. a marketplace's allowed status
    /// changes): dead at once, the refusal as the error.
    pub fn refused(message: impl Into<String>) -> Self {
        JobError {
            message: message.into(),
            class: ErrorClass::Refused,
            retry_after: None,
        }
    }

    /// A store failure inside a handler: locked, full or I/O trouble passes, anything else will not.
    pub fn store(e: &crate::store::StoreError) -> Self {
        match e.unavailable() {
            Some(_) => JobError::retry(e.to_string()),
            None => JobError::permanent(e.to_string()),
        }
    }

    pub fn is_retryable(&self) -> bool {
        self.class == ErrorClass::Transient
    }

    pub fn after(mut self, delay: Duration) -> Self {
        self.retry_after = Some(delay);
        self
    }
}

/// A connector error that knows whether trying again can help (every connector's error type).
pub trait ConnectorFailure: std::fmt::Display {
    fn is_retryable(&self) -> bool;
    fn retry_after(&self) -> Option<Duration>;
    /// Transient when retryable; otherwise permanent unless the connector knows it was a refusal by rule.
    fn class(&self) -> ErrorClass {
        if self.is_retryable() {
            ErrorClass::Transient
        } else {
            ErrorClass::Permanent
        }
    }
}

/// A job's JSON payload as `T`; one that does not parse can never succeed, so it is permanent.
pub fn job_payload<T: serde::de::DeserializeOwned>(job: &Job) -> Result<T, JobError> {
    serde_json::from_str(&job.payload).map_err(|e| JobError::permanent(format!("payload: {e}")))
}

/// A connector error as the engine sees it: retry later (honouring the server's delay), or dead at once as
/// permanent or refused.
pub fn job_error(e: impl ConnectorFailure) -> JobError {
    let err = JobError {
        message: e.to_string(),
        class: e.class(),
        retry_after: None,
    };
    match e.retry_after() {
        Some(d) if err.is_retryable() => err.after(d),
        _ => err,
    }
}

/// A connector client built once from config and shared by a flow's handlers; a client that could not be
/// built (bad config) fails their jobs permanently with the reason.
pub struct SharedClient<C>(Result<Arc<C>, String>);

impl<C> SharedClient<C> {
    pub fn new<E: std::fmt::Display>(built: Result<C, E>) -> Self {
        SharedClient(built.map(Arc::new).map_err(|e| e.to_string()))
    }

    pub fn get(&self) -> Result<&C, JobError> {
        self.0
            .as_deref()
            .map_err(|e| JobError::permanent(e.clone()))
    }
}

/// Shared state a handler may use: the engine's store connection and the config.
#[derive(Clone)]
pub struct JobContext {
    pub store: Arc<Mutex<Store>>,
    pub config: Arc<Config>,
}

impl JobContext {
    /// Runs a store operation on a blocking thread so slow disks never stall the async workers.
    pub async fn with_store<T, F>(&self, f: F) -> Result<T, JobError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, JobError> + Send + 'static,
    {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = store
                .lock()
                .map_err(|_| JobError::retry("store lock poisoned"))?;
            f(&mut guard)
        })
        .await
        .map_err(|e| JobError::retry(format!("store task failed: {e}")))?
    }
}

pub trait JobHandler: Send + Sync + 'static {
    fn run<'a>(&'a self, job: &'a Job, ctx: &'a JobContext) -> BoxFuture<'a, Result<(), JobError>>;
}

/// A handler from an async closure taking owned copies of the job and context (tests and small jobs).
pub fn handler_fn<F, Fut>(f: F) -> impl JobHandler
where
    F: Fn(Job, JobContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), JobError>> + Send + 'static,
{
    struct FnHandler<F>(F);
    impl<F, Fut> JobHandler for FnHandler<F>
    where
        F: Fn(Job, JobContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), JobError>> + Send + 'static,
    {
        fn run<'a>(
            &'a self,
            job: &'a Job,
            ctx: &'a JobContext,
        ) -> BoxFuture<'a, Result<(), JobError>> {
            Box::pin((self.0)(job.clone(), ctx.clone()))
        }
    }
    FnHandler(f)
}

/// Job kind → handler. The engine only claims kinds it has a handler for.
#[derive(Default, Clone)]
pub struct HandlerRegistry {
    handlers: BTreeMap<String, Arc<dyn JobHandler>>,
}

impl HandlerRegistry {
    pub fn register(&mut self, kind: impl AsRef<str>, handler: impl JobHandler) -> &mut Self {
        self.handlers
            .insert(kind.as_ref().to_string(), Arc::new(handler));
        self
    }

    pub fn get(&self, kind: &str) -> Option<Arc<dyn JobHandler>> {
        self.handlers.get(kind).cloned()
    }

    pub fn kinds(&self) -> impl Iterator<Item = &str> {
        self.handlers.keys().map(String::as_str)
    }
}
