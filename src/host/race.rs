//! A command's wait against its timeout and the run's cancellation: whichever comes first.
//! Shared by the local and the SSH transports.

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

pub enum Race<T> {
    Done(T),
    TimedOut(Duration),
    Cancelled,
}

/// Run `work` unless the timeout passes or the token is cancelled first.
pub async fn race<T>(
    work: impl Future<Output = T>,
    timeout: Option<Duration>,
    cancel: &CancellationToken,
) -> Race<T> {
    let sleep = async {
        match timeout {
            Some(t) => tokio::time::sleep(t).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        r = work => Race::Done(r),
        _ = sleep => Race::TimedOut(timeout.unwrap_or_default()),
        _ = cancel.cancelled() => Race::Cancelled,
    }
}
