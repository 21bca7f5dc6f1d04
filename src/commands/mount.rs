//! `sfmount mount`: settings → connect → select objects → mount → serve in the foreground
//! until SIGINT/SIGTERM (or an external unmount) → unmount → exit 0.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};

use super::metrics::MetricsSources;
pub(crate) use super::mountpoint::check_mountpoint;
use super::mountpoint::{explain_mount_error, is_mount_point, lazy_unmount};

use super::connect::{
    connect_and_select, settings_from_process, ConnectedOrg, OrgUnreachable, StepWording,
};
use super::offline;
use super::store::MountStore;
use crate::catalog::{select_objects, Selection};
use crate::cli::MountArgs;
use crate::config::{AllowUsers, Settings};
use crate::fs::fuse::{spawn_mount, MountConfig};
use crate::fs::invalidate::start_invalidator;
use crate::fs::Filesystem;
use crate::index::refresh::{RefreshConfig, Refresher};
use crate::index::salesforce_source::key_prefix;
use crate::index::{FolderSpec, Index, IndexConfig};
use crate::salesforce::SalesforceClient;

pub fn run(args: MountArgs) -> anyhow::Result<()> {
    let settings =
        settings_from_process(args.connection.config.as_deref(), &args.settings_layer())?;
    let mountpoint = check_mountpoint(&args.mountpoint, false)?;
    let runtime = build_runtime()?;
    mount_org(&runtime, &settings, &mountpoint, "sfmount", |_| {})
}

/// Worker threads for the client's requests: listings of several folders run side by side,
/// but each is one request at a time, so two threads keep a 2-core machine responsive.
const RUNTIME_THREADS: usize = 2;

pub(crate) fn build_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(RUNTIME_THREADS)
        .thread_name("sfmount-io")
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Connects to the org, selects the objects, mounts and serves until a stop signal.
/// `on_mounted` runs once the mount answers (the demo prints its hints there). An org out
/// of reach at start is served from the local store, if there is one.
pub(crate) fn mount_org(
    runtime: &tokio::runtime::Runtime,
    settings: &Settings,
    mountpoint: &Path,
    fs_name: &str,
    on_mounted: impl FnOnce(&Path),
) -> anyhow::Result<()> {
    // Checked before connecting: a mount that cannot be made should spend no API call.
    let mount_options = mount_config(settings, fs_name)?;
    let wording = StepWording {
        login: "cannot connect to Salesforce",
        describe_global: "cannot list the org's objects (describeGlobal)",
        selection: None,
    };
    let cache_dir = settings.cache_dir.as_deref();
    let shared_url = settings.store.as_ref().map(|url| url.expose());
    // The local store's lock is held until the mount ends: `cache clear` and other mounts
    // see the store is taken.
    let mut store: Option<MountStore> = None;
    let connected = runtime.block_on(connect_and_select(settings, &wording, |client| {
        store = MountStore::open(shared_url, cache_dir, client.identity())?;
        if let Some(store) = &store {
            // Before describeGlobal: it and every describe are revalidated, not downloaded.
            client.set_describe_store(store.describe_store());
            if store.led_elsewhere() {
                // A follower's start costs its login: the leader keeps the describes current.
                client.trust_kept_describes();
            }
        }
        Ok(())
    }));
    let (client, org, offline_reason) = match connected {
        Ok(ConnectedOrg {
            client,
            global,
            selection,
        }) => {
            if let (Some(store), Some(identity)) = (&store, client.identity()) {
                offline::remember(
                    cache_dir,
                    settings,
                    &identity,
                    store,
                    &global,
                    &client.instance_url(),
                );
            }
            let key_prefixes = selection
                .objects
                .iter()
                .map(|o| (o.name.clone(), key_prefix(&global, &o.name)))
                .collect();
            let instance_url = client.instance_url();
            let org = MountedOrg {
                selection,
                key_prefixes,
                instance_url,
            };
            (client, org, None)
        }
        Err(error) if OrgUnreachable::in_chain(&error) => {
            // A login that worked before the org stopped answering opened and locked the
            // store already; recall opens and locks it again, so let go of it first.
            drop(store.take());
            // Offline starts serve the local store only (see docs/store.md).
            let recalled = match shared_url {
                Some(_) => None,
                None => cache_dir.and_then(|dir| offline::recall(dir, settings)),
            };
            let Some(stored) = recalled else {
                return Err(error);
            };
            let reason = format!("{error:#}");
            tracing::warn!(
                reason = %reason,
                "the org is out of reach: serving the local store read-only as of its last \
                 refresh, and catching up once the org answers"
            );
            let selection = select_objects(&settings.objects, &stored.objects)?;
            let client = SalesforceClient::connect_later(settings.client_settings())
                .map_err(super::flag_hints::with_flag_hints)?;
            let stored_store = Arc::new(stored.store);
            client.set_describe_store(stored_store.clone());
            offline::watch_first_login(client.clone(), stored.identity);
            store = Some(MountStore::Local {
                store: stored_store,
                lock: stored.lock,
            });
            let org = MountedOrg {
                selection,
                key_prefixes: stored.key_prefixes,
                instance_url: stored.instance_url,
            };
            (client, org, Some(reason))
        }
        Err(error) => return Err(error),
    };
    for (name, reason) in &org.selection.skipped {
        tracing::warn!(object = %name, reason = %reason, "not mounted");
    }
    if org.selection.objects.is_empty() {
        bail!("no object to mount: every selected object was skipped (see the warnings above)");
    }
    let folders: Vec<FolderSpec> = org
        .selection
        .objects
        .iter()
        .map(|object| FolderSpec {
            object: object.name.clone(),
            label: object.label.clone(),
            group: object.group,
            key_prefix: org.key_prefixes.get(&object.name).cloned().flatten(),
            custom: object.name.ends_with("__c"),
        })
        .collect();
    let mut config = IndexConfig::new(settings.format.to_vec(), org.instance_url.clone());
    config.body_cache_bytes = settings.memory_cache_bytes;
    // The client may retry a request once within the deadline; waiting a little over two
    // request deadlines lets that retry finish before the filesystem gives up.
    config.operation_deadline = settings.request_timeout * 2 + Duration::from_secs(5);
    let metrics_client = client.clone();
    let source = Arc::new(
        crate::index::salesforce_source::ClientSource::new(client)
            .with_error_wording(super::flag_hints::user_message),
    );
    if let Some(store) = &store {
        store.bound(settings.max_cache_bytes);
    }
    // The local store's lock is held until the mount ends.
    let (store, lock) = store.map(MountStore::into_parts).unzip();
    let index = Index::with_store(source, runtime.handle().clone(), folders, config, store);
    if let Some(reason) = offline_reason {
        index.start_offline(reason);
    }
    let mut refresh = RefreshConfig::new(settings.interval);
    refresh.formula_interval = settings.formula_refresh_interval;
    refresh.api_floor = settings.api_floor;
    // A tick waits for its queries at most as long as a filesystem operation would.
    refresh.tick_deadline = settings.request_timeout * 2 + Duration::from_secs(5);
    let options = ServeOptions {
        mount: mount_options,
        metrics: settings.metrics_addr.map(|addr| (addr, metrics_client)),
    };
    let served = serve(
        runtime,
        Arc::new(Filesystem::with_timing(index, settings.cache_timing)),
        mountpoint,
        &options,
        Some(refresh),
        on_mounted,
    );
    drop(lock.flatten());
    served
}

