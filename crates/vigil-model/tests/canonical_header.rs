//! The hand-written header encoder (`EventHeader::canonical_json`) against
//! the generic RFC 8785 encoder, over generated headers: every field, every
//! code, optional parts present and absent, and strings with quotes,
//! backslashes, control characters and non-ASCII text.

use proptest::prelude::*;
use uuid::Uuid;
use vigil_model::canonical::to_canonical_string;
use vigil_model::codes::{AgencyId, Role};
use vigil_model::event::{Actor, EntityKind, EventHeader, SourceRecord, SubjectRef};
use vigil_model::time::{OccurredAt, Precision};

const ROLES: &[Role] = &[
    Role::Referrer,
    Role::Practitioner,
    Role::Triage,
    Role::Analyst,
    Role::Supervisor,
    Role::Auditor,
    Role::Administrator,
    Role::PartnershipAdministrator,
    Role::System,
];
const KINDS: &[EntityKind] = EntityKind::ALL;
const PRECISIONS: &[Precision] = &[
    Precision::Exact,
    Precision::Day,
    Precision::Month,
    Precision::Year,
    Precision::Approximate,
];

/// Text that exercises every escaping rule.
fn text() -> impl Strategy<Value = String> {
    prop::string::string_regex("[\\x00-\\x1f\"\\\\a-z/é€😀\u{2028} ]{0,12}").unwrap()
}

fn header() -> impl Strategy<Value = EventHeader> {
    (
        (0u32..4, 0u64..(1 << 53), any::<u128>(), text(), 0u32..9),
        (
            0..ROLES.len(),
            text(),
            "[a-z0-9-]{1,20}",
            text(),
            0..PRECISIONS.len(),
            text(),
        ),
        prop::collection::vec((0..KINDS.len(), any::<u128>()), 0..5),
        "[0-9a-f]{64}",
        prop::option::of((text(), prop::option::of(text()), text())),
    )
        .prop_map(
            |(
                (v, index, id, kind, schema),
                (role, user, agency, recorded_at, p, value),
                subjects,
                digest,
                source,
            )| EventHeader {
                v,
                index,
                id: Uuid::from_u128(id),
                kind,
                schema,
                actor: Actor {
                    user,
                    role: ROLES[role],
                },
                agency: AgencyId::new(&agency).unwrap(),
                recorded_at,
                occurred_at: OccurredAt {
                    value,
                    precision: PRECISIONS[p],
                },
                subjects: subjects
                    .into_iter()
                    .map(|(k, id)| SubjectRef {
                        kind: KINDS[k],
                        id: Uuid::from_u128(id),
                    })
                    .collect(),
                payload_sha256: digest,
                source: source.map(|(system, reference, recorded_at)| SourceRecord {
                    system,
                    reference,
                    recorded_at,
                }),
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn canonical_header_matches_generic(h in header()) {
        prop_assert_eq!(h.canonical_json(), to_canonical_string(&h).unwrap());
    }
}
