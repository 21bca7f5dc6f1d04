use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;
use crate::catalog::DEFAULT_STANDARD_OBJECTS;
use crate::config::{DEFAULT_FORMULA_REFRESH_INTERVAL, EXAMPLE_SETTINGS};
use crate::render::FileFormat;

pub(crate) fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |key| map.get(key).cloned()
}

pub(crate) fn no_env(_: &str) -> Option<String> {
    None
}

pub(crate) fn settings_file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

const FULL_FILE: &str = r#"
domain = "filecorp"
client_id = "file-id"
client_secret = "file-secret"
interval = "5m"
standard_objects_to_sync = ["Account", "Case"]
sync_custom_objects = true
custom_objects_to_sync = ["Invoice__c"]
format = "text"
request_timeout = 10
"#;

#[test]
fn file_alone_gives_every_key() {
    let file = settings_file(FULL_FILE);
    let s = Settings::resolve(Some(file.path()), &Layer::default(), &no_env).unwrap();
    assert_eq!(s.login, Login::Domain("filecorp".into()));
    assert_eq!(s.client_id, "file-id");
    assert_eq!(s.client_secret.expose(), "file-secret");
    assert_eq!(s.interval, Duration::from_secs(300));
    assert_eq!(s.objects.standard_objects, vec!["Account", "Case"]);
    assert!(s.objects.sync_custom_objects);
    assert_eq!(
        s.objects.custom_objects,
        CustomObjects::Names(vec!["Invoice__c".into()])
    );
    assert_eq!(s.format, [FileFormat::Text]);
    assert_eq!(s.request_timeout, Duration::from_secs(10));
}

#[test]
fn environment_overrides_file_and_flags_override_environment() {
    let file = settings_file(FULL_FILE);
    let env = env_of(&[
        (ENV_DOMAIN, "envcorp"),
        (ENV_CLIENT_ID, "env-id"),
        (ENV_CLIENT_SECRET, "env-secret"),
    ]);
    let s = Settings::resolve(Some(file.path()), &Layer::default(), &env).unwrap();
    assert_eq!(s.login, Login::Domain("envcorp".into()));
    assert_eq!(s.client_id, "env-id");
    assert_eq!(s.client_secret.expose(), "env-secret");

    let mut secret_file = tempfile::NamedTempFile::new().unwrap();
    secret_file.write_all(b"flag-secret\n").unwrap();
    let flags = Layer {
        domain: Some("flagcorp.my.salesforce.com".into()),
        client_id: Some("flag-id".into()),
        client_secret_file: Some(secret_file.path().to_path_buf()),
        request_timeout: Some(DurationValue::Seconds(7)),
        interval: Some(DurationValue::Text("45s".into())),
        standard_objects: Some(vec!["Lead".into()]),
        custom_objects: Some(vec!["*".into()]),
        format: Some("both".into()),
        ..Layer::default()
    };
    let s = Settings::resolve(Some(file.path()), &flags, &env).unwrap();
    assert_eq!(s.login, Login::Domain("flagcorp.my.salesforce.com".into()));
    assert_eq!(s.client_id, "flag-id");
    assert_eq!(
        s.client_secret.expose(),
        "flag-secret",
        "trailing newline dropped"
    );
    assert_eq!(s.interval, Duration::from_secs(45));
    assert_eq!(s.objects.standard_objects, vec!["Lead"]);
    assert_eq!(s.objects.custom_objects, CustomObjects::All);
    assert_eq!(s.format, [FileFormat::Json, FileFormat::Text]);
    assert_eq!(s.request_timeout, Duration::from_secs(7));
}

#[test]
fn login_url_flag_replaces_a_domain_from_any_layer() {
    let file = settings_file(FULL_FILE);
    let flags = Layer {
        login_url: Some("http://127.0.0.1:8080/".into()),
        ..Layer::default()
    };
    let env = env_of(&[(ENV_DOMAIN, "envcorp")]);
    let s = Settings::resolve(Some(file.path()), &flags, &env).unwrap();
    assert_eq!(s.login, Login::Url("http://127.0.0.1:8080".into()));
}