/// What is mounted, from the org or, when it is out of reach, from the store.
struct MountedOrg {
    selection: Selection,
    key_prefixes: HashMap<String, Option<String>>,
    instance_url: String,
}

/// How the mount is made and watched, beyond the filesystem itself.
pub(crate) struct ServeOptions {
    pub mount: MountConfig,
    /// Where to serve `/metrics`, and the client whose requests it counts.
    pub metrics: Option<(std::net::SocketAddr, SalesforceClient)>,
}

/// The fuser mount options these settings ask for.
///
/// fusermount3 only unmounts for us (`auto_unmount`) when root may use the mount too, so
/// it then needs allow_root or allow_other. When root mounts, allow_root lets in no one new
/// (the owner is root), so it is implied; a user must choose, since both need
/// `user_allow_other` in /etc/fuse.conf.
fn mount_config(settings: &Settings, fs_name: &str) -> anyhow::Result<MountConfig> {
    let access = &settings.access;
    let mut allow = access.allow;
    if settings.auto_unmount && allow == AllowUsers::Owner {
        // SAFETY: geteuid cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            bail!(
                "--auto-unmount as a user needs --allow-root or --allow-other as well \
                 (fusermount3's rule; both need user_allow_other in /etc/fuse.conf)"
            );
        }
        allow = AllowUsers::Root;
    }
    Ok(MountConfig {
        fs_name: fs_name.to_string(),
        allow_other: allow == AllowUsers::Everyone,
        allow_root: allow == AllowUsers::Root,
        auto_unmount: settings.auto_unmount,
        uid: access.uid,
        gid: access.gid,
        file_mode: access.file_mode,
        dir_mode: access.dir_mode,
        ..MountConfig::default()
    })
}

