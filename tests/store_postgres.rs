//! The PostgreSQL store on a real server (the cluster `scripts/test` starts): the same
//! answers as the SQLite store for the same batches, store keys kept apart, and the fleet
//! primitives (lead, listing locks, published changes), through a killed backend and a
//! restarted server. Without a server the tests are skipped and listed (failed under CI).

mod pg_support;

use pg_support::fixtures::{batches, body, change, entry, file, header};

use std::sync::Arc;
use std::time::{Duration, Instant};

use sfmount::index::store::{
    ChangeKind, LocalStore, PostgresStore, SqliteStore, StoreBatch, JOURNAL_KEEP,
};
use sfmount::index::FileFormat;
use sfmount::salesforce::{DescribeStore, StoredDescribe};

const DEADLINE: Duration = Duration::from_secs(10);
const ORG: &str = "00D000000000001AAA-005000000000001AAA";

/// Bounded polling for what the server does on its own time (releasing a dead session's
/// locks): at most this many tries, 50 ms apart.
const TRIES: usize = 200;

fn connect(db: &pg_support::TestDb, key: &str) -> PostgresStore {
    PostgresStore::connect(&db.url, key, DEADLINE).expect("the test database")
}

/// Everything a store answers about what it holds.
fn snapshot(store: &dyn LocalStore) -> String {
    let mut text = String::new();
    for object in ["Account", "Case", "Lead"] {
        let folder = store.load_folder(object).unwrap();
        text += &format!(
            "{object}: {:?}\n",
            folder.as_ref().map(|f| (&f.header, &f.files))
        );
        for id in ["001A", "001B", "001C", "500A"] {
            for format in [FileFormat::Json, FileFormat::Text] {
                let stored = store.get(object, id, format).unwrap();
                text += &format!("  {id} {format:?}: {:?}\n", stored.map(String::from_utf8));
            }
        }
    }
    text += &format!("journal: {:?}\n", store.journal_tail(100).unwrap());
    text += &format!("info: {:?}\n", store.info().unwrap());
    text
}

#[test]
fn the_same_batches_give_what_the_sqlite_store_gives() {
    let Some(db) = pg_support::database("the_same_batches_give_what_the_sqlite_store_gives") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(&dir.path().join("store.sqlite3")).unwrap();
    let postgres = connect(&db, ORG);
    for store in [&sqlite as &dyn LocalStore, &postgres] {
        store.begin_listing("Account", &header(false)).unwrap();
    }
    for (object, batch) in batches() {
        let numbers_sqlite = sqlite.apply(object, &batch).unwrap();
        let numbers_postgres = postgres.apply(object, &batch).unwrap();
        assert_eq!(
            numbers_postgres, numbers_sqlite,
            "journal numbers of {object}"
        );
    }
    let expected = snapshot(&sqlite);
    assert!(expected.contains("A2 [001A].json") && expected.contains("{\\\"c\\\":2}"));
    assert_eq!(snapshot(&postgres), expected);

    // A restarted listing forgets the folder's rows and bodies, and only that folder's.
    for store in [&sqlite as &dyn LocalStore, &postgres] {
        store.begin_listing("Account", &header(false)).unwrap();
    }
    assert_eq!(snapshot(&postgres), snapshot(&sqlite));
    for store in [&sqlite as &dyn LocalStore, &postgres] {
        store.clear().unwrap();
    }
    let cleared = snapshot(&postgres);
    assert_eq!(cleared, snapshot(&sqlite));
    assert!(cleared.contains("Case: None"), "{cleared}");

    // Describes and facts round-trip too, and survive a new connection.
    let describe = StoredDescribe {
        last_modified: "Wed, 01 May 2024 10:00:00 GMT".into(),
        body: b"{\"name\":\"Account\"}".to_vec(),
    };
    postgres.save("account", &describe);
    postgres
        .set_meta("instance_url", "https://x.example")
        .unwrap();
    drop(postgres);
    let again = connect(&db, ORG);
    assert_eq!(again.load("account"), Some(describe));
    assert_eq!(again.load("contact"), None);
    assert_eq!(
        again.meta("instance_url").unwrap().as_deref(),
        Some("https://x.example")
    );
}