#[test]
fn defaults_when_only_credentials_are_given() {
    let env = env_of(&[
        (ENV_DOMAIN, "acme"),
        (ENV_CLIENT_ID, "id"),
        (ENV_CLIENT_SECRET, "secret"),
    ]);
    let s = Settings::resolve(None, &Layer::default(), &env).unwrap();
    assert_eq!(s.interval, DEFAULT_INTERVAL);
    assert_eq!(
        s.objects.standard_objects,
        DEFAULT_STANDARD_OBJECTS.to_vec()
    );
    assert!(!s.objects.sync_custom_objects);
    assert_eq!(s.objects.custom_objects, CustomObjects::Names(vec![]));
    assert_eq!(s.format, [FileFormat::Json]);
    assert_eq!(s.request_timeout, DEFAULT_REQUEST_TIMEOUT);
}

#[test]
fn star_as_a_string_or_in_a_list_means_every_custom_object() {
    for value in [r#""*""#, r#"["*"]"#, r#"["Invoice__c", "*"]"#] {
        let file = settings_file(&format!(
            "domain = \"a\"\nclient_id = \"i\"\nclient_secret = \"s\"\ncustom_objects_to_sync = {value}\n"
        ));
        let s = Settings::resolve(Some(file.path()), &Layer::default(), &no_env).unwrap();
        assert_eq!(s.objects.custom_objects, CustomObjects::All, "{value}");
    }
}

#[test]
fn object_lists_may_be_one_comma_separated_string() {
    let file = settings_file(
        "domain = \"a\"\nclient_id = \"i\"\nclient_secret = \"s\"\n\
         standard_objects_to_sync = \"Account, Case\"\n\
         custom_objects_to_sync = \"Invoice__c,Project__c\"\n",
    );
    let s = Settings::resolve(Some(file.path()), &Layer::default(), &no_env).unwrap();
    assert_eq!(s.objects.standard_objects, vec!["Account", "Case"]);
    assert_eq!(
        s.objects.custom_objects,
        CustomObjects::Names(vec!["Invoice__c".into(), "Project__c".into()])
    );
    let file = settings_file(
        "domain = \"a\"\nclient_id = \"i\"\nclient_secret = \"s\"\nstandard_objects_to_sync = \"\"\n",
    );
    let s = Settings::resolve(Some(file.path()), &Layer::default(), &no_env).unwrap();
    assert!(
        s.objects.standard_objects.is_empty(),
        "an empty string is no object"
    );
}

#[test]
fn empty_standard_list_means_none_and_star_there_is_an_error() {
    let file = settings_file(
        "domain = \"a\"\nclient_id = \"i\"\nclient_secret = \"s\"\nstandard_objects_to_sync = []\n",
    );
    let s = Settings::resolve(Some(file.path()), &Layer::default(), &no_env).unwrap();
    assert!(s.objects.standard_objects.is_empty());

    let file = settings_file(
        "domain = \"a\"\nclient_id = \"i\"\nclient_secret = \"s\"\nstandard_objects_to_sync = [\"*\"]\n",
    );
    let err = Settings::resolve(Some(file.path()), &Layer::default(), &no_env).unwrap_err();
    assert!(
        matches!(err, ConfigError::WildcardInStandardObjects),
        "{err}"
    );
}

#[test]
fn missing_pieces_each_have_their_own_error() {
    let err = Settings::resolve(None, &Layer::default(), &no_env).unwrap_err();
    assert!(matches!(err, ConfigError::MissingLogin));
    assert!(err.to_string().contains("SFMOUNT_DOMAIN"));

    let env = env_of(&[(ENV_DOMAIN, "acme")]);
    let err = Settings::resolve(None, &Layer::default(), &env).unwrap_err();
    assert!(matches!(err, ConfigError::MissingClientId));

    let env = env_of(&[
        (ENV_DOMAIN, "acme"),
        (ENV_CLIENT_ID, "id"),
        (ENV_CLIENT_SECRET, "  "),
    ]);
    let err = Settings::resolve(None, &Layer::default(), &env).unwrap_err();
    assert!(
        matches!(err, ConfigError::MissingSecret),
        "blank secret counts as missing"
    );
    assert!(err.to_string().contains("SFMOUNT_CLIENT_SECRET"));
}

