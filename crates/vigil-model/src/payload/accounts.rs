//! User accounts: who may act in Vigil, in which role, for which agency.
//!
//! Accounts are events like everything else, so "who created this account,
//! with which role, and who changed it" is in the verifiable log. Secrets are
//! not: password hashes and sessions live in the store's own tables, never in
//! a payload (a payload can be erased, but the log is meant to be handed to
//! auditors).
//!
//! A user's id is derived from the username ([`user_id_for`]), so two
//! accounts with the same name are refused by the projection rules like any
//! other duplicate id, on every server at once, with no extra lookup table.

use super::{reject, subject, Ctx, Kind};
use crate::codes::Role;
use crate::event::{EntityKind, EventHeader, ModelError, SubjectRef};
use crate::projection::{ProjectionError, Projector};
use crate::state::{AgencyState, RoleChange, Stamp, UserState, UserStatus};
use crate::text::{check_name, check_text, MAX_SHORT_CHARS};
use crate::time::truncate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Shortest and longest username.
pub const USERNAME_CHARS: (usize, usize) = (2, 64);

/// The id of the account called `username`: a version 8 (custom) UUID made of
/// the first 16 bytes of SHA-256(`vigil user ` || username).
pub fn user_id_for(username: &str) -> Uuid {
    let mut h = Sha256::new();
    h.update(b"vigil user ");
    h.update(username.as_bytes());
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    uuid::Builder::from_custom_bytes(b).into_uuid()
}

/// Checks a username: 2 to 64 lower-case letters, digits, dots, hyphens and
/// underscores, starting with a letter (`triage.01`, `j-smith`). Names are
/// lower case so that `J.Smith` and `j.smith` cannot be two people.
pub fn check_username(s: &str) -> Result<(), ModelError> {
    let n = s.chars().count();
    if s.trim().is_empty() {
        return Err(ModelError::invalid("the username is empty"));
    }
    if n < USERNAME_CHARS.0 || n > USERNAME_CHARS.1 {
        return Err(ModelError::invalid(format!(
            "the username is {n} characters long; use {} to {} characters",
            USERNAME_CHARS.0, USERNAME_CHARS.1
        )));
    }
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
    if !s.starts_with(|c: char| c.is_ascii_lowercase()) || !s.chars().all(ok_char) {
        return Err(ModelError::invalid(format!(
            "'{}' is not a username: use lower-case letters, digits, dots, hyphens and underscores, starting with a letter",
            truncate(s)
        )));
    }
    Ok(())
}

fn check_reason(reason: &str) -> Result<(), ModelError> {
    check_text("the reason", reason, MAX_SHORT_CHARS, true)
}

/// `user.registered`: an account created for a person in an agency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserRegistered {
    /// Always [`user_id_for`]`(username)`.
    pub user_id: Uuid,
    pub username: String,
    /// The person's name as colleagues know it.
    pub name: String,
    pub role: Role,
    /// The `agency.registered` agency the user works for.
    pub agency_id: Uuid,
}

impl Kind for UserRegistered {
    fn subjects(&self) -> Vec<SubjectRef> {
        vec![
            subject(EntityKind::User, self.user_id),
            subject(EntityKind::Agency, self.agency_id),
        ]
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        check_username(&self.username)?;
        if self.user_id != user_id_for(&self.username) {
            return Err(ModelError::invalid(format!(
                "the user id of '{}' must be {} (derived from the username)",
                self.username,
                user_id_for(&self.username)
            )));
        }
        check_name("the person's name", &self.name)?;
        if self.role == Role::System {
            return Err(ModelError::invalid(
                "'system' is Vigil's own role and cannot be given to an account",
            ));
        }
        Ok(())
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        if p.kind_of(self.user_id)?.is_some() {
            return Err(reject(format!(
                "there is already an account called '{}'",
                self.username
            )));
        }
        let agency: AgencyState = p.get(self.agency_id)?;
        p.create(
            self.user_id,
            UserState {
                username: self.username.clone(),
                name: self.name.clone(),
                role: self.role,
                agency_id: self.agency_id,
                agency: agency.code,
                agency_kind: agency.kind,
                status: UserStatus::Active,
                registered: Stamp::of(h),
                role_changes: Vec::new(),
                password_reset: None,
                disable_reason: None,
                disabled: None,
            },
        )
    }
}

/// Changes an account that must exist and be active.
fn update_active<R>(
    p: &mut Projector<'_>,
    id: Uuid,
    change: impl FnOnce(&mut UserState) -> Result<R, ProjectionError>,
) -> Result<R, ProjectionError> {
    p.update(id, |s: &mut UserState| {
        if s.status == UserStatus::Disabled {
            return Err(reject(format!("the account '{}' is disabled", s.username)));
        }
        change(s)
    })
}

/// `user.role_changed`: an account given another role (with a reason).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserRoleChanged {
    pub user_id: Uuid,
    pub role: Role,
    pub reason: String,
}

impl Kind for UserRoleChanged {
    fn subjects(&self) -> Vec<SubjectRef> {
        vec![subject(EntityKind::User, self.user_id)]
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        if self.role == Role::System {
            return Err(ModelError::invalid(
                "'system' is Vigil's own role and cannot be given to an account",
            ));
        }
        check_reason(&self.reason)
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        update_active(p, self.user_id, |s| {
            if s.role == self.role {
                return Err(reject(format!(
                    "the account already has the role {}",
                    self.role.code()
                )));
            }
            let stamp = Stamp::of(h);
            s.role_changes.push(RoleChange {
                at: stamp.at,
                by: stamp.by,
                agency: stamp.agency,
                event_id: stamp.event_id,
                from: s.role,
                to: self.role,
                reason: self.reason.clone(),
            });
            s.role = self.role;
            Ok(())
        })
    }
}

/// `user.disabled`: an account that may no longer sign in (with a reason).
/// Disabling is final: the username stays taken, so the log never has two
/// people under one name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserDisabled {
    pub user_id: Uuid,
    pub reason: String,
}

impl Kind for UserDisabled {
    fn subjects(&self) -> Vec<SubjectRef> {
        vec![subject(EntityKind::User, self.user_id)]
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        check_reason(&self.reason)
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        update_active(p, self.user_id, |s| {
            s.status = UserStatus::Disabled;
            s.disable_reason = Some(self.reason.clone());
            s.disabled = Some(Stamp::of(h));
            Ok(())
        })
    }
}

/// `user.password_reset`: an administrator gave an account a new temporary
/// password (the password itself is never in the log). Recorded because
/// whoever resets a password can sign in as that person until they change it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPasswordReset {
    pub user_id: Uuid,
    pub reason: String,
}

impl Kind for UserPasswordReset {
    fn subjects(&self) -> Vec<SubjectRef> {
        vec![subject(EntityKind::User, self.user_id)]
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        check_reason(&self.reason)
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        update_active(p, self.user_id, |s| {
            s.password_reset = Some(Stamp::of(h));
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in ["triage.01", "j-smith", "ab", "teacher_dsl"] {
            check_username(ok).unwrap();
        }
        for bad in [
            "",
            "a",
            "J.Smith",
            "1abc",
            ".abc",
            "a b",
            "a\u{202e}b",
            "<script>",
        ] {
            assert!(check_username(bad).is_err(), "{bad}");
        }
        assert!(check_username(&"a".repeat(65)).is_err());
        assert_ne!(user_id_for("a.b"), user_id_for("a.c"));
        assert_eq!(user_id_for("a.b"), user_id_for("a.b"));
        assert_eq!(user_id_for("a.b").get_version_num(), 8);
    }
}
