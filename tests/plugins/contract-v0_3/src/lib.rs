//! A plugin as it was written before contract 0.4.0: against the frozen
//! `sdk/wit/since_v0.3.0` with `wit-bindgen` alone (the SDK now speaks a
//! later contract), declaring `0.3.0` in its own custom section. The host
//! must keep running it beside 0.1.0, 0.2.0 and 0.4.0 plugins (the same
//! code as `contract-v0_2`, built against 0.3.0's WIT, whose world exports
//! no `segment-rule` and whose manifest has no kind).
//!
//! Config `{"segment": id}` (checked with `segment-exists`). It enrols the
//! segment's members as learners into a group it owns: on `instance-added`
//! (by asking for a reconcile, paged through `segment-members` two members
//! at a time) and on `segment-member-added`. It answers a self-enrolment
//! by enrolling and grouping the caller (finding its group with
//! `instance-group`), and an enrol-users request by reading the course's
//! enrolments, which its manifest does not ask for: the host must deny
//! that, and the plugin refuses with what the host said.

wit_bindgen::generate!({
    path: "../../../sdk/wit/since_v0.3.0",
    world: "enrolment-method",
});

use charon::enrolment::host;
use charon::enrolment::types::*;
use exports::charon::enrolment::method::Guest;

// What the SDK's export macro wrote for a plugin of that time.
#[cfg(target_arch = "wasm32")]
#[used]
#[unsafe(link_section = "charon:contract-version")]
static CONTRACT_VERSION: [u8; 5] = *b"0.3.0";

/// The key under which the plugin's own group is created.
const GROUP_KEY: &str = "members";
/// Segment members per reconcile page: small, so a reconcile of the tests'
/// segments takes more than one page.
const PAGE: u32 = 2;

struct ContractV03;

fn segment_of(config: &str) -> Result<SegmentId, String> {
    let value: serde_json::Value =
        serde_json::from_str(config).map_err(|e| format!("the config is not JSON: {e}"))?;
    value
        .get("segment")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| "choose a segment".to_owned())
}

fn host_text(e: &HostError) -> String {
    match e {
        HostError::Denied(m) => format!("denied: {m}"),
        HostError::OutOfScope(m) => format!("out of scope: {m}"),
        HostError::Unavailable(m) => format!("unavailable: {m}"),
    }
}

fn refusal(code: &str, message: String) -> Refusal {
    Refusal {
        code: code.into(),
        message,
        field: None,
    }
}

fn act(op: Operation, reason: &str) -> Action {
    Action {
        op,
        reason: reason.into(),
    }
}

fn create_group() -> Action {
    act(
        Operation::CreateGroup(CreateGroupAction {
            key: GROUP_KEY.into(),
            name: "Contract 0.3.0 members".into(),
            idnumber: None,
        }),
        "the method's group of segment members",
    )
}

/// Enrols `user` and adds them to `group`.
fn join(user: UserId, group: GroupRef, reason: &str) -> [Action; 2] {
    [
        act(
            Operation::Enrol(EnrolAction {
                user,
                role: Role::Learner,
            }),
            reason,
        ),
        act(Operation::AddToGroup(GroupAction { user, group }), reason),
    ]
}

fn created() -> GroupRef {
    GroupRef::Created(GROUP_KEY.into())
}

fn segment_in(ctx: &Context) -> Result<SegmentId, Refusal> {
    segment_of(&ctx.config).map_err(|m| refusal("bad-config", m))
}

impl Guest for ContractV03 {
    fn describe() -> Manifest {
        Manifest {
            id: "contract-v0-3".into(),
            name: "Contract 0.3.0".into(),
            version: "1.0.0".into(),
            description: "Enrols a segment's members into a group; built against contract 0.3.0."
                .into(),
            config: vec![ConfigField {
                key: "segment".into(),
                label: "Segment".into(),
                help: String::new(),
                kind: FieldKind::Segment,
                required: true,
                default: None,
            }],
            events: vec![EventKind::MethodAdded, EventKind::SegmentMemberAdded],
            requests: vec![RequestKind::SelfEnrol, RequestKind::EnrolUsers],
            capabilities: vec![Capability::ReadSegments, Capability::ReadGroups],
            settings: Vec::new(),
        }
    }

    fn validate_config(_course: CourseId, config: String) -> Result<String, Vec<FieldError>> {
        let field_error = |message: String| {
            vec![FieldError {
                field: "segment".into(),
                message,
            }]
        };
        let segment = segment_of(&config).map_err(field_error)?;
        match host::segment_exists(segment) {
            Ok(Some(_)) => Ok(serde_json::json!({ "segment": segment }).to_string()),
            Ok(None) => Err(field_error(format!("there is no segment #{segment}"))),
            Err(e) => Err(field_error(host_text(&e))),
        }
    }

    fn handle_event(ctx: Context, event: Event) -> Result<Plan, Refusal> {
        let actions = match event {
            Event::MethodAdded => vec![act(Operation::Reconcile, "the method was added")],
            Event::SegmentMemberAdded(m) if m.segment == segment_in(&ctx)? => {
                let mut actions = vec![create_group()];
                actions.extend(join(m.user, created(), "joined the segment"));
                actions
            }
            _ => Vec::new(),
        };
        Ok(Plan { actions })
    }

    fn handle_request(ctx: Context, request: Request) -> Result<Plan, Refusal> {
        match request {
            Request::SelfEnrol(SelfEnrol { user, .. }) => {
                let mut actions = Vec::new();
                let group = match host::method_group(GROUP_KEY) {
                    Ok(Some(id)) => GroupRef::Existing(id),
                    Ok(None) => {
                        actions.push(create_group());
                        created()
                    }
                    Err(e) => return Err(refusal("host-error", host_text(&e))),
                };
                actions.extend(join(user, group, "enrolled themselves"));
                Ok(Plan { actions })
            }
            Request::EnrolUsers(_) => match host::course_enrolments(None, 10) {
                Ok(_) => Err(refusal(
                    "not-denied",
                    "the host answered a query the manifest does not ask for".into(),
                )),
                Err(e) => Err(refusal("host-error", host_text(&e))),
            },
            Request::UnenrolUsers(_) | Request::SelfUnenrol(_) => Err(refusal(
                "unsupported",
                format!("method #{} only enrols", ctx.method),
            )),
        }
    }

    fn reconcile(ctx: Context, cursor: Option<String>) -> Result<ReconcileStep, Refusal> {
        let segment = segment_in(&ctx)?;
        let after = match cursor {
            None => None,
            Some(c) => Some(
                c.parse::<UserId>()
                    .map_err(|_| refusal("bad-cursor", format!("cursor {c:?}")))?,
            ),
        };
        let page = host::segment_members(segment, after, PAGE)
            .map_err(|e| refusal("host-error", host_text(&e)))?;
        let mut actions = vec![create_group()];
        for member in page.members.iter().filter(|m| !m.suspended) {
            actions.extend(join(member.user, created(), "a member of the segment"));
        }
        Ok(ReconcileStep {
            plan: Plan { actions },
            next: page.next.map(|u| u.to_string()),
        })
    }
}

// Natively (`cargo test --workspace` builds every crate) the component
// exports are left out, as the SDK's macro does: their symbol names are not
// valid in a native linker's version script.
#[cfg(target_arch = "wasm32")]
export!(ContractV03);