#[test]
fn unreadable_secret_file_is_named_in_the_error() {
    let env = env_of(&[(ENV_DOMAIN, "acme"), (ENV_CLIENT_ID, "id")]);
    let flags = Layer {
        client_secret_file: Some(PathBuf::from("/nonexistent/secret.txt")),
        ..Layer::default()
    };
    let err = Settings::resolve(None, &flags, &env).unwrap_err();
    assert!(matches!(err, ConfigError::ReadSecretFile { .. }));
    assert!(err.to_string().contains("/nonexistent/secret.txt"));
}

#[test]
fn an_empty_secret_file_is_named_in_the_error() {
    let env = env_of(&[
        (ENV_DOMAIN, "acme"),
        (ENV_CLIENT_ID, "id"),
        (ENV_CLIENT_SECRET, "from-env"),
    ]);
    let file = settings_file(" \n");
    let flags = Layer {
        client_secret_file: Some(file.path().to_path_buf()),
        ..Layer::default()
    };
    let err = Settings::resolve(None, &flags, &env).unwrap_err();
    assert!(matches!(err, ConfigError::EmptySecretFile { .. }), "{err}");
    assert!(
        err.to_string().contains(&file.path().display().to_string()),
        "{err}"
    );
}

#[test]
fn unknown_keys_and_both_logins_are_rejected() {
    let file = settings_file("domian = \"a\"\n");
    let err = Settings::resolve(Some(file.path()), &Layer::default(), &no_env).unwrap_err();
    assert!(err.to_string().contains("domian"), "{err}");

    let file = settings_file("domain = \"a\"\nlogin_url = \"http://127.0.0.1:1\"\n");
    let err = Settings::resolve(Some(file.path()), &Layer::default(), &no_env).unwrap_err();
    assert!(
        matches!(err, ConfigError::DomainAndLoginUrl { .. }),
        "{err}"
    );

    let err = Settings::resolve(
        Some(Path::new("/nonexistent/sfmount.toml")),
        &Layer::default(),
        &no_env,
    )
    .unwrap_err();
    assert!(matches!(err, ConfigError::ReadFile { .. }), "{err}");
}

#[test]
fn interval_values_and_limits() {
    let env = env_of(&[
        (ENV_DOMAIN, "acme"),
        (ENV_CLIENT_ID, "id"),
        (ENV_CLIENT_SECRET, "s"),
    ]);
    let mut flags = Layer {
        interval: Some(DurationValue::Text("1s".into())),
        ..Layer::default()
    };
    let err = Settings::resolve(None, &flags, &env).unwrap_err();
    assert!(matches!(err, ConfigError::IntervalTooShort { .. }), "{err}");
    flags.interval = Some(DurationValue::Text("soon".into()));
    let err = Settings::resolve(None, &flags, &env).unwrap_err();
    assert!(matches!(err, ConfigError::BadDuration { .. }), "{err}");
    assert!(err.to_string().contains("soon"));

    for (text, secs) in [
        ("interval = 60", 60),
        ("interval = \"2m\"", 120),
        ("interval = \"90\"", 90),
    ] {
        let file = settings_file(&format!(
            "domain = \"a\"\nclient_id = \"i\"\nclient_secret = \"s\"\n{text}\n"
        ));
        let s = Settings::resolve(Some(file.path()), &Layer::default(), &no_env).unwrap();
        assert_eq!(s.interval, Duration::from_secs(secs), "{text}");
    }
    let file =
        settings_file("domain = \"a\"\nclient_id = \"i\"\nclient_secret = \"s\"\ninterval = -5\n");
    let err = Settings::resolve(Some(file.path()), &Layer::default(), &no_env).unwrap_err();
    assert!(matches!(err, ConfigError::BadDuration { .. }), "{err}");
}

