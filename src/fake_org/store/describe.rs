//! describeGlobal and sObject describe bodies, with the key sets of the real captures
//! (reference §2, §3; fixtures/salesforce-captures/describe-*.json).

use serde_json::{json, Map, Value};

use super::rows::Rows;
use super::{GlobalOnlyEntry, ObjectMeta, Storage, Store, Table};
use crate::fake_org::model::{FieldDef, FieldType, ObjectDef};

/// Master record type Id every object has (reference §9.2).
const MASTER_RECORD_TYPE_ID: &str = "012000000000000AAA";

/// The body of `GET /services/data/vNN.N/sobjects`.
pub(super) fn describe_global(store: &Store, version: &str) -> Value {
    let mut entries: Vec<(String, Value)> = store
        .tables
        .iter()
        .map(|t| (t.def.name.clone(), global_entry(t, version)))
        .chain(
            store
                .global_only
                .iter()
                .map(|g| (g.def.name.clone(), global_only_entry(g, version))),
        )
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    json!({
        "encoding": "UTF-8",
        // The most records one SOAP/REST collection call may carry.
        "maxBatchSize": 200,
        "sobjects": entries.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
    })
}

/// Facts shared by a describeGlobal entry and the top of a describe body.
struct Traits<'a> {
    name: &'a str,
    label: &'a str,
    label_plural: &'a str,
    key_prefix: Option<&'a str>,
    custom: bool,
    queryable: bool,
    createable: bool,
    updateable: bool,
    deletable: bool,
    feed_enabled: bool,
    associate: Option<(&'a str, &'a str)>,
}

fn traits(table: &Table) -> Traits<'_> {
    let def = &table.def;
    let associate = table.meta.feed_of.map(|parent| ("Feed", parent));
    Traits {
        name: &def.name,
        label: &def.label,
        label_plural: &def.label_plural,
        key_prefix: if associate.is_some() {
            None
        } else {
            Some(&def.key_prefix)
        },
        custom: def.custom,
        queryable: def.queryable,
        createable: table.meta.createable,
        updateable: table.meta.updateable,
        deletable: table.meta.deletable,
        feed_enabled: table.meta.feed_enabled,
        associate,
    }
}

fn object_urls(t: &Traits, version: &str, instance_url: Option<&str>) -> Value {
    let base = format!("/services/data/v{version}/sobjects/{}", t.name);
    let mut urls = Map::new();
    let mut put = |key: &str, value: String| {
        urls.insert(key.to_string(), Value::String(value));
    };
    if t.associate.is_some() {
        put("rowTemplate", format!("{base}/{{ID}}"));
        if matches!(t.associate, Some(("ChangeEvent", _))) {
            put("eventSchema", format!("{base}/eventSchema"));
        }
        put("describe", format!("{base}/describe"));
        put("sobject", base);
        return Value::Object(urls);
    }
    put("compactLayouts", format!("{base}/describe/compactLayouts"));
    put("rowTemplate", format!("{base}/{{ID}}"));
    put(
        "approvalLayouts",
        format!("{base}/describe/approvalLayouts"),
    );
    if let Some(host) = instance_url {
        put("uiDetailTemplate", format!("{host}/{{ID}}"));
        put("uiEditTemplate", format!("{host}/{{ID}}/e"));
    }
    if t.name == "Case" {
        put(
            "caseArticleSuggestions",
            format!("{base}/suggestedArticles"),
        );
        put(
            "caseRowArticleSuggestions",
            format!("{base}/{{ID}}/suggestedArticles"),
        );
    }
    if t.name == "Account" || t.name == "Case" {
        put(
            "defaultValues",
            format!("{base}/defaultValues?recordTypeId&fields"),
        );
    }
    put("listviews", format!("{base}/listviews"));
    put("describe", format!("{base}/describe"));
    if let (Some(host), Some(prefix)) = (instance_url, t.key_prefix) {
        put("uiNewRecord", format!("{host}/{prefix}/e"));
    }
    put("quickActions", format!("{base}/quickActions"));
    put("layouts", format!("{base}/describe/layouts"));
    put("sobject", base);
    Value::Object(urls)
}

