//! The refresher's thread and its timer: a tick every interval (or backoff), at once on
//! `refresh_now` (SIGHUP), and a prompt end on `stop` or drop, even mid-tick.

use crate::sync::{self, lock};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use super::{ChangeListener, RefreshConfig, RefreshEngine};
use crate::index::Index;

#[derive(Default)]
struct ControlState {
    now: bool,
    stop: bool,
}

struct Control {
    state: Mutex<ControlState>,
    wake: Condvar,
    /// The engine's stop flag, so `stop` also ends a tick waiting on the network.
    engine_stop: Mutex<Option<Arc<AtomicBool>>>,
}

/// The refresher's thread. `refresh_now` (SIGHUP) runs a tick at once; dropping or
/// `stop` ends the thread promptly.
pub struct Refresher {
    control: Arc<Control>,
    thread: Option<JoinHandle<()>>,
    /// In a fleet: the thread that applies what other mounts publish.
    follower: Option<JoinHandle<()>>,
}

impl Refresher {
    /// Starts the thread; the first tick runs one interval from now (folders are listed on
    /// demand, so there is nothing to refresh at mount time), or at once when folders are
    /// served from the local store: they catch up with the org from their watermarks.
    pub fn start(
        index: Index,
        config: RefreshConfig,
        listener: Option<ChangeListener>,
    ) -> std::io::Result<Refresher> {
        let control = Arc::new(Control {
            state: Mutex::new(ControlState::default()),
            wake: Condvar::new(),
            engine_stop: Mutex::new(None),
        });
        let catch_up = index.has_restored_folders();
        let follower = if index.in_fleet() {
            Some(start_follower(
                index.clone(),
                listener.clone(),
                control.clone(),
            )?)
        } else {
            None
        };
        let engine = RefreshEngine::new(index, config, listener);
        *lock(&control.engine_stop) = Some(engine.stop_flag());
        let thread_control = control.clone();
        let thread = std::thread::Builder::new()
            .name("sfmount-refresh".to_string())
            .spawn(move || {
                let mut engine = engine;
                let mut delay = if catch_up {
                    std::time::Duration::ZERO
                } else {
                    engine.config().interval
                };
                loop {
                    let wake_at = Instant::now() + delay;
                    {
                        let mut state = lock(&thread_control.state);
                        loop {
                            if state.stop {
                                return;
                            }
                            if state.now {
                                state.now = false;
                                break;
                            }
                            let now = Instant::now();
                            if now >= wake_at {
                                break;
                            }
                            state = sync::wait_timeout(&thread_control.wake, state, wake_at - now);
                        }
                    }
                    engine.tick();
                    delay = engine.next_delay();
                }
            })?;
        Ok(Refresher {
            control,
            thread: Some(thread),
            follower,
        })
    }

    /// Runs a tick now (or right after the one in progress).
    pub fn refresh_now(&self) {
        lock(&self.control.state).now = true;
        self.control.wake.notify_all();
    }

    /// Ends the thread; a tick waiting on the network is abandoned (within 100 ms), its
    /// folders left as they were.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        lock(&self.control.state).stop = true;
        if let Some(flag) = lock(&self.control.engine_stop).as_ref() {
            flag.store(true, Ordering::Relaxed);
        }
        self.control.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        if let Some(thread) = self.follower.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Refresher {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// How long a follower waits for a notification before it asks the store anyway: a missed
/// notification (the database restarted, the connection dropped) delays a change by at
/// most this, which keeps every mount within interval + 2 s of the org.
const FOLLOW_POLL: std::time::Duration = std::time::Duration::from_secs(1);

/// The follower's thread: wakes on each notification of a published change (or every
/// [`FOLLOW_POLL`]) and applies what other mounts published, telling the kernel.
fn start_follower(
    index: Index,
    listener: Option<ChangeListener>,
    control: Arc<Control>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("sfmount-follow".to_string())
        .spawn(move || loop {
            if lock(&control.state).stop {
                return;
            }
            index.wait_published(FOLLOW_POLL);
            if lock(&control.state).stop {
                return;
            }
            index.follow_published(listener.as_ref());
        })
}
