//! The event envelope: what every change to Vigil's record looks like.
//!
//! State changes only by events. An [`EventInput`] is what a caller asks to
//! record (from a form, the API or a JSON Lines import); [`EventInput::prepare`]
//! validates it and turns it into an [`EventDraft`] with its id, receipt time,
//! salt and payload digest; the store then gives it the next log position with
//! [`EventDraft::seal`] inside its write transaction, producing the
//! [`SealedEvent`] whose canonical header is the Merkle leaf.
//!
//! The leaf is the RFC 8785 canonical JSON of [`EventHeader`]. The header holds
//! `payload_sha256 = SHA-256(salt || canonical payload)` rather than the payload
//! itself, so a payload can be erased when its retention period ends while the
//! log still verifies. The header also holds its own `index`, so an entry moved
//! to another position in the log is detected by the entry itself, not only by
//! the tree root. docs/ledger-format.md describes the format for independent
//! verifiers.

use crate::canonical::CanonicalError;
use crate::codes::{AgencyId, Role};
use crate::payload::EventPayload;
use crate::time::OccurredAt;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Version of the envelope format (the `v` field of every header).
pub const ENVELOPE_VERSION: u32 = 1;

/// Length of the random salt mixed into each payload digest.
pub const SALT_LEN: usize = 16;

/// Who did something: a user acting in a role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    /// The user's id (an account name or UUID); never a free-text name.
    pub user: String,
    pub role: Role,
}

/// What kind of thing an event is about. Every subject is an entity in the projections.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Agency,
    Person,
    Object,
    Location,
    Link,
    Referral,
    MissingEpisode,
    Placement,
    Allocation,
    Intelligence,
    Offence,
    Meeting,
    Case,
    /// A CSE screening of a child (`screening.recorded`).
    Screening,
    /// A user account (`user.registered`).
    User,
    /// The access log's anchor (`access_log.checkpointed`); there is one.
    AccessLog,
    /// An alert a rule raised (`alert.raised`, `.seen`, `.acknowledged`,
    /// `.resolved`).
    Alert,
    /// A meeting that discussed several cases (`meeting.held`): the monthly
    /// multi-agency child exploitation (MACE) meeting.
    MultiAgencyMeeting,
}

impl EntityKind {
    /// Every kind, in declaration order (the order that sorts `subjects`).
    pub const ALL: &'static [EntityKind] = &[
        EntityKind::Agency,
        EntityKind::Person,
        EntityKind::Object,
        EntityKind::Location,
        EntityKind::Link,
        EntityKind::Referral,
        EntityKind::MissingEpisode,
        EntityKind::Placement,
        EntityKind::Allocation,
        EntityKind::Intelligence,
        EntityKind::Offence,
        EntityKind::Meeting,
        EntityKind::Case,
        EntityKind::Screening,
        EntityKind::User,
        EntityKind::AccessLog,
        EntityKind::Alert,
        EntityKind::MultiAgencyMeeting,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Agency => "agency",
            EntityKind::Person => "person",
            EntityKind::Object => "object",
            EntityKind::Location => "location",
            EntityKind::Link => "link",
            EntityKind::Referral => "referral",
            EntityKind::MissingEpisode => "missing_episode",
            EntityKind::Placement => "placement",
            EntityKind::Allocation => "allocation",
            EntityKind::Intelligence => "intelligence",
            EntityKind::Offence => "offence",
            EntityKind::Meeting => "meeting",
            EntityKind::Case => "case",
            EntityKind::Screening => "screening",
            EntityKind::User => "user",
            EntityKind::AccessLog => "access_log",
            EntityKind::Alert => "alert",
            EntityKind::MultiAgencyMeeting => "multi_agency_meeting",
        }
    }

    pub fn parse(s: &str) -> Option<EntityKind> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
    }
}

impl std::fmt::Display for EntityKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reference from an event to an entity it concerns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubjectRef {
    #[serde(rename = "type")]
    pub kind: EntityKind,
    pub id: Uuid,
}

impl SubjectRef {
    pub fn new(kind: EntityKind, id: Uuid) -> Self {
        SubjectRef { kind, id }
    }
}