fn global_entry_from(t: &Traits, version: &str) -> Value {
    let plain = t.associate.is_none();
    json!({
        "activateable": false,
        "associateEntityType": t.associate.map(|a| a.0),
        "associateParentEntity": t.associate.map(|a| a.1),
        "createable": t.createable,
        "custom": t.custom,
        "customSetting": false,
        "deepCloneable": false,
        "deletable": t.deletable,
        "deprecatedAndHidden": false,
        "feedEnabled": t.feed_enabled,
        "hasSubtypes": false,
        "isInterface": false,
        "isSubtype": false,
        "keyPrefix": t.key_prefix,
        "label": t.label,
        "labelPlural": t.label_plural,
        "layoutable": plain,
        "mergeable": plain && matches!(t.name, "Account" | "Contact" | "Lead"),
        "mruEnabled": plain,
        "name": t.name,
        "queryable": t.queryable,
        "replicateable": t.queryable,
        "retrieveable": true,
        "searchable": plain && t.queryable,
        "triggerable": plain || matches!(t.associate, Some(("ChangeEvent", _))),
        "undeletable": plain && t.deletable,
        "updateable": t.updateable,
        "urls": object_urls(t, version, None),
    })
}

fn global_entry(table: &Table, version: &str) -> Value {
    global_entry_from(&traits(table), version)
}

fn global_only_entry(entry: &GlobalOnlyEntry, version: &str) -> Value {
    global_entry_from(&global_only_traits(entry), version)
}

/// The listed facts of a row-less object: its [`ObjectDef`] with no key prefix, and only
/// platform events createable (publishing one is creating it).
fn global_only_traits(entry: &GlobalOnlyEntry) -> Traits<'_> {
    let def = &entry.def;
    Traits {
        name: &def.name,
        label: &def.label,
        label_plural: &def.label_plural,
        key_prefix: None,
        custom: def.custom,
        queryable: def.queryable,
        createable: def.name.ends_with("__e"),
        updateable: false,
        deletable: false,
        feed_enabled: false,
        associate: entry.associate,
    }
}

/// The describe body of an object that only describeGlobal lists: the same keys as every
/// other describe, its own fields, no child relationships and no key prefix.
pub(super) fn describe_global_only(
    entry: &GlobalOnlyEntry,
    version: &str,
    instance_url: &str,
) -> Value {
    let table = Table {
        def: entry.def.clone(),
        meta: ObjectMeta::default(),
        storage: Storage::Own(Rows::new(std::iter::empty())),
    };
    describe_body(&table, global_only_traits(entry), version, instance_url)
}

/// The body of `GET .../sobjects/{name}/describe`, keys in the v59 Lead capture's order.
pub(super) fn describe_object(table: &Table, version: &str, instance_url: &str) -> Value {
    describe_body(table, traits(table), version, instance_url)
}

/// The object describe body. Long on purpose: its keys in the captures' order, as one
/// literal, so a diff against a real describe reads line by line.
fn describe_body(table: &Table, t: Traits, version: &str, instance_url: &str) -> Value {
    let def = &table.def;
    let global = global_entry_from(&t, version);
    let top = |key: &str| global.get(key).cloned().unwrap_or(Value::Null);
    let plain = t.associate.is_none();
    let record_types = if def.custom || !plain {
        json!([])
    } else {
        json!([{
            "active": true,
            "available": true,
            "defaultRecordTypeMapping": true,
            "developerName": "Master",
            "master": true,
            "name": "Master",
            "recordTypeId": MASTER_RECORD_TYPE_ID,
            "urls": {
                "layout": format!("/services/data/v{version}/sobjects/{}/describe/layouts/{MASTER_RECORD_TYPE_ID}", def.name),
            },
        }])
    };
    let scopes: Vec<Value> = table
        .meta
        .scopes
        .iter()
        .map(|(name, label)| json!({"label": label, "name": name}))
        .collect();
    let children: Vec<Value> = def
        .child_relationships
        .iter()
        .map(|c| {
            json!({
                "cascadeDelete": c.cascade_delete,
                "childSObject": c.child_object,
                "deprecatedAndHidden": false,
                "field": c.field,
                "junctionIdListNames": [],
                "junctionReferenceTo": [],
                "relationshipName": c.relationship_name,
                "restrictedDelete": c.child_object == "Case" && matches!(c.field.as_str(), "AccountId" | "ContactId"),
            })
        })
        .collect();
    let fields: Vec<Value> = def
        .fields
        .iter()
        .filter(|f| !f.hidden)
        .map(|f| field_entry(def, f))
        .collect();
    object(vec![
        ("actionOverrides", json!([])),
        ("activateable", json!(false)),
        ("associateEntityType", json!(top("associateEntityType"))),
        ("associateParentEntity", json!(top("associateParentEntity"))),
        ("childRelationships", json!(children)),
        ("compactLayoutable", json!(plain)),
        ("createable", json!(t.createable)),
        ("custom", json!(t.custom)),
        ("customSetting", json!(false)),
        ("deepCloneable", json!(false)),
        ("defaultImplementation", json!(null)),
        ("deletable", json!(t.deletable)),
        ("deprecatedAndHidden", json!(false)),
        ("extendedBy", json!(null)),
        ("extendsInterfaces", json!(null)),
        ("feedEnabled", json!(t.feed_enabled)),
        ("fields", json!(fields)),
        ("hasSubtypes", json!(false)),
        ("implementedBy", json!(null)),
        ("implementsInterfaces", json!(null)),
        ("isInterface", json!(false)),
        ("isSubtype", json!(false)),
        ("keyPrefix", json!(t.key_prefix)),
        ("label", json!(t.label)),
        ("labelPlural", json!(t.label_plural)),
        ("layoutable", json!(plain)),
        ("listviewable", json!(null)),
        ("lookupLayoutable", json!(null)),
        ("mergeable", json!(top("mergeable"))),
        ("mruEnabled", json!(plain)),
        ("name", json!(t.name)),
        ("namedLayoutInfos", json!([])),
        ("networkScopeFieldName", json!(null)),
        ("queryable", json!(t.queryable)),
        ("recordTypeInfos", json!(record_types)),
        ("replicateable", json!(top("replicateable"))),
        ("retrieveable", json!(true)),
        ("searchLayoutable", json!(plain)),
        ("searchable", json!(top("searchable"))),
        ("sobjectDescribeOption", json!("FULL")),
        ("supportedScopes", json!(scopes)),
        ("triggerable", json!(top("triggerable"))),
        ("undeletable", json!(top("undeletable"))),
        ("updateable", json!(t.updateable)),
        ("urls", json!(object_urls(&t, version, Some(instance_url)))),
    ])
}

