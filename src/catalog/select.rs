//! Which objects to mount, from the user's choice and the org's describeGlobal.

use std::collections::HashSet;

/// The connector's default standard objects, in the order the connector processes them.
pub const DEFAULT_STANDARD_OBJECTS: [&str; 6] = [
    "Account",
    "Opportunity",
    "Contact",
    "Lead",
    "Campaign",
    "Case",
];

/// Which custom objects to mount (when syncing custom objects is on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomObjects {
    /// `"*"`: every queryable object whose name ends in `__c`.
    All,
    /// Exactly these (validated against the org by [`select_objects`]).
    Names(Vec<String>),
}

impl Default for CustomObjects {
    fn default() -> Self {
        CustomObjects::Names(Vec::new())
    }
}

impl CustomObjects {
    /// Names as the user listed them (blank ones dropped); a list containing `*` means every
    /// custom object, whatever else it names.
    pub fn from_names(names: Vec<String>) -> CustomObjects {
        let names: Vec<String> = names
            .into_iter()
            .map(|name| name.trim().to_string())
            .filter(|name| !name.is_empty())
            .collect();
        if names.iter().any(|name| name == "*") {
            CustomObjects::All
        } else {
            CustomObjects::Names(names)
        }
    }
}

/// What the user asked to mount: everything selection needs, and nothing else of the
/// settings (no credentials).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectChoice {
    /// Standard objects as written by the user (validated against the org here).
    pub standard_objects: Vec<String>,
    pub sync_custom_objects: bool,
    pub custom_objects: CustomObjects,
}

impl Default for ObjectChoice {
    /// The connector's defaults: the six standard objects, no custom objects.
    fn default() -> Self {
        ObjectChoice {
            standard_objects: DEFAULT_STANDARD_OBJECTS
                .iter()
                .map(|name| name.to_string())
                .collect(),
            sync_custom_objects: false,
            custom_objects: CustomObjects::default(),
        }
    }
}

/// One entry of describeGlobal, reduced to what selection needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgObject {
    pub name: String,
    pub label: String,
    pub custom: bool,
    pub queryable: bool,
}

impl From<&crate::salesforce::GlobalSObject> for OrgObject {
    fn from(entry: &crate::salesforce::GlobalSObject) -> Self {
        OrgObject {
            name: entry.name.clone(),
            label: entry.label.clone(),
            custom: entry.custom,
            queryable: entry.queryable,
        }
    }
}

/// The two top-level folders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Group {
    Standard,
    Custom,
}

impl Group {
    /// The folder name at the mount's root.
    pub fn folder_name(self) -> &'static str {
        match self {
            Group::Standard => "Standard Objects",
            Group::Custom => "Custom Objects",
        }
    }

    /// The group whose folder is called `name`, if any.
    pub fn from_folder_name(name: &str) -> Option<Group> {
        [Group::Standard, Group::Custom]
            .into_iter()
            .find(|group| group.folder_name() == name)
    }
}

/// An object that gets a folder: its API name as the org spells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountedObject {
    pub name: String,
    pub label: String,
    pub group: Group,
}

/// The outcome of selection: what to mount, and what was left out with the reason (for a
/// warning in the log and in `sfmount check`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    pub objects: Vec<MountedObject>,
    pub skipped: Vec<(String, String)>,
}

/// A selection the user must fix before anything is mounted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("unknown object {name:?} in {list}{}", suggestion_text(.suggestion))]
    UnknownObject {
        name: String,
        list: &'static str,
        suggestion: Option<String>,
    },
    #[error("{name:?} in custom_objects_to_sync is not a custom object name: custom object names end in __c{}", suggestion_text(.suggestion))]
    NotCustomName {
        name: String,
        suggestion: Option<String>,
    },
    #[error("{name:?} is a custom object: list it in custom_objects_to_sync / --custom-objects, not with the standard objects")]
    CustomInStandardList { name: String },
}

fn suggestion_text(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(name) => format!(" (did you mean {name:?}?)"),
        None => String::new(),
    }
}

const STANDARD_LIST: &str = "standard_objects_to_sync";
const CUSTOM_LIST: &str = "custom_objects_to_sync";

/// How alike (normalised Levenshtein on lower case, 0..=1) a missing name must be to an
/// existing one to count as a typo of it. 0.8 catches one or two wrong letters in names of
/// seven or more characters ("Acount", "Invoce__c") without calling "Campaign" a typo of
/// "CampaignMember" (0.57).
const TYPO_SIMILARITY: f64 = 0.8;

/// Below this similarity a suggestion would only confuse, so none is offered.
const SUGGESTION_SIMILARITY: f64 = 0.5;

fn similarity(a: &str, b: &str) -> f64 {
    strsim::normalized_levenshtein(&a.to_lowercase(), &b.to_lowercase())
}