/// What a caller asks to record. `id` is optional: give it to make an import
/// idempotent (an event whose id is already in the log is refused, so a file can
/// be replayed after a crash); otherwise a UUIDv7 is assigned.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    pub actor: Actor,
    pub agency: AgencyId,
    pub occurred_at: OccurredAt,
    /// Where an imported record came from, when it was first recorded
    /// elsewhere (a council's or force's previous system). The chronology
    /// shows the source system's recorded time beside Vigil's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceRecord>,
    /// `kind` and `payload` (adjacently tagged).
    #[serde(flatten)]
    pub body: EventPayload,
}

/// The system an imported record was first made in, its reference there,
/// and when that system recorded it (RFC 3339; kept as the log writes
/// timestamps: UTC, milliseconds).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceRecord {
    pub system: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    pub recorded_at: String,
}

impl SourceRecord {
    /// Checks the fields and writes the time in the log's one format.
    /// The source cannot have recorded it after Vigil received it.
    fn checked(mut self, now: DateTime<Utc>) -> Result<SourceRecord, ModelError> {
        crate::text::check_line("the source system's name", &self.system, 100)?;
        if let Some(r) = &self.reference {
            crate::text::check_line("the source reference", r, 200)?;
        }
        let at = DateTime::parse_from_rfc3339(&self.recorded_at)
            .map_err(|_| {
                ModelError::invalid(format!(
                    "the source's recorded time '{}' is not an RFC 3339 time like 2019-03-04T10:15:00Z",
                    crate::time::truncate(&self.recorded_at)
                ))
            })?
            .with_timezone(&Utc);
        if at > now {
            return Err(ModelError::invalid(
                "the source's recorded time is later than now",
            ));
        }
        self.recorded_at = format_timestamp(&at);
        Ok(self)
    }

    /// The source's recorded time.
    pub fn recorded(&self) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(&self.recorded_at)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }
}

/// The header of a sealed event: exactly what the Merkle leaf commits to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventHeader {
    /// Envelope format version.
    pub v: u32,
    /// Position in the log (0-based); equals the Merkle leaf index.
    pub index: u64,
    pub id: Uuid,
    /// Event kind, e.g. `referral.submitted`.
    pub kind: String,
    /// Schema version of this kind's payload.
    pub schema: u32,
    pub actor: Actor,
    pub agency: AgencyId,
    /// When Vigil received it (RFC 3339, UTC, milliseconds).
    pub recorded_at: String,
    /// When it happened, with how precisely that is known.
    pub occurred_at: OccurredAt,
    /// The entities it concerns, sorted and unique.
    pub subjects: Vec<SubjectRef>,
    /// Lower-case hex SHA-256 of the 16 salt bytes followed by the canonical payload.
    pub payload_sha256: String,
    /// For imported history: the system it came from and when that system
    /// recorded it. Absent for everything recorded in Vigil.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceRecord>,
}

impl EventHeader {
    /// The header in RFC 8785 canonical form, written field by field in
    /// sorted key order rather than through a generic JSON value: every
    /// seal and every replay (`vigil verify`, `vigil rebuild`) does this,
    /// and the generic path was a sixth of a full verification. The test
    /// `canonical_header_matches_generic` holds it to
    /// [`crate::canonical::to_canonical_string`] over generated headers; a field added to
    /// the struct must be added here, in its sorted place.
    pub fn canonical_json(&self) -> String {
        use crate::canonical::write_string as string;
        use std::fmt::Write as _;
        // Unit enums serialise as a plain ASCII string, already canonical.
        fn code<T: Serialize>(out: &mut String, t: &T) {
            out.push_str(&serde_json::to_string(t).expect("a unit enum serialises"));
        }
        let mut o = String::with_capacity(512);
        o.push_str("{\"actor\":{\"role\":");
        code(&mut o, &self.actor.role);
        o.push_str(",\"user\":");
        string(&mut o, &self.actor.user);
        o.push_str("},\"agency\":");
        string(&mut o, self.agency.as_str());
        let _ = write!(
            o,
            ",\"id\":\"{}\",\"index\":{},\"kind\":",
            self.id, self.index
        );
        string(&mut o, &self.kind);
        o.push_str(",\"occurred_at\":{\"precision\":");
        code(&mut o, &self.occurred_at.precision);
        o.push_str(",\"value\":");
        string(&mut o, &self.occurred_at.value);
        o.push_str("},\"payload_sha256\":");
        string(&mut o, &self.payload_sha256);
        o.push_str(",\"recorded_at\":");
        string(&mut o, &self.recorded_at);
        let _ = write!(o, ",\"schema\":{}", self.schema);
        if let Some(src) = &self.source {
            o.push_str(",\"source\":{\"recorded_at\":");
            string(&mut o, &src.recorded_at);
            if let Some(r) = &src.reference {
                o.push_str(",\"reference\":");
                string(&mut o, r);
            }
            o.push_str(",\"system\":");
            string(&mut o, &src.system);
            o.push('}');
        }
        o.push_str(",\"subjects\":[");
        for (i, s) in self.subjects.iter().enumerate() {
            if i > 0 {
                o.push(',');
            }
            let _ = write!(o, "{{\"id\":\"{}\",\"type\":", s.id);
            code(&mut o, &s.kind);
            o.push('}');
        }
        let _ = write!(o, "],\"v\":{}}}", self.v);
        o
    }
}

