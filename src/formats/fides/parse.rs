//! Reading Fides (fideslang) resources into raw, unresolved declarations with spans.
//!
//! The known keys of each resource are the union of the fideslang 1.x–3.x models, so that
//! manifests written for any of them read without errors; an unknown key or a value of the
//! wrong type is `invalid-manifest` at the node, named with Fides' own field names.
//! `fides_meta` (and its old name `fidesops_meta`) holds application settings that Fides
//! itself reads leniently; only the `references` we use are checked there.

use crate::decode::{Decoder, Fields};
use crate::source::{Span, Spanned};
use crate::taxonomy::Tree;
use crate::yaml::Node;

pub(super) type Str = Spanned<String>;

/// Top-level resource lists of a fideslang manifest.
pub(crate) const RESOURCE_KEYS: [&str; 10] = [
    "dataset",
    "system",
    "policy",
    "purpose",
    "data_use",
    "data_category",
    "data_subject",
    "organization",
    "registry",
    "data_qualifier",
];

const DATASET_KEYS: &[&str] = &[
    "fides_key",
    "organization_fides_key",
    "tags",
    "name",
    "description",
    "meta",
    "data_categories",
    "data_qualifier",
    "data_purposes",
    "fides_meta",
    "fidesops_meta",
    "joint_controller",
    "retention",
    "third_country_transfers",
    "collections",
];
const POLICY_KEYS: &[&str] = &[
    "fides_key",
    "organization_fides_key",
    "tags",
    "name",
    "description",
    "rules",
];
const PURPOSE_KEYS: &[&str] = &[
    "fides_key",
    "organization_fides_key",
    "tags",
    "name",
    "description",
    "data_use",
    "data_subject",
    "data_categories",
    "legal_basis",
];
const DATA_USE_KEYS: &[&str] = &[
    "fides_key",
    "organization_fides_key",
    "tags",
    "name",
    "description",
    "version_added",
    "version_deprecated",
    "replaced_by",
    "is_default",
    "active",
    "parent_key",
    "legal_basis",
    "special_category",
    "recipients",
    "legitimate_interest",
    "legitimate_interest_impact_assessment",
];
const DATA_CATEGORY_KEYS: &[&str] = &[
    "fides_key",
    "organization_fides_key",
    "tags",
    "name",
    "description",
    "version_added",
    "version_deprecated",
    "replaced_by",
    "is_default",
    "active",
    "parent_key",
];
const DATA_SUBJECT_KEYS: &[&str] = &[
    "fides_key",
    "organization_fides_key",
    "tags",
    "name",
    "description",
    "version_added",
    "version_deprecated",
    "replaced_by",
    "is_default",
    "active",
    "rights",
    "automated_decisions_or_profiling",
];
const ORGANIZATION_KEYS: &[&str] = &[
    "fides_key",
    "organization_fides_key",
    "tags",
    "name",
    "description",
    "organization_parent_key",
    "controller",
    "data_protection_officer",
    "representative",
    "fidesctl_meta",
    "security_policy",
];
const OTHER_KEYS: &[&str] = &[
    "fides_key",
    "organization_fides_key",
    "tags",
    "name",
    "description",
    "version_added",
    "version_deprecated",
    "replaced_by",
    "is_default",
    "active",
    "parent_key",
];

#[derive(Debug, Clone)]
pub(crate) struct RawReference {
    pub dataset: Str,
    /// `collection.field` or `collection.parent.child`.
    pub field: Str,
    /// `from` (the referenced field flows here) or `to` (this field flows there).
    pub direction: Option<Str>,
}