#[test]
fn a_failed_batch_leaves_nothing_and_the_journal_keeps_its_newest() {
    let Some(db) = pg_support::database("a_failed_batch_leaves_nothing") else {
        return;
    };
    let store = connect(&db, ORG);
    // A trigger refuses one body: the batch's other rows must not stay.
    db.admin()
        .batch_execute(
            "CREATE FUNCTION refuse() RETURNS trigger AS $$
             BEGIN IF NEW.id = 'bad' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END
             $$ LANGUAGE plpgsql;
             CREATE TRIGGER refuse BEFORE INSERT ON sfmount.files
             FOR EACH ROW EXECUTE FUNCTION refuse();",
        )
        .unwrap();
    let batch = StoreBatch {
        put: vec![body("001A", FileFormat::Json, "a")],
        files: vec![file("bad", FileFormat::Json, "x", 1)],
        journal: vec![entry(ChangeKind::Added, "001A", "a")],
        ..StoreBatch::default()
    };
    let error = store.apply("Account", &batch).unwrap_err().to_string();
    assert!(error.contains("refused"), "{error}");
    assert_eq!(
        store.get("Account", "001A", FileFormat::Json).unwrap(),
        None
    );
    assert!(store.journal_tail(10).unwrap().is_empty());

    // Past JOURNAL_KEEP entries the oldest go, and numbers go on from the newest.
    let many = StoreBatch {
        journal: (0..JOURNAL_KEEP + 5)
            .map(|i| entry(ChangeKind::Updated, &format!("001{i}"), "p"))
            .collect(),
        ..StoreBatch::default()
    };
    let numbers = store.apply("Account", &many).unwrap();
    assert_eq!(numbers.first(), Some(&1));
    assert_eq!(numbers.last(), Some(&(JOURNAL_KEEP as u64 + 5)));
    let tail = store.journal_tail(usize::MAX).unwrap();
    assert_eq!(tail.len(), JOURNAL_KEEP);
    assert_eq!(tail[0].seq, 6);
}

#[test]
fn two_store_keys_in_one_database_never_see_each_others_rows() {
    let Some(db) = pg_support::database("two_store_keys_never_see_each_other") else {
        return;
    };
    let one = connect(&db, ORG);
    let other = connect(&db, "00D000000000001AAA-005000000000002AAA");
    for (object, batch) in batches() {
        one.apply(object, &batch).unwrap();
    }
    one.set_meta("instance_url", "https://one").unwrap();
    one.save(
        "global",
        &StoredDescribe {
            last_modified: "x".into(),
            body: b"{}".to_vec(),
        },
    );
    let empty = snapshot(&other);
    assert!(
        empty.contains("journal: []") && empty.contains("info: []"),
        "{empty}"
    );
    assert!(!empty.contains("Some("), "{empty}");
    assert_eq!(other.meta("instance_url").unwrap(), None);
    assert_eq!(other.load("global"), None);

    // The other key's journal numbers start at 1, and its clear spares the first key.
    let mine = StoreBatch {
        journal: vec![entry(ChangeKind::Listed, "", "Account")],
        ..StoreBatch::default()
    };
    assert_eq!(other.apply("Account", &mine).unwrap(), vec![1]);
    let before = snapshot(&one);
    other.clear().unwrap();
    assert_eq!(snapshot(&one), before);
}

#[test]
fn one_store_of_a_key_leads_and_another_takes_over_when_it_goes() {
    let Some(db) = pg_support::database("one_store_of_a_key_leads") else {
        return;
    };
    let first = connect(&db, ORG);
    let second = connect(&db, ORG);
    let elsewhere = connect(&db, "another-org");
    let fleet = |store: &PostgresStore| store.fleet().unwrap().lead().unwrap();
    assert!(fleet(&first));
    assert!(!fleet(&second));
    // Asked again: the leader keeps it, the follower still does not get it.
    assert!(fleet(&first));
    assert!(!fleet(&second));
    // Another store key has a lead of its own.
    assert!(fleet(&elsewhere));
    assert_ne!(
        first.fleet().unwrap().member_id(),
        second.fleet().unwrap().member_id()
    );

    drop(first);
    assert!(
        (0..TRIES).any(|_| fleet(&second) || pause()),
        "the second store never took the lead after the first closed"
    );

    // The leader's backend killed (as if its host died): a third store takes over, and
    // the old leader learns it lost the lead.
    let third = connect(&db, ORG);
    assert!(!fleet(&third));
    // The lead's key, as the engine derives it (a unit test pins the formula).
    let lead_key = xxhash_rust::xxh3::xxh3_64(format!("sfmount lead {ORG}\0").as_bytes()) as i64;
    let killed: i64 = db
        .admin()
        .query_one(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_locks
             WHERE locktype = 'advisory' AND granted AND objsubid = 1
               AND ((classid::BIGINT << 32) | objid::BIGINT) = $1",
            &[&lead_key],
        )
        .unwrap()
        .get(0);
    assert_eq!(killed, 1, "one session holds the lead");
    assert!(
        (0..TRIES).any(|_| fleet(&third) || pause()),
        "no store took the lead after the leader's backend was killed"
    );
    assert!(!fleet(&second));
}