/// Why an event could not be accepted. Messages are for the person who sent it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ModelError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Canonical(#[from] CanonicalError),
}

impl ModelError {
    pub fn invalid(msg: impl Into<String>) -> Self {
        ModelError::Invalid(msg.into())
    }
}

/// A validated event waiting for its place in the log.
#[derive(Clone, Debug, PartialEq)]
pub struct EventDraft {
    pub id: Uuid,
    pub actor: Actor,
    pub agency: AgencyId,
    pub recorded_at: DateTime<Utc>,
    pub occurred_at: OccurredAt,
    pub payload: EventPayload,
    pub subjects: Vec<SubjectRef>,
    pub salt: [u8; SALT_LEN],
    /// Canonical JSON of the payload.
    pub payload_json: String,
    pub payload_sha256: [u8; 32],
    pub source: Option<SourceRecord>,
}

/// An event with its log position: the form that is stored and hashed.
#[derive(Clone, Debug, PartialEq)]
pub struct SealedEvent {
    pub header: EventHeader,
    /// Canonical JSON of `header`: the Merkle leaf.
    pub header_json: String,
    pub payload: EventPayload,
    pub payload_json: String,
    pub salt: [u8; SALT_LEN],
}

/// SHA-256(salt || payload): the digest the header commits to.
pub fn payload_digest(salt: &[u8], payload_json: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(payload_json);
    h.finalize().into()
}

/// Checks that `payload` is exactly the payload an entry's header commits to
/// with `salt`: canonical JSON (RFC 8785), and `SHA-256(salt || payload)`
/// equal to the header's `payload_sha256`. What a receipt holder runs to
/// prove what they submitted.
pub fn check_payload(header: &EventHeader, salt: &[u8], payload: &[u8]) -> Result<(), ModelError> {
    let text = std::str::from_utf8(payload)
        .map_err(|_| ModelError::invalid("the payload file is not UTF-8 text"))?;
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| ModelError::invalid(format!("the payload file is not JSON: {e}")))?;
    if crate::canonical::canonical_value(&value)? != text {
        return Err(ModelError::invalid(
            "the payload file is not in canonical form (RFC 8785): it must be the exact bytes Vigil recorded, with no spaces, line breaks or reordering added",
        ));
    }
    if hex::encode(payload_digest(salt, payload)) != header.payload_sha256 {
        return Err(ModelError::invalid(
            "the payload, with the receipt's salt, does not hash to the payload_sha256 of the receipt's entry: it is not the payload that was recorded",
        ));
    }
    Ok(())
}

/// RFC 3339 in UTC with milliseconds, the one timestamp format of the log.
pub fn format_timestamp(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl EventInput {
    /// Validates the input and fixes its id, receipt time and salt.
    ///
    /// `now` is passed in (not read from the clock) so this stays pure and
    /// testable; the store passes the time it received the command.
    pub fn prepare(
        self,
        now: DateTime<Utc>,
        salt: [u8; SALT_LEN],
    ) -> Result<EventDraft, ModelError> {
        if self.actor.user.trim().is_empty() {
            return Err(ModelError::invalid("the actor's user id is empty"));
        }
        if self.actor.user.len() > 200 {
            return Err(ModelError::invalid(
                "the actor's user id is longer than 200 characters",
            ));
        }
        self.occurred_at.validate(now)?;
        self.body.validate(&self.occurred_at, now)?;
        let source = self.source.map(|s| s.checked(now)).transpose()?;
        let payload_json = self.body.payload_json()?;
        if payload_json.len() > MAX_PAYLOAD_BYTES {
            return Err(ModelError::invalid(format!(
                "the record is {} bytes; the limit is {} bytes (attach large documents separately)",
                payload_json.len(),
                MAX_PAYLOAD_BYTES
            )));
        }
        let payload_sha256 = payload_digest(&salt, payload_json.as_bytes());
        let mut subjects = self.body.subjects();
        subjects.sort();
        subjects.dedup();
        // Millisecond precision is what the header records; truncate so the
        // draft's time equals the time written in the log.
        let recorded_at = DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now);
        Ok(EventDraft {
            id: self.id.unwrap_or_else(|| new_event_id(&recorded_at, &salt)),
            actor: self.actor,
            agency: self.agency,
            recorded_at,
            occurred_at: self.occurred_at,
            payload: self.body,
            subjects,
            salt,
            payload_json,
            payload_sha256,
            source,
        })
    }
}