#[test]
fn wrongly_typed_values_get_a_message_that_says_what_is_expected() {
    for (line, expected) in [
        ("interval = 1.5", "whole number of seconds"),
        ("request_timeout = true", "whole number of seconds"),
        ("custom_objects_to_sync = 5", "list of object names"),
        ("standard_objects_to_sync = true", "list of object names"),
        (
            "custom_objects_to_sync = [\"A__c\", 3]",
            "list of object names",
        ),
    ] {
        let file = settings_file(&format!("domain = \"a\"\n{line}\n"));
        let err = Settings::resolve(Some(file.path()), &Layer::default(), &no_env).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(expected) && text.contains("line 2"),
            "{line}: {text}"
        );
    }
}

#[test]
fn zero_request_timeout_and_bad_format_are_rejected() {
    let env = env_of(&[
        (ENV_DOMAIN, "acme"),
        (ENV_CLIENT_ID, "id"),
        (ENV_CLIENT_SECRET, "s"),
    ]);
    let flags = Layer {
        request_timeout: Some(DurationValue::Seconds(0)),
        ..Layer::default()
    };
    let err = Settings::resolve(None, &flags, &env).unwrap_err();
    assert!(matches!(err, ConfigError::ZeroRequestTimeout));

    let file = settings_file(
        "domain = \"a\"\nclient_id = \"i\"\nclient_secret = \"s\"\nformat = \"yaml\"\n",
    );
    let err = Settings::resolve(Some(file.path()), &Layer::default(), &no_env).unwrap_err();
    assert!(matches!(err, ConfigError::BadFormat(_)), "{err}");
}

#[test]
fn example_settings_file_parses_with_every_key() {
    let file = settings_file(EXAMPLE_SETTINGS);
    let s = Settings::resolve(Some(file.path()), &Layer::default(), &no_env).unwrap();
    assert_eq!(s.login, Login::Domain("mycompany".into()));
    assert_eq!(s.objects.custom_objects, CustomObjects::All);
    assert!(s.objects.sync_custom_objects);
    assert_eq!(s.interval, DEFAULT_INTERVAL);
    assert_eq!(s.api_floor.stop_at_used_percent(), 80);
    assert_eq!(s.formula_refresh_interval, DEFAULT_FORMULA_REFRESH_INTERVAL);
}

#[test]
fn refresh_floor_and_formula_interval_are_read_and_checked() {
    let base = "domain = \"a\"\nclient_id = \"i\"\nclient_secret = \"s\"\n";
    let file = settings_file(&format!(
        "{base}refresh_stop_at_api_percent = 50\nformula_refresh_interval = \"6h\"\n"
    ));
    let s = Settings::resolve(Some(file.path()), &Layer::default(), &no_env).unwrap();
    assert_eq!(s.api_floor.stop_at_used_percent(), 50);
    assert_eq!(s.formula_refresh_interval, Duration::from_secs(6 * 3600));
    for bad in [0, 101, -3] {
        let file = settings_file(&format!("{base}refresh_stop_at_api_percent = {bad}\n"));
        let err = Settings::resolve(Some(file.path()), &Layer::default(), &no_env).unwrap_err();
        assert!(
            matches!(err, ConfigError::BadApiPercent(n) if n == bad),
            "{err}"
        );
        assert!(err.to_string().contains("1 to 100"), "{err}");
    }
    let file = settings_file(&format!("{base}formula_refresh_interval = \"1s\"\n"));
    let err = Settings::resolve(Some(file.path()), &Layer::default(), &no_env).unwrap_err();
    assert!(matches!(err, ConfigError::IntervalTooShort { .. }), "{err}");
}

