//! What the index keeps of a folder in the local store, and how a mount starts from it: a
//! folder whose stored listing is complete and was presented the way this mount presents
//! files is served at once (fresh inode numbers, bodies read from disk on demand) and
//! followed from its stored watermark. Its plan is checked against the org's describes by
//! the refresher's first tick (`Index::verify_restored_plan`).

use std::sync::Arc;
use std::time::SystemTime;

use super::store::{FolderHeader, StoredFolder};
use super::{FileFormat, Index, IndexError, Listing, ListingPlan, Shared};
use crate::sync::lock;

impl Shared {
    /// How files are presented by this mount: the build (names and bytes may change between
    /// versions), the formats and the instance URL (the text view links to records there).
    pub(super) fn presentation(&self) -> String {
        let formats: Vec<&str> = self
            .config
            .formats
            .iter()
            .map(|f| FileFormat::extension(*f))
            .collect();
        format!(
            "sfmount {}; formats {}; instance {}",
            env!("CARGO_PKG_VERSION"),
            formats.join(","),
            self.config.instance_url
        )
    }

    /// The folder's header for the store: a listing made with `plan` whose names last
    /// changed at `changed_at`.
    pub(super) fn header(
        &self,
        plan: &ListingPlan,
        changed_at: SystemTime,
        complete: bool,
        watermark: Option<SystemTime>,
        refreshed_at: SystemTime,
    ) -> FolderHeader {
        FolderHeader {
            plan: plan_json(plan),
            presentation: self.presentation(),
            complete,
            watermark,
            refreshed_at,
            changed_at,
        }
    }

    /// Writes the folder's header as it stands: after a refresh tick moved its watermark,
    /// so a restart starts from there (the rows it applied were written before).
    pub(super) fn persist_header(&self, folder: usize) {
        if !self.store.is_enabled() {
            return;
        }
        let (listing, watermark, refreshed_at) = {
            let status = lock(&self.folders[folder].status);
            let Some(listing) = status.listing.clone() else {
                return;
            };
            let refreshed = status.last_refresh().unwrap_or(listing.refreshed_at);
            (listing, status.watermark(), refreshed)
        };
        let batch = super::store::StoreBatch {
            header: Some(self.header(
                &listing.plan,
                listing.changed_at,
                true,
                watermark,
                refreshed_at,
            )),
            ..Default::default()
        };
        self.store.write(&self.folders[folder].spec.object, &batch);
    }

    /// Serves every folder the store holds complete, as this mount would present it.
    pub(super) fn restore_folders(&self) {
        if !self.store.is_enabled() {
            return;
        }
        let presentation = self.presentation();
        let (mut folders, mut records) = (0usize, 0usize);
        for folder in 0..self.folders.len() {
            let object = &self.folders[folder].spec.object;
            let Some(stored) = self.store.load_folder(object) else {
                continue;
            };
            match self.restorable(&stored, &presentation) {
                Ok(plan) => {
                    let listing = self.restored_listing(folder, stored, plan);
                    records += listing.record_count();
                    folders += 1;
                    let mut status = lock(&self.folders[folder].status);
                    install_stored(&mut status, listing);
                    status.plan_unverified = true;
                }
                Err(reason) => {
                    tracing::info!(object = %object, reason, "stored listing not used; the folder is listed afresh");
                }
            }
        }
        if folders > 0 {
            tracing::info!(
                folders,
                records,
                "serving the stored listings; refresh follows the org from their watermarks"
            );
        }
    }