fn soap_type(field_type: FieldType) -> &'static str {
    match field_type {
        FieldType::Id | FieldType::Reference => "tns:ID",
        FieldType::Boolean => "xsd:boolean",
        FieldType::Int => "xsd:int",
        FieldType::Double | FieldType::Currency | FieldType::Percent => "xsd:double",
        FieldType::Date => "xsd:date",
        FieldType::DateTime => "xsd:dateTime",
        FieldType::Time => "xsd:time",
        FieldType::Base64 => "xsd:base64Binary",
        FieldType::Address => "urn:address",
        _ => "xsd:string",
    }
}

/// One entry of `fields`: the 57 keys of the captures, alphabetical. Long on purpose: one
/// literal with every key, so a missing or extra key shows at a glance.
fn field_entry(def: &ObjectDef, f: &FieldDef) -> Value {
    use FieldType as T;
    let ty = f.field_type;
    let system = !super::schema::is_writable(def, f, true);
    let byte_length = match ty {
        T::Id | T::Reference => 18,
        t if t.is_text() => f.length * 3,
        _ => 0,
    };
    let (precision, scale, digits) = match ty {
        // AnnualRevenue is a whole-number currency on real orgs.
        T::Currency if f.name == "AnnualRevenue" => (18, 0, 0),
        T::Currency => (18, 2, 0),
        T::Percent => (3, 0, 0),
        T::Double if f.compound_field_name.is_some() => (18, 15, 0),
        T::Double => (18, 0, 0),
        // Real orgs describe NumberOfEmployees with 8 digits, other ints with 9.
        T::Int if f.name == "NumberOfEmployees" => (0, 0, 8),
        T::Int => (0, 0, 9),
        _ => (0, 0, 0),
    };
    let long_text = ty == T::TextArea && !f.filterable;
    let polymorphic = f.reference_to.len() > 1;
    let is_auto_number = f.name == "CaseNumber";
    let extra_type_info = match ty {
        T::TextArea => Some("plaintextarea"),
        _ if f.compound_field_name.as_deref() == Some("Name") && f.name != "Name" => {
            Some("personname")
        }
        T::String if f.name == "Name" && def.fields.iter().any(|p| p.name == "LastName") => {
            Some("personname")
        }
        T::String if f.name == "Name" && def.name == "Account" => Some("switchablepersonname"),
        _ => None,
    };
    let id_lookup = ty == T::Id
        || (ty == T::Email && matches!(def.name.as_str(), "Contact" | "Lead" | "User"))
        || is_auto_number
        || (def.custom && f.name == "Name")
        || f.name == "Username";
    let default_text = super::schema::default_value(&def.name, &f.name);
    let default_value = match (ty, default_text) {
        (T::Boolean, _) => json!(false),
        (_, Some(text)) => json!(text),
        _ => Value::Null,
    };
    let defaulted_on_create = ty == T::Boolean
        || default_text.is_some()
        || ty == T::Id
        || is_auto_number
        || matches!(
            f.name.as_str(),
            "OwnerId"
                | "CreatedDate"
                | "CreatedById"
                | "LastModifiedDate"
                | "LastModifiedById"
                | "SystemModstamp"
                | "InsertedById"
        );
    let picklist: Vec<Value> = f
        .picklist_values
        .iter()
        .map(|v| {
            let is_default = default_text == Some(v.as_str());
            json!({"active": true, "defaultValue": is_default, "label": v, "validFor": null, "value": v})
        })
        .collect();
    let groupable = !matches!(
        ty,
        T::DateTime | T::Double | T::Currency | T::Percent | T::Address | T::Base64
    ) && !long_text
        && !f.calculated
        && !is_auto_number;
    let aggregatable = !matches!(ty, T::Boolean | T::Address | T::Base64) && !long_text;
    let createable = !system;
    let is_name_part = f.compound_field_name.as_deref() == Some("Name") && f.name != "Name";
    // Field-level security applies to optional, writable fields (and addresses), not to
    // name parts or defaulted statuses.
    let permissionable = (f.nillable || ty == T::Boolean)
        && (!system || ty == T::Address || f.name == "ClosedDate")
        && !is_name_part
        && f.name != "Status"
        && f.name != "IsDeleted";
    let search_prefilterable = ty == T::Reference
        && !polymorphic
        && !matches!(
            f.name.as_str(),
            "OwnerId" | "CreatedById" | "LastModifiedById" | "InsertedById"
        );
    let updateable = super::schema::is_writable(def, f, false);
    object(vec![
        ("aggregatable", json!(aggregatable)),
        ("aiPredictionField", json!(false)),
        ("autoNumber", json!(is_auto_number)),
        ("byteLength", json!(byte_length)),
        ("calculated", json!(f.calculated)),
        (
            "calculatedFormula",
            json!(if f.calculated {
                json!(super::schema::DAYS_OPEN_FORMULA)
            } else {
                Value::Null
            }),
        ),
        ("cascadeDelete", json!(false)),
        ("caseSensitive", json!(false)),
        ("compoundFieldName", json!(f.compound_field_name)),
        ("controllerName", json!(null)),
        ("createable", json!(createable)),
        ("custom", json!(f.custom)),
        ("defaultValue", json!(default_value)),
        ("defaultValueFormula", json!(null)),
        ("defaultedOnCreate", json!(defaulted_on_create)),
        ("dependentPicklist", json!(false)),
        ("deprecatedAndHidden", json!(false)),
        ("digits", json!(digits)),
        ("displayLocationInDecimal", json!(false)),
        ("encrypted", json!(false)),
        ("externalId", json!(false)),
        ("extraTypeInfo", json!(extra_type_info)),
        ("filterable", json!(f.filterable)),
        ("filteredLookupInfo", json!(null)),
        ("formulaTreatNullNumberAsZero", json!(false)),
        ("groupable", json!(groupable)),
        ("highScaleNumber", json!(false)),
        ("htmlFormatted", json!(false)),
        ("idLookup", json!(id_lookup)),
        ("inlineHelpText", json!(null)),
        ("label", json!(f.label)),
        ("length", json!(f.length)),
        ("mask", json!(null)),
        ("maskType", json!(null)),
        ("name", json!(f.name)),
        ("nameField", json!(f.name_field)),
        ("namePointing", json!(polymorphic)),
        ("nillable", json!(f.nillable)),
        ("permissionable", json!(permissionable)),
        ("picklistValues", json!(picklist)),
        ("polymorphicForeignKey", json!(polymorphic)),
        ("precision", json!(precision)),
        ("queryByDistance", json!(ty == T::Address)),
        ("referenceTargetField", json!(null)),
        ("referenceTo", json!(f.reference_to)),
        ("relationshipName", json!(f.relationship_name)),
        ("relationshipOrder", json!(null)),
        ("restrictedDelete", json!(false)),
        (
            "restrictedPicklist",
            json!(f.name.ends_with("GeocodeAccuracy")),
        ),
        ("scale", json!(scale)),
        ("searchPrefilterable", json!(search_prefilterable)),
        ("soapType", json!(soap_type(ty))),
        ("sortable", json!(f.sortable)),
        ("type", json!(ty.wire_name())),
        ("unique", json!(false)),
        ("updateable", json!(updateable)),
        ("writeRequiresMasterRead", json!(false)),
    ])
}

/// A JSON object with keys in the given order.
fn object(entries: Vec<(&str, Value)>) -> Value {
    Value::Object(
        entries
            .into_iter()
            .map(|(key, value)| (key.to_string(), value))
            .collect(),
    )
}