#[test]
fn cache_dir_defaults_to_the_xdg_cache_and_can_be_moved_or_turned_off() {
    let credentials = [("SFMOUNT_DOMAIN", "acme"), ("SFMOUNT_CLIENT_ID", "id")];
    let resolve = |file: Option<&Path>, flags: &Layer, extra: &[(&str, &str)]| {
        let mut pairs = credentials.to_vec();
        pairs.push(("SFMOUNT_CLIENT_SECRET", "pw"));
        pairs.extend_from_slice(extra);
        Settings::resolve(file, flags, &env_of(&pairs))
            .unwrap()
            .cache_dir
    };
    let none = Layer::default();
    assert_eq!(
        resolve(
            None,
            &none,
            &[("XDG_CACHE_HOME", "/xdg"), ("HOME", "/home/u")]
        ),
        Some(PathBuf::from("/xdg/sfmount"))
    );
    // The XDG rule: a relative XDG_CACHE_HOME is ignored.
    assert_eq!(
        resolve(
            None,
            &none,
            &[("XDG_CACHE_HOME", "rel"), ("HOME", "/home/u")]
        ),
        Some(PathBuf::from("/home/u/.cache/sfmount"))
    );
    assert_eq!(resolve(None, &none, &[]), None, "nowhere to keep it");
    let file = settings_file("cache_dir = \"/srv/cache\"\n");
    assert_eq!(
        resolve(Some(file.path()), &none, &[("HOME", "/home/u")]),
        Some(PathBuf::from("/srv/cache"))
    );
    let off = Layer {
        cache_dir: Some(PathBuf::new()),
        ..Layer::default()
    };
    assert_eq!(
        resolve(Some(file.path()), &off, &[("HOME", "/home/u")]),
        None
    );
    let file = settings_file("cache_dir = \"\"\n");
    assert_eq!(
        resolve(Some(file.path()), &none, &[("HOME", "/home/u")]),
        None
    );
}

#[test]
fn memory_cache_size_is_read_from_the_file_and_flags_and_checked() {
    let base = "domain = \"a\"\nclient_id = \"i\"\nclient_secret = \"s\"\n";
    let defaults =
        Settings::resolve(Some(settings_file(base).path()), &Layer::default(), &no_env).unwrap();
    assert_eq!(defaults.memory_cache_bytes, 64 << 20);
    let file = settings_file(&format!("{base}memory_cache_size = \"1GiB\"\n"));
    let s = Settings::resolve(Some(file.path()), &Layer::default(), &no_env).unwrap();
    assert_eq!(s.memory_cache_bytes, 1 << 30);
    let file = settings_file(&format!("{base}memory_cache_size = 4096\n"));
    let s = Settings::resolve(Some(file.path()), &Layer::default(), &no_env).unwrap();
    assert_eq!(s.memory_cache_bytes, 4096);
    // A flag wins over the file.
    let flags = Layer {
        memory_cache_size: Some(SizeValue::Text("8MiB".into())),
        ..Layer::default()
    };
    let s = Settings::resolve(Some(file.path()), &flags, &no_env).unwrap();
    assert_eq!(s.memory_cache_bytes, 8 << 20);
    let file = settings_file(&format!("{base}memory_cache_size = \"lots\"\n"));
    let err = Settings::resolve(Some(file.path()), &Layer::default(), &no_env).unwrap_err();
    assert!(matches!(err, ConfigError::BadSize { .. }), "{err}");
}

