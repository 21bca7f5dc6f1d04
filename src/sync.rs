//! Small concurrency helpers every layer shares.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

/// Locks a mutex, recovering the data if a panicking thread poisoned it.
///
/// A panic in one request must not take the whole mount down with poisoned locks: every
/// value kept under these locks is replaced whole or updated between statements, never
/// left half-written, so it is safe to keep serving after a panic elsewhere.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// [`lock`] for the read side of an `RwLock`.
pub fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// [`lock`] for the write side of an `RwLock`.
pub fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Waits on `condvar` for at most `timeout`, tolerating poison as [`lock`] does.
pub fn wait_timeout<'a, T>(
    condvar: &Condvar,
    guard: MutexGuard<'a, T>,
    timeout: Duration,
) -> MutexGuard<'a, T> {
    condvar
        .wait_timeout(guard, timeout)
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .0
}

/// Why [`Pending::wait`] came back without the work's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Abandoned {
    /// The caller's deadline passed; the work may still finish (and fill the result).
    Deadline,
    /// The stop signal was raised.
    Stopped,
    /// The work panicked (its message), so no result will ever come.
    Panicked(String),
}

/// How often a wait with a stop signal looks at it: what "stops promptly" means.
pub const STOP_POLL: Duration = Duration::from_millis(100);

/// Async work running on a tokio runtime, waited for from plain threads (FUSE workers, the
/// refresher) with a deadline. Every caller of [`Pending::wait`] gets the same one result,
/// so concurrent callers share one piece of work; a caller that gives up leaves the work
/// running (unless it calls [`Pending::cancel`]), so a later caller may find it done.
pub struct Pending<T> {
    result: Mutex<Option<Result<T, Abandoned>>>,
    done: Condvar,
    abort: Mutex<Option<tokio::task::AbortHandle>>,
}

impl<T: Send + 'static> Pending<T> {
    /// Starts `work` on `runtime`. Must not be waited for from inside the runtime.
    pub fn spawn(
        runtime: &tokio::runtime::Handle,
        work: impl Future<Output = T> + Send + 'static,
    ) -> Arc<Pending<T>> {
        let pending = Arc::new(Pending {
            result: Mutex::new(None),
            done: Condvar::new(),
            abort: Mutex::new(None),
        });
        let task = runtime.spawn(work);
        *lock(&pending.abort) = Some(task.abort_handle());
        let filler = pending.clone();
        // Awaiting the task's handle turns a panic into an answer, so waiters are always
        // woken rather than left to their deadline.
        runtime.spawn(async move {
            let result = match task.await {
                Ok(value) => Ok(value),
                Err(error) if error.is_cancelled() => Err(Abandoned::Stopped),
                Err(error) => Err(Abandoned::Panicked(error.to_string())),
            };
            *lock(&filler.result) = Some(result);
            filler.done.notify_all();
        });
        pending
    }

    /// The result, waiting for it at most `timeout`, and less once `stop` is raised (it is
    /// looked at every [`STOP_POLL`]). Every waiter gets a copy of the one result.
    pub fn wait(&self, timeout: Duration, stop: Option<&AtomicBool>) -> Result<T, Abandoned>
    where
        T: Clone,
    {
        self.wait_then(timeout, stop, |result| result.clone())
    }

    /// As [`Pending::wait`], for work with a single waiter: the result is moved out rather
    /// than copied (a batch of records), and is gone for any later waiter.
    pub fn take(&self, timeout: Duration, stop: Option<&AtomicBool>) -> Result<T, Abandoned> {
        self.wait_then(timeout, stop, |result| {
            std::mem::replace(result, Err(Abandoned::Panicked("taken".to_string())))
        })
    }

    fn wait_then(
        &self,
        timeout: Duration,
        stop: Option<&AtomicBool>,
        answer: impl FnOnce(&mut Result<T, Abandoned>) -> Result<T, Abandoned>,
    ) -> Result<T, Abandoned> {
        let deadline = Instant::now() + timeout;
        let mut result = lock(&self.result);
        loop {
            if let Some(result) = result.as_mut() {
                return answer(result);
            }
            if stop.is_some_and(|stop| stop.load(Ordering::Relaxed)) {
                return Err(Abandoned::Stopped);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Abandoned::Deadline);
            }
            let slice = match stop {
                Some(_) => (deadline - now).min(STOP_POLL),
                None => deadline - now,
            };
            result = wait_timeout(&self.done, result, slice);
        }
    }

    /// Stops the work at its next await point (its result becomes [`Abandoned::Stopped`]).
    pub fn cancel(&self) {
        if let Some(abort) = lock(&self.abort).as_ref() {
            abort.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_poisoned_lock_still_gives_its_data() {
        let shared = Arc::new(Mutex::new(7));
        let clone = Arc::clone(&shared);
        let _ = std::thread::spawn(move || {
            let _guard = clone.lock().unwrap();
            panic!("poison the lock");
        })
        .join();
        assert!(shared.is_poisoned());
        assert_eq!(*lock(&shared), 7);
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn every_waiter_gets_the_one_result() {
        let runtime = runtime();
        let pending = Pending::spawn(runtime.handle(), async { 42 });
        assert_eq!(pending.wait(Duration::from_secs(5), None), Ok(42));
        assert_eq!(pending.wait(Duration::ZERO, None), Ok(42));
    }

    #[test]
    fn a_wait_ends_at_its_deadline_or_stop_and_the_work_goes_on() {
        let runtime = runtime();
        let pending = Pending::spawn(runtime.handle(), async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            7
        });
        assert_eq!(
            pending.wait(Duration::from_millis(10), None),
            Err(Abandoned::Deadline)
        );
        let stop = AtomicBool::new(true);
        assert_eq!(
            pending.wait(Duration::from_secs(5), Some(&stop)),
            Err(Abandoned::Stopped)
        );
        assert_eq!(pending.wait(Duration::from_secs(5), None), Ok(7));
    }

    #[test]
    fn a_panic_or_a_cancel_answers_at_once() {
        let runtime = runtime();
        let panicking = Pending::spawn(runtime.handle(), async {
            panic!("boom");
        });
        let answer: Result<(), Abandoned> = panicking.wait(Duration::from_secs(5), None);
        assert!(matches!(answer, Err(Abandoned::Panicked(_))));
        let slow = Pending::spawn(runtime.handle(), async {
            tokio::time::sleep(Duration::from_secs(60)).await;
        });
        slow.cancel();
        assert_eq!(
            slow.wait(Duration::from_secs(5), None),
            Err(Abandoned::Stopped)
        );
    }
}