/// Largest canonical payload accepted, in bytes.
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;

/// A UUIDv7 from the receipt time, with random bits taken from the salt so the
/// function stays deterministic for a given input.
fn new_event_id(at: &DateTime<Utc>, salt: &[u8; SALT_LEN]) -> Uuid {
    let ms = at.timestamp_millis().max(0) as u64;
    let mut rand = [0u8; 10];
    rand.copy_from_slice(&salt[..10]);
    uuid::Builder::from_unix_timestamp_millis(ms, &rand).into_uuid()
}

impl EventDraft {
    /// Gives the draft its position in the log and produces the leaf.
    pub fn seal(self, index: u64) -> Result<SealedEvent, ModelError> {
        if index > crate::canonical::MAX_SAFE_INTEGER {
            return Err(CanonicalError::TooLarge(index.to_string()).into());
        }
        let header = EventHeader {
            v: ENVELOPE_VERSION,
            index,
            id: self.id,
            kind: self.payload.kind().to_owned(),
            schema: self.payload.schema(),
            actor: self.actor,
            agency: self.agency,
            recorded_at: format_timestamp(&self.recorded_at),
            occurred_at: self.occurred_at,
            subjects: self.subjects,
            payload_sha256: hex::encode(self.payload_sha256),
            source: self.source,
        };
        let header_json = header.canonical_json();
        Ok(SealedEvent {
            header,
            header_json,
            payload: self.payload,
            payload_json: self.payload_json,
            salt: self.salt,
        })
    }
}

impl SealedEvent {
    /// Rebuilds a sealed event from stored parts, checking that they agree:
    /// the header is canonical, the payload digest matches, and the payload
    /// parses as the kind the header names. Used by verification and by
    /// projection rebuilds.
    pub fn from_stored(
        header_json: &str,
        payload_json: &str,
        salt: &[u8],
    ) -> Result<SealedEvent, ModelError> {
        Self::parse_stored(header_json, payload_json, salt, true)
    }

    /// [`SealedEvent::from_stored`] for a caller that has already checked
    /// `SHA-256(salt ‖ payload)` against the header's `payload_sha256`
    /// (verification does, on the raw bytes, before it replays): every other
    /// check is the same, and the digest is not computed a second time.
    pub fn from_stored_digest_checked(
        header_json: &str,
        payload_json: &str,
        salt: &[u8],
    ) -> Result<SealedEvent, ModelError> {
        Self::parse_stored(header_json, payload_json, salt, false)
    }

    fn parse_stored(
        header_json: &str,
        payload_json: &str,
        salt: &[u8],
        check_digest: bool,
    ) -> Result<SealedEvent, ModelError> {
        let header: EventHeader = serde_json::from_str(header_json)
            .map_err(|e| ModelError::invalid(format!("the entry header is not valid: {e}")))?;
        if header.canonical_json() != header_json {
            return Err(ModelError::invalid(
                "the entry header is not in canonical form",
            ));
        }
        if !header.subjects.windows(2).all(|w| w[0] < w[1]) {
            return Err(ModelError::invalid(
                "the entry header's subjects are not sorted and unique (by kind in declaration order, then id)",
            ));
        }
        let salt: [u8; SALT_LEN] = salt.try_into().map_err(|_| {
            ModelError::invalid(format!("the salt is {} bytes, not {SALT_LEN}", salt.len()))
        })?;
        if check_digest
            && hex::encode(payload_digest(&salt, payload_json.as_bytes())) != header.payload_sha256
        {
            return Err(ModelError::invalid(
                "the payload does not match the digest in its header",
            ));
        }
        let payload = EventPayload::from_kind_and_json(&header.kind, payload_json)?;
        Ok(SealedEvent {
            header,
            header_json: header_json.to_owned(),
            payload,
            payload_json: payload_json.to_owned(),
            salt,
        })
    }
}