fn pause() -> bool {
    std::thread::sleep(Duration::from_millis(50));
    false
}

#[test]
fn a_listing_lock_excludes_a_second_holder_until_dropped() {
    let Some(db) = pg_support::database("a_listing_lock_excludes") else {
        return;
    };
    let first = connect(&db, ORG);
    let second = connect(&db, ORG);
    let held = first
        .fleet()
        .unwrap()
        .lock_listing("Account", DEADLINE)
        .unwrap();
    let refused = second
        .fleet()
        .unwrap()
        .lock_listing("Account", Duration::from_millis(300));
    let error = refused.err().expect("the lock is held").to_string();
    assert!(error.contains("listing lock"), "{error}");
    // Another folder's lock is another lock.
    let contact = second
        .fleet()
        .unwrap()
        .lock_listing("Contact", DEADLINE)
        .unwrap();
    // A waiter gets the lock once the holder drops it.
    let waiter = std::thread::spawn(move || {
        second
            .fleet()
            .unwrap()
            .lock_listing("Account", DEADLINE)
            .map(drop)
            .is_ok()
    });
    std::thread::sleep(Duration::from_millis(200));
    drop(held);
    assert!(waiter.join().unwrap(), "the waiter never got the lock");
    drop(contact);
}

#[test]
fn a_published_change_is_read_back_in_order_and_wakes_another_store() {
    let Some(db) = pg_support::database("a_published_change_is_read_back") else {
        return;
    };
    let leader = Arc::new(connect(&db, ORG));
    let follower = connect(&db, ORG);
    let elsewhere = connect(&db, "another-org");
    let fleet = follower.fleet().unwrap();
    assert_eq!(fleet.latest_published().unwrap(), 0);
    assert_eq!(fleet.oldest_published().unwrap(), None);

    let me = leader.fleet().unwrap().member_id().to_string();
    let first = leader
        .fleet()
        .unwrap()
        .publish(&change("Account", &me))
        .unwrap();
    let second = leader
        .fleet()
        .unwrap()
        .publish(&change("Contact", &me))
        .unwrap();
    assert!(second > first);
    let since = fleet.published_since(0, 10).unwrap();
    assert_eq!(since.len(), 2);
    assert_eq!(since[0].seq, first);
    assert_eq!(since[0].change, change("Account", &me));
    // Field order is kept (a JSONB column would sort the keys).
    let names: Vec<&String> = since[0].change.records[0].keys().collect();
    assert_eq!(names, ["attributes", "Name", "Id"]);
    assert_eq!(fleet.published_since(first, 10).unwrap().len(), 1);
    assert_eq!(fleet.published_since(0, 1).unwrap().len(), 1);
    assert_eq!(fleet.latest_published().unwrap(), second);
    assert_eq!(fleet.oldest_published().unwrap(), Some(first));
    assert!(elsewhere
        .fleet()
        .unwrap()
        .published_since(0, 10)
        .unwrap()
        .is_empty());

    // A wait returns when another store publishes, long before its timeout.
    fleet.wait_published(Duration::from_millis(10)); // opens the listening session
    let publisher = leader.clone();
    let publishing = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        let fleet = publisher.fleet().unwrap();
        fleet.publish(&change("Lead", fleet.member_id())).unwrap()
    });
    let timeout = Duration::from_secs(120);
    let started = Instant::now();
    fleet.wait_published(timeout);
    let third = publishing.join().unwrap();
    assert!(started.elapsed() < timeout, "the wait ran to its timeout");
    assert_eq!(fleet.published_since(second, 10).unwrap()[0].seq, third);
}