    fn restorable(
        &self,
        stored: &StoredFolder,
        presentation: &str,
    ) -> Result<ListingPlan, &'static str> {
        if !stored.header.complete {
            return Err("its first listing was cut short");
        }
        if stored.header.presentation != presentation {
            return Err("it was written by another version or with other formats");
        }
        serde_json::from_str(&stored.header.plan).map_err(|_| "its stored plan is unreadable")
    }

    /// The folder's stored listing if it is complete and presented as this mount presents
    /// files: how a fleet's mount lists a folder another mount listed already.
    pub(super) fn listing_from_store(&self, folder: usize) -> Option<Listing> {
        let stored = self.store.load_folder(&self.folders[folder].spec.object)?;
        let plan = self.restorable(&stored, &self.presentation()).ok()?;
        Some(self.restored_listing(folder, stored, plan))
    }

    fn restored_listing(&self, folder: usize, stored: StoredFolder, plan: ListingPlan) -> Listing {
        let mut files = stored.files;
        for file in &mut files {
            file.ino = self.allocate_ino(folder);
        }
        let header = stored.header;
        let mut listing = Listing::new(files, plan, header.refreshed_at, header.changed_at);
        listing.watermark = header.watermark;
        listing.documents = self.restored_documents(folder);
        listing
    }
}

impl Index {
    /// The folder read again whole from the store (a follower that missed published
    /// changes): every old file is stale, since its inode is not reused. `None` when the
    /// store has no usable listing of it (the folder is then left as it is).
    pub(super) fn replace_from_store(&self, folder: usize) -> Option<super::ChangeSummary> {
        let f = self.folder(folder).ok()?;
        let listing = self.shared.listing_from_store(folder)?;
        let _rewrite = lock(&f.rewrite);
        let old = lock(&f.status).listing.replace(Arc::new(listing))?;
        let new = lock(&f.status).listing.clone()?;
        let names: std::collections::HashSet<&str> =
            new.files().iter().map(|file| &*file.name).collect();
        let old_names: std::collections::HashSet<&str> =
            old.files().iter().map(|file| &*file.name).collect();
        let mut summary = super::ChangeSummary {
            updated: old.files().len(),
            stale_inodes: old.files().iter().map(|file| file.ino).collect(),
            ..Default::default()
        };
        summary.stale_names = old_names
            .difference(&names)
            .map(|name| name.to_string())
            .collect();
        summary.removed = summary.stale_names.len();
        summary.added = names.difference(&old_names).count();
        Some(summary)
    }

    /// For a folder served from the store: asks the org for the object's plan now (its
    /// describes, revalidated) and, if the selected fields changed (a field added, one
    /// hidden by field-level security), adopts the new plan and says so: the caller
    /// re-reads the folder whole. `Ok(false)` when nothing is to be done.
    pub(crate) fn verify_restored_plan(
        &self,
        folder: usize,
        deadline: std::time::Duration,
        stop: &std::sync::atomic::AtomicBool,
    ) -> Result<bool, IndexError> {
        let f = self.folder(folder)?;
        let Some(listing) = ({
            let status = lock(&f.status);
            status
                .plan_unverified
                .then(|| status.listing.clone())
                .flatten()
        }) else {
            return Ok(false);
        };
        let plan = self.plan(folder, deadline, stop)?;
        let changed = plan != listing.plan;
        if changed {
            tracing::info!(object = %f.spec.object, "the object's fields changed since the store was written: re-reading it");
            let _rewrite = lock(&f.rewrite);
            let mut status = lock(&f.status);
            if let Some(current) = &status.listing {
                let mut replanned = Listing::new(
                    current.files().to_vec(),
                    plan,
                    current.refreshed_at,
                    current.changed_at,
                );
                replanned.watermark = current.watermark;
                replanned.documents = current.documents.clone();
                status.listing = Some(Arc::new(replanned));
            }
        }
        lock(&f.status).plan_unverified = false;
        Ok(changed)
    }
}

/// Serves a listing read from the store, with the refresh state it was stored with.
pub(super) fn install_stored(status: &mut super::FolderStatus, listing: Listing) {
    status.refresh.watermark = listing.watermark;
    status.refresh.last_success = Some(listing.refreshed_at);
    status.refresh.last_full_refresh = Some(listing.refreshed_at);
    status.listing = Some(Arc::new(listing));
}

fn plan_json(plan: &ListingPlan) -> String {
    // A plan is strings only: serializing it cannot fail.
    serde_json::to_string(plan).unwrap_or_default()
}