/// The org object most like `name` among those accepted by `filter`, with its similarity.
fn closest<'a>(
    name: &str,
    org: &'a [OrgObject],
    filter: impl Fn(&OrgObject) -> bool,
) -> Option<(&'a OrgObject, f64)> {
    org.iter()
        .filter(|object| filter(object))
        .map(|object| (object, similarity(name, &object.name)))
        .fold(
            None,
            |best: Option<(&OrgObject, f64)>, candidate| match best {
                // Ties go to the earlier object, so the suggestion is deterministic.
                Some(b) if b.1 >= candidate.1 => Some(b),
                _ => Some(candidate),
            },
        )
}

fn is_custom_name(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with("__c")
}

fn find<'a>(org: &'a [OrgObject], name: &str) -> Option<&'a OrgObject> {
    org.iter().find(|object| object.name == name).or_else(|| {
        org.iter()
            .find(|object| object.name.eq_ignore_ascii_case(name))
    })
}

/// Which objects to mount. Names are matched case-insensitively (as Salesforce does) and
/// mounted under the org's spelling. Errors (nothing mounted, the user fixes the settings):
/// an unknown name, reported with the closest existing name; a name without `__c` in the
/// custom list; a custom object in the standard list. Skips (mounted without that object,
/// reason returned): a selected object that is not queryable, one of the six default standard
/// objects or a `__c` name that the org lacks (with no close existing name), custom objects
/// named while `sync_custom_objects` is off. `"*"` selects every queryable `__c` object,
/// sorted by name (the unqueryable ones are skips). An object selected twice is mounted once.
pub fn select_objects(choice: &ObjectChoice, org: &[OrgObject]) -> Result<Selection, CatalogError> {
    let mut selection = Selection::default();
    let mut seen: HashSet<String> = HashSet::new();
    select_standard(choice, org, &mut selection, &mut seen)?;
    select_custom(choice, org, &mut selection, &mut seen)?;
    Ok(selection)
}

/// The standard list's part of [`select_objects`].
fn select_standard(
    choice: &ObjectChoice,
    org: &[OrgObject],
    selection: &mut Selection,
    seen: &mut HashSet<String>,
) -> Result<(), CatalogError> {
    for name in &choice.standard_objects {
        if is_custom_name(name) {
            return Err(CatalogError::CustomInStandardList { name: name.clone() });
        }
        match find(org, name) {
            Some(object) => admit(selection, seen, object, Group::Standard),
            None => {
                let near = closest(name, org, |o| !is_custom_name(&o.name));
                let is_default = DEFAULT_STANDARD_OBJECTS
                    .iter()
                    .any(|d| d.eq_ignore_ascii_case(name));
                match near {
                    Some((object, score)) if score >= TYPO_SIMILARITY && !is_default => {
                        return Err(unknown(name, STANDARD_LIST, Some(object)));
                    }
                    _ if is_default => selection.skipped.push((
                        name.clone(),
                        "not available in this org (it is absent from describeGlobal)".into(),
                    )),
                    near => {
                        let near = near
                            .filter(|(_, score)| *score >= SUGGESTION_SIMILARITY)
                            .map(|(object, _)| object);
                        return Err(unknown(name, STANDARD_LIST, near));
                    }
                }
            }
        }
    }
    Ok(())
}

/// The custom objects' part of [`select_objects`].
fn select_custom(
    choice: &ObjectChoice,
    org: &[OrgObject],
    selection: &mut Selection,
    seen: &mut HashSet<String>,
) -> Result<(), CatalogError> {
    match &choice.custom_objects {
        CustomObjects::Names(names) => {
            for name in names {
                if !is_custom_name(name) {
                    let near = closest(name, org, |o| is_custom_name(&o.name))
                        .filter(|(_, score)| *score >= SUGGESTION_SIMILARITY)
                        .map(|(object, _)| object.name.clone());
                    return Err(CatalogError::NotCustomName {
                        name: name.clone(),
                        suggestion: near,
                    });
                }
            }
            if !choice.sync_custom_objects {
                for name in names {
                    selection.skipped.push((
                        name.clone(),
                        "sync_custom_objects is off (turn it on to mount custom objects)".into(),
                    ));
                }
            } else if names.is_empty() {
                selection.skipped.push((
                    Group::Custom.folder_name().to_string(),
                    "sync_custom_objects is on but custom_objects_to_sync is empty (use \"*\" for every custom object)"
                        .into(),
                ));
            } else {
                for name in names {
                    match find(org, name) {
                        Some(object) => admit(selection, seen, object, Group::Custom),
                        None => match closest(name, org, |o| is_custom_name(&o.name)) {
                            Some((object, score)) if score >= TYPO_SIMILARITY => {
                                return Err(unknown(name, CUSTOM_LIST, Some(object)));
                            }
                            _ => selection.skipped.push((
                                name.clone(),
                                "not in this org (it is absent from describeGlobal)".into(),
                            )),
                        },
                    }
                }
            }
        }
        CustomObjects::All => {
            if choice.sync_custom_objects {
                // Unqueryable ones go through `admit` too, so the log says why they are
                // missing instead of leaving the user to guess.
                let mut all: Vec<&OrgObject> = org
                    .iter()
                    .filter(|object| is_custom_name(&object.name))
                    .collect();
                all.sort_by(|a, b| a.name.cmp(&b.name));
                for object in all {
                    admit(selection, seen, object, Group::Custom);
                }
            } else {
                selection.skipped.push((
                    "*".to_string(),
                    "sync_custom_objects is off (turn it on to mount custom objects)".into(),
                ));
            }
        }
    }
    Ok(())
}