#[test]
fn a_restarted_server_is_reconnected_and_the_lead_retaken_by_one() {
    let Some(db) = pg_support::database_for_restart("a_restarted_server_is_reconnected") else {
        return;
    };
    let first = connect(&db, ORG);
    let second = connect(&db, ORG);
    let (object, batch) = batches().remove(0);
    first.apply(object, &batch).unwrap();
    assert!(first.fleet().unwrap().lead().unwrap());
    assert!(!second.fleet().unwrap().lead().unwrap());
    second
        .fleet()
        .unwrap()
        .wait_published(Duration::from_millis(10));

    db.restart_server();

    // The next calls reconnect (the pause after a failed attempt may refuse a few).
    let mut read = None;
    for _ in 0..TRIES {
        if let Ok(body) = first.get(object, "001B", FileFormat::Json) {
            read = Some(body);
            break;
        }
        pause();
    }
    assert_eq!(read, Some(Some(b"{\"b\":1}".to_vec())));
    let written = (0..TRIES).any(|_| second.apply(object, &batch).is_ok() || pause());
    assert!(written, "the second store never wrote again");
    let leads = |store: &PostgresStore| store.fleet().unwrap().lead().unwrap_or(false);
    let mut held = (false, false);
    for _ in 0..TRIES {
        held = (leads(&first), leads(&second));
        if held.0 || held.1 {
            break;
        }
        pause();
    }
    assert!(
        held.0 ^ held.1,
        "exactly one store leads after the restart: {held:?}"
    );
    // Published changes still flow.
    let fleet = second.fleet().unwrap();
    let seq = fleet
        .publish(&change("Account", fleet.member_id()))
        .unwrap();
    assert_eq!(first.fleet().unwrap().latest_published().unwrap(), seq);
}