/// Mounts `fs` and blocks until SIGINT or SIGTERM (then unmounts) or until someone else
/// unmounts it. Either way the mount is gone when this returns. With `refresh`, a background
/// refresher follows the org and SIGHUP runs a refresh at once.
pub(crate) fn serve(
    runtime: &tokio::runtime::Runtime,
    fs: Arc<Filesystem>,
    mountpoint: &Path,
    options: &ServeOptions,
    refresh: Option<RefreshConfig>,
    on_mounted: impl FnOnce(&Path),
) -> anyhow::Result<()> {
    let index = fs.index().clone();
    let signals = StopSignals::watch(runtime)?;
    if let Some((addr, client)) = &options.metrics {
        let sources = MetricsSources {
            client: client.clone(),
            index: index.clone(),
            fs: fs.clone(),
        };
        super::metrics::start(*addr, sources)?;
    }
    let session = spawn_mount(fs.clone(), mountpoint, &options.mount)
        .map_err(|error| explain_mount_error(error, mountpoint))?;
    tracing::info!(mountpoint = %mountpoint.display(), "mounted; stop with Ctrl-C or SIGTERM");
    let refresher = match refresh {
        Some(refresh) => {
            tracing::info!(
                interval = ?refresh.interval,
                formula_interval = ?refresh.formula_interval,
                "background refresh on; SIGHUP refreshes now"
            );
            let listener = start_invalidator(session.notifier(), fs.clone())
                .context("cannot start the kernel invalidation thread")?;
            Some(
                Refresher::start(index, refresh, Some(listener))
                    .context("cannot start the background refresh thread")?,
            )
        }
        None => None,
    };
    on_mounted(mountpoint);
    // Serving: a waiting `--daemon` parent exits 0, and systemd marks the unit started.
    super::daemon::report_ready();
    super::notify::ready();

    let stopped_by_signal =
        runtime.block_on(wait_for_stop(&session, refresher.as_ref(), signals))?;
    super::notify::stopping();
    // The tick in progress ends first, so no invalidation is sent to a mount going away.
    if let Some(refresher) = refresher {
        refresher.stop();
    }
    if stopped_by_signal {
        tracing::info!("stopping: unmounting {}", mountpoint.display());
        if let Err(error) = session.umount_and_join() {
            if !is_mount_point(mountpoint) {
                return Err(error)
                    .with_context(|| format!("cannot unmount {}", mountpoint.display()));
            }
            // Busy: a file is open or a shell sits inside. Detach it now (the kernel ends
            // the connection when this process exits, so nothing waits on the holders).
            tracing::warn!(
                error = %error,
                "{} is busy; detaching it lazily",
                mountpoint.display()
            );
            lazy_unmount(mountpoint)?;
        }
    } else {
        tracing::info!("{} was unmounted from outside", mountpoint.display());
        session
            .join()
            .context("the filesystem session ended with an error")?;
    }
    Ok(())
}

/// The signals a mount answers, watched from before it is reported ready: a SIGTERM sent
/// right after `READY=1` (or after `--daemon` returned) must unmount, not kill.
struct StopSignals {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
    /// SIGHUP means "refresh now" (rclone's convention); left to its default it would
    /// kill the process and leave a dead mount.
    hangup: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn watch(runtime: &tokio::runtime::Runtime) -> anyhow::Result<StopSignals> {
        use tokio::signal::unix::{signal, SignalKind};
        let _context = runtime.enter();
        Ok(StopSignals {
            terminate: signal(SignalKind::terminate()).context("cannot watch SIGTERM")?,
            interrupt: signal(SignalKind::interrupt()).context("cannot watch SIGINT")?,
            hangup: signal(SignalKind::hangup()).context("cannot watch SIGHUP")?,
        })
    }
}

/// Waits for SIGINT or SIGTERM (`true`) or an unmount from outside (`false`); SIGHUP
/// meanwhile runs a refresh at once.
async fn wait_for_stop(
    session: &fuser::BackgroundSession,
    refresher: Option<&Refresher>,
    signals: StopSignals,
) -> anyhow::Result<bool> {
    let StopSignals {
        mut terminate,
        mut interrupt,
        mut hangup,
    } = signals;
    // How often to notice an external `fusermount -u`: fast enough for scripts.
    let mut poll = tokio::time::interval(Duration::from_millis(200));
    loop {
        tokio::select! {
            _ = terminate.recv() => return anyhow::Ok(true),
            _ = interrupt.recv() => return anyhow::Ok(true),
            _ = hangup.recv() => match refresher {
                Some(refresher) => {
                    tracing::info!("SIGHUP: refreshing now");
                    refresher.refresh_now();
                }
                None => tracing::info!("SIGHUP: background refresh is off; nothing to do"),
            },
            _ = poll.tick() => {
                if session.guard.is_finished() {
                    return anyhow::Ok(false);
                }
            }
        }
    }
}
