//! The error responses every operation of the OpenAPI document shares,
//! declared once under `components/responses` and attached to each
//! operation that does not say more about that status itself, so a new
//! handler cannot forget the 400 of an unreadable query or the 415 of a
//! body without `Content-Type: application/json`.
//!
//! Also where the document's integers say what the code enforces: every
//! id is `format: int64` from 1 to [`MAX_ID`] (see `views::ids`).
//!
//! This module edits the generated document only; it must never add a
//! status the router cannot answer.

use std::collections::BTreeSet;

use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};

use super::views::ids::{ID_SCHEMAS, MAX_ID};

/// Which operations may answer a shared status.
#[derive(Copy, Clone)]
enum Applies {
    Always,
    /// Operations that take a request body.
    WithBody,
    /// Operations whose path names something (a path parameter) or that
    /// run on a site, which the host name or `/s/{site}` names.
    NamingSomething,
}

/// `(status, component name, description, applies)`.
const SHARED: &[(&str, &str, &str, Applies)] = &[
    (
        "400",
        "BadRequest",
        "the request cannot be read: malformed JSON, or a query string with an unknown or \
         mistyped parameter",
        Applies::Always,
    ),
    (
        "401",
        "Unauthenticated",
        "no valid API token (`Authorization: Bearer chr_…`)",
        Applies::Always,
    ),
    (
        "403",
        "Forbidden",
        "the token's principal may not do this; answered before the request's body or \
         parameters are checked",
        Applies::Always,
    ),
    (
        "404",
        "NotFound",
        "what the path names does not exist (or is not visible to the caller)",
        Applies::NamingSomething,
    ),
    (
        "408",
        "BodyTimeout",
        "the request body did not arrive within the server's body deadline \
         (`serve --body-timeout-secs`); the connection is closed",
        Applies::WithBody,
    ),
    (
        "413",
        "PayloadTooLarge",
        "the request body is larger than this operation accepts",
        Applies::WithBody,
    ),
    (
        "415",
        "UnsupportedMediaType",
        "the body is missing or is not of the declared content type",
        Applies::WithBody,
    ),
    (
        "422",
        "Unprocessable",
        "the request is well-formed but its content breaks a rule: a field of the wrong type \
         or out of range, a paging parameter outside its range, a name already taken; `field` \
         names the field",
        Applies::Always,
    ),
    (
        "5XX",
        "ServerError",
        "a fault of the server (500, logged), a plugin that failed (502), or a suspended \
         site (503)",
        Applies::Always,
    ),
];

/// Declares the shared responses and adds each, by reference, to every
/// operation it applies to and that does not document that status itself.
/// `operator_paths` are the paths not run on a site.
pub(super) fn attach(doc: &mut OpenApi, operator_paths: &BTreeSet<String>) {
    let components = doc.components.get_or_insert_with(Default::default);
    for (_, name, description, _) in SHARED {
        let error = ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("ErrorBody")))
            .build();
        components.responses.insert(
            (*name).to_owned(),
            ResponseBuilder::new()
                .description(*description)
                .content("application/json", error)
                .build()
                .into(),
        );
    }
    for (path, item) in &mut doc.paths.paths {
        let names_something = path.contains('{') || !operator_paths.contains(path);
        for op in operations_mut(item) {
            attach_to(op, names_something);
        }
    }
}

/// Every operation of a path item, whatever its method.
pub(super) fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .flatten()
}

fn attach_to(op: &mut Operation, names_something: bool) {
    let has_body = op.request_body.is_some();
    for (status, name, _, applies) in SHARED {
        let applies = match applies {
            Applies::Always => true,
            Applies::WithBody => has_body,
            Applies::NamingSomething => names_something,
        };
        if applies && !op.responses.responses.contains_key(*status) {
            op.responses.responses.insert(
                (*status).to_owned(),
                RefOr::Ref(Ref::new(format!("#/components/responses/{name}"))),
            );
        }
    }
}

/// Every id schema says the range the API accepts (`IdVisitor`), and so
/// does every integer path parameter (ids all): from 1 to [`MAX_ID`].
pub(super) fn declare_id_ranges(doc: &mut OpenApi) {
    let range = |schema: &mut Schema| {
        if let Schema::Object(object) = schema {
            object.minimum = Some(1.into());
            object.maximum = Some(utoipa::Number::Int(MAX_ID as isize));
        }
    };
    if let Some(components) = doc.components.as_mut() {
        for name in ID_SCHEMAS {
            if let Some(RefOr::T(schema)) = components.schemas.get_mut(*name) {
                range(schema);
            }
        }
    }
    for item in doc.paths.paths.values_mut() {
        for op in operations_mut(item) {
            for parameter in op.parameters.iter_mut().flatten() {
                let RefOr::T(parameter) = parameter else {
                    continue;
                };
                let is_path = matches!(
                    parameter.parameter_in,
                    utoipa::openapi::path::ParameterIn::Path
                );
                if let (true, Some(RefOr::T(schema))) = (is_path, parameter.schema.as_mut())
                    && is_integer(schema)
                {
                    range(schema);
                }
            }
        }
    }
}

fn is_integer(schema: &Schema) -> bool {
    use utoipa::openapi::schema::{KnownFormat, SchemaFormat, SchemaType, Type};
    matches!(schema, Schema::Object(o)
        if o.schema_type == SchemaType::Type(Type::Integer)
            && o.format == Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
}
