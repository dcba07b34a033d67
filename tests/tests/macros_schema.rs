//! The macros' field table (a copy: `cb-macros` cannot depend on `cb-core`)
//! is the configuration schema, field for field: names, aliases, types,
//! ranges and optionality. If this fails, update
//! `cb-macros/src/common/fields.rs` to match `cb-core/src/config/schema.rs`.
#![allow(missing_docs)]

#[test]
fn macro_fields_match_the_schema() {
    let schema = cb_core::config::__schema_fields();
    let macros = cb_macros::__field_table!();
    let schema: Vec<_> = schema
        .iter()
        .map(|(p, a, t, r, o)| (*p, a.to_vec(), *t, r.clone(), *o))
        .collect();
    let macros: Vec<_> = macros
        .iter()
        .map(|(p, a, t, r, o)| (*p, a.to_vec(), *t, r.to_string(), *o))
        .collect();
    assert_eq!(macros, schema);
}