#[derive(Debug, Clone)]
pub(crate) struct RawField {
    /// Flattened path within the collection, e.g. `address.city`.
    pub path: String,
    /// The `name` value of the (nested) declaration.
    pub span: Span,
    pub categories: Vec<Str>,
    /// Own `data_purposes` and those of enclosing fields.
    pub purposes: Vec<Str>,
    pub references: Vec<RawReference>,
    /// Declares sub-fields; its data is carried by them.
    pub is_object: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct RawCollection {
    pub name: Str,
    pub categories: Vec<Str>,
    pub purposes: Vec<Str>,
    pub fields: Vec<RawField>,
}

#[derive(Debug, Clone)]
pub(crate) struct RawDataset {
    pub key: Str,
    pub categories: Vec<Str>,
    pub purposes: Vec<Str>,
    pub collections: Vec<RawCollection>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FlowType {
    Dataset,
    System,
    User,
}

/// An `egress` or `ingress` entry of a system.
#[derive(Debug, Clone)]
pub(crate) struct RawDataFlow {
    pub key: Str,
    pub kind: FlowType,
    /// Empty: every category flows.
    pub categories: Vec<Str>,
}

#[derive(Debug, Clone)]
pub(crate) struct RawDeclaration {
    pub name: Option<Str>,
    pub span: Span,
    pub categories: Vec<Str>,
    pub data_use: Option<Str>,
    pub subjects: Vec<Str>,
    pub dataset_references: Vec<Str>,
    pub egress: Vec<Str>,
    pub ingress: Vec<Str>,
}

#[derive(Debug, Clone)]
pub(crate) struct RawSystem {
    pub key: Str,
    pub declarations: Vec<RawDeclaration>,
    pub egress: Vec<RawDataFlow>,
    pub ingress: Vec<RawDataFlow>,
    pub dataset_references: Vec<Str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Matches {
    Any,
    All,
    None,
    Other,
}

#[derive(Debug, Clone)]
pub(crate) struct RawMatch {
    pub matches: Matches,
    pub values: Vec<Str>,
}

#[derive(Debug, Clone)]
pub(crate) struct RawPolicyRule {
    pub name: Str,
    pub categories: RawMatch,
    pub uses: RawMatch,
    pub subjects: RawMatch,
}

#[derive(Debug, Clone)]
pub(crate) struct RawPolicy {
    pub key: Str,
    pub rules: Vec<RawPolicyRule>,
}

/// A `purpose` resource (fideslang ≥ 3.1): a named purpose mapped to one data use.
#[derive(Debug, Clone)]
pub(crate) struct RawPurpose {
    pub key: Str,
    pub data_use: Str,
    pub categories: Vec<Str>,
}

/// A `data_use`, `data_category` or `data_subject` resource extending the taxonomy.
#[derive(Debug, Clone)]
pub(crate) struct RawTaxon {
    /// `None` for data subjects, which have no tree of their own here.
    pub tree: Option<Tree>,
    pub key: Str,
    pub parent: Option<Str>,
    pub name: String,
}

#[derive(Debug, Clone)]
pub(crate) enum Resource {
    Dataset(RawDataset),
    System(RawSystem),
    Policy(RawPolicy),
    Purpose(RawPurpose),
    Taxon(RawTaxon),
}

/// True when a YAML document is a fideslang manifest: a mapping without `kind` with a
/// resource list that holds Fides evidence, an item with a `fides_key` (or a PBAC access
/// policy: a `policy` item with `key` and `decision`). A single-key list of another tool
/// (an issue labeler's `policy:`) has neither and is not ours.
pub(crate) fn is_fides_document(doc: Node) -> bool {
    let Some(entries) = doc.entries() else {
        return false;
    };
    if entries.len() == 0 || doc.get("kind").is_some() {
        return false;
    }
    let mut keyed = false;
    for (k, v) in entries {
        match k.as_str() {
            Some(key) if RESOURCE_KEYS.contains(&key) => match v.items() {
                Some(mut items) => keyed |= items.any(|i| is_evidence(key, i)),
                None if v.is_null() => {}
                None => return false,
            },
            _ => {}
        }
    }
    keyed
}

fn is_evidence(list: &str, item: Node) -> bool {
    let has = |k| item.get(k).is_some();
    has("fides_key") || (list == "policy" && has("key") && has("decision"))
}

/// The cheap test before parsing: a file without these words holds no Fides evidence.
pub(super) fn may_hold_evidence(text: &str) -> bool {
    let has = |word: &str| memchr::memmem::find(text.as_bytes(), word.as_bytes()).is_some();
    has("fides_key") || has("decision")
}

/// Reads one fideslang document; returns its resources and how many it holds.
pub(crate) fn read_document(dec: &mut Decoder, doc: Node) -> (Vec<Resource>, usize) {
    let mut out = Vec::new();
    let mut count = 0;
    let Some(m) = dec.map(doc, "a Fides manifest", &RESOURCE_KEYS) else {
        return (out, 0);
    };
    for key in RESOURCE_KEYS {
        let Some(list) = m.get(key) else { continue };
        let what = match key {
            "dataset" => "`dataset`",
            "system" => "`system`",
            "policy" => "`policy`",
            "purpose" => "`purpose`",
            "data_use" => "`data_use`",
            "data_category" => "`data_category`",
            "data_subject" => "`data_subject`",
            "organization" => "`organization`",
            "registry" => "`registry`",
            _ => "`data_qualifier`",
        };
        let items = dec.list(list, what, |_, n| Some(n));
        for item in items {
            count += 1;
            let read = match key {
                "dataset" => dataset(dec, item).map(Resource::Dataset),
                "system" => system(dec, item).map(Resource::System),
                "policy" => policy(dec, item),
                "purpose" => purpose(dec, item).map(Resource::Purpose),
                "data_use" => taxon(dec, item, Some(Tree::DataUse)),
                "data_category" => taxon(dec, item, Some(Tree::DataCategory)),
                "data_subject" => taxon(dec, item, None),
                "organization" => {
                    organization(dec, item);
                    None
                }
                _ => {
                    // registry, data_qualifier: accepted, not used by the flow model.
                    if let Some(f) = dec.map(item, "a Fides resource", OTHER_KEYS) {
                        fides_key(dec, &f);
                    }
                    None
                }
            };
            out.extend(read);
        }
    }
    (out, count)
}

fn fides_key(dec: &mut Decoder, m: &Fields) -> Option<Str> {
    let key = m
        .required(dec, "fides_key")
        .and_then(|n| dec.name(n, "`fides_key`"))?;
    if key
        .value
        .chars()
        .any(|c| !(c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '<' | '>')))
    {
        dec.error(
            key.span,
            format!(
                "`fides_key` `{}` may contain only letters, digits, `_`, `.`, `-`, `<` and `>`",
                key.value
            ),
        );
        return None;
    }
    Some(key)
}

fn strings(dec: &mut Decoder, m: &Fields, key: &str) -> Vec<Str> {
    match m.get(key) {
        Some(n) => dec.string_list(n, format_args!("`{key}`")),
        None => Vec::new(),
    }
}

fn opt_string(dec: &mut Decoder, m: &Fields, key: &str) -> Option<Str> {
    m.get(key)
        .and_then(|n| dec.string(n, format_args!("`{key}`")))
}

/// Checks that optional scalar keys are scalars.
fn scalars(dec: &mut Decoder, m: &Fields, keys: &[&str]) {
    for key in keys {
        opt_string(dec, m, key);
    }
}

fn dataset(dec: &mut Decoder, node: Node) -> Option<RawDataset> {
    let m = dec.map(node, "a Fides dataset", DATASET_KEYS)?;
    let key = fides_key(dec, &m);
    scalars(dec, &m, &["name", "description", "retention"]);
    let categories = strings(dec, &m, "data_categories");
    let purposes = strings(dec, &m, "data_purposes");
    strings(dec, &m, "third_country_transfers");
    let collections = match m.required(dec, "collections") {
        Some(n) => dec.list(n, "`collections`", collection),
        None => Vec::new(),
    };
    Some(RawDataset {
        key: key?,
        categories,
        purposes,
        collections,
    })
}

fn collection(dec: &mut Decoder, node: Node) -> Option<RawCollection> {
    let m = dec.map(
        node,
        "a Fides dataset collection",
        &[
            "name",
            "description",
            "data_categories",
            "data_qualifier",
            "data_purposes",
            "retention",
            "fields",
            "fides_meta",
            "fidesops_meta",
        ],
    )?;
    let name = m.required(dec, "name").and_then(|n| dec.name(n, "`name`"));
    scalars(dec, &m, &["description", "retention", "data_qualifier"]);
    let categories = strings(dec, &m, "data_categories");
    let purposes = strings(dec, &m, "data_purposes");
    let mut fields = Vec::new();
    if let Some(n) = m.required(dec, "fields") {
        let items = dec.list(n, "`fields`", |_, n| Some(n));
        for item in items {
            field(dec, item, "", &[], &mut fields);
        }
    }
    Some(RawCollection {
        name: name?,
        categories,
        purposes,
        fields,
    })
}

/// Reads a field and its sub-fields, flattened into `out` in declaration order.
fn field(dec: &mut Decoder, node: Node, prefix: &str, inherited: &[Str], out: &mut Vec<RawField>) {
    let Some(m) = dec.map(
        node,
        "a Fides dataset field",
        &[
            "name",
            "description",
            "data_categories",
            "data_qualifier",
            "data_purposes",
            "retention",
            "fides_meta",
            "fidesops_meta",
            "fields",
            "tags",
        ],
    ) else {
        return;
    };
    let name = m.required(dec, "name").and_then(|n| dec.name(n, "`name`"));
    scalars(dec, &m, &["description", "retention", "data_qualifier"]);
    let categories = strings(dec, &m, "data_categories");
    let mut purposes = inherited.to_vec();
    purposes.extend(strings(dec, &m, "data_purposes"));
    let meta = m.get("fides_meta").or_else(|| m.get("fidesops_meta"));
    let references = meta.map(|n| field_meta(dec, n)).unwrap_or_default();
    let sub = m.get("fields");
    let Some(name) = name else { return };
    let path = if prefix.is_empty() {
        name.value.clone()
    } else {
        format!("{prefix}.{}", name.value)
    };
    let index = out.len();
    out.push(RawField {
        path: path.clone(),
        span: name.span,
        categories,
        purposes: purposes.clone(),
        references,
        is_object: false,
    });
    if let Some(sub) = sub {
        let items = dec.list(sub, "`fields`", |_, n| Some(n));
        out[index].is_object = !items.is_empty();
        for item in items {
            field(dec, item, &path, &purposes, out);
        }
    }
}

/// `fides_meta` of a field: only `references` is read strictly.
fn field_meta(dec: &mut Decoder, node: Node) -> Vec<RawReference> {
    if node.entries().is_none() {
        dec.error(
            node.span(),
            format!("`fides_meta` must be a mapping, found {}", node.kind_name()),
        );
        return Vec::new();
    };
    let Some(refs) = node.get("references") else {
        return Vec::new();
    };
    if refs.is_null() {
        return Vec::new();
    }
    dec.list(refs, "`references`", |dec, n| {
        let m = dec.map(
            n,
            "a Fides field reference",
            &["dataset", "field", "direction"],
        )?;
        let dataset = m
            .required(dec, "dataset")
            .and_then(|n| dec.name(n, "`dataset`"));
        let field = m
            .required(dec, "field")
            .and_then(|n| dec.name(n, "`field`"));
        let direction = opt_string(dec, &m, "direction");
        if let Some(d) = &direction {
            if d.value != "from" && d.value != "to" {
                dec.error(
                    d.span,
                    format!("`direction` must be `from` or `to`, not `{}`", d.value),
                );
                return None;
            }
        }
        Some(RawReference {
            dataset: dataset?,
            field: field?,
            direction,
        })
    })
}

const SYSTEM_KEYS: [&str; 50] = [
    "registry_id",
    "meta",
    "fidesctl_meta",
    "system_type",
    "data_responsibility_title",
    "egress",
    "ingress",
    "privacy_declarations",
    "joint_controller",
    "third_country_transfers",
    "administrating_department",
    "data_protection_impact_assessment",
    "vendor_id",
    "previous_vendor_id",
    "vendor_deleted_date",
    "dataset_references",
    "processes_personal_data",
    "exempt_from_privacy_regulations",
    "reason_for_exemption",
    "uses_profiling",
    "legal_basis_for_profiling",
    "does_international_transfers",
    "legal_basis_for_transfers",
    "requires_data_protection_assessments",
    "dpa_location",
    "dpa_progress",
    "privacy_policy",
    "legal_name",
    "legal_address",
    "responsibility",
    "dpo",
    "joint_controller_info",
    "data_security_practices",
    "cookies",
    "cookie_max_age_seconds",
    "uses_cookies",
    "cookie_refresh",
    "uses_non_cookie_access",
    "legitimate_interest_disclosure_url",
    "flexible_legal_basis_for_processing",
    "data_stewards",
    "description",
    "fides_key",
    "organization_fides_key",
    "tags",
    "name",
    "user_id",
    "hidden",
    "system_groups",
    "data_steward",
];

fn system(dec: &mut Decoder, node: Node) -> Option<RawSystem> {
    let m = dec.map(node, "a Fides system", &SYSTEM_KEYS)?;
    let key = fides_key(dec, &m);
    scalars(
        dec,
        &m,
        &[
            "name",
            "description",
            "system_type",
            "administrating_department",
            "vendor_id",
        ],
    );
    let egress = m
        .get("egress")
        .map(|n| dec.list(n, "`egress`", data_flow))
        .unwrap_or_default();
    let ingress = m
        .get("ingress")
        .map(|n| dec.list(n, "`ingress`", data_flow))
        .unwrap_or_default();
    let dataset_references = strings(dec, &m, "dataset_references");
    let declarations = match m.required(dec, "privacy_declarations") {
        Some(n) => dec.list(n, "`privacy_declarations`", declaration),
        None => Vec::new(),
    };
    // fideslang: a declaration's egress/ingress must name the system's own data flows.
    for d in &declarations {
        for (dir, keys, flows) in [
            ("egress", &d.egress, &egress),
            ("ingress", &d.ingress, &ingress),
        ] {
            for k in keys {
                if !flows.iter().any(|f| f.key.value == k.value) {
                    dec.error(
                        k.span,
                        format!(
                            "privacy declaration {dir} `{}` is not in the system's `{dir}`",
                            k.value
                        ),
                    );
                }
            }
        }
    }
    Some(RawSystem {
        key: key?,
        declarations,
        egress,
        ingress,
        dataset_references,
    })
}

fn data_flow(dec: &mut Decoder, node: Node) -> Option<RawDataFlow> {
    let m = dec.map(
        node,
        "a Fides data flow",
        &["fides_key", "type", "data_categories"],
    )?;
    let key = m
        .required(dec, "fides_key")
        .and_then(|n| dec.name(n, "`fides_key`"));
    let ty = m.required(dec, "type").and_then(|n| dec.name(n, "`type`"));
    let categories = strings(dec, &m, "data_categories");
    let (key, ty) = (key?, ty?);
    let kind = match ty.value.as_str() {
        "dataset" => FlowType::Dataset,
        "system" => FlowType::System,
        "user" => FlowType::User,
        other => {
            dec.error(
                ty.span,
                format!("`type` must be one of dataset, system, user, not `{other}`"),
            );
            return None;
        }
    };
    if (kind == FlowType::User) != (key.value == "user") {
        dec.error(
            ty.span,
            "the `user` fides_key is required for, and requires, the type `user`",
        );
        return None;
    }
    Some(RawDataFlow {
        key,
        kind,
        categories,
    })
}

fn declaration(dec: &mut Decoder, node: Node) -> Option<RawDeclaration> {
    let m = dec.map(
        node,
        "a Fides privacy declaration",
        &[
            "id",
            "name",
            "data_categories",
            "data_use",
            "data_qualifier",
            "data_subjects",
            "dataset_references",
            "egress",
            "ingress",
            "features",
            "legal_basis_for_processing",
            "flexible_legal_basis_for_processing",
            "impact_assessment_location",
            "retention_period",
            "processes_special_category_data",
            "special_category_legal_basis",
            "data_shared_with_third_parties",
            "third_parties",
            "shared_categories",
            "cookies",
        ],
    )?;
    let name = opt_string(dec, &m, "name");
    scalars(
        dec,
        &m,
        &[
            "data_qualifier",
            "legal_basis_for_processing",
            "impact_assessment_location",
            "retention_period",
            "special_category_legal_basis",
            "third_parties",
        ],
    );
    let categories = match m.required(dec, "data_categories") {
        Some(n) => dec.string_list(n, "`data_categories`"),
        None if node.get("data_categories").is_some() => Vec::new(),
        None => Vec::new(),
    };
    let data_use = m
        .required(dec, "data_use")
        .and_then(|n| dec.name(n, "`data_use`"));
    strings(dec, &m, "features");
    strings(dec, &m, "shared_categories");
    Some(RawDeclaration {
        name,
        span: node.span(),
        categories,
        data_use,
        subjects: strings(dec, &m, "data_subjects"),
        dataset_references: strings(dec, &m, "dataset_references"),
        egress: strings(dec, &m, "egress"),
        ingress: strings(dec, &m, "ingress"),
    })
}

fn policy(dec: &mut Decoder, node: Node) -> Option<Resource> {
    // Fides' policy-based access control (PBAC) uses `policy:` lists of another shape:
    // access decisions on queries, not on flows. They are accepted and not evaluated.
    if node.get("fides_key").is_none() && node.get("decision").is_some() {
        let m = dec.map(
            node,
            "a Fides access (PBAC) policy",
            &[
                "key",
                "name",
                "description",
                "priority",
                "enabled",
                "decision",
                "match",
                "unless",
                "action",
            ],
        )?;
        m.required(dec, "key").and_then(|n| dec.name(n, "`key`"));
        if let Some(d) = m.get("decision").and_then(|n| dec.string(n, "`decision`")) {
            if d.value != "ALLOW" && d.value != "DENY" {
                dec.error(
                    d.span,
                    format!("`decision` must be ALLOW or DENY, not `{}`", d.value),
                );
            }
        }
        return None;
    }
    let m = dec.map(node, "a Fides policy", POLICY_KEYS)?;
    let key = fides_key(dec, &m);
    scalars(dec, &m, &["name", "description"]);
    let rules = match m.required(dec, "rules") {
        Some(n) => dec.list(n, "`rules`", policy_rule),
        None => Vec::new(),
    };
    Some(Resource::Policy(RawPolicy { key: key?, rules }))
}

fn policy_rule(dec: &mut Decoder, node: Node) -> Option<RawPolicyRule> {
    let m = dec.map(
        node,
        "a Fides policy rule",
        &[
            "name",
            "description",
            "data_categories",
            "data_uses",
            "data_subjects",
            "data_qualifier",
        ],
    )?;
    let name = m.required(dec, "name").and_then(|n| dec.name(n, "`name`"));
    scalars(dec, &m, &["description", "data_qualifier"]);
    let mut part = |key: &str| m.required(dec, key).and_then(|n| privacy_rule(dec, n, key));
    let categories = part("data_categories");
    let uses = part("data_uses");
    let subjects = part("data_subjects");
    Some(RawPolicyRule {
        name: name?,
        categories: categories?,
        uses: uses?,
        subjects: subjects?,
    })
}

fn privacy_rule(dec: &mut Decoder, node: Node, key: &str) -> Option<RawMatch> {
    let what: &'static str = match key {
        "data_categories" => "`data_categories` of a policy rule",
        "data_uses" => "`data_uses` of a policy rule",
        _ => "`data_subjects` of a policy rule",
    };
    let m = dec.map(node, what, &["matches", "values"])?;
    let matches = m
        .required(dec, "matches")
        .and_then(|n| dec.string(n, "`matches`"));
    let values = match m.required(dec, "values") {
        Some(n) => dec.string_list(n, "`values`"),
        None => Vec::new(),
    };
    let matches = matches?;
    let matches = match matches.value.as_str() {
        "ANY" => Matches::Any,
        "ALL" => Matches::All,
        "NONE" => Matches::None,
        "OTHER" => Matches::Other,
        other => {
            dec.error(
                matches.span,
                format!("`matches` must be ANY, ALL, NONE or OTHER, not `{other}`"),
            );
            return None;
        }
    };
    Some(RawMatch { matches, values })
}

fn purpose(dec: &mut Decoder, node: Node) -> Option<RawPurpose> {
    let m = dec.map(node, "a Fides purpose", PURPOSE_KEYS)?;
    let key = fides_key(dec, &m);
    scalars(
        dec,
        &m,
        &["name", "description", "data_subject", "legal_basis"],
    );
    let data_use = m
        .required(dec, "data_use")
        .and_then(|n| dec.name(n, "`data_use`"));
    let categories = strings(dec, &m, "data_categories");
    Some(RawPurpose {
        key: key?,
        data_use: data_use?,
        categories,
    })
}

fn taxon(dec: &mut Decoder, node: Node, tree: Option<Tree>) -> Option<Resource> {
    let (what, keys) = match tree {
        Some(Tree::DataUse) => ("a Fides data use", DATA_USE_KEYS),
        Some(Tree::DataCategory) => ("a Fides data category", DATA_CATEGORY_KEYS),
        None => ("a Fides data subject", DATA_SUBJECT_KEYS),
    };
    let m = dec.map(node, what, keys)?;
    let key = fides_key(dec, &m);
    let name = opt_string(dec, &m, "name")
        .map(|s| s.value)
        .unwrap_or_default();
    scalars(
        dec,
        &m,
        &["description", "version_added", "version_deprecated"],
    );
    let parent = opt_string(dec, &m, "parent_key");
    if let Some(r) = m.get("rights") {
        if let Some(rm) = dec.map(r, "`rights`", &["strategy", "values"]) {
            if let Some(s) = rm
                .required(dec, "strategy")
                .and_then(|n| dec.string(n, "`strategy`"))
            {
                if !["ALL", "EXCLUDE", "INCLUDE", "NONE"].contains(&s.value.as_str()) {
                    dec.error(
                        s.span,
                        format!(
                            "`strategy` must be ALL, EXCLUDE, INCLUDE or NONE, not `{}`",
                            s.value
                        ),
                    );
                }
            }
            if let Some(v) = rm.get("values") {
                dec.string_list(v, "`values`");
            }
        }
    }
    let key = key?;
    if let (Some(p), Some(_)) = (&parent, tree) {
        let expected = key.value.rsplit_once('.').map(|(p, _)| p);
        if expected != Some(p.value.as_str()) {
            dec.error(
                p.span,
                format!(
                    "`parent_key` `{}` must be the key of `{}` without its last part{}",
                    p.value,
                    key.value,
                    expected.map(|e| format!(" (`{e}`)")).unwrap_or_default()
                ),
            );
        }
    }
    Some(Resource::Taxon(RawTaxon {
        tree,
        key,
        parent,
        name,
    }))
}

fn organization(dec: &mut Decoder, node: Node) {
    let Some(m) = dec.map(node, "a Fides organization", ORGANIZATION_KEYS) else {
        return;
    };
    fides_key(dec, &m);
    scalars(dec, &m, &["name", "description", "security_policy"]);
    for key in ["controller", "data_protection_officer", "representative"] {
        if let Some(c) = m.get(key) {
            let what: &'static str = match key {
                "controller" => "`controller`",
                "data_protection_officer" => "`data_protection_officer`",
                _ => "`representative`",
            };
            if let Some(cm) = dec.map(c, what, &["name", "address", "email", "phone"]) {
                scalars(dec, &cm, &["name", "address", "email", "phone"]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;
    use crate::yaml;

    fn doc(text: &str) -> yaml::Yaml {
        let f = SourceFile::new("t.yml".into(), "t.yml".into(), text);
        yaml::parse(&f).unwrap()
    }

    fn is_fides(text: &str) -> bool {
        is_fides_document(doc(text).first().unwrap())
    }

    #[test]
    fn detects_fideslang_by_shape() {
        assert!(is_fides("system:\n  - fides_key: a\n"));
        assert!(is_fides("data_use:\n  - fides_key: x\n"));
        assert!(is_fides("policy:\n  - key: p\n    decision: ALLOW\n"));
        assert!(is_fides(
            "dataset:\n  - fides_key: a\n    collections: []\nextra: 1\n"
        ));
        // Our own manifests, other tools' files, and lists of another shape.
        assert!(!is_fides("kind: dataset\nname: a\n"));
        assert!(!is_fides("dataset:\n  name: a\n"));
        assert!(!is_fides("consumer:\n  - name: a\n"));
        assert!(!is_fides("dataset:\n  - table: t\nversion: 2\n"));
        // Single-key lists of other tools: no `fides_key`, not Fides.
        for other in [
            "policy:\n  - section:\n      - id: [bug]\n        label:\n          - name: bug\n            keys: [crash]\n",
            "dataset:\n  - name: a\n  - name: b\n",
            "system:\n  - key: x\n",
            "policy:\n  - key: x\n",
            "organization:\n  - name: acme\n",
        ] {
            assert!(!is_fides(other), "{other}");
        }
    }

    #[test]
    fn nested_fields_are_flattened_with_inherited_purposes() {
        let yaml = doc("dataset:\n  - fides_key: d\n    collections:\n      - name: c\n        fields:\n          - name: address\n            data_purposes: [p]\n            fields:\n              - name: city\n                data_categories: [user.contact.address.city]\n");
        let mut diags = Vec::new();
        let mut dec = Decoder {
            file: 0,
            diags: &mut diags,
        };
        let (res, count) = read_document(&mut dec, yaml.first().unwrap());
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(count, 1);
        let Resource::Dataset(d) = &res[0] else {
            panic!()
        };
        let f = &d.collections[0].fields;
        assert_eq!(f[0].path, "address");
        assert!(f[0].is_object);
        assert_eq!(f[1].path, "address.city");
        assert_eq!(f[1].span.start_pos.line, 9);
        assert_eq!(f[1].purposes[0].value, "p");
    }
}