#[test]
fn no_password_appears_in_an_error() {
    let Some(db) = pg_support::database("no_password_appears_in_an_error") else {
        return;
    };
    // The one role whose password the test cluster checks (scripts/pg-cluster).
    let _ = db
        .admin()
        .batch_execute("CREATE ROLE sfmount_password_check LOGIN PASSWORD 'the-right-one'");
    let wrong = db.url_as("sfmount_password_check", "hunter2-wrong");
    let error = PostgresStore::connect(&wrong, ORG, DEADLINE)
        .err()
        .expect("a wrong password is refused");
    let shown = format!("{error} {error:?}");
    assert!(
        shown.contains("sfmount_password_check@127.0.0.1"),
        "{shown}"
    );
    assert!(shown.contains("password authentication failed"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");

    // Nobody listening: a connection error, still without the password.
    let mut closed = url::Url::parse(&wrong).unwrap();
    closed.set_port(Some(1)).unwrap();
    let error = PostgresStore::connect(closed.as_str(), ORG, DEADLINE)
        .err()
        .expect("nothing listens on port 1");
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains(":1/"), "{shown}");
}

#[test]
fn the_store_works_from_inside_an_async_runtime() {
    let Some(db) = pg_support::database("the_store_works_from_inside_an_async_runtime") else {
        return;
    };
    // The index writes listing pages from async tasks; the driver's own runtime must not
    // be started inside theirs (which would panic).
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let read = runtime.block_on(async {
        let store = connect(&db, ORG);
        let (object, batch) = batches().remove(0);
        store.apply(object, &batch).unwrap();
        let lock = store
            .fleet()
            .unwrap()
            .lock_listing("Account", DEADLINE)
            .unwrap();
        assert!(store.fleet().unwrap().lead().unwrap());
        drop(lock);
        store
            .fleet()
            .unwrap()
            .wait_published(Duration::from_millis(10));
        store.get(object, "001B", FileFormat::Text).unwrap()
    });
    assert_eq!(read, Some(b"b is 1".to_vec()));
}

#[test]
fn tls_follows_sslmode_as_libpq_reads_it() {
    let Some(db) = pg_support::database("tls_follows_sslmode") else {
        return;
    };
    let Some(root) = pg_support::tls_root("tls_follows_sslmode") else {
        return;
    };
    // Whether every sfmount session on this database is encrypted.
    let encrypted = || -> bool {
        db.admin()
            .query_one(
                "SELECT bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
                 WHERE a.datname = current_database() AND a.application_name = 'sfmount'",
                &[],
            )
            .unwrap()
            .get::<_, Option<bool>>(0)
            .expect("an sfmount session")
    };
    let with = |query: &str| format!("{}?{query}", db.url);

    // require: encrypted, the self-signed certificate not checked.
    let store = PostgresStore::connect(&with("sslmode=require"), ORG, DEADLINE).unwrap();
    store.set_meta("k", "v").unwrap();
    assert!(encrypted());
    drop(store);
    // verify-full: the certificate checked against the given root, and the address.
    let checked = format!("sslmode=verify-full&sslrootcert={root}");
    let store = PostgresStore::connect(&with(&checked), ORG, DEADLINE).unwrap();
    assert_eq!(store.meta("k").unwrap().as_deref(), Some("v"));
    assert!(encrypted());
    drop(store);
    // verify-full against the public roots: a self-signed server is refused.
    let refused = PostgresStore::connect(&with("sslmode=verify-full"), ORG, DEADLINE);
    let error = refused.err().expect("an unknown issuer").to_string();
    assert!(
        error.contains("TLS") || error.contains("certificate"),
        "{error}"
    );
    // disable: plain.
    let store = PostgresStore::connect(&with("sslmode=disable"), ORG, DEADLINE).unwrap();
    assert_eq!(store.meta("k").unwrap().as_deref(), Some("v"));
    assert!(!encrypted());
}

#[test]
fn parallel_readers_share_a_few_sessions() {
    let Some(db) = pg_support::database("parallel_readers_share_a_few_sessions") else {
        return;
    };
    let store = Arc::new(connect(&db, ORG));
    let (object, batch) = batches().remove(0);
    store.apply(object, &batch).unwrap();
    let readers: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || {
                (0..50)
                    .filter(|_| {
                        store
                            .get(object, "001B", FileFormat::Json)
                            .unwrap()
                            .is_some()
                    })
                    .count()
            })
        })
        .collect();
    let found: usize = readers.into_iter().map(|r| r.join().unwrap()).sum();
    assert_eq!(found, 8 * 50);
    let sessions: i64 = db
        .admin()
        .query_one(
            "SELECT COUNT(*) FROM pg_stat_activity
             WHERE datname = current_database() AND application_name = 'sfmount'",
            &[],
        )
        .unwrap()
        .get(0);
    // The store's own sessions (three at most), not one per reader.
    assert!((1..=3).contains(&sessions), "{sessions} sessions");
}

#[test]
fn attached_files_and_their_folders_are_shared_by_the_mounts_of_one_key_only() {
    let Some(db) = pg_support::database("attached_files_are_shared") else {
        return;
    };
    let downloader = connect(&db, ORG);
    let follower = connect(&db, ORG);
    let other_user = connect(&db, "00D000000000001AAA-005000000000002AAA");
    assert!(downloader.keeps_documents());
    let chunk = vec![9u8; 4096];
    downloader.put_document_chunk("068A", 0, &chunk).unwrap();
    downloader.put_document_chunk("068A", 1, b"tail").unwrap();
    downloader
        .put_document_folders("Account", r#"{"folders":[]}"#)
        .unwrap();
    // Another mount of the same org and user reads what the first one downloaded.
    assert_eq!(follower.get_document_chunk("068A", 0).unwrap(), Some(chunk));
    assert_eq!(
        follower.get_document_chunk("068A", 1).unwrap().as_deref(),
        Some(&b"tail"[..])
    );
    assert_eq!(follower.get_document_chunk("068A", 2).unwrap(), None);
    assert_eq!(
        follower
            .load_document_folders("Account")
            .unwrap()
            .as_deref(),
        Some(r#"{"folders":[]}"#)
    );
    // Another run-as user may not be allowed to read the document: it sees nothing.
    assert_eq!(other_user.get_document_chunk("068A", 0).unwrap(), None);
    assert_eq!(other_user.load_document_folders("Account").unwrap(), None);
    follower.clear().unwrap();
    assert_eq!(downloader.get_document_chunk("068A", 0).unwrap(), None);
    assert_eq!(downloader.load_document_folders("Account").unwrap(), None);
}