fn unknown(name: &str, list: &'static str, near: Option<&OrgObject>) -> CatalogError {
    CatalogError::UnknownObject {
        name: name.to_string(),
        list,
        suggestion: near.map(|object| object.name.clone()),
    }
}

fn admit(selection: &mut Selection, seen: &mut HashSet<String>, object: &OrgObject, group: Group) {
    if !seen.insert(object.name.to_ascii_lowercase()) {
        return;
    }
    if !object.queryable {
        selection.skipped.push((
            object.name.clone(),
            "not queryable by the integration user (check its object permissions)".into(),
        ));
        return;
    }
    selection.objects.push(MountedObject {
        name: object.name.clone(),
        label: object.label.clone(),
        group,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(name: &str, custom: bool, queryable: bool) -> OrgObject {
        OrgObject {
            name: name.into(),
            label: format!("{name} label"),
            custom,
            queryable,
        }
    }

    fn org() -> Vec<OrgObject> {
        vec![
            object("Account", false, true),
            object("Opportunity", false, true),
            object("Contact", false, true),
            object("Lead", false, true),
            object("Case", false, true),
            object("CampaignMember", false, true),
            object("User", false, true),
            object("AccountChangeEvent", false, false),
            object("Invoice__c", true, true),
            object("Shipment__c", true, true),
            object("Secret__c", true, false),
            object("Invoice__Share", true, true),
            object("Setting__mdt", true, true),
        ]
    }

    fn settings() -> ObjectChoice {
        ObjectChoice::default()
    }

    fn names(selection: &Selection) -> Vec<(&str, Group)> {
        selection
            .objects
            .iter()
            .map(|o| (o.name.as_str(), o.group))
            .collect()
    }

    #[test]
    fn defaults_mount_the_standard_objects_the_org_has_and_skip_the_rest() {
        let selection = select_objects(&settings(), &org()).unwrap();
        assert_eq!(
            names(&selection),
            vec![
                ("Account", Group::Standard),
                ("Opportunity", Group::Standard),
                ("Contact", Group::Standard),
                ("Lead", Group::Standard),
                ("Case", Group::Standard),
            ]
        );
        assert_eq!(selection.objects[0].label, "Account label");
        // Campaign is a default but absent here (close to CampaignMember: still a skip).
        assert_eq!(selection.skipped.len(), 1);
        assert_eq!(selection.skipped[0].0, "Campaign");
        assert!(selection.skipped[0].1.contains("not available"));
    }

    #[test]
    fn unknown_standard_name_reports_the_closest_match() {
        let mut s = settings();
        s.standard_objects = vec!["Acount".into()];
        let err = select_objects(&s, &org()).unwrap_err();
        assert_eq!(
            err,
            CatalogError::UnknownObject {
                name: "Acount".into(),
                list: STANDARD_LIST,
                suggestion: Some("Account".into()),
            }
        );
        assert!(
            err.to_string().contains("did you mean \"Account\""),
            "{err}"
        );

        s.standard_objects = vec!["Zzzzzz".into()];
        let err = select_objects(&s, &org()).unwrap_err();
        assert!(
            matches!(
                err,
                CatalogError::UnknownObject {
                    suggestion: None,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn names_match_case_insensitively_and_use_the_org_spelling() {
        let mut s = settings();
        s.standard_objects = vec!["account".into(), "ACCOUNT".into(), "user".into()];
        s.sync_custom_objects = true;
        s.custom_objects = CustomObjects::Names(vec!["invoice__C".into()]);
        let selection = select_objects(&s, &org()).unwrap();
        assert_eq!(
            names(&selection),
            vec![
                ("Account", Group::Standard),
                ("User", Group::Standard),
                ("Invoice__c", Group::Custom)
            ]
        );
    }

    #[test]
    fn custom_names_without_suffix_are_errors() {
        let mut s = settings();
        s.sync_custom_objects = true;
        s.custom_objects = CustomObjects::Names(vec!["Invoice".into()]);
        let err = select_objects(&s, &org()).unwrap_err();
        assert_eq!(
            err,
            CatalogError::NotCustomName {
                name: "Invoice".into(),
                suggestion: Some("Invoice__c".into()),
            }
        );
        assert!(err.to_string().contains("__c"));
    }

    #[test]
    fn custom_object_in_the_standard_list_is_an_error() {
        let mut s = settings();
        s.standard_objects = vec!["Invoice__c".into()];
        let err = select_objects(&s, &org()).unwrap_err();
        assert!(
            matches!(err, CatalogError::CustomInStandardList { .. }),
            "{err}"
        );
    }

    #[test]
    fn star_selects_queryable_objects_ending_in_c_and_says_why_others_are_missing() {
        let mut s = settings();
        s.standard_objects = vec![];
        s.sync_custom_objects = true;
        s.custom_objects = CustomObjects::All;
        let selection = select_objects(&s, &org()).unwrap();
        assert_eq!(
            names(&selection),
            vec![
                ("Invoice__c", Group::Custom),
                ("Shipment__c", Group::Custom)
            ]
        );
        assert_eq!(selection.skipped.len(), 1, "{:?}", selection.skipped);
        assert_eq!(selection.skipped[0].0, "Secret__c");
        assert!(selection.skipped[0].1.contains("not queryable"));
    }

    #[test]
    fn absent_or_unqueryable_custom_objects_are_skipped_with_a_reason() {
        let mut s = settings();
        s.standard_objects = vec![];
        s.sync_custom_objects = true;
        s.custom_objects = CustomObjects::Names(vec![
            "Secret__c".into(),
            "Warehouse__c".into(),
            "Shipment__c".into(),
        ]);
        let selection = select_objects(&s, &org()).unwrap();
        assert_eq!(names(&selection), vec![("Shipment__c", Group::Custom)]);
        let skipped: Vec<&str> = selection.skipped.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(skipped, vec!["Secret__c", "Warehouse__c"]);
        assert!(selection.skipped[0].1.contains("not queryable"));
        assert!(selection.skipped[1].1.contains("not in this org"));
    }

    #[test]
    fn a_custom_typo_is_an_error_not_a_skip() {
        let mut s = settings();
        s.sync_custom_objects = true;
        s.custom_objects = CustomObjects::Names(vec!["Invoce__c".into()]);
        let err = select_objects(&s, &org()).unwrap_err();
        assert!(
            matches!(&err, CatalogError::UnknownObject { suggestion: Some(x), .. } if x == "Invoice__c"),
            "{err}"
        );
    }

    #[test]
    fn unqueryable_standard_object_is_skipped() {
        let mut s = settings();
        s.standard_objects = vec!["AccountChangeEvent".into()];
        let selection = select_objects(&s, &org()).unwrap();
        assert!(selection.objects.is_empty());
        assert_eq!(selection.skipped[0].0, "AccountChangeEvent");
    }

    #[test]
    fn custom_objects_are_skipped_while_syncing_is_off() {
        let mut s = settings();
        s.standard_objects = vec![];
        s.custom_objects = CustomObjects::Names(vec!["Invoice__c".into()]);
        let selection = select_objects(&s, &org()).unwrap();
        assert!(selection.objects.is_empty());
        assert!(selection.skipped[0]
            .1
            .contains("sync_custom_objects is off"));

        s.custom_objects = CustomObjects::All;
        let selection = select_objects(&s, &org()).unwrap();
        assert!(selection.objects.is_empty());
        assert_eq!(selection.skipped.len(), 1);

        s.sync_custom_objects = true;
        s.custom_objects = CustomObjects::Names(vec![]);
        let selection = select_objects(&s, &org()).unwrap();
        assert!(selection.objects.is_empty());
        assert!(
            selection.skipped[0].1.contains("empty"),
            "{:?}",
            selection.skipped
        );
    }

    #[test]
    fn empty_org_skips_defaults_without_crashing() {
        let selection = select_objects(&settings(), &[]).unwrap();
        assert!(selection.objects.is_empty());
        assert_eq!(selection.skipped.len(), DEFAULT_STANDARD_OBJECTS.len());
    }

    #[test]
    fn group_folder_names_round_trip() {
        for group in [Group::Standard, Group::Custom] {
            assert_eq!(Group::from_folder_name(group.folder_name()), Some(group));
        }
        assert_eq!(Group::Standard.folder_name(), "Standard Objects");
        assert_eq!(Group::Custom.folder_name(), "Custom Objects");
        assert_eq!(Group::from_folder_name("Other"), None);
    }
}