#[test]
fn max_cache_size_is_unlimited_unless_given_and_never_zero() {
    let base = "domain = \"a\"\nclient_id = \"i\"\nclient_secret = \"s\"\n";
    let defaults =
        Settings::resolve(Some(settings_file(base).path()), &Layer::default(), &no_env).unwrap();
    assert_eq!(defaults.max_cache_bytes, None);
    let file = settings_file(&format!("{base}max_cache_size = \"2GiB\"\n"));
    let s = Settings::resolve(Some(file.path()), &Layer::default(), &no_env).unwrap();
    assert_eq!(s.max_cache_bytes, Some(2 << 30));
    let flags = Layer {
        max_cache_size: Some(SizeValue::Text("64KiB".into())),
        ..Layer::default()
    };
    let s = Settings::resolve(Some(file.path()), &flags, &no_env).unwrap();
    assert_eq!(
        s.max_cache_bytes,
        Some(64 << 10),
        "a flag wins over the file"
    );
    for bad in ["0", "\"0MiB\""] {
        let file = settings_file(&format!("{base}max_cache_size = {bad}\n"));
        let err = Settings::resolve(Some(file.path()), &Layer::default(), &no_env).unwrap_err();
        assert!(matches!(err, ConfigError::ZeroMaxCacheSize), "{bad}: {err}");
        assert!(err.to_string().contains("--no-cache"), "{err}");
    }
    let file = settings_file(&format!("{base}max_cache_size = \"huge\"\n"));
    let err = Settings::resolve(Some(file.path()), &Layer::default(), &no_env).unwrap_err();
    assert!(matches!(err, ConfigError::BadSize { .. }), "{err}");
}

#[test]
fn the_cache_folder_alone_resolves_without_any_credentials() {
    let home = env_of(&[("HOME", "/home/u")]);
    assert_eq!(
        Settings::resolve_cache_dir(None, &Layer::default(), &home).unwrap(),
        Some(PathBuf::from("/home/u/.cache/sfmount"))
    );
    let file = settings_file("cache_dir = \"/srv/cache\"\n");
    assert_eq!(
        Settings::resolve_cache_dir(Some(file.path()), &Layer::default(), &home).unwrap(),
        Some(PathBuf::from("/srv/cache"))
    );
    let flags = Layer {
        cache_dir: Some(PathBuf::from("/flag")),
        ..Layer::default()
    };
    assert_eq!(
        Settings::resolve_cache_dir(Some(file.path()), &flags, &home).unwrap(),
        Some(PathBuf::from("/flag"))
    );
    let off = settings_file("cache_dir = \"\"\n");
    assert_eq!(
        Settings::resolve_cache_dir(Some(off.path()), &Layer::default(), &home).unwrap(),
        None
    );
    // The file is still checked: a misspelt key is an error here too.
    let bad = settings_file("cache_dri = \"/x\"\n");
    assert!(Settings::resolve_cache_dir(Some(bad.path()), &Layer::default(), &home).is_err());
}

#[test]
fn the_store_is_local_unless_a_postgres_url_is_given_by_file_environment_or_flag() {
    let base = "domain = \"a\"\nclient_id = \"i\"\nclient_secret = \"s\"\n";
    let plain = settings_file(base);
    let defaults = Settings::resolve(Some(plain.path()), &Layer::default(), &no_env).unwrap();
    assert_eq!(defaults.store, None);

    let file = settings_file(&format!(
        "{base}store = \"postgres://file:pw-file@db/sf?sslmode=require\"\n"
    ));
    let s = Settings::resolve(Some(file.path()), &Layer::default(), &no_env).unwrap();
    assert_eq!(
        s.store.as_ref().map(StoreUrl::expose),
        Some("postgres://file:pw-file@db/sf?sslmode=require")
    );
    assert!(!format!("{s:?}").contains("pw-file"), "{s:?}");

    let env = env_of(&[("SFMOUNT_STORE", "postgresql://env@db2/sf")]);
    let s = Settings::resolve(Some(file.path()), &Layer::default(), &env).unwrap();
    assert_eq!(
        s.store.as_ref().map(StoreUrl::expose),
        Some("postgresql://env@db2/sf")
    );
    // A flag wins, and an empty value (from any layer) means the local store.
    let flags = Layer {
        store: Some(String::new()),
        ..Layer::default()
    };
    let s = Settings::resolve(Some(file.path()), &flags, &env).unwrap();
    assert_eq!(s.store, None);

    let bad = settings_file(&format!("{base}store = \"mysql://u:pw-bad@h/db\"\n"));
    let err = Settings::resolve(Some(bad.path()), &Layer::default(), &no_env).unwrap_err();
    assert!(matches!(err, ConfigError::BadStore { .. }), "{err}");
    assert!(!err.to_string().contains("pw-bad"), "{err}");
}