#[cfg(test)]
mod source_tests {
    use super::*;
    use crate::codes::Role;

    fn input(source: Option<SourceRecord>) -> EventInput {
        let body: EventPayload = serde_json::from_value(serde_json::json!({
            "kind": "agency.registered",
            "payload": {"agency_id": "0190a1b2-0000-7000-8000-000000000001", "code": "northshire-police", "name": "Northshire Police", "kind": "police"}
        }))
        .unwrap();
        EventInput {
            id: None,
            actor: Actor {
                user: "importer".into(),
                role: Role::Administrator,
            },
            agency: AgencyId::new("northshire-police").unwrap(),
            occurred_at: crate::time::OccurredAt::exact(now()),
            source,
            body,
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-06-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn source(at: &str) -> Option<SourceRecord> {
        Some(SourceRecord {
            system: "Northshire CareFirst".into(),
            reference: Some("CF-1234".into()),
            recorded_at: at.into(),
        })
    }

    #[test]
    fn the_source_time_is_kept_in_the_header_in_the_log_format() {
        let sealed = input(source("2019-03-04T10:15:00+01:00"))
            .prepare(now(), [7; 16])
            .unwrap()
            .seal(0)
            .unwrap();
        let s = sealed.header.source.as_ref().unwrap();
        assert_eq!(s.recorded_at, "2019-03-04T09:15:00.000Z");
        assert!(sealed.header_json.contains("\"source\":{\"recorded_at\":\"2019-03-04T09:15:00.000Z\",\"reference\":\"CF-1234\",\"system\":\"Northshire CareFirst\"}"));
        let back =
            SealedEvent::from_stored(&sealed.header_json, &sealed.payload_json, &sealed.salt)
                .unwrap();
        assert_eq!(back.header, sealed.header);
    }

    #[test]
    fn a_header_without_a_source_is_as_before() {
        let sealed = input(None)
            .prepare(now(), [7; 16])
            .unwrap()
            .seal(0)
            .unwrap();
        assert!(!sealed.header_json.contains("source"));
    }

    #[test]
    fn bad_sources_are_refused_with_a_sentence() {
        for (at, words) in [
            ("yesterday", "not an RFC 3339 time"),
            ("", "not an RFC 3339 time"),
            ("2027-01-01T00:00:00Z", "later than now"),
        ] {
            let e = input(source(at)).prepare(now(), [7; 16]).unwrap_err();
            assert!(e.to_string().contains(words), "{at}: {e}");
        }
        let mut s = source("2019-03-04T10:15:00Z").unwrap();
        s.system = "line one\nline two".into();
        assert!(input(Some(s)).prepare(now(), [7; 16]).is_err());
        let mut s = source("2019-03-04T10:15:00Z").unwrap();
        s.system = "x".repeat(10_000);
        assert!(input(Some(s)).prepare(now(), [7; 16]).is_err());
        let mut s = source("2019-03-04T10:15:00Z").unwrap();
        s.system = "  ".into();
        assert!(input(Some(s)).prepare(now(), [7; 16]).is_err());
    }

    #[test]
    fn an_import_line_may_carry_a_source_and_nothing_else_unknown() {
        let line = r#"{"actor":{"user":"importer","role":"administrator"},"agency":"northshire-police","occurred_at":{"value":"2019-03-04","precision":"day"},"source":{"system":"Old system","recorded_at":"2019-03-05T09:00:00Z"},"kind":"agency.registered","payload":{"agency_id":"0190a1b2-0000-7000-8000-000000000001","code":"northshire-police","name":"Northshire Police","kind":"police"}}"#;
        let i: EventInput = serde_json::from_str(line).unwrap();
        assert_eq!(i.source.unwrap().system, "Old system");
        let bad = line.replace(
            "\"system\":\"Old system\"",
            "\"system\":\"Old system\",\"extra\":1",
        );
        assert!(serde_json::from_str::<EventInput>(&bad).is_err());
    }
}
